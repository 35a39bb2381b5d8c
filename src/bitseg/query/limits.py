"""Limits that protect the server from queries too large to be meant."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_query_length: int = 64 * 1024
    max_depth: int = 128
    max_in_values: int = 100_000


DEFAULT_LIMITS = Limits()
