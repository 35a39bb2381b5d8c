"""Translation between external customer ids and dense integer columns.

Columns are never reused: an erased customer's column stays dead, and its external id, if it comes back,
gets a new column. Members are listed in column order, which is also the order customers arrived in.

>>> t = Translator()
>>> t.to_columns(["a", "b", "a"]).tolist(), t.to_keys([1]).tolist(), t.column("zz")
([0, 1, 0], ['b'], None)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

import numpy as np


class Translator:
    def __init__(self) -> None:
        self._columns: dict[str, int] = {}
        self._keys = np.empty(1024, dtype=object)
        self.size = 0  # columns ever assigned

    def column(self, key: str) -> int | None:
        return self._columns.get(key)

    def to_columns(self, keys: Sequence[str], create: bool = True) -> np.ndarray:
        """Columns of `keys` as uint32; unknown keys get new columns (or -1 as int64 when not `create`)."""
        found = list(map(self._columns.get, keys))
        if None in found:
            if not create:
                return np.array([-1 if c is None else c for c in found], dtype=np.int64)
            for i, column in enumerate(found):
                if column is None:
                    key = keys[i]
                    column = self._columns.get(key)
                    if column is None:
                        column = self._assign(key)
                    found[i] = column
        return np.array(found, dtype=np.uint32)

    def _assign(self, key: str) -> int:
        column = self.size
        if column >= len(self._keys):
            grown = np.empty(max(1024, 2 * len(self._keys)), dtype=object)
            grown[:column] = self._keys[:column]
            self._keys = grown
        self._keys[column] = key
        self._columns[key] = column
        self.size += 1
        return column

    def to_keys(self, columns: np.ndarray | Sequence[int]) -> np.ndarray:
        return self._keys[np.asarray(columns, dtype=np.int64)]

    def remove(self, keys: Iterable[str]) -> list[int]:
        """Forget `keys`; returns the columns they had."""
        gone = []
        for key in keys:
            column = self._columns.pop(key, None)
            if column is not None:
                self._keys[column] = None
                gone.append(column)
        return gone

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """(keys, columns) of live customers."""
        keys = self._keys[: self.size]
        alive = np.array([k is not None for k in keys], dtype=bool)
        return keys[alive], np.flatnonzero(alive).astype(np.uint32)

    # ── persistence: plain values and numpy arrays; the arrays are live, read them under the owner's lock ──
    def state(self) -> dict[str, Any]:
        """`keys`: the external id of each column ever assigned (an object array), None where erased."""
        return {"keys": self._keys[: self.size]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        """A Translator holding what `state()` returned.

        >>> t = Translator()
        >>> _ = t.to_columns(["a", "b", "c"]); _ = t.remove(["b"])
        >>> back = Translator.from_state(t.state())
        >>> back.to_keys([0, 1, 2]).tolist(), back.column("c"), back.to_columns(["d"]).tolist()
        (['a', None, 'c'], 2, [3])
        """
        translator = cls()
        keys = state["keys"]
        translator.size = size = len(keys)
        translator._keys = np.empty(max(1024, size), dtype=object)
        translator._keys[:size] = keys
        live_keys, live_columns = translator.items()
        translator._columns = dict(zip(live_keys.tolist(), live_columns.tolist()))
        return translator
