"""Order ids interned as dense codes without a Python string per id: 64-bit hashes in a numpy hash table.

An order id has to be told apart from the others (the line store keeps its code) and, rarely, shown (`why`
lists a customer's lines): so the ids' text is kept as UTF-8 bytes in one numpy array, not as str objects. Each id is hashed twice, vectorised over the batch (numpy's fixed-width UCS-4
view of the strings): the first hash is the table's key, the second is kept per code as a check. Two ids
with one first hash (a collision) are caught by the check and resolved exactly: the later id gets its code
from a small dict of collided ids, and every id with that first hash goes through the dict from then on.
Only ids equal in both hashes (128 bits) could be confused. About 50 bytes per distinct id, against ~150 for
a dict of str, and the table is adopted as it is at start-up (no rehashing).

>>> ids = OrderIds()
>>> ids.encode(["o1", None, "o2", "o1", ""]).tolist(), len(ids), ids.values[1]
([0, -1, 1, 0, -1], 2, 'o2')
>>> OrderIds.from_state(ids.state()).encode(["o2", "o3"]).tolist()
[1, 2]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from hashlib import blake2b
from typing import Any

import numpy as np

from bitseg.index.arrays import distinct_first_inverse
from bitseg.index.hashtable import EMPTY, HashTable, mix
from bitseg.index.values import ABSENT

_WIDE = 64  # ids longer than this many characters are hashed one at a time (a numpy block would be too wide)
_SEEDS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))
_PRIME = np.uint64(0x100000001B3)


def _hashes_wide(values: Sequence[str], *_: object) -> tuple[np.ndarray, np.ndarray]:
    if not len(values):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    digests = [blake2b(v.encode("utf-8", "surrogatepass"), digest_size=16).digest() for v in values]
    both = np.frombuffer(b"".join(digests), dtype=np.int64).reshape(-1, 2)
    return both[:, 0].copy(), both[:, 1].copy()


def hashes(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes (int64) of each string, stable across processes.

    >>> a, b = hashes(["o1", "o2", "o1"])
    >>> bool(a[0] == a[2]), bool(a[0] == a[1]), bool((a != b).all())
    (True, False, True)
    """
    if not len(values):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    longest = int(lengths.max())
    if longest > _WIDE:  # each id hashed by its own length's rule, whatever else the batch holds
        wide = lengths > _WIDE
        out = [np.empty(len(values), dtype=np.int64) for _ in _SEEDS]
        parts = (np.flatnonzero(~wide), _hashes), (np.flatnonzero(wide), _hashes_wide)
        for where, rule in parts:
            for o, h in zip(out, rule([values[i] for i in where.tolist()])):
                o[where] = h
        return out[0], out[1]
    return _hashes(values, lengths, longest)


