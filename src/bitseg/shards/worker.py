"""One shard: a Store of its own under DATA_DIR/shards/KKK (its log, its snapshots), and the reads a coordinator
combines. A Ray actor wraps one of these (`rayshards.py`); the in-process transport holds them directly.

Every answer is plain data (lists, numbers, numpy arrays, dataclasses of the core), so it crosses a process
boundary by pickling; an error comes back as a `RemoteError` that the coordinator raises again, with its class
and its attributes (a query error keeps its position).

The reads here are the parts a coordinator needs to give the one-process answer: a count with the literals no
customer of this shard has (a warning is given when no shard has them), members with their columns (for cursors),
raw sums for statistics, every value's count for breakdowns and Values (the top N is taken over the sums).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bitseg.errors import BitsegError
from bitseg.index import distinct
from bitseg.index.bitmaps import columns as bitmap_columns
from bitseg.index.budget import hold
from bitseg.index.catalog import Catalog
from bitseg.index.index import Index
from bitseg.index.translate import past
from bitseg.persistence.clock import Clock, utc_now
from bitseg.persistence.store import Store
from bitseg.query.expressions import Node
from bitseg.query.limits import DEFAULT_LIMITS, Limits
from bitseg.schema import FieldType

Selection = str | Node


@dataclass(frozen=True)
class RemoteError:
    """An exception as data: its class, its args and its attributes, raised again by `rebuild`."""

    kind: type[BaseException]
    args: tuple
    state: dict

    @classmethod
    def of(cls, err: BaseException) -> RemoteError:
        kind = type(err) if isinstance(err, BitsegError | NotImplementedError) else BitsegError
        state = {k: v for k, v in vars(err).items() if isinstance(v, str | int | float | type(None))}
        return cls(kind, tuple(str(a) for a in err.args) if kind is BitsegError else err.args, state)

    def rebuild(self) -> BaseException:
        err = self.kind.__new__(self.kind)
        err.args = self.args
        err.__dict__.update(self.state)
        return err


@dataclass(frozen=True)
class Missing:
    """A literal of a query that no customer (or purchase line) of this shard has, and the values that exist."""

    key: str          # "no customer has country 'Nl'": the text of the warning before its nearest values
    literal: str
    existing: tuple[str, ...]


@dataclass(frozen=True)
class GroupSums:
    customers: int
    orders: int
    clv: int                      # ten-thousandths
    presence: dict[str, int]      # customers with each presence field set


class ShardWorker:
    """Shard `shard` of `shards`: opens (and recovers) its Store under `data_dir/shards/KKK`; without a
    `data_dir`, an in-memory Catalog (property tests: nothing to recover, no snapshots)."""

    def __init__(self, data_dir: str | None, shard: int, shards: int, *, limits: Limits = DEFAULT_LIMITS,
                 clock: Clock = utc_now, keep: int = 7, daily_at: dt.time = dt.time(2)) -> None:
        self.shard, self.shards = shard, shards
        self.store: Any
        if data_dir is None:
            self.store = Catalog(limits, clock=clock)
            return
        self.folder = Path(data_dir) / "shards" / f"{shard:03d}"
        self.store = Store(self.folder, clock=clock, keep=keep, daily_at=daily_at, limits=limits).open()

    # ── the generic calls ──
    def ping(self) -> None:
        """Nothing: the cost of one round of calls itself (benchmarks)."""
    def index(self, name: str) -> Index:
        return self.store.get(name)

    def call(self, index: str, method: str, args: Sequence = (), kwargs: dict | None = None) -> Any:
        """`method` of the index `index` (a write or a read whose answer is plain data)."""
        return getattr(self.store.get(index), method)(*args, **(kwargs or {}))

    def store_call(self, method: str, args: Sequence = (), kwargs: dict | None = None) -> Any:
        """`method` of the Store: create_index, drop_index, names, snapshot, daily_snapshot, run_due, ...
        (an Index answered, as by create_index, stays here: None goes back)."""
        found = getattr(self.store, method)(*args, **(kwargs or {}))
        return None if isinstance(found, Index) else found

    def ingest(self, index: str, method: str, part: Any) -> tuple[int, list[tuple[int, str]]]:
        """A write of rows or columns; the rows it refused by their position in `part`."""
        rejects: list[tuple[int, str]] = []
        applied = getattr(self.store.get(index), method)(part, rejects=rejects, first_row=0)
        return applied, rejects

    def definitions(self) -> list[tuple[str, str, list[Any]]]:
        """(name, schema TOML, saved segments) of every index: what a coordinator holds."""
        out = []
        for name in self.store.names():
            index = self.store.get(name)
            out.append((name, index.schema.to_toml(), index.list_segments()))
        return out

    def memory(self, index: str) -> int:
        """What the index holds on this shard, estimated as the server's `info` does for one process."""
        return self.store.get(index).memory_bytes()

    def status(self) -> dict[str, Any]:
        """The process, whether the log can be written, and each index's customers and lines."""
        sizes = {}
        for name in self.store.names():
            index = self.store.get(name)
            sizes[name] = (index.customer_count, index.line_count)
        return {"pid": os.getpid(), "writable": getattr(self.store, "writable", True),
                "problem": getattr(self.store, "problem", None), "sizes": sizes}

    def close(self, snapshot: bool = True) -> None:
        """Close the Store: a last snapshot (when `snapshot`), then the folder is released."""
        if isinstance(self.store, Store):
            self.store.close(snapshot=snapshot)

    # ── reads the coordinator combines ──
    def count(self, index: str, query: Selection, as_of: dt.date) -> tuple[int, list[Missing]]:
        found = self.store.get(index)
        with hold(found.lock):
            return _count(found, query, as_of)

    def count_batch(self, index: str, selections: Sequence[Selection | RemoteError],
                    as_of: dt.date) -> list[tuple[int, list[Missing]] | RemoteError]:
        found = self.store.get(index)
        out: list[tuple[int, list[Missing]] | RemoteError] = []
        with hold(found.lock):  # one state for every count
            for selection in selections:
                if isinstance(selection, RemoteError):
                    out.append(selection)
                    continue
                try:
                    out.append(_count(found, selection, as_of))
                except Exception as err:  # noqa: BLE001 - each entry carries its own error
                    out.append(RemoteError.of(err))
        return out

    def members(self, index: str, query: Selection, as_of: dt.date, after: str | None, cursor: str | None,
                limit: int | None) -> tuple[list[str], np.ndarray]:
        """The members' ids and columns in column order, after the id `after` or the column of `cursor`."""
        found = self.store.get(index)
        with hold(found.lock):
            start = found.translator.start(after, cursor)
            columns = past(bitmap_columns(found.evaluate(query, as_of)), start, limit)
            return found.translator.to_keys(columns).tolist(), columns

    def stats(self, index: str, query: Selection, as_of: dt.date) -> tuple[GroupSums, GroupSums]:
        found = self.store.get(index)
        with hold(found.lock):
            members = found.evaluate(query, as_of)
            return _sums(found, members), _sums(found, found.existence - members)

    def breakdown(self, index: str, query: Selection, field: str, as_of: dt.date) -> dict[str | None, int]:
        """Members per value of the field (None: NULL), every value with a member."""
        return dict(self.store.get(index).breakdown(query, field, top=1 << 62, as_of=as_of))

    def values(self, index: str, field: str) -> dict[str, int]:
        found = self.store.get(index)
        with hold(found.lock):
            return distinct.field_values(found.fields, found.views, found.lines.dictionaries, field)


