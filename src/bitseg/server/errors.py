"""The one table from bitseg errors to gRPC status codes (SPEC §5); anything else is INTERNAL and logged."""

from __future__ import annotations

import logging

import grpc

from bitseg.errors import (
    AlreadyExistsError,
    InvalidInputError,
    NotFoundError,
    OverloadedError,
    PersistenceError,
    QueryError,
    ReadOnlyError,
    SchemaError,
)

log = logging.getLogger("bitseg.server")


class DeadlineExceeded(Exception):
    """The call's deadline passed before its work could start."""


# First match wins. LimitError is an InvalidInputError, so it needs no row of its own.
STATUS: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (QueryError, grpc.StatusCode.INVALID_ARGUMENT),
    (SchemaError, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidInputError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS),
    (DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
    (NotImplementedError, grpc.StatusCode.UNIMPLEMENTED),
    (OverloadedError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    # The log cannot be written just now: nothing was changed, retry later (the store heals by itself).
    (ReadOnlyError, grpc.StatusCode.UNAVAILABLE),
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
