"""Translation between external customer ids and dense integer columns.

Columns are never reused: an erased customer's column stays dead, and its external id, if it comes back,
gets a new column. Members are listed in column order, which is also the order customers arrived in.

>>> t = Translator()
>>> t.to_columns(["a", "b", "a"]).tolist(), t.to_keys([1]).tolist(), t.column("zz")
([0, 1, 0], ['b'], None)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

import numpy as np

from bitseg.errors import InvalidInputError, NotFoundError

_CURSOR = re.compile(r"m1\.([0-9a-f]{1,9})\Z")


def cursor_of(column: int) -> str:
    """The opaque cursor of a position in column order: after `column` (columns are never reused).

    >>> cursor_of(41), column_of_cursor(cursor_of(41))
    ('m1.29', 41)
    """
    return f"m1.{column:x}"


def column_of_cursor(cursor: str) -> int:
    """The column a cursor was made after; InvalidInputError for text that is not a cursor."""
    found = _CURSOR.match(cursor)
    if found is None:
        raise InvalidInputError(f"cursor {cursor[:40]!r} is not a cursor this server made: pass the `cursor` of "
                                "a MemberChunk unchanged")
    return int(found.group(1), 16)


def past(columns: np.ndarray, start: int | None, limit: int | None) -> np.ndarray:
    """The sorted `columns` after the column `start` (all when None), at most `limit` of them (all when 0/None).

    >>> past(np.array([1, 4, 9, 12], dtype=np.uint32), 4, 1).tolist(), past(np.arange(3), None, None).tolist()
    ([9], [0, 1, 2])
    """
    if start is not None:
        columns = columns[np.searchsorted(columns, np.uint32(start), side="right"):]
    return columns[:limit] if limit else columns


class Translator:
    def __init__(self) -> None:
        self._columns: dict[str, int] = {}
        self._keys = np.empty(1024, dtype=object)
        self.size = 0  # columns ever assigned
        # the columns of erased ids, so that a stream resumed `after` one resumes where it was (kept in
        # snapshots since 2026-12; an older snapshot knows only the erasures replayed from the log after it)
        self._erased: dict[str, list[int]] = {}

    def column(self, key: str) -> int | None:
        column = self._columns.get(key)
        return None if column is None or column >= self.size else column  # above size: not published yet

    def to_columns(self, keys: Sequence[str], create: bool = True) -> np.ndarray:
        """Columns of `keys` as uint32; unknown keys get new columns (or -1 as int64 when not `create`)."""
        if not create:
            return np.array([-1 if c is None else c for c in map(self.column, keys)], dtype=np.int64)
        columns, self.size = self.reserve(keys)
        return columns

    def reserve(self, keys: Sequence[str]) -> tuple[np.ndarray, int]:
        """Columns of `keys` as uint32, unknown keys getting the next ones, and the size that makes them known.

        The new columns stay invisible (`column` does not find them) until the owner sets `size` to that size,
        when it publishes; a write refused before that gives them back (`unreserve`).
        """
        size = self.size
        found = list(map(self._columns.get, keys))
        if found and None not in found and max(found) < size:  # type: ignore[type-var,operator]
            return np.array(found, dtype=np.uint32), size
        fresh: dict[str, int] = {}
        following = size
        for i, column in enumerate(found):
            if column is None or column >= size:
                key = keys[i]
                column = fresh.get(key)
                if column is None:
                    column = fresh[key] = following
                    following += 1
                found[i] = column
        if following > len(self._keys):  # a grown copy: readers go on reading the old one, equal below size
            grown = np.empty(max(1024, 2 * len(self._keys), following), dtype=object)
            grown[:size] = self._keys[:size]
            self._keys = grown
        self._keys[size:following] = list(fresh)
        self._columns.update(fresh)
        return np.array(found, dtype=np.uint32), following

    def unreserve(self, following: int) -> None:
        """Forget the columns `reserve` gave up to `following` (the write that reserved them was refused)."""
        for column in range(self.size, following):
            key = self._keys[column]
            if self._columns.get(key) == column:
                del self._columns[key]
            self._keys[column] = None

    def to_keys(self, columns: np.ndarray | Sequence[int]) -> np.ndarray:
        return self._keys[np.asarray(columns, dtype=np.int64)]

    def remove(self, keys: Iterable[str]) -> list[int]:
        """Forget `keys`; returns the columns they had."""
        gone = []
        for key in keys:
            column = self._columns.pop(key, None)
            if column is not None and column < self.size:
                self._keys[column] = None
                self._erased.setdefault(key, []).append(column)
                gone.append(column)
        return gone

    def start(self, after: str | None, cursor: str | None) -> int | None:
        """The column a member stream resumes after: the cursor's (it wins), else the id `after`'s, else None."""
        if cursor:
            return column_of_cursor(cursor)
        return self.resume_column(after) if after else None

    def resume_column(self, key: str) -> int:
        """The column to resume a member stream after, given the last id received: exact, or a clear error.

        An id erased since keeps its old position; an id that is not the one it was (erased and created again)
        is refused rather than guessed, since resuming at its new column would skip everyone in between.

        >>> t = Translator()
        >>> _ = t.to_columns(["a", "b", "c"]); _ = t.remove(["b"])
        >>> t.resume_column("a"), t.resume_column("b")
        (0, 1)
        """
        column, erased = self.column(key), self._erased.get(key, ())
        if not erased:
            if column is None:
                raise NotFoundError(f"unknown customer {key!r} given as the resume point (after); resume with "
                                    "the `cursor` of the last chunk received")
            return column
        if column is None and len(erased) == 1:
            return erased[0]
        raise InvalidInputError(f"customer {key!r} given as the resume point (after) was erased and created "
                                "again since, so its position is ambiguous; resume with the `cursor` of the last "
                                "chunk received")

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """(keys, columns) of live customers."""
        keys = self._keys[: self.size]
        alive = np.array([k is not None for k in keys], dtype=bool)
        return keys[alive], np.flatnonzero(alive).astype(np.uint32)

    # ── persistence: plain values and numpy arrays; the arrays are live, read them under the owner's lock ──
    def state(self) -> dict[str, Any]:
        """`keys`: the external id of each column ever assigned (an object array), None where erased; once an id
        was erased, `erased_keys` and `erased_columns`: each erased id with a column it had (twice if erased
        twice), so that resuming a member stream after it stays exact across a restart."""
        state: dict[str, Any] = {"keys": self._keys[: self.size]}
        if self._erased:
            pairs = [(key, column) for key, columns in self._erased.items() for column in columns]
            erased_keys = np.empty(len(pairs), dtype=object)
            erased_keys[:] = [key for key, _ in pairs]
            state["erased_keys"] = erased_keys
            state["erased_columns"] = np.array([column for _, column in pairs], dtype=np.int64)
        return state

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        """A Translator holding what `state()` returned.

        >>> t = Translator()
        >>> _ = t.to_columns(["a", "b", "c"]); _ = t.remove(["b"])
        >>> back = Translator.from_state(t.state())
        >>> back.to_keys([0, 1, 2]).tolist(), back.column("c"), back.to_columns(["d"]).tolist()
        (['a', None, 'c'], 2, [3])
        >>> back.resume_column("b")  # the erased id's position is kept too
        1
        """
        translator = cls()
        keys = state["keys"]
        translator.size = size = len(keys)
        translator._keys = np.empty(max(1024, size), dtype=object)
        translator._keys[:size] = keys
        live_keys, live_columns = translator.items()
        translator._columns = dict(zip(live_keys.tolist(), live_columns.tolist()))
        erased_keys, erased_columns = state.get("erased_keys"), state.get("erased_columns")  # absent before 2026-12
        if erased_keys is not None and erased_columns is not None:
            for key, column in zip(list(erased_keys), np.asarray(erased_columns).tolist()):
                translator._erased.setdefault(key, []).append(int(column))
        return translator
