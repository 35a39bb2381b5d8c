"""The coordinator: what the gRPC server holds instead of a Store when it runs with `--shards N` (SPEC §9).

It gives the servicer the Store's face (`names`, `get`, `create_index`, `drop_index`, snapshots, `writable`)
over N shards reached through a transport. It holds each index's schema and saved segment definitions; the
shards hold the data, each in its own Store under DATA_DIR/shards/KKK/ with its own log and snapshots.

    DATA_DIR/
      shards/COUNT      the shard count, written when the folder is first used; another N is refused
      shards/000/ ...   shard 0's Store (wal/, snapshots/)

A snapshot (on demand, daily, at shutdown) is taken by every shard at once, with every index's gate held for
writing (one cut across the shards); the daily one evaluates each shard's hot and trigger segments on the same
day, so the history and the changes read back are the combined answers.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

from bitseg.errors import NotFoundError, PersistenceError
from bitseg.names import check_name
from bitseg.persistence.clock import Clock, utc_now
from bitseg.persistence.snapshot import SnapshotInfo
from bitseg.persistence.store import lock_folder
from bitseg.query.limits import DEFAULT_LIMITS, Limits
from bitseg.schema import Schema
from bitseg.shards.sharded import ShardedIndex
from bitseg.shards.transport import ShardUnavailableError, Transport

COUNT_FILE = "COUNT"


def recorded_shards(data_dir: str | Path) -> int | None:
    """The shard count recorded in a data directory, or None when it was never used sharded."""
    path = Path(data_dir) / "shards" / COUNT_FILE
    try:
        return int(path.read_text().strip())
    except FileNotFoundError:
        return None
    except ValueError as err:
        raise PersistenceError(f"{path} does not hold a shard count: {err}") from None


def record_shards(data_dir: str | Path, shards: int) -> None:
    """Record N in a new data directory; refuse a directory recorded with another N, or used without shards."""
    if shards < 1:
        raise ValueError(f"--shards must be at least 1, not {shards}")
    folder = Path(data_dir)
    found = recorded_shards(folder)
    if found is not None and found != shards:
        raise PersistenceError(
            f"{folder} holds an index split into {found} shards; start with --shards {found} (resharding to "
            f"{shards} is not supported: export and import into a new data directory)")
    if found is None:
        if (folder / "wal").exists() or (folder / "snapshots").exists():
            raise PersistenceError(f"{folder} holds a server's data without shards; start it without --shards, "
                                   "or use a new data directory for a sharded server")
        (folder / "shards").mkdir(parents=True, exist_ok=True)
        temporary = folder / "shards" / (COUNT_FILE + ".tmp")
        temporary.write_text(f"{shards}\n")
        os.replace(temporary, folder / "shards" / COUNT_FILE)


class _Logs:
    """The shards' log files on this machine (for the server's log size figure)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def segments(self) -> Iterator[tuple[int, Path]]:
        yield from enumerate(sorted(self.folder.glob("shards/*/wal/*.log")))


