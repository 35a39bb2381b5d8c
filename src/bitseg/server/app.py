"""Building, starting and stopping the gRPC server: handlers, auth, TLS, health, reflection and signals.

Without a catalog, `build` opens a Store on `config.data_dir` (SPEC §6): every change is logged and fsynced
before it is acknowledged, a timer thread writes the daily snapshot when it is due, and a clean stop writes a
last snapshot. With an in-memory Catalog the snapshot RPCs answer UNIMPLEMENTED (history and trigger changes
are the index's own, kept in memory).

>>> import tempfile
>>> folder = tempfile.TemporaryDirectory()
>>> server = start(ServerConfig(port=0, data_dir=folder.name))
>>> server.port > 0
True
>>> server.stop(grace=0)
>>> folder.cleanup()
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import logging
import signal
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from bitseg import Catalog
from bitseg.errors import PersistenceError
from bitseg.index.budget import DEFAULT_MAX_COST, DEFAULT_MAX_SECONDS
from bitseg.persistence import Store
from bitseg.query.limits import DEFAULT_LIMITS, Limits
from bitseg.server.guard import HEALTH_THREADS, Guards, Reserved, keepalive_options
from bitseg.server.handlers import method_handlers
from bitseg.server.inflight import DEFAULT_BUDGET, InFlight
from bitseg.server.logs import access_log
from bitseg.server.metrics import Metrics
from bitseg.server.monitor import Monitor
from bitseg.server.service import SegmentService

__all__ = ["Server", "ServerConfig", "build", "open_store", "serve", "start"]

SERVICE = "bitseg.v1.SegmentService"
HEALTH_PREFIX = "/grpc.health.v1.Health/"
TIMER_SECONDS = 30.0   # how often the timer thread asks the Store whether the daily snapshot is due
HEALTH_SECONDS = 1.0   # how often health is re-read (it is also re-read after every call)
log = logging.getLogger("bitseg.server")


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 50051
    token: str | None = None               # required as `authorization: Bearer <token>` when set
    tls_cert: bytes | None = None          # PEM; TLS when both cert and key are given
    tls_key: bytes | None = None
    max_message_bytes: int = 64 * 1024 * 1024   # both directions; a member chunk of 1M ids fits
    max_workers: int = 32                  # threads for calls (every open stream holds one); health has its own
    max_concurrent_rpcs: int | None = None  # past this, RESOURCE_EXHAUSTED instead of a queue; None: max_workers
    max_streams: int | None = None         # streams open at once; None: max_workers - 8 (threads kept for the rest)
    stall_seconds: float = 30.0            # a stream whose peer neither reads nor sends this long is ended
    max_call_seconds: float = DEFAULT_MAX_SECONDS  # caps every call's deadline (the client's, if shorter)
    max_query_cost: int | None = DEFAULT_MAX_COST  # estimated work units a query may cost (None: no ceiling)
    ingest_budget_bytes: int = DEFAULT_BUDGET  # ingest messages converted at once (inflight.py); more wait
    keepalive_seconds: float = 60.0        # pings on idle connections find dead peers
    idle_seconds: float = 30 * 60.0        # a connection with no call for this long is closed
    limits: Limits = DEFAULT_LIMITS        # for the catalog the server creates
    data_dir: str = "./bitseg-data"        # the Store's folder: write-ahead log and snapshots (SPEC §6)
    daily_at: dt.time = dt.time(2)         # the daily snapshot, local time of each index
    keep: int = 7                          # snapshots kept on disk
    metrics_port: int | None = None        # Prometheus /metrics on this port (0: any free one), on `host`
    shards: int = 0                        # > 0: every index split into this many shards (SPEC §9)
    ray_address: str | None = None         # with shards: join this Ray cluster instead of starting one
    shard_transport: str = "ray"           # with shards: "ray" (actors), or "local" (in this process; tests)

    @property
    def options(self) -> list[tuple[str, int]]:
        return [
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.so_reuseport", 0),   # a second server on the same port must fail, not share it
            *keepalive_options(self.keepalive_seconds, self.idle_seconds),
        ]

    @property
    def concurrent_rpcs(self) -> int:
        return self.max_concurrent_rpcs or self.max_workers

    @property
    def streams(self) -> int:
        return self.max_streams or max(1, self.max_workers - 8)


# ── auth ─────────────────────────────────────────────────────────────────────────────────────────────

class BearerAuth(grpc.ServerInterceptor):
    """Calls must carry `authorization: Bearer <token>`; the health service stays open for probes."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

    def intercept_service(self, continuation: Callable, details: grpc.HandlerCallDetails) -> Any:
        if details.method.startswith(HEALTH_PREFIX) or self._allowed(details.invocation_metadata):
            return continuation(details)
        handler = continuation(details)
        if handler is None:
            return None

        def deny(request: Any, context: grpc.ServicerContext) -> None:
            if access_log.enabled:
                access_log.record(method=details.method, code="UNAUTHENTICATED", peer=context.peer())
            context.abort(grpc.StatusCode.UNAUTHENTICATED,
                          "missing or wrong token: send metadata 'authorization: Bearer <token>'")

        factory = {
            (False, False): grpc.unary_unary_rpc_method_handler,
            (False, True): grpc.unary_stream_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler,
            (True, True): grpc.stream_stream_rpc_method_handler,
        }[(handler.request_streaming, handler.response_streaming)]
        return factory(deny, request_deserializer=None, response_serializer=None)

    def _allowed(self, metadata: Any) -> bool:
        for key, value in metadata or ():
            if key == "authorization":
                given = value.encode() if isinstance(value, str) else value
                return hmac.compare_digest(given, self._expected)
        return False


