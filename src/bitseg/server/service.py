"""The SegmentService servicer: each RPC converts its request, makes one core call and converts the result.

The servicer keeps no state of its own: the indexes live in the Catalog it is given (a Store's catalog journals
every change to the write-ahead log before the call returns). Snapshots need the Store; without one they answer
UNIMPLEMENTED. Concurrency is the core's: every Index method holds the index lock, so a reader never sees half a
batch, and no servicer code takes a lock. Errors are raised as bitseg errors and turned into status codes by the
one table in `server.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc

from bitseg import Catalog, Index
from bitseg.days import optional_day, parse_day
from bitseg.errors import InvalidInputError, NotFoundError
from bitseg.index.imports import check_digest, refuse_reimport
from bitseg.names import SegmentKind, check_name
from bitseg.persistence import SnapshotInfo, Store
from bitseg.query.expressions import InSegment, Node
from bitseg.server.batches import Columns, Rows, read_batch
from bitseg.server.convert import check_query_text, expr_to_node, node_to_expr
from bitseg.server.errors import DeadlineExceeded, query_detail, status_of
from bitseg.server.inflight import InFlight
from bitseg.server.insight import InsightRpcs
from bitseg.server.lookup import LookupRpcs, add_sizes, sizes_of
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc
from bitseg.vocabulary import BUILTIN_FIELDS

DEFAULT_CHUNK = 10_000
MAX_CHUNK = 1_000_000
MAX_REPORTED_REJECTS = 1_000
MAX_DAY_RANGE = 3660   # BuyersPerDay: ten years of days

KINDS = {pb.SEGMENT_KIND_UNSPECIFIED: SegmentKind.STANDARD, pb.STANDARD: SegmentKind.STANDARD,
         pb.TRIGGER: SegmentKind.TRIGGER, pb.HOT: SegmentKind.HOT}
KIND_VALUES = {kind: value for value, kind in KINDS.items() if value != pb.SEGMENT_KIND_UNSPECIFIED}
PERSISTENCE_MISSING = ("this server runs without a data directory (an in-memory catalog): snapshots need a server "
                       "started with --data-dir")
Selection = str | Node


class SegmentService(InsightRpcs, LookupRpcs, pb_grpc.SegmentServiceServicer):
    def __init__(self, catalog: Catalog, store: Store | None = None) -> None:
        self.catalog = catalog
        self.store = store  # for snapshots only
        self.inflight = InFlight()  # bytes of ingest messages being converted at once
        self.server_info: Callable[[], pb.GetServerInfoResponse] | None = None  # set by server.app

    # ── helpers ──────────────────────────────────────────────────────────────────────────────────────

    @staticmethod
    def _in_time(context: grpc.ServicerContext) -> None:
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded("the call's deadline passed before it could start")

    def _index(self, name: str, context: grpc.ServicerContext) -> Index:
        check_name(name, "index")
        self._in_time(context)
        return self.catalog.get(name)

    def _store(self, context: grpc.ServicerContext) -> Store:
        if self.store is None:
            raise NotImplementedError(PERSISTENCE_MISSING)
        self._in_time(context)
        return self.store

    @staticmethod
    def _snapshot(info: SnapshotInfo) -> pb.Snapshot:
        return pb.Snapshot(id=info.id, created=info.created, bytes=info.bytes, indexes=list(info.indexes))

    @classmethod
    def _selection(cls, index: Index, request: Any, oneof: str = "selection") -> Selection:
        selection = cls._optional_selection(index, request, oneof)
        if selection is None:
            raise InvalidInputError("no selection: set query, expr or segment")
        return selection

    @staticmethod
    def _optional_selection(index: Index, request: Any, oneof: str = "selection") -> Selection | None:
        kind = request.WhichOneof(oneof)
        if kind == "query":
            return check_query_text(request.query, index.limits)
        if kind == "expr":
            return expr_to_node(request.expr, index.limits)
        if kind == "segment":
            index.get_segment(check_name(request.segment, "segment"))  # NOT_FOUND, not a query error
            return InSegment(request.segment)
        return None

    @staticmethod
    def _segment(segment: Any) -> pb.Segment:
        return pb.Segment(name=segment.name, query=segment.query, expr=node_to_expr(segment.tree),
                          kind=KIND_VALUES.get(segment.kind, pb.STANDARD), description=segment.description)

    @staticmethod
    def _info(name: str, index: Index, detail: bool) -> pb.IndexInfo:
        schema = index.schema
        fields = [pb.FieldInfo(name=n, type=t.value) for n, t in schema.profile.items()]
        fields += [pb.FieldInfo(name=n, type=t.value, builtin=True) for n, t in BUILTIN_FIELDS.items()]
        info = pb.IndexInfo(name=name, schema_toml=schema.to_toml(), timezone=schema.timezone, fields=fields,
                            dimensions=schema.dimensions)
        add_sizes(info, index, shards=detail)
        if detail:
            info.segments.extend(s.name for s in index.list_segments())
            info.lists.extend(index.list_names())
        return info

    # ── index lifecycle ──────────────────────────────────────────────────────────────────────────────

    def CreateIndex(self, request: pb.CreateIndexRequest, context: grpc.ServicerContext) -> pb.CreateIndexResponse:
        name = check_name(request.index, "index")
        index = self.catalog.create_index(name, request.schema_toml)
        return pb.CreateIndexResponse(info=self._info(name, index, detail=True))

    def DropIndex(self, request: pb.DropIndexRequest, context: grpc.ServicerContext) -> pb.DropIndexResponse:
        self.catalog.drop_index(check_name(request.index, "index"))
        return pb.DropIndexResponse()

    def ListIndexes(self, request: pb.ListIndexesRequest, context: grpc.ServicerContext) -> pb.ListIndexesResponse:
        infos = []
        for name in self.catalog.names():
            try:
                infos.append(self._info(name, self.catalog.get(name), detail=False))
            except NotFoundError:
                continue  # dropped while we were listing
        return pb.ListIndexesResponse(indexes=infos)

    def GetIndex(self, request: pb.GetIndexRequest, context: grpc.ServicerContext) -> pb.GetIndexResponse:
        return pb.GetIndexResponse(info=self._info(request.index, self._index(request.index, context), detail=True))

    # ── ingest ───────────────────────────────────────────────────────────────────────────────────────

    def UpsertProfiles(self, request_iterator: Iterator[pb.ProfileBatch],
                       context: grpc.ServicerContext) -> pb.UpsertProfilesResponse:
        summary = self._ingest(request_iterator, context, "upsert_profiles", "upsert_profile_columns")
        return pb.UpsertProfilesResponse(summary=summary)

    def AddPurchases(self, request_iterator: Iterator[pb.PurchaseBatch],
                     context: grpc.ServicerContext) -> pb.AddPurchasesResponse:
        summary = self._ingest(request_iterator, context, "add_purchases", "add_purchase_columns")
        return pb.AddPurchasesResponse(summary=summary)

    def _ingest(self, batches: Iterator[Any], context: grpc.ServicerContext, rows_method: str,
                columns_method: str) -> pb.IngestSummary:
        summary = pb.IngestSummary()
        index: Index | None = None
        digest, first = "", None
        next_number = 1
        for message in batches:
            if index is None:
                first = message
                if not message.index:
                    raise InvalidInputError("the first batch of a stream must name the index")
                index = self._index(message.index, context)
                if message.file_sha256:
                    digest = check_digest(message.file_sha256)
                    if not message.force:
                        refuse_reimport(index.imported(digest), index.name)
            elif message.index and message.index != index.name:
                raise InvalidInputError(f"batch {summary.batches + 1} names index {message.index!r}, "
                                        f"the stream started with {index.name!r}")
            with self.inflight.hold(message.ByteSize()):
                batch = read_batch(message, next_number)  # CSV is parsed here, outside the index lock
                next_number += len(message.rows)
                rejected = list(batch.rejected)
                for part in batch.parts:
                    method = getattr(index, columns_method if isinstance(part, Columns) else rows_method)
                    summary.rows_duplicate += _apply(method, part, rejected)
                received = batch.received
                del batch  # the converted columns go before the budget is given back
            summary.batches += 1
            summary.rows_received += received
            summary.rows_rejected += len(rejected)
            room = MAX_REPORTED_REJECTS - len(summary.rejected)
            for number, reason in sorted(rejected)[:max(room, 0)]:
                summary.rejected.add(row_number=number, message=reason)
        summary.rows_accepted = summary.rows_received - summary.rows_rejected - summary.rows_duplicate
        if index is not None and digest:  # only a whole file: a stream cut short may be sent again
            index.remember_import(digest, "profiles" if rows_method == "upsert_profiles" else "purchases",
                                  first.file_name if first is not None else "", index.today().isoformat())
        if index is not None:
            summary.customer_count, summary.line_count, _ = sizes_of(index)
        return summary

    def DeleteCustomers(self, request: pb.DeleteCustomersRequest,
                        context: grpc.ServicerContext) -> pb.DeleteCustomersResponse:
        index = self._index(request.index, context)
        return pb.DeleteCustomersResponse(deleted=index.delete_customers(list(request.customer_ids)))

    # ── counting and membership ──────────────────────────────────────────────────────────────────────

    def Count(self, request: pb.CountRequest, context: grpc.ServicerContext) -> pb.CountResponse:
        index = self._index(request.index, context)
        count, warnings = index.count_with_warnings(self._selection(index, request), optional_day(request.as_of))
        return pb.CountResponse(count=count, warnings=warnings)

    def CountBatch(self, request: pb.CountBatchRequest, context: grpc.ServicerContext) -> pb.CountBatchResponse:
        index = self._index(request.index, context)
        selections: list[Selection | Exception] = []
        for selection in request.queries:
            try:
                selections.append(self._selection(index, selection, "kind"))
            except Exception as err:  # noqa: BLE001 - each result carries its own status
                selections.append(err)
        counts = index.count_batch(selections, as_of=optional_day(request.as_of))  # one state for every count
        return pb.CountBatchResponse(results=[_count_result(c) for c in counts])

    def StreamMembers(self, request: pb.StreamMembersRequest,
                      context: grpc.ServicerContext) -> Iterator[pb.MemberChunk]:
        if not 0 <= request.chunk_size <= MAX_CHUNK:
            raise InvalidInputError(f"chunk_size {request.chunk_size} is out of range: 0 (the default, "
                                    f"{DEFAULT_CHUNK:,}) to {MAX_CHUNK:,}")
        if request.limit < 0:
            raise InvalidInputError(f"limit {request.limit} is negative; 0 means no limit")
        index = self._index(request.index, context)
        # Ids looked up under the core's lock, then sliced: one state; a slow reader never holds up writes.
        pages = index.member_pages(self._selection(index, request), as_of=optional_day(request.as_of),
                                   after=request.after or None, limit=request.limit or None,
                                   chunk_size=request.chunk_size or DEFAULT_CHUNK, cursor=request.cursor or None)
        for chunk, cursor in pages:
            if not context.is_active():
                return
            yield pb.MemberChunk(customer_ids=chunk, cursor=cursor)

    def CheckMembership(self, request: pb.CheckMembershipRequest,
                        context: grpc.ServicerContext) -> pb.CheckMembershipResponse:
        segments = [check_name(s, "segment") for s in request.segments]
        index = self._index(request.index, context)
        return pb.CheckMembershipResponse(is_member=index.check_membership(
            request.customer_id, segments, as_of=optional_day(request.as_of)))

    def CustomerSegments(self, request: pb.CustomerSegmentsRequest,
                         context: grpc.ServicerContext) -> pb.CustomerSegmentsResponse:
        index = self._index(request.index, context)
        return pb.CustomerSegmentsResponse(segments=index.customer_segments(
            request.customer_id, as_of=optional_day(request.as_of)))

    # ── saved segments ───────────────────────────────────────────────────────────────────────────────

    def SaveSegment(self, request: pb.SaveSegmentRequest, context: grpc.ServicerContext) -> pb.SaveSegmentResponse:
        name = check_name(request.name, "segment")
        if request.kind not in KINDS:
            raise InvalidInputError(f"unknown segment kind {request.kind}")
        index = self._index(request.index, context)
        definition = request.WhichOneof("definition")
        if definition == "query":
            query: Selection = check_query_text(request.query, index.limits)
        elif definition == "expr":
            query = expr_to_node(request.expr, index.limits)
        else:
            raise InvalidInputError("a segment needs a definition: set query or expr")
        segment = index.save_segment(name, query, kind=KINDS[request.kind], description=request.description,
                                     backfill_days=request.backfill_days)
        return pb.SaveSegmentResponse(segment=self._segment(segment))

    def GetSegment(self, request: pb.GetSegmentRequest, context: grpc.ServicerContext) -> pb.GetSegmentResponse:
        name = check_name(request.name, "segment")
        index = self._index(request.index, context)
        return pb.GetSegmentResponse(segment=self._segment(index.get_segment(name)))

    def ListSegments(self, request: pb.ListSegmentsRequest,
                     context: grpc.ServicerContext) -> pb.ListSegmentsResponse:
        index = self._index(request.index, context)
        return pb.ListSegmentsResponse(segments=[self._segment(s) for s in index.list_segments()])

    def DeleteSegment(self, request: pb.DeleteSegmentRequest,
                      context: grpc.ServicerContext) -> pb.DeleteSegmentResponse:
        name = check_name(request.name, "segment")
        self._index(request.index, context).delete_segment(name)
        return pb.DeleteSegmentResponse()

    # ── static lists ─────────────────────────────────────────────────────────────────────────────────

    def UpdateList(self, request: pb.UpdateListRequest, context: grpc.ServicerContext) -> pb.UpdateListResponse:
        name = check_name(request.name, "list")
        index = self._index(request.index, context)
        size = index.update_list(name, add=list(request.add), remove=list(request.remove),
                                 replace=list(request.replace_with) if request.replace else None)
        return pb.UpdateListResponse(size=size)

    def GetList(self, request: pb.GetListRequest, context: grpc.ServicerContext) -> pb.GetListResponse:
        name = check_name(request.name, "list")
        members = self._index(request.index, context).get_list(name)
        return pb.GetListResponse(customer_ids=members, size=len(members))

    # ── tierings ─────────────────────────────────────────────────────────────────────────────────────

    def SaveTiering(self, request: pb.SaveTieringRequest, context: grpc.ServicerContext) -> pb.SaveTieringResponse:
        name = check_name(request.name, "tiering")
        index = self._index(request.index, context)
        tiers = [(tier.name, self._selection(index, tier.selection, "kind")) for tier in request.tiers]
        index.save_tiering(name, tiers, default=request.default_tier)
        return pb.SaveTieringResponse()

    def CountTiers(self, request: pb.CountTiersRequest, context: grpc.ServicerContext) -> pb.CountTiersResponse:
        name = check_name(request.name, "tiering")
        counts = self._index(request.index, context).count_tiers(name, as_of=optional_day(request.as_of))
        return pb.CountTiersResponse(tiers=[pb.TierCount(tier=t, count=c) for t, c in counts])

    # ── statistics ───────────────────────────────────────────────────────────────────────────────────

    def GetStats(self, request: pb.GetStatsRequest, context: grpc.ServicerContext) -> pb.GetStatsResponse:
        index = self._index(request.index, context)
        stats = index.stats(self._selection(index, request), as_of=optional_day(request.as_of))
        return pb.GetStatsResponse(count=stats.count, members=_group(stats.members), rest=_group(stats.rest))

    def Breakdown(self, request: pb.BreakdownRequest, context: grpc.ServicerContext) -> pb.BreakdownResponse:
        if request.top < 0:
            raise InvalidInputError(f"top {request.top} is negative; 0 means the default of 10")
        index = self._index(request.index, context)
        selection, as_of, top, field = self._selection(index, request), request.as_of or None, request.top, request.field
        if field in index.schema.dimensions and field not in index.schema.profile:
            bought = index.purchase_breakdown(selection, field, top or 10, as_of, request.start, request.end)
            return pb.BreakdownResponse(values=[pb.ValueCount(value=v or "", count=c, revenue=str(r))
                                                for v, c, r in bought])
        if request.start or request.end:
            raise InvalidInputError(f"a date window (start, end) needs a purchase dimension; {field!r} is not one")
        rows = index.breakdown(selection, field, top=top or 10, as_of=as_of)
        return pb.BreakdownResponse(values=[pb.ValueCount(value=v or "", count=c) for v, c in rows])

    def BuyersPerDay(self, request: pb.BuyersPerDayRequest,
                     context: grpc.ServicerContext) -> pb.BuyersPerDayResponse:
        start, end = parse_day(request.start, "start"), parse_day(request.end, "end")
        index = self._index(request.index, context)
        rows = index.buyers_per_day(start, end, query=self._optional_selection(index, request),
                                    as_of=optional_day(request.as_of))
        return pb.BuyersPerDayResponse(days=[pb.DayCount(day=d.isoformat(), count=c) for d, c in rows])

    # ── history and changes (the index), snapshots (the Store) ───────────────────────────────────────

    def GetHistory(self, request: pb.GetHistoryRequest, context: grpc.ServicerContext) -> pb.GetHistoryResponse:
        check_name(request.index, "index")
        segment = check_name(request.segment, "segment")
        start, end = optional_day(request.start, "start"), optional_day(request.end, "end")
        rows = self._index(request.index, context).history(segment, start, end)
        return pb.GetHistoryResponse(rows=[pb.HistoryRow(day=r.day.isoformat(), size=r.size, entered=r.entered,
                                                         left=r.left, backfilled=r.backfilled) for r in rows])

    def StreamChanges(self, request: pb.StreamChangesRequest,
                      context: grpc.ServicerContext) -> Iterator[pb.ChangeChunk]:
        if not 0 <= request.chunk_size <= MAX_CHUNK:
            raise InvalidInputError(f"chunk_size {request.chunk_size} is out of range: 0 (the default, "
                                    f"{DEFAULT_CHUNK:,}) to {MAX_CHUNK:,}")
        check_name(request.index, "index")
        segment = check_name(request.segment, "segment")
        since = parse_day(request.since, "since")
        changed = self._index(request.index, context).changes(segment, since)
        # Entered ids first, then left ones; at most chunk_size ids in a message, counting both.
        size = request.chunk_size or DEFAULT_CHUNK
        entered, left = changed.entered, changed.left
        for at in range(0, len(entered) + len(left), size):
            if not context.is_active():
                return
            end = at + size
            yield pb.ChangeChunk(entered=entered[at:end],
                                 left=left[max(at - len(entered), 0):max(end - len(entered), 0)])

    def CreateSnapshot(self, request: pb.CreateSnapshotRequest,
                       context: grpc.ServicerContext) -> pb.CreateSnapshotResponse:
        return pb.CreateSnapshotResponse(snapshot=self._snapshot(self._store(context).snapshot()))

    def ListSnapshots(self, request: pb.ListSnapshotsRequest,
                      context: grpc.ServicerContext) -> pb.ListSnapshotsResponse:
        infos = self._store(context).list_snapshots()
        return pb.ListSnapshotsResponse(snapshots=[self._snapshot(i) for i in infos if i.problem is None])

    def GetServerInfo(self, request: pb.GetServerInfoRequest,
                      context: grpc.ServicerContext) -> pb.GetServerInfoResponse:
        if self.server_info is None:
            raise NotImplementedError("this servicer runs outside a bitseg server")
        return self.server_info()


def _apply(method: Callable[..., Any], part: Rows | Columns, rejected: list[tuple[int, str]]) -> int:
    """One core call for one part of a batch, bad rows set aside with their number; returns the duplicates."""
    rejects: list[tuple[int, str]] = []
    applied = method(part.columns if isinstance(part, Columns) else part.rows, rejects=rejects, first_row=0)
    for position, message in rejects:
        rejected.append((part.numbers[position], message))
    return len(part) - len(rejects) - applied


def _count_result(counted: tuple[int, list[str]] | Exception) -> pb.CountResult:
    if isinstance(counted, Exception):
        code, message = status_of(counted)
        return pb.CountResult(error=message, code=code.name, query_error=query_detail(counted))
    return pb.CountResult(count=counted[0], warnings=counted[1])


def _group(group: Any) -> pb.GroupStats:
    return pb.GroupStats(customers=group.customers, orders=group.orders, revenue=str(group.revenue),
                         average_order_value=str(group.average_order_value), average_clv=str(group.average_clv),
                         presence_share=dict(group.presence))
