"""What the console's JavaScript asks for, as JSON (and the members as a streamed CSV file).

A selection is `?q=QUERY` or `?segment=NAME`. A bitseg error becomes `{"error": {...}}` (app.py) with the
query's offset, line and column when it is a query error, so the editor can put a caret under it.
"""

from __future__ import annotations

import csv
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
CSV_ROWS = 10_000          # ids per piece of the CSV download (the stream's own chunks are the server's)


def _client(request: Request) -> Client:
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
    counted = _client(request).count_with_warnings(request.path_params["index"], **selection(request))
    return JSONResponse({"count": counted.count, "warnings": list(counted.warnings)})


def criteria(request: Request) -> Response:
    """Per top-level criterion its own count, the running count, and the count without it (CountCriteria)."""
    found = _client(request).criteria(request.path_params["index"], **selection(request))
    return JSONResponse({"combinator": found.combinator, "total": found.total, "criteria": [
        {"text": c.text, "count": c.count, "running": c.running, "without": c.without} for c in found.criteria]})


def members(request: Request) -> Response:
    """The first 100 members, in the server's order."""
    ids = _client(request).members(request.path_params["index"], limit=PREVIEW, **selection(request))
    return JSONResponse({"members": list(ids), "limit": PREVIEW})


def members_csv(request: Request) -> Response:
    """Every member as CSV (a `customer` column), streamed from StreamMembers as it comes.

    The first id is asked for before the answer starts, so a bad query is a 400 with its error, not a file
    that stops short.
    """
    chosen = selection(request)
    ids = _client(request).members(request.path_params["index"], **chosen)
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
    saved = await run_in_threadpool(_client(request).save_segment, request.path_params["index"], name, query,
                                    kind=kind, description=str(body.get("description", "")))
    return JSONResponse({"segment": {"name": saved.name, "query": saved.query, "kind": saved.kind.value,
                                     "description": saved.description},
                         "url": str(request.url_for("segment", index=request.path_params["index"],
                                                    name=saved.name))})


def breakdown(request: Request) -> Response:
    """Members per value of `?field=` (largest first, top 20): `{"field", "values": [[value, count], ...]}`."""
    field = request.query_params.get("field", "")
    if not field:
        raise InvalidInputError("choose a field to break down by")
    found = _client(request).breakdown(request.path_params["index"], field=field, top=20, **selection(request))
    return JSONResponse({"field": field, "values": [[value if value is not None else "(none)", n]
                                                    for value, n in found.items()]})