def _hashes(values: Sequence[str], lengths: np.ndarray | None = None,
            longest: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    if lengths is None:
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    if not len(values):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    longest = int(lengths.max()) if longest is None else longest
    # UCS-4, padded to an even width so that two characters make one uint64 step
    text = np.array(values, dtype=f"U{max(longest + longest % 2, 2)}")
    words = text.view(np.uint64).reshape(len(values), -1)
    out = []
    for seed in _SEEDS:
        h = np.full(len(values), seed, dtype=np.uint64)
        for j in range(words.shape[1]):  # one step per two characters, each over the whole batch
            # only within each id's own length: the hash of an id must not depend on the batch's widest id
            h = np.where(lengths > 2 * j, (h ^ words[:, j]) * _PRIME, h)
        # the length too: numpy pads with NUL, so "a" and "a\0" would otherwise share every step
        h ^= lengths.view(np.uint64) * seed
        out.append(mix(h).view(np.int64))
    return out[0], out[1]


def _grown(array: np.ndarray, used: int, needed: int) -> np.ndarray:
    grown = np.empty(max(2 * len(array), needed, 1024), dtype=array.dtype)
    grown[:used] = array[:used]
    return grown


class Texts:
    """The ids by code of an OrderIds, as a read-only sequence."""

    def __init__(self, ids: OrderIds) -> None:
        self.ids = ids

    def __len__(self) -> int:
        return self.ids.size

    def __getitem__(self, code: int) -> str:
        if not 0 <= code < self.ids.size:
            raise IndexError(f"no order id has code {code}")
        return self.ids.text(code)

    def __iter__(self) -> Iterator[str]:
        return (self.ids.text(code) for code in range(self.ids.size))


class OrderIds:
    """Codes for order ids: dense ints from 0, -1 for NULL (None, "" or absent); the Dictionary interface.

    `primary_bits` narrows the first hash (tests use it to force collisions).
    """

    def __init__(self, primary_bits: int = 64) -> None:
        self.table = HashTable()  # first hash → code
        self.checks = np.empty(1024, dtype=np.int64)  # second hash by code
        self.size = 0
        self.texts = np.empty(1 << 14, dtype=np.uint8)  # the ids' UTF-8, one after another in code order
        self.ends = np.empty(1024, dtype=np.int64)  # where each code's text ends in `texts`
        self.overflow: dict[str, int] = {}  # ids whose first hash another id had first
        self.collided: set[int] = set()  # those first hashes
        self.primary_bits = primary_bits

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        return self.table.nbytes + self.checks.nbytes + self.texts.nbytes + self.ends.nbytes

    @property
    def values(self) -> Texts:
        """The ids by code, read one at a time (a customer's lines shown by `why`)."""
        return Texts(self)

    def text(self, code: int) -> str:
        start = int(self.ends[code - 1]) if code else 0
        return self.texts[start: int(self.ends[code])].tobytes().decode("utf-8", "surrogatepass")

    def _hash(self, values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        first, second = hashes(values)
        if self.primary_bits < 64:
            first = first & ((1 << self.primary_bits) - 1)
        return np.where(first == EMPTY, -2, first), second  # -1 marks an empty slot of the table

    def _new(self, seconds: np.ndarray, texts: list[str]) -> np.ndarray:
        n = len(seconds)
        if self.size + n > len(self.checks):
            self.checks = _grown(self.checks, self.size, self.size + n)
            self.ends = _grown(self.ends, self.size, self.size + n)
        encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
        used = int(self.ends[self.size - 1]) if self.size else 0
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=n)
        added = int(lengths.sum())
        if used + added > len(self.texts):
            self.texts = _grown(self.texts, used, used + added)
        self.texts[used: used + added] = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        self.ends[self.size: self.size + n] = used + np.cumsum(lengths)
        codes = np.arange(self.size, self.size + n, dtype=np.int64)
        self.checks[self.size: self.size + n] = seconds
        self.size += n
        return codes

    def _exact(self, value: str, first: int, second: int) -> int:
        """One id whose first hash collided: resolved by the dict of collided ids and the check."""
        code = self.overflow.get(value)
        if code is not None:
            return code
        held = int(self.table.get(np.array([first]))[0])
        if held >= 0 and int(self.checks[held]) == second:
            return held
        code = int(self._new(np.array([second]), [value])[0])
        if held < 0:
            self.table.insert(np.array([first]), np.array([code]))
        else:
            self.overflow[value] = code
            self.collided.add(first)
        return code

    def _encode_strings(self, values: list[str], ordered: bool = False) -> np.ndarray:
        first, second = self._hash(values)
        unique, at, inverse = distinct_first_inverse(first)
        # a first hash shared with another id (of the batch, of the table, or ever) sends every id of the batch
        # that has it down the exact path
        slow = np.zeros(len(unique), dtype=bool)
        slow[inverse[second != second[at][inverse]]] = True
        codes = self.table.get(unique)
        known = np.flatnonzero(codes >= 0)
        slow[known[self.checks[codes[known]] != second[at[known]]]] = True
        if self.collided:
            slow |= np.isin(unique, np.fromiter(self.collided, dtype=np.int64, count=len(self.collided)))
        fresh = np.flatnonzero(~slow & (codes < 0))
        if ordered:  # codes in order of first appearance (an older snapshot's ids by code)
            fresh = fresh[np.argsort(at[fresh], kind="stable")]
        codes[fresh] = self._new(second[at[fresh]], [values[i] for i in at[fresh].tolist()])
        self.table.insert(unique[fresh], codes[fresh])
        out = codes[inverse]
        for i in np.flatnonzero(slow[inverse]).tolist():
            out[i] = self._exact(values[i], int(first[i]), int(second[i]))
        return out.astype(np.int32)

    def encode(self, values: Sequence[object] | np.ndarray,
               bad: Callable[[int, str], None] | None = None) -> np.ndarray:
        """Codes of `values` (new ids get new codes); a value that is not a string is reported to `bad`."""
        values = list(values)
        out = np.full(len(values), -1, dtype=np.int32)
        kinds = set(map(type, values))
        if kinds <= {str}:
            given = [i for i, v in enumerate(values) if v] if "" in values else None
        else:
            given = []
            for i, value in enumerate(values):
                if isinstance(value, str):
                    if value:
                        given.append(i)
                elif value is not None and value is not ABSENT and bad is not None:
                    bad(i, f"{value!r} is not a string")
        if given is None:
            out[:] = self._encode_strings(values)  # type: ignore[arg-type]
        elif given:
            out[np.array(given)] = self._encode_strings([values[i] for i in given])  # type: ignore[misc]
        return out

    def truncate(self, size: int) -> None:
        """Forget the codes from `size` on (ids interned by a write that was refused): a rebuild, rare.

        >>> ids = OrderIds()
        >>> _ = ids.encode(["a", "b"]); ids.truncate(1)
        >>> ids.encode(["c", "b", "a"]).tolist()
        [1, 2, 0]
        """
        if size >= self.size:
            return
        keys, codes = self.table.items()
        keep = codes < size  # type: ignore[operator]
        table = HashTable()
        table.insert(keys[keep], codes[keep])  # type: ignore[index]
        self.table = table
        self.overflow = {value: code for value, code in self.overflow.items() if code < size}
        self.size = size

    # ── persistence ──
    def state(self) -> dict[str, Any]:
        """`table` (first hash → code), `checks` (second hash by code), `overflow` ([id, code] of collided ids)
        and `collided` (their first hashes). Live arrays: read them holding the index lock."""
        used = int(self.ends[self.size - 1]) if self.size else 0
        return {"table": self.table.state(), "checks": self.checks[: self.size],
                "texts": self.texts[:used], "ends": self.ends[: self.size],
                "overflow": [[value, code] for value, code in self.overflow.items()],
                "collided": sorted(self.collided), "primary_bits": self.primary_bits}

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | Sequence[str] | Any) -> OrderIds:
        """OrderIds from `state()`, or from the ids by code of an older snapshot (a list, or a Dictionary).

        >>> OrderIds.from_state(["a", "b"]).encode(["b", "c"]).tolist()
        [1, 2]
        """
        ids = cls()
        if not isinstance(state, Mapping):  # order ids by code: encoding them in order gives the same codes
            values = list(getattr(state, "values", state))
            if values and not np.array_equal(ids._encode_strings(values, ordered=True), np.arange(len(values))):
                raise ValueError("the order ids of an older snapshot are not distinct")
            return ids
        ids.primary_bits = int(state.get("primary_bits", 64))
        ids.table = HashTable.from_state(state["table"])
        ids.checks = np.require(state["checks"], dtype=np.int64, requirements=["C", "W"])
        ids.size = len(ids.checks)
        ids.texts = np.require(state["texts"], dtype=np.uint8, requirements=["C", "W"])
        ids.ends = np.require(state["ends"], dtype=np.int64, requirements=["C", "W"])
        ids.overflow = {str(value): int(code) for value, code in state["overflow"]}
        ids.collided = {int(h) for h in state["collided"]}
        return ids
