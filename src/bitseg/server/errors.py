"""The one table from bitseg errors to gRPC status codes (SPEC §5); anything else is INTERNAL and logged.

A QueryError with a position also travels as a `bitseg.v1.QueryErrorDetail` in the google.rpc.Status details
(grpcio-status), so a program reads the position without parsing the message.
"""

from __future__ import annotations

import logging

import grpc
from google.protobuf import any_pb2
from google.rpc import status_pb2
from grpc_status import rpc_status

from bitseg.errors import (
    AlreadyExistsError,
    CancelledError,
    DeadlineExceededError,
    InvalidInputError,
    NotFoundError,
    OverloadedError,
    PersistenceError,
    QueryError,
    ReadOnlyError,
    SchemaError,
    UnavailableError,
)
from bitseg.v1 import segments_pb2 as pb

log = logging.getLogger("bitseg.server")


class DeadlineExceeded(DeadlineExceededError):
    """The call's deadline passed before its work could start."""


# First match wins. LimitError is an InvalidInputError, so it needs no row of its own.
STATUS: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (QueryError, grpc.StatusCode.INVALID_ARGUMENT),
    (SchemaError, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidInputError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS),
    (DeadlineExceededError, grpc.StatusCode.DEADLINE_EXCEEDED),
    (CancelledError, grpc.StatusCode.CANCELLED),
    (OverloadedError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (NotImplementedError, grpc.StatusCode.UNIMPLEMENTED),
    (OverloadedError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    # The log cannot be written just now: nothing was changed, retry later (the store heals by itself).
    (ReadOnlyError, grpc.StatusCode.UNAVAILABLE),
    # A shard of a sharded server did not answer (SPEC §9): nothing partial is returned, retry.
    (UnavailableError, grpc.StatusCode.UNAVAILABLE),
    # The disk failed us, not the caller: INTERNAL with the message (it names the file), logged below.
    (PersistenceError, grpc.StatusCode.INTERNAL),
)


def status_of(err: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status code and message for an error; INTERNAL ones are logged with their traceback.

    >>> status_of(NotFoundError("unknown index 'shop'"))
    (<StatusCode.NOT_FOUND: (5, 'not found')>, "unknown index 'shop'")
    """
    for kind, code in STATUS:
        if isinstance(err, kind):
            if code is grpc.StatusCode.INTERNAL:
                log.error("%s: %s", type(err).__name__, err, exc_info=err)
            return code, str(err)
    log.error("internal error: %s: %s", type(err).__name__, err, exc_info=err)
    return grpc.StatusCode.INTERNAL, f"internal error ({type(err).__name__}); the server log has the details"


def query_detail(err: BaseException) -> pb.QueryErrorDetail | None:
    """The position of a query error, or None for any other error (or one without a position).

    >>> detail = query_detail(QueryError("unexpected ')'", text="a = 1)", offset=5))
    >>> detail.offset, detail.line, detail.column, detail.message
    (5, 1, 6, "unexpected ')'")
    """
    if not isinstance(err, QueryError) or err.offset is None or err.line is None or err.column is None:
        return None
    return pb.QueryErrorDetail(offset=err.offset, line=err.line, column=err.column, message=err.message)


def abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str,
          detail: pb.QueryErrorDetail | None = None) -> None:
    """End the call with `code` and `message`, and `detail` (a query error's position) in the status details."""
    if detail is None:
        context.abort(code, message)
    packed = any_pb2.Any()
    packed.Pack(detail)
    context.abort_with_status(rpc_status.to_status(
        status_pb2.Status(code=code.value[0], message=message, details=[packed])))
