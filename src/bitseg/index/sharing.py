"""Work shared between the line scans of one call: a measure computed once per window, filters and measure.

A query of many `purchases MATCHES (sum_amount > x)` terms, or a tiering of 200 such tiers, asks for the same
per-customer measure over the same lines again and again with only the threshold changing. Inside `sharing()`
the executor keeps each measure it computes (the values of every column) and each purchase bitmap, keyed by the
scan's lines and filters, and later scans of the call compare the kept values instead of reading the lines again.

The scope is one call holding the index's readers' lock (the index does not change inside it); `execute` opens
one per query, CountTiers, CountBatch and CustomerSegments one around all their queries. At most `MAX_BYTES`
are kept per scope, the oldest dropped first.

>>> with sharing():
...     first = kept(("k",), lambda: np.arange(3))
...     again = kept(("k",), lambda: np.zeros(3))
>>> again.tolist(), first is again
([0, 1, 2], True)
>>> kept(("k",), lambda: np.zeros(1)).tolist()  # outside a scope nothing is kept
[0.0]
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Hashable, Iterator
from typing import Any, TypeVar

import numpy as np
from pyroaring import BitMap

from bitseg.index.footprint import bitmap_bytes

MAX_BYTES = 256 * 1024 * 1024  # about 32 measures of a million customers

T = TypeVar("T", np.ndarray, BitMap)


class _Scope:
    __slots__ = ("items", "bytes")

    def __init__(self) -> None:
        self.items: dict[Hashable, Any] = {}
        self.bytes = 0


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("bitseg_sharing", default=None)


@contextlib.contextmanager
def sharing() -> Iterator[None]:
    """Share measures between the scans inside the block (a nested block joins the outer one)."""
    if _scope.get() is not None:
        yield
        return
    token = _scope.set(_Scope())
    try:
        yield
    finally:
        _scope.reset(token)


def kept(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, or what it returned for `key` earlier in the scope (do not change the result)."""
    scope = _scope.get()
    if scope is None:
        return compute()
    found = scope.items.get(key)
    if found is None:
        found = compute()
        size = _size(found)
        while scope.items and scope.bytes + size > MAX_BYTES:
            scope.bytes -= _size(scope.items.pop(next(iter(scope.items))))
        scope.items[key] = found
        scope.bytes += size
    return found


def _size(item: np.ndarray | BitMap) -> int:
    return item.nbytes if isinstance(item, np.ndarray) else bitmap_bytes(item)


def active() -> bool:
    """Whether a scope is open (work done outside one is not kept)."""
    return _scope.get() is not None
