"""The Store: a Catalog whose every change is logged and fsynced before it is acknowledged, with daily snapshots.

    data_dir/
      LOCK                  held while a Store has the folder open (one server per folder)
      wal/<seq>.log         the write-ahead log (wal.py)
      snapshots/<id>/       snapshots (snapshot.py), newest last by name

There is one write path: every write operation of an Index or the Catalog is a method declared with `@write`
(bitseg.index.journal), which checks and applies the change under the lock and then calls the catalog's journal
once if something changed. The Store's journal appends the operation's name and arguments to the log and fsyncs
before the lock is released and the call returns: a call the engine refuses is never logged, so the log never
holds a record that fails on replay, and records of one index are in the order they were applied. Replay calls
the same method again (`replay(op, args)`), so adding a write operation needs exactly one change: the method with
its decorator; the Store has no list of operations. If the log cannot be written the change is not durable: the
call raises PersistenceError and the Store refuses every later change until it is reopened (the log then has
exactly the acknowledged changes).

A log record is `[op, args]`: the method's name and its keyword arguments, plus "index" (the index written to)
for an index operation. Logs written before the one write path (op "evaluate", create_index with "schema")
replay unchanged.

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
...     shop.history("vips")
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
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from bitseg.days import optional_day
from bitseg.errors import BitsegError, PersistenceError
from bitseg.index.catalog import Catalog
from bitseg.index.index import Index
from bitseg.index.journal import write_operations
from bitseg.index.tracking import TRIGGER_DAYS, ChangedIds, HistoryRow
from bitseg.persistence import snapshot
from bitseg.persistence.capture import capture
from bitseg.persistence.deferred import DeferredDictionary
from bitseg.persistence.snapshot import SnapshotInfo
from bitseg.persistence.wal import Record, WriteAheadLog
from bitseg.query.limits import DEFAULT_LIMITS, Limits
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


CATALOG_OPERATIONS = frozenset(write_operations(Catalog))


def _legacy(record: Record) -> tuple[str, dict[str, Any]]:
    """The op and arguments of a record, with those of logs written before the one write path renamed."""
    if record.op == "evaluate":
        index = record.args["index"]
        return "record_evaluation", {"index": index, "evaluation": {k: v for k, v in record.args.items()
                                                                   if k != "index"}}
    if record.op == "create_index" and "schema" in record.args:
        return "create_index", {"name": record.args["name"], "schema_toml": record.args["schema"]}
    return record.op, dict(record.args)


class _LogJournal:
    """The Store's journal: every change of its catalog appended to the log and fsynced."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def check(self) -> None:
        self.store._check_writable()

    def __call__(self, index_name: str | None, op: str, args: dict[str, Any]) -> None:
        self.store._log(op, args if index_name is None else {"index": index_name, **args})


class Store:
    """The durable catalog. Open it, use it like a Catalog (`get` returns the Index, its writes logged), close it.

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
        self.catalog = Catalog(limits, _LogJournal(self), trigger_days=trigger_days)
        self.wal = WriteAheadLog(self.data_dir / "wal")
        self.problems: list[str] = []  # what open() found damaged and worked around
        self._damaged: set[str] = set()
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
            self.catalog.add(Index.from_state(schema, item.name, item.state, self.catalog.limits,
                                              trigger_days=self.trigger_days))
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
        op, args = _legacy(record)
        try:
            if op in CATALOG_OPERATIONS:
                self.catalog.replay(op, args)
                if op == "create_index":
                    thresholds[args["name"]] = record.seq
                else:
                    thresholds.pop(args["name"], None)
                return 1
            name = args.pop("index")
            index = self.catalog.get(name)
            if record.seq <= thresholds[name]:
                return 0  # already in the snapshot
            index.replay(op, args)
            return 1
        except (BitsegError, KeyError, TypeError) as err:
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

    @property
    def writable(self) -> bool:
        """Whether changes are accepted now (False after a log write failed, or when not open)."""
        return self._state == "open"

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

    # ── the catalog: its writes (and those of its indexes) journal through _LogJournal ──
    def names(self) -> list[str]:
        return self.catalog.names()

    def get(self, name: str) -> Index:
        return self.catalog.get(name)

    def create_index(self, name: str, schema_toml: str) -> Index:
        return self.catalog.create_index(name, schema_toml)

    def drop_index(self, name: str) -> None:
        self.catalog.drop_index(name)

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
            if local.time() < self.daily_at:
                continue
            last = index.last_evaluated
            if last is None or last < local.date():
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
        with self.catalog.lock:  # no index comes or goes while the snapshot is captured
            base_seq = self.wal.rotate()  # the log after the snapshot starts in a file of its own
            for name in sorted(self.catalog.indexes):
                index = self.catalog.indexes[name]
                with index.lock:
                    day = evaluate_on(index) if evaluate_on else None
                    if day is not None:
                        index.record_evaluation(index.daily_evaluation(day))  # a write: logged
                    state = index.state()
                    captured.append(capture(name, index.schema.to_toml(), self.wal.last_seq, state))
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

    # ── history and changes: the index answers them ──
    def history(self, index: str, segment: str, start: dt.date | str | None = None,
                end: dt.date | str | None = None) -> list[HistoryRow]:
        """The (day, size, entered, left) rows of a hot (or trigger) segment (see `Index.history`)."""
        return self.catalog.get(index).history(segment, start, end)

    def changes(self, index: str, segment: str, since: dt.date | str) -> ChangedIds:
        """Who entered and who left a trigger segment since `since` (see `Index.changes`)."""
        return self.catalog.get(index).changes(segment, since)
