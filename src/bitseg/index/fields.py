"""Profile fields: one class per way of storing a field, each answering the predicates its type allows.

- `ValueField` (keyword, bool): one row bitmap per value, and each column's value code.
- `TagsField`: one row bitmap per tag.
- `PresenceField`: only whether the value is set.
- `NumberField` (int, decimal, date): a numpy column of stored numbers and its bit-sliced index (`bsi.py`).

Every field keeps `present`, the bitmap of columns whose value is not NULL, and persists itself: `state()`
gives plain values, numpy arrays and bitmaps — the live ones, so a snapshot reads them holding the index lock
and copies them — and `from_state(state, kind)` builds the field back, adopting them.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Self

import numpy as np
from pyroaring import BitMap

from bitseg.index.arrays import distinct
from bitseg.index.bitmaps import from_mask, from_sorted, union
from bitseg.index.bsi import BitSliced
from bitseg.schema import FieldType

OPERATORS: dict[str, Callable] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_INT64_BOUND = 1 << 62


def groups(keys: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(key, positions) for each distinct key, positions ascending."""
    if len(keys) == 0:
        return
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    bounds = np.flatnonzero(np.diff(ordered)) + 1
    for start, end in zip(np.concatenate(([0], bounds)).tolist(), np.concatenate((bounds, [len(keys)])).tolist()):
        yield ordered[start].item(), order[start:end]


def bitmap_of(columns: np.ndarray) -> BitMap:
    return from_sorted(distinct(columns))


class Field:
    kind: FieldType

    def __init__(self) -> None:
        self.present = BitMap()

    @classmethod
    def empty(cls, kind: FieldType) -> Self:
        return cls()

    def erase(self, gone: BitMap) -> None:
        self.present -= gone

    def state(self) -> dict[str, Any]:
        return {"present": self.present}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], kind: FieldType) -> Self:
        """A field of type `kind` holding what `state()` returned."""
        field = cls.empty(kind)
        field.present = state["present"]
        return field


class ValueField(Field):
    """keyword or bool: a row per value."""

    def __init__(self, kind: FieldType) -> None:
        super().__init__()
        self.kind = kind
        self.rows: dict[object, BitMap] = {}
        self.codes: dict[object, int] = {}
        self.names: list[object] = []
        self.column_codes = np.full(1024, -1, dtype=np.int32)
        self.used = 0  # columns below this may have a code; the rest of column_codes is spare room

    @classmethod
    def empty(cls, kind: FieldType) -> Self:
        return cls(kind)

    def _code(self, value: object) -> int:
        code = self.codes.get(value)
        if code is None:
            code = self.codes[value] = len(self.names)
            self.names.append(value)
        return code

    def set(self, columns: np.ndarray, values: list) -> None:
        """Give distinct `columns` their `values` (None clears)."""
        new = np.array([-1 if v is None else self._code(v) for v in values], dtype=np.int32)
        if len(columns):
            end = int(columns.max()) + 1
            if end > len(self.column_codes):
                grown = np.full(max(2 * len(self.column_codes), end), -1, dtype=np.int32)
                grown[: len(self.column_codes)] = self.column_codes
                self.column_codes = grown
            self.used = max(self.used, end)
        old = self.column_codes[columns]
        changed = old != new
        columns, old, new = columns[changed], old[changed], new[changed]
        for code, at in groups(old):
            if code >= 0:
                self.rows[self.names[code]] -= bitmap_of(columns[at])
        for code, at in groups(new):
            if code >= 0:
                value = self.names[code]
                self.rows[value] = self.rows.get(value, BitMap()) | bitmap_of(columns[at])
        self.column_codes[columns] = new
        self.present -= bitmap_of(columns[new < 0])
        self.present |= bitmap_of(columns[new >= 0])

    def value_of(self, column: int) -> object:
        code = int(self.column_codes[column]) if column < len(self.column_codes) else -1
        return None if code < 0 else self.names[code]

    def select(self, op: str, value: object) -> BitMap:
        if op == "=":
            return self.rows.get(value, BitMap())
        test = OPERATORS[op]
        return union(row for v, row in self.rows.items() if test(v, value))

    def select_in(self, values: Iterable[object]) -> BitMap:
        return union(self.rows[v] for v in set(values) if v in self.rows)

    def between(self, low: object, high: object) -> BitMap:
        return union(row for v, row in self.rows.items() if low <= v <= high)  # type: ignore[operator]

    def erase(self, gone: BitMap) -> None:
        super().erase(gone)
        for row in self.rows.values():
            row -= gone
        cols = np.frombuffer(gone.to_array(), np.uint32)
        self.column_codes[cols[cols < len(self.column_codes)]] = -1

    def state(self) -> dict[str, Any]:
        """Also `names` (the values by code), `rows` (their bitmaps, in the same order) and `column_codes`."""
        rows = [self.rows.get(v, BitMap()) for v in self.names]
        codes = self.column_codes[: self.used]
        return {**super().state(), "names": self.names, "rows": rows, "column_codes": codes}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], kind: FieldType) -> Self:
        field = super().from_state(state, kind)
        field.names = list(state["names"])
        field.codes = {value: code for code, value in enumerate(field.names)}
        field.rows = dict(zip(field.names, state["rows"]))
        field.column_codes = np.require(state["column_codes"], np.int32, ["C", "W"])  # set() grows it
        field.used = len(field.column_codes)
        return field


