"""What bitseg.Client reads off the wire: status codes as bitseg errors, responses as bitseg.replies values.

The table below is the inverse of the server's (bitseg.server.errors).

>>> err = query_error("unknown field 'colour' at 1:1; did you mean 'color'?", "colour = 'x'")
>>> type(err).__name__, err.offset, err.line, err.column
('QueryError', 0, 1, 1)
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import grpc

from bitseg.errors import (
    AlreadyExistsError,
    AuthenticationError,
    BitsegError,
    InvalidInputError,
    NotFoundError,
    OverloadedError,
    QueryError,
    ServerError,
    UnavailableError,
)
from bitseg.names import SegmentKind
from bitseg.replies import (
    GroupStats,
    IndexInfo,
    IngestSummary,
    RejectedRow,
    SavedSegment,
    ServerInfo,
    Snapshot,
)
from bitseg.v1 import segments_pb2 as pb

C = grpc.StatusCode
ERRORS: dict[grpc.StatusCode, type[BitsegError]] = {
    C.INVALID_ARGUMENT: InvalidInputError, C.FAILED_PRECONDITION: InvalidInputError,
    C.OUT_OF_RANGE: InvalidInputError, C.NOT_FOUND: NotFoundError, C.ALREADY_EXISTS: AlreadyExistsError,
    C.UNAUTHENTICATED: AuthenticationError, C.PERMISSION_DENIED: AuthenticationError,
    C.RESOURCE_EXHAUSTED: OverloadedError, C.UNAVAILABLE: UnavailableError, C.DEADLINE_EXCEEDED: UnavailableError,
}
KIND_OF = {pb.TRIGGER: SegmentKind.TRIGGER, pb.HOT: SegmentKind.HOT}   # UNSPECIFIED reads as STANDARD
POSITION = re.compile(r"(?P<head>.*?) at (?P<line>\d+):(?P<column>\d+)(?P<hint>; .*)?\Z", re.DOTALL)


def status_error(err: grpc.RpcError, query: str | None = None) -> BitsegError:
    """The bitseg error for a failed call, with `code` (the status name) and `details` (the server's message).

    INVALID_ARGUMENT for a query text whose message carries line:column becomes a QueryError with that position.
    """
    code: grpc.StatusCode = err.code()  # every RpcError a call raises is a grpc.Call
    details: str = err.details() or ""
    kind = ERRORS.get(code, ServerError)
    error: Any = None
    if code is C.INVALID_ARGUMENT:
        detail = query_detail_of(err)
        if detail is not None:
            error = query_error_at(details, detail, query)
        elif query:
            error = query_error(details, query)  # a server from before QueryErrorDetail: read the message
    if error is None:
        error = kind(details, code.name) if kind in (AuthenticationError, OverloadedError, UnavailableError,
                                                     ServerError) else kind(details)
    error.code, error.details = code.name, details
    return error


def query_detail_of(err: grpc.RpcError) -> pb.QueryErrorDetail | None:
    """The QueryErrorDetail in a failed call's google.rpc.Status details, if the server sent one."""
    from grpc_status import rpc_status

    try:
        status = rpc_status.from_call(err)  # type: ignore[arg-type]
    except ValueError:  # details that do not match the code and message: ignore them
        return None
    for packed in status.details if status is not None else ():
        if packed.Is(pb.QueryErrorDetail.DESCRIPTOR):
            detail = pb.QueryErrorDetail()
            packed.Unpack(detail)
            return detail
    return None


def query_error_at(details: str, detail: Any, query: str | None) -> QueryError:
    """The QueryError a QueryErrorDetail describes; its text is `query` when that is the text the server read.

    >>> detail = pb.QueryErrorDetail(offset=5, line=1, column=6, message="unexpected ')'")
    >>> err = query_error_at("unexpected ')' at 1:6", detail, "a = 1)")
    >>> err.offset, err.line, err.column, err.text
    (5, 1, 6, 'a = 1)')
    """
    if query is not None and 0 <= detail.offset <= len(query):
        error = QueryError(detail.message, text=query, offset=detail.offset)
        if (error.line, error.column) == (detail.line, detail.column):
            return error
    # A saved segment's or a structured query's text the client does not have: the position as sent.
    error = QueryError(details)
    error.message, error.offset, error.line, error.column = detail.message, detail.offset, detail.line, detail.column
    return error


def query_error(details: str, query: str) -> QueryError | None:
    """A QueryError at the position the server's message names in `query`, or None when it names none."""
    found = POSITION.match(details)
    if not found:
        return None
    lines = query.split("\n")
    line, column = int(found["line"]), int(found["column"])
    if line > len(lines) or column > len(lines[line - 1]) + 1:
        return None
    offset = sum(len(text) + 1 for text in lines[:line - 1]) + column - 1
    error = QueryError(found["head"] + (found["hint"] or ""), text=query, offset=offset)
    return error if str(error) == details else None


# ── response messages → plain values ────────────────────────────────────────────────────────────────

def index_info_of(info: Any) -> IndexInfo:
    return IndexInfo(name=info.name, schema_toml=info.schema_toml, timezone=info.timezone,
                     customers=info.customer_count, lines=info.line_count,
                     fields={f.name: f.type for f in info.fields}, dimensions=tuple(info.dimensions),
                     segments=tuple(info.segments), lists=tuple(info.lists),
                     builtins=tuple(f.name for f in info.fields if f.builtin),
                     shards=tuple((s.customers, s.lines) for s in info.shard_sizes))


def summary_of(s: Any) -> IngestSummary:
    return IngestSummary(rows=s.rows_received, accepted=s.rows_accepted, rejected=s.rows_rejected,
                         rejected_rows=tuple(RejectedRow(r.row_number, r.message) for r in s.rejected),
                         batches=s.batches, customers=s.customer_count, lines=s.line_count,
                         duplicates=s.rows_duplicate)


def segment_of(s: Any) -> SavedSegment:
    return SavedSegment(s.name, s.query, KIND_OF.get(s.kind, SegmentKind.STANDARD), s.description)


def group_of(g: Any) -> GroupStats:
    return GroupStats(g.customers, g.orders, Decimal(g.revenue or "0"), Decimal(g.average_order_value or "0"),
                      Decimal(g.average_clv or "0"), dict(sorted(g.presence_share.items())))


def snapshot_of(s: Any) -> Snapshot:
    return Snapshot(s.id, s.created, s.bytes, tuple(s.indexes))


def server_info_of(r: Any) -> ServerInfo:
    return ServerInfo(r.version, r.uptime_seconds, r.serving, r.data_dir,
                      tuple({"name": i.name, "customers": i.customers, "lines": i.lines,
                             "memory_bytes": i.memory_bytes} for i in r.indexes), r.log_bytes,
                      snapshot_of(r.last_snapshot) if r.HasField("last_snapshot") else None,
                      r.last_snapshot_outcome,
                      tuple({"method": c.method, "index": c.index, "query": c.query, "ms": c.ms, "code": c.code,
                             "at": c.at} for c in r.slowest))


DEFAULT_PORT = 50051


def with_port(address: str) -> str:
    """`address` with bitseg's port when it names none (gRPC itself would pick 443).

    >>> with_port("db1"), with_port("db1:6000"), with_port("[::1]"), with_port("unix:/tmp/s")
    ('db1:50051', 'db1:6000', '[::1]:50051', 'unix:/tmp/s')
    """
    if "://" in address or address.startswith(("unix:", "dns:", "ipv4:", "ipv6:")):
        return address
    if address.startswith("["):
        return address if "]:" in address else f"{address}:{DEFAULT_PORT}"
    return address if ":" in address else f"{address}:{DEFAULT_PORT}"
