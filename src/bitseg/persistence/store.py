"""The Store: a Catalog whose every change is logged and fsynced before it is acknowledged, with daily snapshots.

    data_dir/
      LOCK                  left by earlier versions; the lock is now taken on the folder itself (one server
                            per folder; a lock on a descriptor of the folder cannot be deleted from under it)
      wal/<seq>.log         the write-ahead log (wal.py)
      snapshots/<id>/       snapshots (snapshot.py), newest last by name

There is one write path: every write operation of an Index or the Catalog is a method declared with `@write`
(bitseg.index.journal): "prepare, log, publish". The change is checked and prepared under the owner's write
lock, then the Store's journal appends the operation's name and arguments to the log and fsyncs (readers go
on meanwhile), then the change is published under the readers' lock. A call the engine refuses is never logged,
so the log never holds a record that fails on replay; records of one index are in the order they were
published; a change the log refused is never visible. Replay calls the same method again (`replay(op, args)`),
so adding a write operation needs exactly one change: the method with its decorator.

**Read-only and healing.** When the log cannot be written (a full disk, no inodes, a read-only `wal/`), the
call raises ReadOnlyError and the Store turns read-only: `writable` is False and `problem` says why (a server's
health reads them and answers NOT_SERVING), every change is refused with ReadOnlyError, reads go on. A
background thread retries with backoff (`WriteAheadLog.heal`: a probe write, then the log reopened afresh) and
the Store is writable again as soon as the log can be written, without a restart.

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
[HistoryRow(day=datetime.date(2026, 3, 14), size=1, entered=1, left=0, backfilled=False)]
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
from bitseg.errors import BitsegError, PersistenceError, ReadOnlyError
from bitseg.index.catalog import Catalog
from bitseg.index.index import Index
from bitseg.index.journal import write_operations
from bitseg.index.tracking import TRIGGER_DAYS, ChangedIds, HistoryRow
from bitseg.persistence import daily as schedule
from bitseg.persistence import snapshot
from bitseg.persistence.capture import capture
from bitseg.persistence.clock import Clock, SimulatedClock, utc_now  # noqa: F401 - SimulatedClock re-exported
from bitseg.persistence.deferred import DeferredDictionary
from bitseg.persistence.healing import Healer
from bitseg.persistence.snapshot import SnapshotInfo
from bitseg.persistence.wal import Record, WriteAheadLog
from bitseg.query.limits import DEFAULT_LIMITS, Limits
from bitseg.schema import Schema

log = logging.getLogger("bitseg.persistence")


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
        keep: how many daily snapshots to keep.
        keep_on_demand: how many other snapshots (on demand, at shutdown) to keep besides (default `keep`).
        daily_at: the local time of the daily snapshot, in each index's timezone.
        trigger_days: how many days of trigger segment members are kept for `changes`.
        limits: query limits for the indexes.
        heal_backoff: (first, longest) wait in seconds between attempts to write the log again after it failed.
    """

    def __init__(self, data_dir: str | Path, *, clock: Clock = utc_now, keep: int = 7,
                 keep_on_demand: int | None = None, daily_at: dt.time = dt.time(2, 0),
                 trigger_days: int = TRIGGER_DAYS, limits: Limits = DEFAULT_LIMITS,
                 heal_backoff: tuple[float, float] = (0.05, 5.0)) -> None:
        if keep < 2:
            raise ValueError("keep at least 2 snapshots: the previous one is the fallback for a damaged newest")
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "snapshots"
        self.clock = clock
        self.keep = keep
        self.keep_on_demand = keep if keep_on_demand is None else keep_on_demand
        self.daily_at = daily_at
        self.trigger_days = trigger_days
        self.catalog = Catalog(limits, _LogJournal(self), trigger_days=trigger_days,
                               clock=lambda: self.clock())  # the clock now: tests swap it
        self.wal = WriteAheadLog(self.data_dir / "wal")
        self.problems: list[str] = []  # what open() found damaged and worked around
        self._damaged: set[str] = set()
        self._snapshot_lock = threading.Lock()
        self._lock_file: int | None = None
        self._state = "new"  # new → open → closed
        self._problem: str | None = None  # why the log cannot be written; None when it can
        self._healer = Healer(self.wal.heal, self._healed, lambda: self._state == "open", heal_backoff)
        self._last_daily: dt.datetime | None = None  # when the newest daily snapshot was taken

    # ── opening and closing ──
    def open(self) -> Store:
        """Load the newest good snapshot and replay the log after it."""
        if self._state != "new":
            raise PersistenceError("a Store is opened once")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = lock_folder(self.data_dir)  # the folder itself: nothing anyone can delete
        try:
            self._recover()
        except BaseException:
            self._release_lock()
            raise
        self._state = "open"
        return self

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
        self._last_daily = schedule.last_daily(snapshot.list_all(self.root))
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
        schedule.check_log_continues(self.wal, manifest)
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
        """Snapshot (on a clean shutdown) and release the folder (also when that snapshot fails: the log holds
        every acknowledged change)."""
        try:
            if self._state == "open" and snapshot:
                self.snapshot()
        finally:
            self._state = "closed"
            self.wal.close()
            self._release_lock()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(snapshot=exc[0] is None)

    # ── read-only while the log cannot be written, healing by itself ──
    @property
    def writable(self) -> bool:
        """Whether changes are accepted: open, and the log can be written."""
        return self._state == "open" and self._problem is None

    @property
    def problem(self) -> str | None:
        """Why the store is read-only (the log's last error), or None while it is writable."""
        return self._problem

    def _check_writable(self) -> None:
        if self._state != "open":
            raise PersistenceError(f"the store is {self._state}, not open")
        problem = self._problem
        if problem is not None:
            raise ReadOnlyError(f"changes are refused while the log cannot be written ({problem}); the store "
                                "accepts them again by itself once it can")

    def _log(self, op: str, args: dict[str, Any]) -> int:
        self._check_writable()
        try:
            return self.wal.append(op, args)
        except PersistenceError as err:
            self._turn_read_only(str(err))
            raise ReadOnlyError(f"{err} (nothing was changed; the store is read-only until the log can be "
                                "written again)") from err

    def _turn_read_only(self, problem: str) -> None:
        log.error("log write failed; the store is read-only until the log can be written again",
                  extra={"problem": problem})
        self._problem = problem
        self._healer.start()

    def _healed(self, problem: str | None) -> None:
        self._problem = problem
        if problem is None:
            log.warning("the log can be written again; the store accepts changes")

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
        """Whether the daily snapshot is due (see `daily.due_days`): an index has passed its daily time
        (`daily_at`, local) on a day without an evaluation, or without a daily snapshot taken (a missed or
        failed one is retried)."""
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

    def _due_days(self, now: dt.datetime | None) -> dict[str, dt.date | None]:
        indexes = list(self.catalog.indexes.values())
        return schedule.due_days(now or self.clock(), self.daily_at, self._last_daily,
                                 [(index.name, index.schema.zone, index.last_evaluated) for index in indexes])

    def _snapshot(self, evaluate_on: Callable[[Index], dt.date | None] | None, daily: bool,
                  locked: bool = False) -> SnapshotInfo:
        if not locked:
            with self._snapshot_lock:
                return self._snapshot(evaluate_on, daily, locked=True)
        if self._state != "open":
            raise PersistenceError(f"the store is {self._state}, not open")
        created = self.clock()
        captured = []
        # Writes wait while the state is copied (they hold `write_lock` from prepare to publish, so holding it
        # the state does not move); reads go on. The files are written after every lock is released.
        with self.catalog.write_lock:  # no index comes or goes while the snapshot is captured
            base_seq = self.wal.rotate()  # the log after the snapshot starts in a file of its own
            continues_at = self.wal.current_first
            for name in sorted(self.catalog.indexes):
                index = self.catalog.indexes[name]
                with index.write_lock:
                    day = evaluate_on(index) if evaluate_on else None
                    if day is not None:
                        index.record_evaluation(index.daily_evaluation(day))  # a write: logged
                    captured.append(capture(name, index.schema.to_toml(), self.wal.last_seq, index.state()))
        try:
            info = snapshot.write(self.root, captured, base_seq, created, daily, {"log_continues_at": continues_at})
        except OSError as err:
            raise PersistenceError(f"cannot write a snapshot in {self.root}: {err}") from err
        del captured
        if daily:
            self._last_daily = created
        snapshot.prune(self.root, self.keep, self.keep_on_demand)
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


def lock_folder(folder: str | os.PathLike[str]) -> int:
    """An exclusive lock on the folder itself (nothing anyone can delete from under it): one bitseg process per
    data folder. The descriptor holds it until closed."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise PersistenceError(f"{folder} is in use by another bitseg process") from None
    return fd
