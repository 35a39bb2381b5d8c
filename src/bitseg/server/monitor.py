"""What the server knows about itself: the slowest recent calls, snapshot outcomes, health, and `GetServerInfo`.

Every call passes through `Monitor.call_ended` (from the handler wrapper in `app.py`): it feeds the slow-call
ring buffer, the optional Prometheus metrics, and re-reads the index sizes after a write. Health is derived
from the Store (it refuses writes after a log or disk failure) and from the last daily snapshot's outcome.

>>> slow = SlowLog(size=2)   # the last two calls: the 5 ms one falls out
>>> for ms in (5.0, 1.0, 9.0):
...     slow.add("Count", "shop", "country = 'NL'", ms, "OK")
>>> [call.ms for call in slow.slowest()]
[9.0, 1.0]
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

from grpc_health.v1 import health_pb2

from bitseg.server.lookup import sizes_of
from bitseg.v1 import segments_pb2 as pb

if TYPE_CHECKING:
    from bitseg import Catalog
    from bitseg.persistence import Store
    from bitseg.server.metrics import Metrics

SERVICE = "bitseg.v1.SegmentService"
QUERY_SHOWN = 120   # characters of a query kept in the slow log
SLOW_CALLS = 128    # recent calls kept; `info` shows the slowest of them
log = logging.getLogger("bitseg.server")
# Calls after which an index's size may have changed (the gauges are set then, never computed per scrape).
WRITES = frozenset({"CreateIndex", "DropIndex", "UpsertProfiles", "AddPurchases", "DeleteCustomers"})


def version() -> str:
    """The installed bitseg version."""
    try:
        return metadata.version("bitseg")
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        return "0+unknown"


@dataclass(frozen=True)
class SlowCall:
    method: str
    index: str
    query: str
    ms: float
    code: str
    at: float   # time.time() when the call ended


class SlowLog:
    """The last `size` calls (a ring buffer, like Redis SLOWLOG); `slowest` sorts them by time taken."""

    def __init__(self, size: int = SLOW_CALLS) -> None:
        self._calls: deque[SlowCall] = deque(maxlen=size)

    def add(self, method: str, index: str, query: str, ms: float, code: str) -> None:
        shown = query if len(query) <= QUERY_SHOWN else query[:QUERY_SHOWN - 1] + "…"
        self._calls.append(SlowCall(method, index, shown, ms, code, time.time()))  # deque.append is atomic

    def slowest(self, n: int = 10) -> list[SlowCall]:
        return heapq.nlargest(n, list(self._calls), key=lambda call: call.ms)


class Monitor:
    """The server's view of itself; one per server."""

    def __init__(self, catalog: Catalog, store: Store | None, metrics: Metrics | None = None) -> None:
        self.catalog = catalog
        self.store = store
        self.metrics = metrics
        self.started = time.time()
        self.slow = SlowLog()
        self.snapshot_outcome = ""          # "ok" or "failed: …" of the last snapshot attempted since start
        self.snapshot_failed = False        # a failed snapshot keeps health NOT_SERVING until one succeeds
        self.last_snapshot: Any = None      # SnapshotInfo of the last one written since start
        self._lock = threading.Lock()
        self.health: Any = None             # the grpc HealthServicer, set by server.app
        self._serving: bool | None = None
        self._measured: set[str] = set()    # indexes with size gauges
        if metrics is not None:
            self._all_sizes()
            self._wal()
            newest = self._newest_on_disk()
            if newest is not None:
                metrics.last_snapshot(_timestamp(newest.created))

    # ── fed by the handler wrapper and the snapshot timer ──
    def call_ended(self, method: str, code: str, seconds: float, request: Any) -> None:
        index = getattr(request, "index", "")
        index = index if isinstance(index, str) else ""
        query = getattr(request, "query", "")
        self.slow.add(method, index, query if isinstance(query, str) else "", round(seconds * 1000, 3), code)
        if self.metrics is not None:
            self.metrics.call(method, code, seconds)
            if method in WRITES:  # a stream's request is its messages: every index is read again (cheap)
                self._all_sizes()
            if method in WRITES or method == "CreateSnapshot":
                self._wal()
        if method == "CreateSnapshot" and code == "OK":
            self.snapshot_done(seconds, None)
        self.refresh_health()

    def snapshot_done(self, seconds: float, error: BaseException | None, info: Any = None) -> None:
        """A snapshot finished (`error` None) or failed: the outcome `info` reports and health follows."""
        with self._lock:
            if error is None:
                self.snapshot_outcome, self.snapshot_failed = "ok", False
                self.last_snapshot = info or self._newest_on_disk()
            else:
                self.snapshot_outcome, self.snapshot_failed = f"failed: {error}", True
        if self.metrics is not None:
            self.metrics.snapshot(seconds, ok=error is None)
            if error is None and self.last_snapshot is not None:
                self.metrics.last_snapshot(_timestamp(self.last_snapshot.created))
            self._wal()

    def refresh_health(self) -> None:
        """Tell the health service SERVING or NOT_SERVING, when that changed."""
        serving = self.serving
        if self.health is None or serving == self._serving:
            return
        was, self._serving = self._serving, serving
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ("", SERVICE):
            self.health.set(name, status)
        if not serving:
            log.error("health: NOT_SERVING", extra={"writable": self.writable, "snapshot": self.snapshot_outcome})
        elif was is not None:
            log.info("health: SERVING again")

    def _all_sizes(self) -> None:
        assert self.metrics is not None
        names = set(self.catalog.names())
        for gone in self._measured - names:
            self.metrics.forget_index(gone)
        self._measured = names
        for name in names:
            self._sizes(name)

    def _sizes(self, name: str) -> None:
        assert self.metrics is not None
        try:
            index = self.catalog.get(name)
        except Exception:  # noqa: BLE001 - dropped (or never created): its series go
            self.metrics.forget_index(name)
            return
        customers, lines, _ = sizes_of(index)
        self.metrics.index_size(name, customers, lines)

    def _wal(self) -> None:
        assert self.metrics is not None
        self.metrics.wal_bytes(self.log_bytes())

    # ── read by health and GetServerInfo ──
    @property
    def serving(self) -> bool:
        """SERVING unless the store refuses writes or the last snapshot failed."""
        return not self.snapshot_failed and self.writable

    @property
    def writable(self) -> bool:
        if self.store is None:
            return True
        return bool(getattr(self.store, "writable", True))

    def log_bytes(self) -> int:
        if self.store is None:
            return 0
        total = 0
        for _, path in self.store.wal.segments():
            try:
                total += path.stat().st_size
            except OSError:   # trimmed meanwhile
                pass
        return total

    def _newest_on_disk(self) -> Any:
        if self.store is None:
            return None
        good = [s for s in self.store.list_snapshots() if s.problem is None]
        return good[0] if good else None

    def info(self) -> pb.GetServerInfoResponse:
        indexes = []
        for name in self.catalog.names():
            try:
                index = self.catalog.get(name)
            except Exception:  # noqa: BLE001 - dropped meanwhile
                continue
            customers, lines, _ = sizes_of(index)
            indexes.append(pb.IndexSize(name=name, customers=customers, lines=lines,
                                        memory_bytes=index.memory_bytes()))
        last = self.last_snapshot or self._newest_on_disk()
        reply = pb.GetServerInfoResponse(
            version=version(), uptime_seconds=round(time.time() - self.started, 3), indexes=indexes,
            log_bytes=self.log_bytes(), last_snapshot_outcome=self.snapshot_outcome, serving=self.serving,
            data_dir=str(self.store.data_dir) if self.store is not None else "",
            slowest=[pb.SlowCall(method=c.method, index=c.index, query=c.query, ms=c.ms, code=c.code,
                                 at=dt.datetime.fromtimestamp(c.at, dt.UTC).isoformat(timespec="seconds"))
                     for c in self.slow.slowest()])
        if last is not None:
            reply.last_snapshot.CopyFrom(pb.Snapshot(id=last.id, created=last.created, bytes=last.bytes,
                                                     indexes=list(last.indexes)))
        return reply


def _timestamp(created: str) -> float:
    try:
        return dt.datetime.fromisoformat(created).timestamp()
    except ValueError:
        return 0.0
