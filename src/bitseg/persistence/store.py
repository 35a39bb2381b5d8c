"""The Store: a Catalog whose every change is logged and fsynced before it is acknowledged, with daily snapshots.

    data_dir/
      LOCK                  held while a Store has the folder open (one server per folder)
      wal/<seq>.log         the write-ahead log (wal.py)
      snapshots/<id>/       snapshots (snapshot.py), newest last by name

A write is checked and applied to its index under the index lock, then logged and fsynced before the lock is
released and the call returns: a call the engine refuses is never logged, so the log never holds a record that
fails on replay, and records of one index are in the order they were applied. If the log cannot be written the
change is not durable: the call raises PersistenceError and the Store refuses every later change until it is
reopened (the log then has exactly the acknowledged changes).

Start-up (`open`) loads the newest snapshot whose files all pass their checksums and replays the log after it;
the log is kept back to the snapshot before the newest, so a damaged newest snapshot costs nothing. When no good
snapshot is covered by the log, `open` refuses with a message naming what is damaged and what to do.

>>> import tempfile
>>> clock = SimulatedClock("2026-03-14T03:00:00+00:00")
>>> folder = tempfile.TemporaryDirectory()
>>> with Store(folder.name, clock=clock).open() as store:
...     shop = store.create_index("shop", '[profile]\\nvip = "bool"')
...     shop.upsert_profiles([{"customer": "a", "vip": True}])
...     _ = shop.save_segment("vips", "vip = true", kind="hot")
...     store.due()
...     _ = store.run_due()
...     store.history("shop", "vips")
1
True
[HistoryRow(day=datetime.date(2026, 3, 14), size=1, entered=1, left=0)]
>>> folder.cleanup()
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from pyroaring import BitMap

from bitseg.days import day_number, optional_day
from bitseg.errors import BitsegError, InvalidInputError, NotFoundError, PersistenceError
from bitseg.index.bitmaps import columns as bitmap_columns
from bitseg.index.core import Catalog, Index, Segment, Tiering
from bitseg.persistence import snapshot
from bitseg.persistence.deferred import DeferredDictionary
from bitseg.persistence.snapshot import SnapshotInfo
from bitseg.persistence.tracking import TRACKED, TRIGGER_DAYS, HistoryRow, Tracker
from bitseg.persistence.wal import Record, WriteAheadLog
from bitseg.query.expressions import Node
from bitseg.query.limits import DEFAULT_LIMITS, Limits
from bitseg.query.printer import to_text
from bitseg.schema import Schema

log = logging.getLogger("bitseg.persistence")
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SimulatedClock:
    """A clock that only moves when told to, for running thirty days in a second.

    >>> clock = SimulatedClock("2026-03-14T02:00:00+01:00")
    >>> clock.advance(days=1).isoformat()
    '2026-03-15T02:00:00+01:00'
    """

    def __init__(self, start: dt.datetime | str) -> None:
        self.now = dt.datetime.fromisoformat(start) if isinstance(start, str) else start
        if self.now.tzinfo is None:
            raise ValueError("a simulated clock needs an aware time (with a UTC offset)")

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@dataclass(frozen=True)
class ChangedIds:
    """External ids that entered and left a trigger segment between the evaluations on `since` and `day`."""

    since: dt.date
    day: dt.date
    entered: list[str]
    left: list[str]


# ── the write operations: one function each, used live and on replay ───────────────────────────────────

def _upsert_profiles(store: Store, index: Index, a: dict, rejects: list | None) -> int:
    return index.upsert_profiles(a["rows"], rejects, a["first_row"])


def _upsert_profile_columns(store: Store, index: Index, a: dict, rejects: list | None) -> int:
    return index.upsert_profile_columns(a["columns"], rejects, a["first_row"])


def _add_purchases(store: Store, index: Index, a: dict, rejects: list | None) -> int:
    return index.add_purchases(a["rows"], rejects, a["first_row"])


def _add_purchase_columns(store: Store, index: Index, a: dict, rejects: list | None) -> int:
    return index.add_purchase_columns(a["columns"], rejects, a["first_row"])


def _delete_customers(store: Store, index: Index, a: dict, rejects: list | None) -> int:
    found = index.translator.to_columns(a["ids"], create=False)
    gone = BitMap(found[found >= 0].tolist())
    deleted = index.delete_customers(a["ids"])
    store._trackers[index.name].erase(gone)
    return deleted


def _save_segment(store: Store, index: Index, a: dict, rejects: list | None) -> Segment:
    segment = index.save_segment(a["name"], a["query"], a["kind"], a["description"])
    store._trackers[index.name].saved(segment.name, segment.kind)
    return segment


def _delete_segment(store: Store, index: Index, a: dict, rejects: list | None) -> None:
    index.delete_segment(a["name"])
    store._trackers[index.name].forget(a["name"])


def _update_list(store: Store, index: Index, a: dict, rejects: list | None) -> int:
    return index.update_list(a["name"], a["add"], a["remove"], a["replace"])


def _save_tiering(store: Store, index: Index, a: dict, rejects: list | None) -> Tiering:
    return index.save_tiering(a["name"], [tuple(t) for t in a["tiers"]], a["default"])


def _evaluate(store: Store, index: Index, a: dict, rejects: list | None) -> None:
    store._trackers[index.name].apply(a)


OPERATIONS: dict[str, Callable[[Store, Index, dict, list | None], Any]] = {
    "upsert_profiles": _upsert_profiles, "upsert_profile_columns": _upsert_profile_columns,
    "add_purchases": _add_purchases, "add_purchase_columns": _add_purchase_columns,
    "delete_customers": _delete_customers, "save_segment": _save_segment, "delete_segment": _delete_segment,
    "update_list": _update_list, "save_tiering": _save_tiering, "evaluate": _evaluate,
}


class Store:
    """The durable catalog. Open it, use it like a Catalog (`get` returns a DurableIndex), close it.

    Args:
        data_dir: the folder of the log and the snapshots (created when missing).
        clock: the time now, aware; a SimulatedClock in tests.
        keep: how many snapshots to keep.
        daily_at: the local time of the daily snapshot, in each index's timezone.
        trigger_days: how many days of trigger segment members are kept for `changes`.
        limits: query limits for the indexes.
    """

    def __init__(self, data_dir: str | Path, *, clock: Clock = utc_now, keep: int = 7,
                 daily_at: dt.time = dt.time(2, 0), trigger_days: int = TRIGGER_DAYS,
                 limits: Limits = DEFAULT_LIMITS) -> None:
        if keep < 2:
            raise ValueError("keep at least 2 snapshots: the previous one is the fallback for a damaged newest")
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "snapshots"
        self.clock = clock
        self.keep = keep
        self.daily_at = daily_at
        self.trigger_days = trigger_days
        self.catalog = Catalog(limits)
        self.wal = WriteAheadLog(self.data_dir / "wal")
        self.problems: list[str] = []  # what open() found damaged and worked around
        self._trackers: dict[str, Tracker] = {}
        self._damaged: set[str] = set()
        self._catalog_lock = threading.RLock()
        self._snapshot_lock = threading.Lock()
        self._lock_file: int | None = None
        self._state = "new"  # new → open → closed; "failed" after a log write failed

    # ── opening and closing ──
    def open(self) -> Store:
        """Load the newest good snapshot and replay the log after it."""
        if self._state != "new":
            raise PersistenceError("a Store is opened once")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        try:
            self._recover()
        except BaseException:
            self._release_lock()
            raise
        self._state = "open"
        return self

    def _take_lock(self) -> None:
        fd = os.open(self.data_dir / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise PersistenceError(f"{self.data_dir} is in use by another bitseg process") from None
        self._lock_file = fd

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None

    def _recover(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        snapshot.remove_temporary(self.root)
        log_first = self.wal.first_seq
        chosen: tuple[dict, list] | None = None
        for info in snapshot.list_all(self.root):
            if info.problem is None and info.base_seq + 1 < log_first:
                self.problems.append(f"snapshot {info.id} is older than the log, which starts at record "
                                     f"{log_first}")
                continue
            try:
                chosen = snapshot.load(info.path, deferred=["orders.msgpack"])
                break
            except PersistenceError as err:
                self.problems.append(str(err))
                self._damaged.add(info.id)
                log.error("damaged snapshot skipped", extra={"snapshot": info.id, "problem": str(err)})
        if chosen is None and log_first > 1:
            found = "; ".join(self.problems) or f"there is no snapshot in {self.root}"
            raise PersistenceError(
                f"cannot start from {self.data_dir}: no good snapshot can be combined with the log, which starts at "
                f"record {log_first} ({found}). Restore {self.data_dir} from a backup; starting anyway would "
                f"serve wrong data.")
        manifest, loaded = chosen if chosen is not None else ({"base_seq": 0}, [])
        thresholds: dict[str, int] = {}
        for item in loaded:
            if isinstance(item.state["orders"], snapshot.ChunkedList):
                item.state["orders"] = DeferredDictionary(item.state["orders"].chunks())
            schema = Schema.from_toml(item.schema_toml)
            self.catalog.indexes[item.name] = Index.from_state(schema, item.name, item.state,
                                                               self.catalog.limits)
            self._trackers[item.name] = Tracker.from_state(item.state["tracking"], self.trigger_days)
            thresholds[item.name] = item.seq
        if chosen is not None:
            log.info("snapshot loaded", extra={"snapshot": manifest["id"], "indexes": len(loaded)})
        replayed = 0
        for record in self.wal.replay(after=manifest["base_seq"]):
            replayed += self._replay(record, thresholds)
        if self.wal.dropped_tail is not None:
            path, size, reason = self.wal.dropped_tail
            self.problems.append(f"dropped the torn last record of {path} ({size} bytes: {reason}); it was never "
                                 "acknowledged")
            log.warning("torn log tail dropped", extra={"file": str(path), "bytes": size, "reason": reason})
        newest = max([manifest["base_seq"], *thresholds.values()])
        if self.wal.last_seq < newest:
            self.wal.restart_at(newest + 1)
        log.info("log replayed", extra={"records": replayed, "last_seq": self.wal.last_seq})

    def _replay(self, record: Record, thresholds: dict[str, int]) -> int:
        a = record.args
        try:
            if record.op == "create_index":
                self.catalog.create_index(a["name"], a["schema"])
                self._trackers[a["name"]] = Tracker(self.trigger_days)
                thresholds[a["name"]] = record.seq
                return 1
            if record.op == "drop_index":
                self.catalog.drop_index(a["name"])
                self._trackers.pop(a["name"], None)
                thresholds.pop(a["name"], None)
                return 1
            index = self.catalog.get(a["index"])
            if record.seq <= thresholds[a["index"]]:
                return 0  # already in the snapshot
            OPERATIONS[record.op](self, index, a, [])
            return 1
        except (BitsegError, KeyError) as err:
            raise PersistenceError(
                f"log record {record.seq} ({record.op}) cannot be replayed: {err}. The log does not match the "
                f"snapshot it follows; restore {self.data_dir} from a backup.") from err

    def close(self, snapshot: bool = True) -> None:
        """Snapshot (on a clean shutdown) and release the folder."""
        if self._state == "open" and snapshot:
            self.snapshot()
        self.wal.close()
        self._release_lock()
        self._state = "closed"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(snapshot=exc[0] is None)

    def _check_writable(self) -> None:
        if self._state == "failed":
            raise PersistenceError("an earlier change could not be written to the log; changes are refused until "
                                   "the server is restarted (the disk may be full)")
        if self._state != "open":
            raise PersistenceError(f"the store is {self._state}, not open")

    def _log(self, op: str, args: dict[str, Any]) -> int:
        try:
            return self.wal.append(op, args)
        except PersistenceError:
            self._state = "failed"
            log.exception("log write failed; refusing changes from now on")
            raise

    # ── the catalog ──
    def names(self) -> list[str]:
        return self.catalog.names()

    def get(self, name: str) -> DurableIndex:
        return DurableIndex(self, self.catalog.get(name))

    def create_index(self, name: str, schema_toml: str) -> DurableIndex:
        with self._catalog_lock:
            self._check_writable()
            index = self.catalog.create_index(name, schema_toml)
            self._trackers[name] = Tracker(self.trigger_days)
            self._log("create_index", {"name": name, "schema": schema_toml})
        return DurableIndex(self, index)

    def drop_index(self, name: str) -> None:
        with self._catalog_lock:
            self._check_writable()
            index = self.catalog.get(name)
            with index.lock:
                self.catalog.drop_index(name)
                self._trackers.pop(name, None)
                self._log("drop_index", {"name": name})

    # ── writes ──
    def _write(self, name: str | Index, op: str, args: dict[str, Any], rejects: list | None = None,
               logged: Callable[[Any], dict[str, Any]] | None = None) -> Any:
        """Apply under the index lock, then log; `name` may be the Index a DurableIndex holds, which must still
        be the one of that name (a handle kept across a drop and a new create must not write to the new one)."""
        if isinstance(name, Index):
            index, name = name, name.name
        else:
            index = self.catalog.get(name)
        with index.lock:
            if self.catalog.indexes.get(name) is not index:
                raise NotFoundError(f"unknown index {name!r}")  # dropped while we waited for the lock
            self._check_writable()
            before = index.version
            result = OPERATIONS[op](self, index, args, rejects)
            if index.version != before:  # nothing changed, nothing to log
                self._log(op, {"index": name, **(logged(result) if logged else args)})
        return result

    def upsert_profiles(self, index: str | Index, rows: Iterable[Mapping[str, object]], rejects: list | None = None,
                        first_row: int = 1) -> int:
        return self._write(index, "upsert_profiles", {"rows": [dict(r) for r in rows], "first_row": first_row},
                           rejects)

    def upsert_profile_columns(self, index: str | Index, columns: Mapping[str, Any], rejects: list | None = None,
                               first_row: int = 1) -> int:
        return self._write(index, "upsert_profile_columns", {"columns": dict(columns), "first_row": first_row},
                           rejects)

    def add_purchases(self, index: str | Index, rows: Iterable[Mapping[str, object]], rejects: list | None = None,
                      first_row: int = 1) -> int:
        return self._write(index, "add_purchases", {"rows": [dict(r) for r in rows], "first_row": first_row},
                           rejects)

    def add_purchase_columns(self, index: str | Index, columns: Mapping[str, Any], rejects: list | None = None,
                             first_row: int = 1) -> int:
        return self._write(index, "add_purchase_columns", {"columns": dict(columns), "first_row": first_row},
                           rejects)

    def delete_customers(self, index: str | Index, ids: Iterable[str]) -> int:
        return self._write(index, "delete_customers", {"ids": list(ids)})

    def save_segment(self, index: str | Index, name: str, query: str | Node, kind: str = "standard",
                     description: str = "") -> Segment:
        text = to_text(query) if isinstance(query, Node) else query
        return self._write(index, "save_segment",
                           {"name": name, "query": text, "kind": kind, "description": description},
                           logged=lambda s: {"name": s.name, "query": s.query, "kind": s.kind,
                                             "description": s.description})

    def delete_segment(self, index: str | Index, name: str) -> None:
        self._write(index, "delete_segment", {"name": name})

    def update_list(self, index: str | Index, name: str, add: Iterable[str] = (), remove: Iterable[str] = (),
                    replace: Iterable[str] | None = None) -> int:
        return self._write(index, "update_list", {
            "name": name, "add": [str(i) for i in add], "remove": [str(i) for i in remove],
            "replace": None if replace is None else [str(i) for i in replace]})

    def save_tiering(self, index: str | Index, name: str, tiers: Sequence[tuple[str, str | Node]], default: str) -> Tiering:
        given = [[tier, to_text(q) if isinstance(q, Node) else q] for tier, q in tiers]
        return self._write(index, "save_tiering", {"name": name, "tiers": given, "default": default},
                           logged=lambda t: {"name": t.name, "tiers": [list(x) for x in t.tiers],
                                             "default": t.default})

    # ── snapshots ──
    def snapshot(self) -> SnapshotInfo:
        """A snapshot of every index now (on demand, on shutdown); no segment is evaluated."""
        return self._snapshot(None, daily=False)

    def daily_snapshot(self, day: dt.date | str | None = None) -> SnapshotInfo:
        """Evaluate every hot and trigger segment as of `day` (default: each index's local date), then snapshot."""
        fixed = optional_day(day)
        return self._snapshot(lambda index: fixed or self._local_date(index), daily=True)

    def due(self, now: dt.datetime | None = None) -> bool:
        """Whether some index has passed its daily snapshot time (`daily_at`, local) without an evaluation today."""
        return bool(self._due_days(now))

    def run_due(self, now: dt.datetime | None = None) -> SnapshotInfo | None:
        """The daily snapshot when it is due (for a timer thread calling every minute or so), else None."""
        with self._snapshot_lock:
            days = self._due_days(now)
            if not days:
                return None
            return self._snapshot(lambda index: days.get(index.name), daily=True, locked=True)

    def _local_date(self, index: Index, now: dt.datetime | None = None) -> dt.date:
        return (now or self.clock()).astimezone(index.schema.zone).date()

    def _due_days(self, now: dt.datetime | None) -> dict[str, dt.date]:
        now = now or self.clock()
        due = {}
        for name, index in list(self.catalog.indexes.items()):
            local = now.astimezone(index.schema.zone)
            tracker = self._trackers.get(name)
            if tracker is None or local.time() < self.daily_at:
                continue
            if tracker.last_day is None or tracker.last_day < day_number(local.date()):
                due[name] = local.date()
        return due

    def _snapshot(self, evaluate_on: Callable[[Index], dt.date | None] | None, daily: bool,
                  locked: bool = False) -> SnapshotInfo:
        if not locked:
            with self._snapshot_lock:
                return self._snapshot(evaluate_on, daily, locked=True)
        self._check_writable()
        created = self.clock()
        captured = []
        with self._catalog_lock:  # no index comes or goes while the snapshot is captured
            base_seq = self.wal.rotate()  # the log after the snapshot starts in a file of its own
            for name in sorted(self.catalog.indexes):
                index = self.catalog.indexes[name]
                with index.lock:
                    day = evaluate_on(index) if evaluate_on else None
                    if day is not None:
                        evaluation = Tracker.evaluate(index, day)
                        self._trackers[name].apply(evaluation)
                        self._log("evaluate", {"index": name, **evaluation})
                    state = {**index.state(), "tracking": self._trackers[name].state()}
                    captured.append(snapshot.capture(name, index.schema.to_toml(), self.wal.last_seq, state))
        try:
            info = snapshot.write(self.root, captured, base_seq, created, daily)
        except OSError as err:
            raise PersistenceError(f"cannot write a snapshot in {self.root}: {err}") from err
        del captured
        snapshot.prune(self.root, self.keep)
        self._trim_log()
        log.info("snapshot written", extra={"snapshot": info.id, "bytes": info.bytes, "daily": daily})
        return info

    def _trim_log(self) -> None:
        """Keep the log back to the snapshot before the newest good one: the fallback if the newest is damaged."""
        good = [s for s in snapshot.list_all(self.root) if s.problem is None and s.id not in self._damaged]
        if len(good) >= 2:
            self.wal.trim(good[1].base_seq)

    def list_snapshots(self) -> list[SnapshotInfo]:
        """The snapshots on disk, newest first."""
        return snapshot.list_all(self.root)

    # ── history and changes ──
    def _tracked(self, index_name: str, segment: str, kinds: tuple[str, ...], what: str) -> tuple[Index, Tracker]:
        index = self.catalog.get(index_name)
        kind = index.get_segment(segment).kind
        if kind not in kinds:
            raise InvalidInputError(f"segment {segment!r} is a {kind} segment: {what} is kept for "
                                    f"{' and '.join(kinds)} segments")
        return index, self._trackers[index_name]

    def history(self, index: str, segment: str, start: dt.date | str | None = None,
                end: dt.date | str | None = None) -> list[HistoryRow]:
        """The (day, size, entered, left) rows of a hot (or trigger) segment, by day, within [start, end]."""
        found, tracker = self._tracked(index, segment, TRACKED, "history")
        with found.lock:
            return tracker.history(segment, optional_day(start, "start"), optional_day(end, "end"))

    def changes(self, index: str, segment: str, since: dt.date | str) -> ChangedIds:
        """Who entered and who left a trigger segment since the evaluation on `since` (or the last one before)."""
        found, tracker = self._tracked(index, segment, ("trigger",), "who entered and left")
        day = optional_day(since, "since")
        if day is None:
            raise InvalidInputError("changes need a day to compare with (since, YYYY-MM-DD)")
        with found.lock:
            changed = tracker.changes(segment, day)
            keys = found.translator.to_keys
            return ChangedIds(changed.since, changed.day, keys(bitmap_columns(changed.entered)).tolist(),
                              keys(bitmap_columns(changed.left)).tolist())


class DurableIndex:
    """An Index whose writes go through the Store (checked, applied, logged, fsynced); reads are the Index's own.

    It has every method of Index, so code written against a Catalog works unchanged against a Store.
    """

    def __init__(self, store: Store, index: Index) -> None:
        self._store = store
        self._index = index

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)

    def __repr__(self) -> str:
        return f"DurableIndex({self._index.name!r})"

    @property
    def index(self) -> Index:
        return self._index

    def upsert_profiles(self, rows: Iterable[Mapping[str, object]], rejects: list | None = None,
                        first_row: int = 1) -> int:
        return self._store.upsert_profiles(self._index, rows, rejects, first_row)

    def upsert_profile_columns(self, columns: Mapping[str, Any], rejects: list | None = None,
                               first_row: int = 1) -> int:
        return self._store.upsert_profile_columns(self._index, columns, rejects, first_row)

    def add_purchases(self, rows: Iterable[Mapping[str, object]], rejects: list | None = None,
                      first_row: int = 1) -> int:
        return self._store.add_purchases(self._index, rows, rejects, first_row)

    def add_purchase_columns(self, columns: Mapping[str, Any], rejects: list | None = None,
                             first_row: int = 1) -> int:
        return self._store.add_purchase_columns(self._index, columns, rejects, first_row)

    def delete_customers(self, ids: Iterable[str]) -> int:
        return self._store.delete_customers(self._index, ids)

    def save_segment(self, name: str, query: str | Node, kind: str = "standard", description: str = "") -> Segment:
        return self._store.save_segment(self._index, name, query, kind, description)

    def delete_segment(self, name: str) -> None:
        self._store.delete_segment(self._index, name)

    def update_list(self, name: str, add: Iterable[str] = (), remove: Iterable[str] = (),
                    replace: Iterable[str] | None = None) -> int:
        return self._store.update_list(self._index, name, add, remove, replace)

    def save_tiering(self, name: str, tiers: Sequence[tuple[str, str | Node]], default: str) -> Tiering:
        return self._store.save_tiering(self._index, name, tiers, default)
