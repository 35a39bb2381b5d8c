"""Guards against hostile or stalled callers: a budget per call, a cap on open streams, and a stall watchdog.

- Every call runs under a `Budget` (index/budget.py): the client's deadline capped by the server's maximum, and
  a flag the transport sets when the caller cancels or goes away, so the executor abandons the work.
- Every call of the service holds a call slot while it runs: at most `max_workers` at once (or
  `max_concurrent_rpcs` when lower), past it RESOURCE_EXHAUSTED rather than a queue. The thread pool has
  `HEALTH_THREADS` more threads than that, which only health checks can use (health watches and reflection take
  a call slot too, `Reserved`), so no number of stalled or slow calls can keep a health check from an answer.
- Streams (StreamMembers, StreamChanges, the ingest streams) each hold a worker thread while open; at most
  `max_streams` run at once, below the worker pool, so unary reads always find a thread.
  Past it a stream is refused with RESOURCE_EXHAUSTED rather than queued.
- A stream whose reader stops reading (a send that does not complete) or whose writer stops sending (an import
  left open) for `stall_seconds` is cancelled by the watchdog, which frees its thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc

from bitseg.errors import OverloadedError
from bitseg.index.budget import Budget

log = logging.getLogger("bitseg.server")
HEALTH_THREADS = 4  # threads of the pool only health checks use
HEALTH_CHECK = "/grpc.health.v1.Health/Check"


def keepalive_options(keepalive_seconds: float, idle_seconds: float) -> list[tuple[str, int]]:
    """gRPC server options: ping idle connections so dead peers are found, close connections idle too long."""
    return [
        ("grpc.keepalive_time_ms", int(keepalive_seconds * 1000)),
        ("grpc.keepalive_timeout_ms", 20_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),   # clients may ping this often
        ("grpc.max_connection_idle_ms", int(idle_seconds * 1000)),
    ]


def call_budget(context: grpc.ServicerContext, max_seconds: float, max_cost: int | None) -> Budget:
    """The budget of one call: its deadline capped at `max_seconds`; cancelled when the call ends early."""
    remaining = context.time_remaining()
    seconds = max_seconds if remaining is None else min(remaining, max_seconds)
    budget = Budget(seconds=seconds, max_cost=max_cost)
    # fires when the RPC terminates for any reason: cancelled, deadline passed, or done (harmless then)
    if not context.add_callback(budget.cancel):
        budget.cancel()  # already over
    return budget


class StreamSlots:
    """At most `limit` calls (of a `kind`) at once; past it OverloadedError (RESOURCE_EXHAUSTED), never a queue."""

    def __init__(self, limit: int, kind: str = "streams", setting: str = "max_streams") -> None:
        self.limit = limit
        self.kind, self.setting = kind, setting
        self._free = threading.BoundedSemaphore(limit)

    def take(self, method: str) -> None:
        if not self._free.acquire(blocking=False):
            raise OverloadedError(f"too many {self.kind} at once ({self.limit}, the server's {self.setting}): "
                                  f"{method} refused; retry later")

    def give(self) -> None:
        self._free.release()


class Reserved(grpc.ServerInterceptor):
    """Calls outside the service (health watches, reflection) take a call slot, so only health checks use the
    threads kept for them; the service's own handlers take theirs themselves (`handlers.py`)."""

    def __init__(self, calls: StreamSlots, service_prefix: str) -> None:
        self.calls = calls
        self.prefix = service_prefix

    def intercept_service(self, continuation: Any, details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(details)
        if handler is None or details.method == HEALTH_CHECK or details.method.startswith(self.prefix):
            return handler
        calls, method = self.calls, details.method
        if handler.unary_unary is not None or handler.stream_unary is not None:
            inner = handler.unary_unary or handler.stream_unary

            def unary(request: Any, context: grpc.ServicerContext) -> Any:
                _take(calls, method, context)
                try:
                    return inner(request, context)
                finally:
                    calls.give()
            factory = grpc.unary_unary_rpc_method_handler if handler.unary_unary else grpc.stream_unary_rpc_method_handler
            return factory(unary, handler.request_deserializer, handler.response_serializer)
        streaming = handler.unary_stream or handler.stream_stream

        def stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            _take(calls, method, context)
            try:
                yield from streaming(request, context)
            finally:
                calls.give()
        factory = grpc.unary_stream_rpc_method_handler if handler.unary_stream else grpc.stream_stream_rpc_method_handler
        return factory(stream, handler.request_deserializer, handler.response_serializer)


def _take(calls: StreamSlots, method: str, context: grpc.ServicerContext) -> None:
    try:
        calls.take(method)
    except OverloadedError as err:
        context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(err))


class Watchdog:
    """Cancels calls that wait on their peer (a send not taken, a message not sent) longer than `seconds`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._waiting: dict[int, tuple[float, grpc.ServicerContext, str]] = {}
        self._keys = itertools.count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def key(self) -> int:
        return next(self._keys)

    def waiting(self, key: int, context: grpc.ServicerContext, what: str) -> None:
        """`key`'s call now waits on its peer (a plain dict store: cheap enough for every message)."""
        self._waiting[key] = (time.monotonic() + self.seconds, context, what)
        if self._thread is None:
            self._start()

    def done(self, key: int) -> None:
        self._waiting.pop(key, None)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="stall-watchdog", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(min(1.0, self.seconds / 4)):
            now = time.monotonic()
            for key, (deadline, context, what) in list(self._waiting.items()):
                if now >= deadline and self._waiting.pop(key, None) is not None:
                    log.warning("stalled stream ended", extra={"peer": context.peer(), "waited_for": what,
                                                               "seconds": self.seconds})
                    context.cancel()

    def stop(self) -> None:
        self._stop.set()

    def requests(self, items: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        """`items` (a client stream), with the wait for each next message watched."""
        key = self.key()
        try:
            while True:
                self.waiting(key, context, "the next message from the client")
                try:
                    item = next(items)
                except StopIteration:
                    return
                finally:
                    self.done(key)
                yield item
        finally:
            self.done(key)


class Guards:
    """The guards of one server: how each call's budget is made, the stream slots and the watchdog."""

    def __init__(self, max_call_seconds: float, max_query_cost: int | None, max_streams: int,
                 stall_seconds: float, max_calls: int | None = None) -> None:
        self.max_call_seconds = max_call_seconds
        self.max_query_cost = max_query_cost
        self.slots = StreamSlots(max_streams)
        self.calls = StreamSlots(max_calls or max_streams + 8, "calls", "max_workers")
        self.watchdog = Watchdog(stall_seconds)

    def budget(self, context: grpc.ServicerContext, open_ended: bool = False) -> Budget:
        """The call's budget; `open_ended`: no server cap on its time (the client's deadline still holds)."""
        return call_budget(context, float("inf") if open_ended else self.max_call_seconds, self.max_query_cost)
