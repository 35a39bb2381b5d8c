"""The insight calls of bitseg.Client: explain, why, criteria, overlap, watch_changes (SPEC §10); values and
count_with_warnings (SPEC §4): what a field holds, and which values of a query nobody has."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import grpc

from bitseg.query.expressions import Node
from bitseg.query.printer import to_text
from bitseg.replies import (
    BreakdownRow,
    ChangeDay,
    Counted,
    CriteriaCounts,
    Criterion,
    FieldValue,
    Overlap,
    PlanStep,
    PurchaseLine,
    Why,
    WhyStep,
)
from bitseg.v1 import segments_pb2 as pb
from bitseg.wire import status_error

Query = str | Node
Day = dt.date | str | None


def _day(day: Day) -> str:
    return "" if day is None else day.isoformat() if isinstance(day, dt.date) else day


def _selection(query: Query | None, segment: str | None) -> dict[str, Any]:
    if segment is not None and query is None:
        return {"segment": segment}
    if query is None or segment is not None:
        raise ValueError("give a query or a segment (one of them)")
    return {"query": query if isinstance(query, str) else to_text(query)}


class InsightCalls:
    """Mixed into bitseg.Client, which provides `_call`, `_stub` and `_metadata`."""

    _stub: Any
    _metadata: tuple[tuple[str, str], ...]

    def _call(self, method: str, request: Any, *, query: str | None = None, deadline: bool = True) -> Any:
        raise NotImplementedError  # the Client's

    def count_with_warnings(self, index: str, query: Query | None = None, *, segment: str | None = None,
                            as_of: Day = None) -> Counted:
        """As `count`, with a warning per literal of the query no customer (or purchase line) has, e.g.
        "no customer has department 'shoes'; nearest: 'Shoes'". `count` returns the plain int."""
        return self._counted(index, _selection(query, segment), as_of)

    def _counted(self, index: str, selection: dict[str, Any], as_of: Day) -> Counted:
        """The Count call of count_with_warnings and Client.count (each checks its arguments its own way)."""
        reply = self._call("Count", pb.CountRequest(index=index, as_of=_day(as_of), **selection),
                           query=selection.get("query"))
        return Counted(int(reply.count), tuple(reply.warnings))

    def breakdown_rows(self, index: str, query: Query | None = None, *, field: str, segment: str | None = None,
                       top: int = 10, as_of: Day = None, start: Day = None, end: Day = None) -> list[BreakdownRow]:
        """Members per value of a keyword, bool or tags field, or of a purchase dimension: per value, the members
        who bought it (a purchase line in [start, end], never past as_of) and their net revenue from it there.
        Largest first; value None: members without one (lines without one, for a dimension)."""
        selection = _selection(query, segment)
        r = self._call("Breakdown", pb.BreakdownRequest(index=index, as_of=_day(as_of), field=field, top=top,
                                                        start=_day(start), end=_day(end), **selection),
                       query=selection.get("query"))
        return [BreakdownRow(v.value or None, v.count, Decimal(v.revenue) if v.revenue else None) for v in r.values]

    def breakdown(self, index: str, query: Query | None = None, *, field: str, segment: str | None = None,
                  top: int = 10, as_of: Day = None) -> dict[str | None, int]:
        """Members per value of a keyword, bool or tags field, largest first (None: customers without one); a
        purchase dimension gives its buyers (`breakdown_rows` gives their revenue and takes a date window)."""
        rows = self.breakdown_rows(index, query, field=field, segment=segment, top=top, as_of=as_of)
        return {row.value: row.count for row in rows}

    def values(self, index: str, field: str, *, prefix: str = "", limit: int = 0) -> tuple[FieldValue, ...]:
        """The values of a keyword, bool or tags field (customers having each) or of a purchase dimension
        (customers with a purchase line having it), largest first; `prefix` matches case-insensitively;
        `limit` 0 means 100."""
        reply = self._call("Values", pb.ValuesRequest(index=index, field=field, prefix=prefix, limit=limit))
        return tuple(FieldValue(v.value, v.count) for v in reply.values)

    def explain(self, index: str, query: Query | None = None, *, segment: str | None = None, as_of: Day = None,
                analyze: bool = False) -> list[PlanStep]:
        """The plan of a query, parents first; with `analyze`, each node's count and milliseconds."""
        selection = _selection(query, segment)
        reply = self._call("Explain", pb.ExplainRequest(index=index, as_of=_day(as_of), analyze=analyze,
                                                        **selection), query=selection.get("query"))
        return [PlanStep(s.depth, s.text, s.access, s.minus, s.count if analyze else None,
                         s.ms if analyze else None) for s in reply.steps]

    def why(self, index: str, customer_id: str, query: Query | None = None, *, segment: str | None = None,
            as_of: Day = None) -> Why:
        """Whether a customer is a member and, per node of the query, whether it holds and why."""
        selection = _selection(query, segment)
        reply = self._call("ExplainMember", pb.ExplainMemberRequest(
            index=index, customer_id=customer_id, as_of=_day(as_of), **selection), query=selection.get("query"))
        return Why(reply.is_member, tuple(
            WhyStep(s.depth, s.text, s.holds, s.minus, tuple(s.values), tuple(
                PurchaseLine(dt.date.fromisoformat(line.day), Decimal(line.amount), line.quantity,
                             line.order or None, dict(line.dimensions)) for line in s.lines))
            for s in reply.steps))

    def criteria(self, index: str, query: Query | None = None, *, segment: str | None = None,
                 as_of: Day = None) -> CriteriaCounts:
        """Per top-level criterion: own count, running count, count of the query without it."""
        selection = _selection(query, segment)
        reply = self._call("CountCriteria", pb.CountCriteriaRequest(index=index, as_of=_day(as_of), **selection),
                           query=selection.get("query"))
        return CriteriaCounts(reply.combinator, reply.total, tuple(
            Criterion(c.text, c.count, c.running, c.without) for c in reply.criteria))

    def overlap(self, index: str, queries: Sequence[Query] = (), *, segments: Sequence[str] = (),
                as_of: Day = None) -> Overlap:
        """Sizes and intersection counts of 2 to 32 selections: the queries, then the saved segments."""
        selections = ([pb.Selection(query=q if isinstance(q, str) else to_text(q)) for q in queries]
                      + [pb.Selection(segment=s) for s in segments])
        reply = self._call("Overlap", pb.OverlapRequest(index=index, selections=selections, as_of=_day(as_of)))
        n = len(reply.sizes)
        return Overlap(tuple(reply.sizes), tuple(tuple(reply.matrix[i * n:(i + 1) * n]) for i in range(n)))

    def watch_changes(self, index: str, segment: str, since: Day = None, *,
                      chunk_size: int = 0) -> Iterator[ChangeDay]:
        """A trigger segment's evaluated days after `since`, then each new one, until the iterator is closed.

        Resume with the last day whose message said `complete`.
        """
        request = pb.WatchChangesRequest(index=index, segment=segment, since=_day(since), chunk_size=chunk_size)
        stream = self._stub.WatchChanges(request, metadata=self._metadata)
        try:
            for m in stream:
                yield ChangeDay(dt.date.fromisoformat(m.day), tuple(m.entered), tuple(m.left), m.complete)
        except grpc.RpcError as err:
            raise status_error(err) from err
        finally:
            stream.cancel()
