"""The purchase line store: one numpy column per line attribute, appended in batches, dimension values as codes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from pyroaring import BitMap

from bitseg.index.bitmaps import columns as bitmap_columns
from bitseg.index.values import ABSENT

NO_ORDER = 1 << 31  # order key of a line without an order id: NO_ORDER + day (the order is customer and day)
_DAY_OFFSET = 1 << 20


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

    def encode(self, values: Sequence[object], bad: Callable[[int, str], None] | None = None) -> np.ndarray:
        """Codes of `values` (new strings get new codes); a value that is not a string is reported to `bad`."""
        try:
            found = list(map(self.codes.get, values))
            if None not in found:
                return np.array(found, dtype=np.int32)
            fresh = dict.fromkeys(v for v, code in zip(values, found) if code is None)
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


class LineStore:
    """Every purchase line of an index, columnar. `order` holds order keys (see `order_keys`)."""

    def __init__(self, dimensions: Sequence[str]) -> None:
        self.dimensions = tuple(dimensions)
        self.dictionaries = {dim: Dictionary() for dim in self.dimensions}
        self.orders = Dictionary()
        self.size = 0
        self._columns = self._allocate(0)

    def _allocate(self, capacity: int) -> dict[str, np.ndarray]:
        arrays = {
            "column": np.empty(capacity, np.uint32), "day": np.empty(capacity, np.int32),
            "amount": np.empty(capacity, np.int64), "quantity": np.empty(capacity, np.int64),
            "order": np.empty(capacity, np.int64),
        }
        arrays.update({dim: np.empty(capacity, np.int32) for dim in self.dimensions})
        return arrays

    @staticmethod
    def order_keys(order_codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Order codes, or NO_ORDER + day where a line has no order id (code -1)."""
        return np.where(order_codes < 0, NO_ORDER + days.astype(np.int64) + _DAY_OFFSET, order_codes)

    def append(self, arrays: dict[str, np.ndarray]) -> None:
        n = len(arrays["column"])
        capacity = len(self._columns["column"])
        if self.size + n > capacity:
            grown = self._allocate(max(self.size + n, 2 * capacity, 1024))
            for name, column in self._columns.items():
                grown[name][: self.size] = column[: self.size]
            self._columns = grown
        for name, column in self._columns.items():
            column[self.size: self.size + n] = arrays[name]
        self.size += n

    def __getitem__(self, name: str) -> np.ndarray:
        """A column of the stored lines (a view: do not keep it across writes)."""
        return self._columns[name][: self.size]

    def erase(self, gone: BitMap) -> None:
        keep = ~np.isin(self["column"], bitmap_columns(gone))
        kept = int(np.count_nonzero(keep))
        for name, column in self._columns.items():
            column[:kept] = column[: self.size][keep]
        self.size = kept

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: column[: self.size] for name, column in self._columns.items()}
