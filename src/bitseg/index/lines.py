"""The purchase line store: a numpy column per line attribute, appended in batches, dimension values as codes.

Both classes persist themselves: `state()` gives plain values and numpy arrays — the live ones, so a snapshot
reads them holding the index lock and copies them — and `from_state` builds the object back, adopting the
arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import compress, repeat
from operator import is_
from typing import Any, Self

import numpy as np
from pyroaring import BitMap

from bitseg.index.bitmaps import columns as bitmap_columns
from bitseg.index.orderids import OrderIds
from bitseg.index.values import ABSENT

_FRESH_MERGE = 4_000_000  # a merge of this many lines or more is not copied while readers wait (see stage)
NO_ORDER = 1 << 31  # order key of a line without an order id: NO_ORDER + day (the order is customer and day)
DAY_OFFSET = 1 << 20  # added to day numbers used as keys, so days before 1970 stay positive


class Dictionary:
    """Codes for the values of one dimension (or of order ids): dense ints from 0, -1 for NULL.

    >>> d = Dictionary()
    >>> d.encode(["a", None, "b", "a", ""]).tolist(), d.code("b"), d.code("zz")
    ([0, -1, 1, 0, -1], 1, None)
    """

    def __init__(self) -> None:
        self.codes: dict[object, int] = {None: -1, "": -1, ABSENT: -1}
        self.values: list[str] = []

    def __len__(self) -> int:
        return len(self.values)

    def code(self, value: str) -> int | None:
        code = self.codes.get(value)
        return None if code is None or code < 0 else code

    def encode(self, values: Sequence[object] | np.ndarray, bad: Callable[[int, str], None] | None = None) -> np.ndarray:
        """Codes of `values` (new strings get new codes); a value that is not a string is reported to `bad`."""
        try:
            found = list(map(self.codes.get, values))
            if None not in found:
                return np.array(found, dtype=np.int32)
            fresh = dict.fromkeys(compress(values, map(is_, found, repeat(None))))
            if all(isinstance(v, str) for v in fresh):
                # new values in bulk: dict.update over a zip runs in C, a loop per value does not
                self.codes.update(zip(fresh, range(len(self.values), len(self.values) + len(fresh))))
                self.values.extend(fresh)  # type: ignore[arg-type]
                return np.array(list(map(self.codes.get, values)), dtype=np.int32)
        except TypeError:  # an unhashable cell
            pass
        out = np.full(len(values), -1, dtype=np.int32)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                if value not in (None, ABSENT) and bad is not None:
                    bad(i, f"{value!r} is not a string")
                continue
            code = self.codes.get(value)
            if code is None:
                code = self.codes[value] = len(self.values)
                self.values.append(value)
            out[i] = code
        return out

    def state(self) -> list[str]:
        """The values by code: a list, not a dict, so that a long one (order ids) is one file of names in a
        snapshot, which start-up may decode lazily (persistence.deferred)."""
        return self.values

    @classmethod
    def from_state(cls, values: Iterable[str]) -> Dictionary:
        """A Dictionary of `values` (what `state()` returned).

        >>> Dictionary.from_state(Dictionary.from_state(["a", "b"]).state()).encode(["b", "c"]).tolist()
        [1, 2]
        """
        dictionary = Dictionary()  # not cls(): a DeferredDictionary is built from chunks, not from a list
        dictionary.values = list(values)
        dictionary.codes.update(zip(dictionary.values, range(len(dictionary.values))))
        return dictionary


def _start(runs: list[int], at: int) -> int:
    at %= len(runs)
    return runs[at - 1] if at else 0


def _length(runs: list[int], at: int) -> int:
    return runs[at] - _start(runs, at)


def _day_key(day: int) -> np.int32:
    return np.int32(max(-(1 << 31), min((1 << 31) - 1, day)))


class LineStore:
    """Every purchase line of an index, columnar. `order` holds order keys (see `order_keys`).

    Lines are kept in runs, each sorted by day (a batch is sorted when it arrives; runs of similar length are merged,
    so there are few of them), so the lines of a date window are a few slices found by binary search rather than
    a mask over every line.

    >>> store = LineStore(())
    >>> for days in ([5, 1, 3], [2, 9]):
    ...     n = len(days)
    ...     store.append({"column": np.arange(n), "day": np.array(days), "amount": np.zeros(n),
    ...                   "quantity": np.ones(n), "order": np.zeros(n)})
    >>> store["day"].tolist(), store.window(2, 4)
    ([1, 2, 3, 5, 9], [(1, 3)])
    """

    def __init__(self, dimensions: Sequence[str]) -> None:
        self.dimensions = tuple(dimensions)
        self.dictionaries = {dim: Dictionary() for dim in self.dimensions}
        self.orders = OrderIds()
        self.line_ids = OrderIds()  # the `line` ids of the lines added (SPEC §1): a line whose id is here is skipped
        self.size = 0
        self.runs: list[int] = []  # end offset of each day-sorted run
        self.erasures = 0  # counts erasures: the only change that moves lines inside a run (postings.py)
        self._columns = self._allocate(0)

    def _allocate(self, capacity: int) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {
            "column": np.empty(capacity, np.uint32), "day": np.empty(capacity, np.int32),
            "amount": np.empty(capacity, np.int64), "quantity": np.empty(capacity, np.int64),
            "order": np.empty(capacity, np.int64),
        }
        arrays.update({dim: np.empty(capacity, np.int32) for dim in self.dimensions})
        return arrays

    @staticmethod
    def order_keys(order_codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Order codes, or NO_ORDER + day where a line has no order id (code -1)."""
        return np.where(order_codes < 0, NO_ORDER + days.astype(np.int64) + DAY_OFFSET, order_codes)

    def append(self, arrays: dict[str, np.ndarray]) -> None:
        self.stage(arrays).publish()

    def stage(self, arrays: dict[str, np.ndarray]) -> StagedLines:
        """`append` computed without changing what readers see (they read below `size`, by `runs`).

        The batch, sorted by day, is written past `size` (into spare room, or into grown copies of the columns).
        Runs of similar length merge (so there are few): the merged lines go into new arrays, for `publish` to
        copy over the old positions (a memcpy, ~20 ms per million lines) — or, when the merge covers millions
        of lines and half the store or more, into fresh columns holding every line, which `publish` swaps in.
        O(batch) but for the merges, as before.
        """
        n = len(arrays["column"])
        staged = StagedLines(self, self._columns, self.size, list(self.runs))
        if n == 0:
            return staged
        columns, size = self._columns, self.size
        capacity = len(columns["column"])
        if size + n > capacity:
            grown = self._allocate(max(size + n, 2 * capacity, 1024))
            for name, column in columns.items():
                grown[name][:size] = column[:size]
            columns = staged.columns = grown
        order = np.argsort(arrays["day"], kind="stable")
        for name, column in columns.items():
            column[size: size + n] = np.asarray(arrays[name])[order]
        runs = staged.runs
        runs.append(size + n)
        start = None
        while len(runs) >= 2 and 2 * _length(runs, -1) >= _length(runs, -2):
            start = _start(runs, -2)
            del runs[-2]
        staged.size = end = size + n
        if start is None or start >= size:
            return staged
        # two sorted runs side by side: a stable sort merges them in linear time
        merged = np.argsort(columns["day"][start:end], kind="stable")
        if end - start >= _FRESH_MERGE and 2 * (end - start) >= end:
            fresh = self._allocate(len(columns["column"]))
            for name, column in columns.items():
                fresh[name][:start] = column[:start]
                fresh[name][start:end] = column[start:end][merged]
            staged.columns = fresh
        else:
            staged.merged = (start, {name: column[start:end][merged] for name, column in columns.items()})
        return staged

    def _sort(self, start: int, end: int) -> None:
        # two sorted runs side by side: a stable sort merges them in linear time
        order = np.argsort(self._columns["day"][start:end], kind="stable")
        for column in self._columns.values():
            column[start:end] = column[start:end][order]

    def window(self, low: int | None, high: int | None) -> list[tuple[int, int]]:
        """The slices of lines whose day is in [low, high] (None: unbounded)."""
        if not self.runs or self.runs[-1] != self.size:  # restored without runs: one sort makes one run
            self._sort(0, self.size)
            self.runs = [self.size] if self.size else []
        day = self._columns["day"]
        slices: list[tuple[int, int]] = []
        for at, end in enumerate(self.runs):
            start = _start(self.runs, at)
            run = day[start:end]
            # an int32 key: a Python int would make numpy cast the whole run to int64 first
            first = start + (0 if low is None else int(np.searchsorted(run, _day_key(low), side="left")))
            last = start + (len(run) if high is None else int(np.searchsorted(run, _day_key(high), side="right")))
            if first < last:
                if slices and slices[-1][1] == first:  # runs wholly inside the window join up: no copy
                    slices[-1] = (slices[-1][0], last)
                else:
                    slices.append((first, last))
        return slices

    def last_day(self) -> int | None:
        """The latest day of any line (a return included), None when there is none: each run ends on its own."""
        self.window(None, None)  # makes sure the runs are known
        return int(self._columns["day"][np.array(self.runs) - 1].max()) if self.runs else None

    def gather(self, names: Sequence[str], slices: list[tuple[int, int]]) -> dict[str, np.ndarray]:
        """The named columns of the lines in `slices`."""
        if len(slices) == 1:
            start, end = slices[0]
            return {name: self._columns[name][start:end] for name in names}
        return {name: np.concatenate([self._columns[name][s:e] for s, e in slices] or [self._columns[name][:0]])
                for name in names}

    def __getitem__(self, name: str) -> np.ndarray:
        """A column of the stored lines (a view: do not keep it across writes)."""
        return self._columns[name][: self.size]

    def erase(self, gone: BitMap) -> None:
        self.erasures += 1
        keep = ~np.isin(self["column"], bitmap_columns(gone))
        kept_before = np.concatenate(([0], np.cumsum(keep)))
        self.runs = sorted({int(kept_before[end]) for end in self.runs} - {0})
        kept = int(kept_before[-1])
        for column in self._columns.values():
            column[:kept] = column[: self.size][keep]
        self.size = kept

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: column[: self.size] for name, column in self._columns.items()}

    def state(self) -> dict[str, Any]:
        """`columns` (every line column, cut to the lines held), `runs` (end offset of each day-sorted run)
        and `dictionaries` (each dimension's Dictionary state).

        The order ids are not in it: the index keeps them as a part of their own and hands them back to
        `from_state`.
        """
        return {"columns": self.arrays(), "runs": self.runs,
                "dictionaries": {dim: d.state() for dim, d in self.dictionaries.items()}}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], dimensions: Sequence[str], orders: OrderIds) -> Self:
        """A LineStore of `dimensions` holding what `state()` returned, with the order ids `orders`.

        >>> store = LineStore(["brand"])
        >>> brand = store.dictionaries["brand"].encode(["x", "y"])
        >>> store.append({"column": np.array([0, 1]), "day": np.array([7, 3]), "amount": np.zeros(2),
        ...               "quantity": np.ones(2), "order": np.zeros(2), "brand": brand})
        >>> back = LineStore.from_state(store.state(), ["brand"], OrderIds())
        >>> back["day"].tolist(), back["brand"].tolist(), back.dictionaries["brand"].code("y")
        ([3, 7], [1, 0], 1)
        >>> back.window(4, 9)
        [(1, 2)]
        """
        store = cls(dimensions)
        saved_dictionaries = state["dictionaries"]
        store.dictionaries = {dim: Dictionary.from_state(saved_dictionaries[dim]) for dim in store.dimensions}
        store.orders = orders
        saved = state["columns"]
        # adopted when the type is right and the array writable (append writes into it, erase compacts it)
        store._columns = {name: np.require(saved[name], dtype=empty.dtype, requirements=["C", "W"])
                          for name, empty in store._columns.items()}
        store.size = len(store._columns["column"])
        store.runs = list(state["runs"])
        return store


class StagedLines:
    """A batch's change to the line store (`LineStore.stage`): the columns, size and runs to publish, and the
    lines of a merge to copy over their old positions."""

    def __init__(self, store: LineStore, columns: dict[str, np.ndarray], size: int, runs: list[int]) -> None:
        self.store = store
        self.columns = columns
        self.size = size
        self.runs = runs
        self.merged: tuple[int, dict[str, np.ndarray]] | None = None

    def publish(self) -> None:
        store = self.store
        if self.merged is not None:
            start, merged = self.merged
            for name, lines in merged.items():
                self.columns[name][start: start + len(lines)] = lines
        store._columns, store.size, store.runs = self.columns, self.size, self.runs
