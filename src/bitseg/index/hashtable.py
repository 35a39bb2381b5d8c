"""A numpy open-addressing hash table of int64 keys to int64 values: batch lookups and inserts in O(batch).

Linear probing over a power-of-two table kept at most 60% full, every step vectorised over the batch: the
number of rounds is the longest probe of the batch (a handful), not the batch's length. Keys are exact (the
table stores them), so there are no false matches; -1 is the one key that cannot be stored (it marks empty
slots). Growth doubles the table, so inserting n keys costs O(n) amortised whatever the table holds.

>>> table = HashTable()
>>> table.insert(np.array([7, 1 << 40, 3]), np.array([0, 1, 2]))
>>> table.get(np.array([3, 8, 1 << 40])).tolist(), len(table)
([2, -1, 1], 3)
>>> HashTable.from_state(table.state()).get(np.array([7])).tolist()
[0]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

EMPTY = -1
_MIN_CAPACITY = 1024


def mix(keys: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit, so slots spread whatever the keys are.

    >>> mix(np.array([0, 1, 2])).dtype, len(set(mix(np.arange(1000)).tolist()))
    (dtype('uint64'), 1000)
    """
    z = keys.astype(np.uint64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class HashTable:
    """int64 keys (not -1) to int64 values; `get` gives -1 for a missing key.

    Without `values` it is a set (`contains`, and `get` gives 0 for a key it holds): half the bytes.
    """

    def __init__(self, capacity: int = _MIN_CAPACITY, values: bool = True) -> None:
        capacity = max(_MIN_CAPACITY, 1 << (max(capacity, 1) - 1).bit_length())
        self.keys = np.full(capacity, EMPTY, dtype=np.int64)
        self.values: np.ndarray | None = np.full(capacity, EMPTY, dtype=np.int64) if values else None
        self.count = 0

    def __len__(self) -> int:
        return self.count

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + (0 if self.values is None else self.values.nbytes)

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        """For each key, the slot holding it or else the first empty slot on its probe path."""
        mask = np.uint64(len(self.keys) - 1)
        at = (mix(keys) & mask).astype(np.int64)
        out = np.empty(len(keys), dtype=np.int64)
        todo = np.arange(len(keys))
        table = self.keys
        while len(todo):
            held = table[at]
            done = (held == keys[todo]) | (held == EMPTY)
            out[todo[done]] = at[done]
            todo, at = todo[~done], (at[~done] + 1) & (len(table) - 1)
        return out

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key, -1 where it is not in the table."""
        keys = np.asarray(keys, dtype=np.int64)
        if len(keys) == 0:
            return np.empty(0, dtype=np.int64)
        slots = self._slots(keys)
        found = self.keys[slots] == keys
        return np.where(found, 0 if self.values is None else self.values[slots], EMPTY)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        return self.get(keys) != EMPTY if len(self) else np.zeros(len(keys), dtype=bool)

    def insert(self, keys: np.ndarray, values: np.ndarray | None = None) -> None:
        """Add keys that are distinct and not in the table yet (callers look them up first)."""
        keys = np.asarray(keys, dtype=np.int64)
        values = np.zeros(len(keys), dtype=np.int64) if values is None else np.asarray(values, dtype=np.int64)
        if len(keys) == 0:
            return
        if (keys == EMPTY).any():
            raise ValueError("-1 cannot be a key of a HashTable")
        if 5 * (self.count + len(keys)) > 3 * len(self.keys):
            self._grow(self.count + len(keys))
        todo = np.arange(len(keys))
        while len(todo):
            slots = self._slots(keys[todo])
            self.keys[slots] = keys[todo]
            # two keys of the batch may have chosen the same empty slot: the one whose write stayed has it
            won = self.keys[slots] == keys[todo]
            if self.values is not None:
                self.values[slots[won]] = values[todo[won]]
            todo = todo[~won]
        self.count += len(keys)

    def _rebuild(self, keys: np.ndarray, values: np.ndarray | None, count: int) -> None:
        # at most half full afterwards, so growth happens again only after a fifth more keys: amortised O(1)
        rebuilt = HashTable(2 * count, values=self.values is not None)
        rebuilt.insert(keys, values)
        self.keys, self.values, self.count = rebuilt.keys, rebuilt.values, rebuilt.count

    def _grow(self, count: int) -> None:
        keys, values = self.items()
        self._rebuild(keys, values, count)

    def remove_where(self, drop: Callable[[np.ndarray], np.ndarray]) -> None:
        """Remove the keys for which `drop(keys)` is True (a rebuild: removal is rare, erasure of customers)."""
        keys, values = self.items()
        keep = ~drop(keys)
        self._rebuild(keys[keep], None if values is None else values[keep], int(keep.sum()))

    def items(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The keys held and their values (None for a set), in slot order."""
        held = self.keys != EMPTY
        return self.keys[held], None if self.values is None else self.values[held]

    # ── persistence: the table itself, so start-up adopts it without rehashing ──
    def state(self) -> dict[str, Any]:
        """`keys` (the slots, -1 where empty) and, unless a set, `values`."""
        return {"keys": self.keys} if self.values is None else {"keys": self.keys, "values": self.values}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> HashTable:
        table = cls.__new__(cls)
        table.keys = np.require(state["keys"], dtype=np.int64, requirements=["C", "W"])
        table.values = (np.require(state["values"], dtype=np.int64, requirements=["C", "W"])
                        if "values" in state else None)
        size = len(table.keys)
        if size & (size - 1) or size == 0 or (table.values is not None and len(table.values) != size):
            raise ValueError("a hash table's state needs keys (and values) of one power-of-two length")
        table.count = int(np.count_nonzero(table.keys != EMPTY))
        return table
