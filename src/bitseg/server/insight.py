"""The segment insight RPCs (SPEC §10) of the SegmentService: each converts, makes one core call, converts back.

WatchChanges is the one that waits: it sends the evaluated days after `since`, then waits (without the index
lock) for the next evaluation, a second at a time so that a client that hung up is noticed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Protocol

import grpc

from bitseg.days import optional_day
from bitseg.errors import InvalidInputError
from bitseg.index.index import Index
from bitseg.index.insight import MAX_OVERLAP, ChangedDay
from bitseg.names import check_name
from bitseg.query.expressions import Node
from bitseg.v1 import segments_pb2 as pb


class _Service(Protocol):
    def _index(self, name: str, context: grpc.ServicerContext) -> Index: ...
    def _selection(self, index: Index, request: Any, oneof: str = "selection") -> str | Node: ...

DEFAULT_CHUNK = 10_000
MAX_CHUNK = 1_000_000
WAIT_SECONDS = 1.0  # how often a waiting WatchChanges looks whether its client is still there


def _line(line: Any) -> pb.PurchaseLine:
    return pb.PurchaseLine(day=line.day.isoformat(), amount=str(line.amount), quantity=line.quantity,
                           order=line.order or "",
                           dimensions={k: v for k, v in line.dimensions.items() if v is not None})


def _day_messages(changed: ChangedDay, size: int) -> Iterator[pb.ChangeDay]:
    """One day's ids in messages of at most `size` ids, entered first; the last one says the day is complete."""
    entered, left, day = changed.entered, changed.left, changed.day.isoformat()
    total = len(entered) + len(left)
    for at in range(0, max(total, 1), size):
        end = at + size
        yield pb.ChangeDay(day=day, entered=entered[at:end],
                           left=left[max(at - len(entered), 0):max(end - len(entered), 0)], complete=end >= total)


class InsightRpcs:
    """Explain, ExplainMember, CountCriteria, Overlap and WatchChanges (mixed into SegmentService)."""

    def Explain(self: _Service, request: pb.ExplainRequest,
                context: grpc.ServicerContext) -> pb.ExplainResponse:
        index = self._index(request.index, context)
        as_of = index.as_of(optional_day(request.as_of))
        steps = index.explain(self._selection(index, request), as_of=as_of, analyze=request.analyze)
        return pb.ExplainResponse(as_of=as_of.isoformat(), analyzed=request.analyze, steps=[
            pb.PlanStep(depth=s.depth, text=s.text, access=s.access, minus=s.minus, count=s.count or 0,
                        ms=s.ms or 0.0) for s in steps])

    def ExplainMember(self: _Service, request: pb.ExplainMemberRequest,
                      context: grpc.ServicerContext) -> pb.ExplainMemberResponse:
        index = self._index(request.index, context)
        if not request.customer_id:
            raise InvalidInputError("customer_id is empty")
        why = index.explain_member(request.customer_id, self._selection(index, request),
                                   as_of=optional_day(request.as_of))
        return pb.ExplainMemberResponse(is_member=why.is_member, steps=[
            pb.WhyStep(depth=s.depth, text=s.text, holds=s.holds, minus=s.minus, values=s.values,
                       lines=[_line(line) for line in s.lines]) for s in why.steps])

    def CountCriteria(self: _Service, request: pb.CountCriteriaRequest,
                      context: grpc.ServicerContext) -> pb.CountCriteriaResponse:
        index = self._index(request.index, context)
        found = index.count_criteria(self._selection(index, request), as_of=optional_day(request.as_of))
        return pb.CountCriteriaResponse(combinator=found.combinator, total=found.total, criteria=[
            pb.CriterionCount(text=c.text, count=c.count, running=c.running, without=c.without)
            for c in found.criteria])

    def Overlap(self: _Service, request: pb.OverlapRequest,
                context: grpc.ServicerContext) -> pb.OverlapResponse:
        if len(request.selections) > MAX_OVERLAP:  # refused before any selection is read
            raise InvalidInputError(f"overlap takes 2 to {MAX_OVERLAP} selections, not {len(request.selections)}")
        index = self._index(request.index, context)
        selections = [self._selection(index, s, "kind") for s in request.selections]
        found = index.overlap(selections, as_of=optional_day(request.as_of))
        return pb.OverlapResponse(sizes=found.sizes, matrix=found.matrix)

    def WatchChanges(self: _Service, request: pb.WatchChangesRequest,
                     context: grpc.ServicerContext) -> Iterator[pb.ChangeDay]:
        if not 0 <= request.chunk_size <= MAX_CHUNK:
            raise InvalidInputError(f"chunk_size {request.chunk_size} is out of range: 0 (the default, "
                                    f"{DEFAULT_CHUNK:,}) to {MAX_CHUNK:,}")
        index = self._index(request.index, context)
        segment = check_name(request.segment, "segment")
        last: dt.date | None = optional_day(request.since, "since")
        size = request.chunk_size or DEFAULT_CHUNK
        while context.is_active():
            for changed in index.changes_by_day(segment, last):  # errors (kind, unknown) come before any message
                for message in _day_messages(changed, size):
                    if not context.is_active():
                        return
                    yield message
                last = changed.day
            index.wait_evaluation(last, WAIT_SECONDS, segment)
