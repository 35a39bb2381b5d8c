"""Moved to bitseg.index.tracking (hot history and trigger members are segment data); kept for old imports."""

from __future__ import annotations

from bitseg.index.tracking import TRACKED, TRIGGER_DAYS, ChangedIds, Changes, HistoryRow, Tracker

__all__ = ["TRACKED", "TRIGGER_DAYS", "ChangedIds", "Changes", "HistoryRow", "Tracker"]