def _count(index: Index, query: Selection, as_of: dt.date) -> tuple[int, list[Missing]]:
    """The count and the missing literals of one query, compiled once (the caller holds the index lock)."""
    tree, text = index.compiler.normalized(query)
    count = len(index._members(tree, text, as_of))
    return count, _missing(index, tree)


def _missing(index: Index, tree: Node) -> list[Missing]:
    """What `distinct.warnings` would warn about on this shard, with the values that exist here."""
    found = distinct.missing(tree, index.fields, index.views, index.lines.dictionaries)
    return [Missing(whose, literal, tuple(existing)) for whose, literal, existing in found]


def combine_missing(per_shard: Sequence[Sequence[Missing]]) -> list[str]:
    """The warnings of the whole index: the literals no shard has, with the nearest of every shard's values."""
    if not per_shard:
        return []
    common = set.intersection(*({m.key for m in found} for found in per_shard))
    out = []
    for first in per_shard[0]:
        if first.key not in common:
            continue
        existing: dict[str, None] = {}
        for found in per_shard:
            for m in found:
                if m.key == first.key:
                    existing.update(dict.fromkeys(m.existing))
        close = distinct.nearest(first.literal, existing)
        out.append(first.key + ("; nearest: " + ", ".join(repr(v) for v in close) if close else ""))
    return out


def _sums(index: Index, members: Any) -> GroupSums:
    columns = bitmap_columns(members)
    presence = {name: field.present.intersection_cardinality(members)
                for name, field in index.fields.items() if field.kind is FieldType.PRESENCE}
    return GroupSums(len(columns), int(index.builtins["orders"].values[columns].sum()),
                     int(index.builtins["clv"].values[columns].sum()), presence)

