"""The console's pages, rendered on the server: the indexes, the editor, the saved segments and one segment.

Each is a plain function (Starlette runs it in a thread, the client's calls block) making a few client calls;
a chart's data travels in the page as JSON for the JavaScript to draw.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bitseg.console import api
from bitseg.errors import InvalidInputError, NotFoundError
from bitseg.names import SegmentKind

if TYPE_CHECKING:
    from bitseg.replies import GroupStats, IndexInfo

BREAKDOWN_TYPES = ("keyword", "bool", "tags")   # the profile fields a breakdown counts by
BUYER_DAYS = 90                                  # buyers per day: the last 90 days by default
MAX_DAYS = 3660


def _render(request: Request, template: str, **context: Any) -> Response:
    context.setdefault("title", request.app.state.title)
    return request.app.state.templates.TemplateResponse(request, template, context)  # type: ignore[no-any-return]


def today_in(info: IndexInfo) -> dt.date:
    """Today in the index's time zone (the day the server evaluates a query without an as-of day)."""
    try:
        return dt.datetime.now(ZoneInfo(info.timezone)).date()
    except (ValueError, KeyError):
        return dt.date.today()


def breakdown_fields(info: IndexInfo) -> list[str]:
    return [name for name, kind in info.fields.items() if kind in BREAKDOWN_TYPES and name not in info.builtins]


def home(request: Request) -> Response:
    """`/`: the console's index (given, or the only one), else a list to choose from."""
    indexes = api.client_of(request).list_indexes()
    chosen = request.app.state.index or (indexes[0].name if len(indexes) == 1 else None)
    if chosen is not None:
        return RedirectResponse(request.url_for("editor", index=chosen), status_code=303)
    return _render(request, "indexes.html", indexes=indexes)


def editor(request: Request) -> Response:
    """The segment editor; `?segment=NAME` opens a saved segment's query."""
    index = request.path_params["index"]
    client = api.client_of(request)
    info = client.get_index(index)
    query, saved = request.query_params.get("query", ""), None
    if "segment" in request.query_params:
        saved = client.get_segment(index, request.query_params["segment"])
        query = saved.query
    return _render(request, "editor.html", page="editor", index=index, info=info, query=query, saved=saved,
                   fields=list(info.fields.items()), kinds=[kind.value for kind in SegmentKind])


def segments(request: Request) -> Response:
    """Every saved segment with its kind, size (one CountBatch of their queries) and description."""
    index = request.path_params["index"]
    client = api.client_of(request)
    saved = client.list_segments(index)
    sizes = client.count_batch(index, [segment.query for segment in saved]) if saved else []
    rows = [{"segment": segment, "size": result.count if result.ok else None, "error": result.error}
            for segment, result in zip(saved, sizes)]
    return _render(request, "segments.html", page="segments", index=index, rows=rows)


def segment(request: Request) -> Response:
    """One segment: its stats against the rest, a breakdown (by a field, or by a purchase dimension with each
    value's buyers and revenue, optionally in the buyers-per-day window), buyers per day and (hot) its history."""
    index, name = request.path_params["index"], request.path_params["name"]
    client = api.client_of(request)
    info = client.get_index(index)
    saved = client.get_segment(index, name)
    stats = client.stats(index, segment=name)
    fields, dimensions = breakdown_fields(info), list(info.dimensions)
    field = request.query_params.get("field") or (fields or dimensions or [""])[0]
    if field and field not in fields + dimensions:
        raise NotFoundError(f"no field {field!r} to break down by in index {index!r}; "
                            f"choose one of {', '.join(fields + dimensions) or 'none'}")
    end = today_in(info)
    days = _days(request.query_params.get("days"))
    start = end - dt.timedelta(days=days - 1)
    dimension = field in dimensions
    windowed = dimension and request.query_params.get("window", "") not in ("", "0")
    breakdown = api.breakdown_values(client, index, field, dimension=dimension,
                                     window=(start, end) if windowed else (None, None),
                                     segment=name) if field else []
    buyers = client.buyers_per_day(index, start, end, segment=name)
    history = client.history(index, name) if saved.kind is SegmentKind.HOT else []
    charts = {
        "breakdown": {"field": field, "dimension": dimension, "values": breakdown,
                      "start": start.isoformat() if windowed else None, "end": end.isoformat() if windowed else None},
        "buyers": {"days": [d.isoformat() for d in buyers], "counts": list(buyers.values())},
        "history": {"days": [h.day.isoformat() for h in history], "size": [h.size for h in history],
                    "entered": [h.entered for h in history], "left": [h.left for h in history],
                    "backfilled": [h.backfilled for h in history]},
    }
    return _render(request, "segment.html", page="segments", index=index, saved=saved, size=stats.count,
                   stats=stats_rows(stats.members, stats.rest), fields=fields, dimensions=dimensions, field=field,
                   charts=charts, hot=saved.kind is SegmentKind.HOT, history=history, days=days,
                   window={"start": start.isoformat(), "end": end.isoformat(), "on": windowed},
                   backfilled=sum(h.backfilled for h in history))


def _days(text: str | None) -> int:
    """`?days=N`, 1 to 3,660 (default 90): how far back buyers per day goes."""
    if not text:
        return BUYER_DAYS
    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise InvalidInputError(f"days must be a whole number from 1 to {MAX_DAYS:,}, not {text!r}")
    return int(text)


def stats_rows(members: GroupStats, rest: GroupStats) -> list[tuple[str, str, str]]:
    """The KPI table: (measure, members, rest), numbers as a person reads them.

    >>> from bitseg.replies import GroupStats
    >>> one = GroupStats(2, 3, Decimal("30"), Decimal("10"), Decimal("15"), {"email": 0.5})
    >>> stats_rows(one, one)[2], stats_rows(one, one)[-1]
    (('revenue', '30.00', '30.00'), ('with email', '50.0%', '50.0%'))
    """
    def money(value: Decimal) -> str:
        return f"{value:,.2f}"

    rows = [("customers", f"{members.customers:,}", f"{rest.customers:,}"),
            ("orders", f"{members.orders:,}", f"{rest.orders:,}"),
            ("revenue", money(members.revenue), money(rest.revenue)),
            ("average order value", money(members.average_order_value), money(rest.average_order_value)),
            ("average clv", money(members.average_clv), money(rest.average_clv))]
    for name in sorted(set(members.presence_share) | set(rest.presence_share)):
        rows.append((f"with {name}", f"{members.presence_share.get(name, 0.0):.1%}",
                     f"{rest.presence_share.get(name, 0.0):.1%}"))
    return rows