# ── the server ───────────────────────────────────────────────────────────────────────────────────────

class Server:
    """A running server: its port, its indexes, and a graceful stop."""

    inflight: InFlight | None = None  # the byte budget of ingest messages being converted

    def __init__(self, grpc_server: grpc.Server, port: int, health_servicer: health.HealthServicer,
                 catalog: Catalog | Store, config: ServerConfig, monitor: Monitor, guards: Guards) -> None:
        self.grpc_server = grpc_server
        self.guards = guards
        self.port = port
        self.health = health_servicer
        self.catalog = catalog
        self.config = config
        self.monitor = monitor
        self.metrics_port: int | None = None
        self._stopping = threading.Event()
        self._store_open = _is_store(catalog)
        self._timer = threading.Thread(target=self._watch, name="daily-snapshot", daemon=True)
        self._timer.start()

    @property
    def store(self) -> Store | None:
        """The Store behind the server (or the shards' coordinator), or None when it runs on an in-memory Catalog."""
        return self.catalog if _is_store(self.catalog) else None  # type: ignore[return-value]

    def _watch(self) -> None:
        """Re-read health every HEALTH_SECONDS; run the daily snapshot when due (asked every TIMER_SECONDS)."""
        store = self.store
        asked = time.monotonic()
        while not self._stopping.wait(HEALTH_SECONDS):
            if store is not None and time.monotonic() - asked >= TIMER_SECONDS:
                asked = time.monotonic()
                self.run_due()
            self.monitor.refresh_health()

    def run_due(self, now: dt.datetime | None = None) -> None:
        """The daily snapshot when it is due; its outcome goes to `info`, metrics and health."""
        store = self.store
        assert store is not None
        started = time.perf_counter()
        try:
            info = store.run_due(now)
        except Exception as err:
            log.exception("daily snapshot failed")
            self.monitor.snapshot_done(time.perf_counter() - started, err)
        else:
            if info is not None:
                self.monitor.snapshot_done(time.perf_counter() - started, None, info)
        self.monitor.refresh_health()

    @property
    def address(self) -> str:
        return f"{self.config.host}:{self.port}"

    def stop(self, grace: float | None = 10.0) -> None:
        """Refuse new calls, let running ones finish for up to `grace` seconds, then cancel the rest."""
        self.health.enter_graceful_shutdown()
        self.grpc_server.stop(grace).wait()
        self.guards.watchdog.stop()
        self._stopping.set()
        if self._timer.is_alive():
            self._timer.join()  # a daily snapshot under way finishes first
        if self.monitor.metrics is not None:
            self.monitor.metrics.stop()
        store, self._store_open = (self.store if self._store_open else None), False
        if store is not None:
            try:
                store.close()  # the shutdown snapshot, then the folder is released
            except Exception:
                log.exception("shutdown snapshot failed; the next start replays the log")
                store.close(snapshot=False)
        access_log.flush()
        log.info("stopped", extra={"address": self.address})

    def wait(self) -> None:
        self.grpc_server.wait_for_termination()


class ListenError(OSError):
    """The server cannot bind its address: the port is taken or the host is not this machine's."""


def _is_store(catalog: Any) -> bool:
    """A Store, or the coordinator of a sharded server (which stands in for one)."""
    return isinstance(catalog, Store) or getattr(catalog, "sharded", False)


def open_store(config: ServerConfig) -> Store:
    """The Store on `config.data_dir`, opened (PersistenceError when it cannot be); what it worked around is logged.

    With `config.shards`, the coordinator of the shards (bitseg.shards, imported only then) stands in for it."""
    if config.shards:
        from bitseg.shards.launch import open_shards
        return open_shards(config.data_dir, config.shards, transport=config.shard_transport,  # type: ignore[return-value]
                           ray_address=config.ray_address, limits=config.limits, daily_at=config.daily_at,
                           keep=config.keep)
    if (Path(config.data_dir) / "shards" / "COUNT").exists():
        raise PersistenceError(f"{config.data_dir} holds a sharded server's data: start it with --shards "
                               f"{(Path(config.data_dir) / 'shards' / 'COUNT').read_text().strip()}")
    store = Store(config.data_dir, limits=config.limits, daily_at=config.daily_at, keep=config.keep).open()
    for problem in store.problems:
        log.warning("data directory problem", extra={"data_dir": config.data_dir, "problem": problem})
    return store