class TagsField(Field):
    kind = FieldType.TAGS

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, BitMap] = {}

    def set(self, columns: np.ndarray, values: list) -> None:
        touched = bitmap_of(columns)
        for row in self.rows.values():
            row -= touched
        self.present -= touched
        by_tag: dict[str, list[int]] = {}
        for column, tags in zip(columns.tolist(), values):
            for tag in tags or ():
                by_tag.setdefault(tag, []).append(column)
        for tag, cols in by_tag.items():
            self.rows[tag] = self.rows.get(tag, BitMap()) | bitmap_of(np.array(cols, dtype=np.uint32))
        self.present |= bitmap_of(columns[np.array([bool(v) for v in values], dtype=bool)])

    def contains(self, tag: str) -> BitMap:
        return self.rows.get(tag, BitMap())

    def erase(self, gone: BitMap) -> None:
        super().erase(gone)
        for row in self.rows.values():
            row -= gone

    def state(self) -> dict[str, Any]:
        """Also `tags` and `rows`, their bitmaps in the same order."""
        return {**super().state(), "tags": list(self.rows), "rows": list(self.rows.values())}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], kind: FieldType) -> Self:
        field = super().from_state(state, kind)
        field.rows = dict(zip(state["tags"], state["rows"]))
        return field


class PresenceField(Field):
    kind = FieldType.PRESENCE

    def set(self, columns: np.ndarray, values: list) -> None:
        is_set = np.array([v is not None for v in values], dtype=bool)
        self.present -= bitmap_of(columns[~is_set])
        self.present |= bitmap_of(columns[is_set])


