"""The gRPC method handlers: decode each request, run the servicer under the call's budget, map errors, log.

Requests arrive as bytes and are decoded here, so a malformed or too deeply nested message is INVALID_ARGUMENT
(grpc's own decoding would answer INTERNAL). Streams take a slot (`guard.py`) and are watched for stalls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from bitseg.errors import InvalidInputError
from bitseg.index.budget import spending
from bitseg.server.errors import abort, query_detail, status_of
from bitseg.server.guard import Guards
from bitseg.server.logs import access_log
from bitseg.server.monitor import Monitor
from bitseg.server.service import SegmentService
from bitseg.v1 import segments_pb2 as pb

# ── handlers: decode, call, map errors, log timing ──────────────────────────────────────────────────

def method_handlers(servicer: SegmentService, monitor: Monitor, guards: Guards) -> dict[str, grpc.RpcMethodHandler]:
    """A handler per RPC of the service descriptor.

    Requests arrive as bytes and are decoded here, so a malformed or too deeply nested message is
    INVALID_ARGUMENT (grpc's own decoding would answer INTERNAL).
    """
    handlers = {}
    for method in pb.DESCRIPTOR.services_by_name["SegmentService"].methods:
        request_type = getattr(pb, method.input_type.name)
        response_type = getattr(pb, method.output_type.name)
        behaviour = getattr(servicer, method.name)
        factory = {
            (False, False): grpc.unary_unary_rpc_method_handler,
            (False, True): grpc.unary_stream_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler,
            (True, True): grpc.stream_stream_rpc_method_handler,
        }[(method.client_streaming, method.server_streaming)]
        wrap = _wrap_stream if method.server_streaming else _wrap_unary
        handlers[method.name] = factory(
            wrap(method.name, behaviour, request_type, method.client_streaming, monitor, guards),
            request_deserializer=None, response_serializer=response_type.SerializeToString)
    return handlers


def _decode(request_type: Any, raw: bytes) -> Any:
    try:
        return request_type.FromString(raw)
    except DecodeError:
        raise InvalidInputError(f"the {request_type.__name__} message could not be decoded: it is malformed or "
                                "nested too deeply (protobuf allows 100 levels, about 49 of a structured query)"
                                ) from None


def _requests(request_type: Any, raw: Any, client_streaming: bool, context: grpc.ServicerContext,
              guards: Guards) -> Any:
    if client_streaming:
        return (_decode(request_type, item) for item in guards.watchdog.requests(iter(raw), context))
    return _decode(request_type, raw)


def _status(err: Exception, context: grpc.ServicerContext) -> tuple[grpc.StatusCode, str | None]:
    """The status of `err`, and the message to abort with (None: the peer is gone, there is no one to answer)."""
    if isinstance(err, grpc.RpcError) and not context.is_active():
        # the client dropped an import stream (or the watchdog ended it): not an internal error, no traceback
        return grpc.StatusCode.CANCELLED, None
    return status_of(err)


def _wrap_unary(name: str, behaviour: Callable, request_type: Any, client_streaming: bool,
                monitor: Monitor, guards: Guards) -> Callable:
    def handle(raw: Any, context: grpc.ServicerContext) -> Any:
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        request = None
        taken = called = False
        try:
            guards.calls.take(name)
            called = True
            if client_streaming:
                guards.slots.take(name)
                taken = True
            with spending(guards.budget(context)):
                request = _requests(request_type, raw, client_streaming, context, guards)
                return behaviour(request, context)
        except Exception as err:  # noqa: BLE001 - every error becomes a status; unexpected ones are logged
            code, message = _status(err, context)
            if message is not None:
                abort(context, code, message, query_detail(err))
        finally:
            if taken:
                guards.slots.give()
            if called:
                guards.calls.give()
            _log_call(name, context, code, started, request, monitor)
    return handle


def _wrap_stream(name: str, behaviour: Callable, request_type: Any, client_streaming: bool,
                 monitor: Monitor, guards: Guards) -> Callable:
    def handle(raw: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        request = None
        sent = 0
        key = guards.watchdog.key()
        try:
            guards.calls.take(name)
            try:
                guards.slots.take(name)
            except Exception:
                guards.calls.give()
                raise
        except Exception as err:  # noqa: BLE001
            code, refusal = status_of(err)
            _log_call(name, context, code, started, None, monitor)
            context.abort(code, refusal)
        try:
            budget = guards.budget(context)
            with spending(budget):
                request = _requests(request_type, raw, client_streaming, context, guards)
                responses = behaviour(request, context)
            while True:
                with spending(budget):  # the deadline covers the first message (the evaluation comes first)
                    response = next(responses, None)
                if response is None:
                    break
                if not sent:  # a live stream (WatchChanges) may then run for as long as its caller listens
                    budget = guards.budget(context, open_ended=True)
                guards.watchdog.waiting(key, context, "the client to read the next message")
                yield response
                guards.watchdog.done(key)
                sent += 1
        except Exception as err:  # noqa: BLE001
            code, message = _status(err, context)
            if message is not None:
                abort(context, code, message, query_detail(err))
        finally:
            guards.watchdog.done(key)
            guards.slots.give()
            guards.calls.give()
            if code is grpc.StatusCode.OK and not context.is_active():
                code = grpc.StatusCode.CANCELLED  # the client went away or the deadline passed mid-stream
            _log_call(name, context, code, started, request, monitor, messages=sent)
    return handle


def _log_call(name: str, context: grpc.ServicerContext, code: grpc.StatusCode, started: float,
              request: Any, monitor: Monitor, **extra: Any) -> None:
    """The one place every call ends: the access log, the slow-call log, metrics and health."""
    monitor.call_ended(name, code.name, time.perf_counter() - started, request)
    if access_log.enabled:
        index = getattr(request, "index", None)
        if isinstance(index, str) and index:
            extra["index"] = index
        access_log.record(method=name, code=code.name, ms=round((time.perf_counter() - started) * 1000, 3),
                          peer=context.peer(), **extra)