def build(config: ServerConfig, catalog: Catalog | Store | None = None) -> Server:
    """A configured, bound, not yet started server: on the given catalog, else on a Store at `config.data_dir`."""
    if catalog is not None:
        return _build(config, catalog)
    store = open_store(config)
    try:
        return _build(config, store)
    except BaseException:
        store.close(snapshot=False)
        raise


def _build(config: ServerConfig, catalog: Catalog | Store) -> Server:
    if isinstance(catalog, Store):
        servicer = SegmentService(catalog.catalog, store=catalog)
    elif _is_store(catalog):  # a sharded server's coordinator: both the catalog and the store
        servicer = SegmentService(catalog, store=catalog)  # type: ignore[arg-type]
    else:
        servicer = SegmentService(catalog)
    metrics = Metrics() if config.metrics_port is not None else None
    monitor = Monitor(servicer.catalog, servicer.store, metrics)
    servicer.server_info = monitor.info
    servicer.inflight = InFlight(config.ingest_budget_bytes)
    guards = Guards(config.max_call_seconds, config.max_query_cost, config.streams, config.stall_seconds,
                    max_calls=min(config.concurrent_rpcs, config.max_workers))
    interceptors: list[grpc.ServerInterceptor] = [Reserved(guards.calls, f"/{SERVICE}/")]
    if config.token:
        interceptors.insert(0, BearerAuth(config.token))
    # HEALTH_THREADS more threads than calls may hold (guard.py): health checks always find one
    pool = futures.ThreadPoolExecutor(max_workers=config.max_workers + HEALTH_THREADS, thread_name_prefix="rpc")
    server = grpc.server(pool, interceptors=interceptors, options=config.options,
                         maximum_concurrent_rpcs=config.concurrent_rpcs + HEALTH_THREADS)
    handlers = method_handlers(servicer, monitor, guards)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    server.add_registered_method_handlers(SERVICE, handlers)

    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    monitor.health = health_servicer
    monitor.refresh_health()
    reflection.enable_server_reflection((SERVICE, health.SERVICE_NAME, reflection.SERVICE_NAME), server)

    address = f"{config.host}:{config.port}"
    if config.tls_cert or config.tls_key:
        if not (config.tls_cert and config.tls_key):
            raise ValueError("TLS needs both a certificate and a key")
        credentials = grpc.ssl_server_credentials([(config.tls_key, config.tls_cert)])
        port = server.add_secure_port(address, credentials)
    else:
        try:
            port = server.add_insecure_port(address)
        except RuntimeError:  # grpc's "Failed to bind": say what it means for the person starting the server
            port = 0
    if port == 0:
        raise ListenError(f"cannot listen on {address}: the port is taken by another process or the host is "
                          f"not an address of this machine (choose another with --port/--host)")
    built = Server(server, port, health_servicer, catalog, config, monitor, guards)
    built.inflight = servicer.inflight
    return built


def start(config: ServerConfig, catalog: Catalog | Store | None = None) -> Server:
    server = build(config, catalog)
    server.grpc_server.start()
    metrics = server.monitor.metrics
    if metrics is not None and config.metrics_port is not None:
        server.metrics_port = metrics.serve(config.metrics_port, config.host)
        log.info("metrics", extra={"url": f"http://{config.host}:{server.metrics_port}/metrics"})
    if config.token and not config.tls_cert and not _loopback(config.host):
        log.warning("a token is sent in clear text: without TLS anyone on the network can read it",
                    extra={"host": config.host})
    store = server.store
    log.info("listening", extra={"address": server.address, "tls": bool(config.tls_cert),
                                 "auth": bool(config.token),
                                 "data_dir": str(store.data_dir) if store is not None else None})
    return server


def _loopback(host: str) -> bool:
    """Whether `host` only listens on this machine.

    >>> _loopback("127.0.0.1"), _loopback("localhost"), _loopback("0.0.0.0"), _loopback("[::1]")
    (True, True, False, True)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(config: ServerConfig, catalog: Catalog | Store | None = None, grace: float = 10.0,
          ready: Callable[[Server], None] | None = None) -> None:
    """Run until SIGTERM or SIGINT, then stop gracefully (call from the main thread)."""
    server = start(config, catalog)
    stopping = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        log.info("signal received, shutting down", extra={"signal": signal.Signals(signum).name})
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if ready is not None:
            ready(server)
        while not stopping.wait(1.0):
            pass
    finally:
        server.stop(grace)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