class ShardedStore:
    """The indexes of a sharded server, by name. Open with `open_sharded`."""

    sharded = True

    def __init__(self, data_dir: str | Path, transport: Transport, *, limits: Limits = DEFAULT_LIMITS,
                 clock: Clock = utc_now) -> None:
        self.data_dir = Path(data_dir)
        self.transport = transport
        self.limits = limits
        self.clock = clock
        self.problems: list[str] = []
        self.wal = _Logs(self.data_dir)
        self.indexes: dict[str, ShardedIndex] = {}
        self._open = True
        self.lock_fd: int | None = None  # the coordinator's lock on DATA_DIR, released by close
        self._load()

    @property
    def shard_count(self) -> int:
        return self.transport.shards

    def _index(self, name: str, schema_toml: str, segments: list[Any]) -> ShardedIndex:
        return ShardedIndex(name, Schema.from_toml(schema_toml), self.limits, self.transport,
                            lambda: self.clock(), segments)

    def _load(self) -> None:
        """The indexes every shard holds (shard 0's definitions; every shard was given the same)."""
        for name, schema_toml, segments in self.transport.one(0, "definitions"):
            self.indexes[name] = self._index(name, schema_toml, segments)

    # ── the catalog ──
    def names(self) -> list[str]:
        return sorted(self.indexes)

    def get(self, name: str) -> ShardedIndex:
        index = self.indexes.get(name)
        if index is None:
            raise NotFoundError(f"unknown index {name!r}")
        return index

    def create_index(self, name: str, schema_toml: str) -> ShardedIndex:
        check_name(name, "index")
        Schema.from_toml(schema_toml)  # a bad schema is refused before any shard sees it
        self.transport.all("store_call", "create_index", (name, schema_toml))
        index = self.indexes[name] = self._index(name, schema_toml, [])
        return index

    def drop_index(self, name: str) -> None:
        self.get(name)
        self.transport.all("store_call", "drop_index", (name,))
        self.indexes.pop(name, None)

    # ── health ──
    @property
    def writable(self) -> bool:
        try:
            return all(status["writable"] for status in self.transport.all("status"))
        except ShardUnavailableError:
            return False

    @property
    def problem(self) -> str | None:
        try:
            found = [f"shard {k:03d}: {s['problem']}" for k, s in enumerate(self.transport.all("status"))
                     if s["problem"]]
        except ShardUnavailableError as err:
            return str(err)
        return "; ".join(found) or None

    # ── snapshots: every shard at once ──
    def _combined(self, infos: list[SnapshotInfo | None]) -> SnapshotInfo | None:
        if any(info is None for info in infos):
            return None
        first = infos[0]
        assert first is not None
        return replace(first, path=self.data_dir / "shards", bytes=sum(i.bytes for i in infos if i is not None))

    def _quiet(self) -> ExitStack:
        """Every index's gate held for writing: a snapshot or an evaluation is one cut across the shards."""
        stack = ExitStack()
        for name in sorted(self.indexes):
            stack.enter_context(self.indexes[name].gate.write())
        return stack

    def _every_shard(self, method: str, *args: Any) -> list[Any]:
        with self._quiet():
            return self.transport.all("store_call", method, args)

    def snapshot(self) -> SnapshotInfo:
        found = self._combined(self._every_shard("snapshot"))
        assert found is not None
        return found

    def daily_snapshot(self, day: dt.date | str | None = None) -> SnapshotInfo:
        found = self._combined(self._every_shard("daily_snapshot", day))
        self._evaluated()
        assert found is not None
        return found

    def due(self, now: dt.datetime | None = None) -> bool:
        return any(self.transport.all("store_call", "due", (now,)))

    def run_due(self, now: dt.datetime | None = None) -> SnapshotInfo | None:
        if not self.due(now):
            return None
        infos = self._every_shard("run_due", now)
        found = self._combined(infos)
        if found is not None:
            self._evaluated()
        return found

    def _evaluated(self) -> None:
        for index in self.indexes.values():
            index.evaluated.set()

    def list_snapshots(self) -> list[SnapshotInfo]:
        """Shard 0's snapshots (every shard takes one at the same moment)."""
        return self.transport.one(0, "store_call", "list_snapshots")

    def shard_status(self) -> list[dict[str, Any]]:
        return self.transport.all("status")

    def close(self, snapshot: bool = True) -> None:
        if not self._open:
            return
        self._open = False
        try:
            with self._quiet():
                self.transport.close(snapshot=snapshot)  # each shard's Store writes its last snapshot
        finally:
            if self.lock_fd is not None:
                os.close(self.lock_fd)
                self.lock_fd = None


def open_sharded(data_dir: str | Path, shards: int, make_transport: Callable[[], Transport], *,
                 limits: Limits = DEFAULT_LIMITS, clock: Clock = utc_now) -> ShardedStore:
    """Check and record the shard count, start the shards (each recovers its Store), load the definitions."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    fd = lock_folder(data_dir)
    try:
        record_shards(data_dir, shards)
        transport = make_transport()
        try:
            store = ShardedStore(data_dir, transport, limits=limits, clock=clock)
        except BaseException:
            transport.close()
            raise
    except BaseException:
        os.close(fd)
        raise
    store.lock_fd = fd
    return store
