"""What the console's JavaScript asks for, as JSON (and the members as a streamed CSV file).

A selection is `?q=QUERY` or `?segment=NAME`. A bitseg error becomes `{"error": {...}}` (app.py) with the
query's offset, line and column when it is a query error, so the editor can put a caret under it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from bitseg.errors import InvalidInputError
from bitseg.names import SegmentKind

if TYPE_CHECKING:
    from bitseg.client import Client

PREVIEW = 100              # members shown in the editor
TOP = 20                   # values in a breakdown
CSV_ROWS = 10_000          # ids per piece of the CSV download (the stream's own chunks are the server's)


def client_of(request: Request) -> Client:
    """The console's one Client (app.state), for the JSON answers here and the pages."""
    client: Client = request.app.state.client
    return client


def selection(request: Request) -> dict[str, Any]:
    """`query=` or `segment=` for a Client method, from `?q=` or `?segment=`."""
    params = request.query_params
    if "segment" in params:
        return {"segment": params["segment"]}
    query = params.get("q", "")
    if not query.strip():
        raise InvalidInputError("type a query (or ALL for every customer)")
    return {"query": query}


def count(request: Request) -> Response:
    """`{"count": N, "warnings": [...]}`: the count as the server gives it, with its warnings."""
    counted = client_of(request).count_with_warnings(request.path_params["index"], **selection(request))
    return JSONResponse({"count": counted.count, "warnings": list(counted.warnings)})


def criteria(request: Request) -> Response:
    """Per top-level criterion its own count, the running count, and the count without it (CountCriteria)."""
    found = client_of(request).criteria(request.path_params["index"], **selection(request))
    return JSONResponse({"combinator": found.combinator, "total": found.total, "criteria": [
        {"text": c.text, "count": c.count, "running": c.running, "without": c.without} for c in found.criteria]})


def members(request: Request) -> Response:
    """The first 100 members, in the server's order."""
    ids = client_of(request).members(request.path_params["index"], limit=PREVIEW, **selection(request))
    return JSONResponse({"members": list(ids), "limit": PREVIEW})


def members_csv(request: Request) -> Response:
    """Every member as CSV (a `customer` column), streamed from StreamMembers as it comes.

    The first id is asked for before the answer starts, so a bad query is a 400 with its error, not a file
    that stops short.
    """
    chosen = selection(request)
    ids = client_of(request).members(request.path_params["index"], **chosen)
    first = list(islice(ids, 1))
    name = chosen.get("segment", "members")

    def pieces() -> Iterator[str]:
        rest = chain(first, ids)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["customer"])
        while True:
            batch = list(islice(rest, CSV_ROWS))
            writer.writerows([customer] for customer in batch)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(batch) < CSV_ROWS:
                return

    return StreamingResponse(pieces(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


async def _json_body(request: Request) -> dict[str, Any]:
    # Only JSON: a page elsewhere can make a browser post a form (text/plain) here, but not with this type.
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise InvalidInputError("send the segment as JSON (Content-Type: application/json)")
    try:
        body = await request.json()
    except ValueError:
        raise InvalidInputError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidInputError("the request body must be a JSON object")
    return body


async def save(request: Request) -> Response:
    """Save `{"name", "query", "kind", "description"}` as a segment; the saved segment back."""
    body = await _json_body(request)
    name, query = str(body.get("name", "")).strip(), str(body.get("query", ""))
    if not name:
        raise InvalidInputError("give the segment a name")
    kind = SegmentKind.of(str(body.get("kind") or SegmentKind.STANDARD.value))
    saved = await run_in_threadpool(client_of(request).save_segment, request.path_params["index"], name,
                                    query, kind=kind, description=str(body.get("description", "")))
    return JSONResponse({"segment": {"name": saved.name, "query": saved.query, "kind": saved.kind.value,
                                     "description": saved.description},
                         "url": str(request.url_for("segment", index=request.path_params["index"],
                                                    name=saved.name))})


def breakdown(request: Request) -> Response:
    """Members per value of `?field=` (largest first, top 20): `{"field", "dimension", "values": [[value, count],
    ...]}`; for a purchase dimension (`?dimension=1`) each value's buyers and their revenue from it
    (`[value, buyers, "revenue"]`), in `?start=`/`?end=` (ISO days) when given."""
    params = request.query_params
    field = params.get("field", "")
    if not field:
        raise InvalidInputError("choose a field to break down by")
    dimension = params.get("dimension", "") not in ("", "0")
    window = (_day(params, "start"), _day(params, "end")) if dimension else (None, None)
    values = breakdown_values(client_of(request), request.path_params["index"], field, dimension=dimension,
                              window=window, **selection(request))
    return JSONResponse({"field": field, "dimension": dimension, "values": values,
                         "start": window[0] and window[0].isoformat(), "end": window[1] and window[1].isoformat()})


def _day(params: Any, name: str) -> dt.date | None:
    text = params.get(name, "")
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise InvalidInputError(f"{name} must be a day as YYYY-MM-DD, not {text!r}") from None


def breakdown_values(client: Client, index: str, field: str, *, dimension: bool = False,
                     window: tuple[dt.date | None, dt.date | None] = (None, None),
                     **chosen: Any) -> list[list[Any]]:
    """The top 20 values of a field as `[value, members]`, or of a purchase dimension as `[value, buyers,
    revenue]` (revenue as text: a Decimal stays exact in JSON); no value is shown as "(none)"."""
    if not dimension:
        found = client.breakdown(index, field=field, top=TOP, **chosen)
        return [[_shown(value), count] for value, count in found.items()]
    rows = client.breakdown_rows(index, field=field, top=TOP, start=window[0], end=window[1], **chosen)
    return [[_shown(row.value), row.count, str(row.revenue if row.revenue is not None else 0)] for row in rows]


def _shown(value: str | None) -> str:
    return value if value is not None else "(none)"