class NumberField(Field):
    """int, decimal (ten-thousandths) and date (day numbers): a numpy column, NULL where not `present`, and its
    bit-sliced index (`bsi.py`), which answers the compares; the column stays for sums, month-days and values."""

    def __init__(self, kind: FieldType) -> None:
        super().__init__()
        self.kind = kind
        self.values = np.zeros(1024, dtype=np.int64)  # 0 where NULL, so NULLs are in no bit slice
        self.used = 0  # columns below this may have a value; the rest of values is spare room
        self.index = BitSliced()

    @classmethod
    def empty(cls, kind: FieldType) -> Self:
        return cls(kind)

    def reserve(self, size: int) -> None:
        if size > len(self.values):
            grown = np.zeros(max(size, 2 * len(self.values)), dtype=np.int64)
            grown[: len(self.values)] = self.values
            self.values = grown
        self.used = max(self.used, size)

    def put(self, columns: np.ndarray, numbers: np.ndarray) -> None:
        """Give distinct `columns` (already reserved) new stored numbers, keeping the index current: O(batch)."""
        self.index.update(columns, self.values[columns], numbers)
        self.values[columns] = numbers

    def set(self, columns: np.ndarray, values: tuple[np.ndarray, np.ndarray]) -> None:
        """Give distinct `columns` the stored `numbers` where `is_set`, NULL elsewhere."""
        numbers, is_set = values
        if len(columns):
            self.reserve(int(columns.max()) + 1)
        self.put(columns, np.where(is_set, numbers, 0))
        self.present -= bitmap_of(columns[~is_set])
        self.present |= bitmap_of(columns[is_set])

    def select(self, op: str, threshold: int | Decimal, among: BitMap | None = None) -> BitMap:
        """Columns whose value `op` threshold (in stored units, possibly fractional, any size), among the present
        (and among `among` when given: the walk then touches only those columns' containers)."""
        present = self.present if among is None else self.present & among
        if op in ("=", "!="):
            equal = self.index.equal(present, int(threshold)) if threshold == int(threshold) else BitMap()
            return present - equal if op == "!=" else equal
        if op in (">", ">="):
            low = math.floor(threshold) + 1 if op == ">" else math.ceil(threshold)
            return self.index.range(present, low, None, self.values)
        high = math.ceil(threshold) - 1 if op == "<" else math.floor(threshold)
        return self.index.range(present, None, high, self.values)

    def between(self, low: int | Decimal, high: int | Decimal, among: BitMap | None = None) -> BitMap:
        present = self.present if among is None else self.present & among
        return self.index.range(present, math.ceil(low), math.floor(high), self.values)

    def select_in(self, thresholds: Iterable[int | Decimal], among: BitMap | None = None) -> BitMap:
        present = self.present if among is None else self.present & among
        return union(self.index.equal(present, int(t)) for t in set(thresholds) if t == int(t))

    def estimate(self, op: str, thresholds: Sequence[int | Decimal], sample: int = 2048) -> int:
        """About how many columns `op` thresholds selects, from an evenly spaced sample of the column: what the
        planner orders the compares of an AND by (the smallest walks first, the others only within it)."""
        if not self.present or self.used == 0:
            return 0
        picked = self.values[: self.used: max(1, self.used // sample)]
        bounds = [float(max(-(1 << 62), min(1 << 62, t))) for t in thresholds]  # beyond every stored value
        if op == "between":
            hits = (picked >= bounds[0]) & (picked <= bounds[1])
        elif op == "in":
            hits = np.isin(picked, [int(b) for b in bounds if b == int(b)])
        else:
            hits = OPERATORS[op](picked, bounds[0])
        return round(float(hits.mean()) * len(self.present))

    def scan_in(self, thresholds: Iterable[int | Decimal], size: int) -> BitMap:
        """`select_in` by one pass over the column: cheaper than an index walk per value for long lists."""
        exact = [int(t) for t in thresholds if -(1 << 63) <= t < 1 << 63 and t == int(t)]  # int64 holds them
        return from_mask(np.isin(self.values[:size], exact)) & self.present

    def erase(self, gone: BitMap) -> None:
        super().erase(gone)
        self.index.erase(gone)
        cols = np.frombuffer(gone.to_array(), np.uint32)
        self.values[cols[cols < len(self.values)]] = 0

    def state(self) -> dict[str, Any]:
        """Also `values`, the stored numbers by column (0 where not present), and the index's `sign` and `slices`."""
        return {**super().state(), "values": self.values[: self.used], "sign": self.index.sign,
                "slices": self.index.slices}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], kind: FieldType) -> Self:
        field = super().from_state(state, kind)
        field.values = np.require(state["values"], np.int64, ["C", "W"])  # reserve() grows it
        field.used = len(field.values)
        # a snapshot from before the index was kept has none: build it from the values (~3 ms a slice at 1M)
        field.index = (BitSliced(state["sign"], state["slices"]) if "slices" in state
                       else BitSliced.build(field.values))
        return field


def compare(values: np.ndarray, op: str, threshold: int | Decimal) -> np.ndarray | None:
    """`values op threshold` as a mask, exact for a fractional threshold; None when nothing can match.

    >>> compare(np.array([1, 2, 3]), ">", Decimal("1.5")).tolist()
    [False, True, True]
    """
    # beyond every stored value: clamped, because int() of a huge Decimal would not return
    if not -_INT64_BOUND <= threshold <= _INT64_BOUND:
        threshold = _INT64_BOUND if threshold > 0 else -_INT64_BOUND
    if threshold != int(threshold):
        if op == "=":
            return None
        if op == "!=":
            return np.ones(len(values), dtype=bool)
        threshold, op = ((math.ceil(threshold), ">=") if op in (">", ">=") else (math.floor(threshold), "<="))
    bound = max(-_INT64_BOUND, min(_INT64_BOUND, int(threshold)))
    return OPERATORS[op](values, bound)


def make_field(kind: FieldType) -> Field:
    if kind in (FieldType.KEYWORD, FieldType.BOOL):
        return ValueField(kind)
    if kind is FieldType.TAGS:
        return TagsField()
    if kind is FieldType.PRESENCE:
        return PresenceField()
    return NumberField(kind)
