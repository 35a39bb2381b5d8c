"""bitseg.Client: the server from Python — a snake_case method per RPC, plain values back, bitseg errors raised.

>>> import tempfile
>>> from bitseg.server.app import ServerConfig, start
>>> folder = tempfile.TemporaryDirectory()
>>> server = start(ServerConfig(port=0, data_dir=folder.name))
>>> with Client(f"127.0.0.1:{server.port}") as client:
...     _ = client.create_index("shop", '[profile]\\nvip = "bool"')
...     client.upsert_profiles("shop", [{"customer": "a", "vip": True}, {"customer": "b"}]).accepted
...     client.count("shop", "vip = true"), list(client.members("shop", "ALL"))
2
(1, ['a', 'b'])
>>> server.stop(grace=0)
>>> folder.cleanup()
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Self

import grpc

from bitseg.client_insight import InsightCalls, _day
from bitseg.csvrecords import CHUNK_BYTES, CsvSource, cell_text, content_sha256
from bitseg.errors import ServerError, UnavailableError
from bitseg.names import SegmentKind
from bitseg.query.expressions import Node
from bitseg.query.printer import to_text
from bitseg.replies import (
    Changes,
    CountResult,
    HistoryDay,
    IndexInfo,
    IngestSummary,
    SavedSegment,
    ServerInfo,
    Snapshot,
    Stats,
)
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc
from bitseg.wire import group_of, index_info_of, segment_of, snapshot_of, status_error, summary_of, with_port

Query = str | Node               # segment query text (SPEC §2) or a bitseg.query tree
Day = dt.date | str | None       # a day, "YYYY-MM-DD", or None for today in the index timezone
DEFAULT_ADDRESS = "127.0.0.1:50051"
MAX_MESSAGE = 64 * 1024 * 1024   # the server's limit: a member chunk of 1M ids fits
ROWS_PER_BATCH = 10_000          # rows per ingest message: the server holds the index lock for one message
# A member stream that drops with these resumes after the last id received (INTERNAL: a reset connection).
RESUMABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL)
KINDS = {SegmentKind.STANDARD: pb.STANDARD, SegmentKind.TRIGGER: pb.TRIGGER, SegmentKind.HOT: pb.HOT}


def _text(query: Query) -> str:
    return query if isinstance(query, str) else to_text(query)


def _selection(query: Query | None, segment: str | None) -> dict[str, Any]:
    if query is not None and segment is not None:
        raise ValueError("give a query or a segment, not both")
    if segment is not None:
        return {"segment": segment}
    return {} if query is None else {"query": _text(query)}


class Client(InsightCalls):
    """A channel to a bitseg server with the token and the deadline every call carries.

    Args:
        address: HOST:PORT of the server (HOST alone means port 50051).
        token: the server's bearer token, if it has one.
        tls: None for plain text; True for TLS checked against the system's roots; a CA certificate as PEM bytes
            or as the path of a PEM file; or grpc.ChannelCredentials.
        timeout: seconds per unary call (None: no deadline). Streams and imports have no deadline.
        tls_server_name: the name in the server's certificate, when it differs from the address's host.
        retries: how many times `members` resumes a dropped stream.
    """

    def __init__(self, address: str = DEFAULT_ADDRESS, token: str | None = None,
                 tls: bool | bytes | str | os.PathLike[str] | grpc.ChannelCredentials | None = None, *,
                 timeout: float | None = 60.0, tls_server_name: str | None = None, retries: int = 5) -> None:
        options: list[tuple[str, int | str]] = [("grpc.max_receive_message_length", MAX_MESSAGE),
                                                ("grpc.max_send_message_length", MAX_MESSAGE)]
        address = with_port(address)
        if not tls:  # None, False, or an empty CA path from an empty environment variable
            self._channel = grpc.insecure_channel(address, options)
        else:
            if isinstance(tls, grpc.ChannelCredentials):
                credentials = tls
            elif tls is True:
                credentials = grpc.ssl_channel_credentials()
            else:
                pem = tls if isinstance(tls, bytes) else Path(tls).read_bytes()
                credentials = grpc.ssl_channel_credentials(pem)
            if tls_server_name:
                options.append(("grpc.ssl_target_name_override", tls_server_name))
            self._channel = grpc.secure_channel(address, credentials, options)
        self._stub = pb_grpc.SegmentServiceStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self.address = address
        self.timeout = timeout
        self.retries = retries

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, request: Any, *, query: str | None = None, deadline: bool = True) -> Any:
        try:
            return getattr(self._stub, method)(request, metadata=self._metadata,
                                               timeout=self.timeout if deadline else None)
        except grpc.RpcError as err:
            raise status_error(err, query) from err

    # ── health ───────────────────────────────────────────────────────────────────────────────────────

    def health(self, service: str = "") -> str:
        """The server's health status name ('SERVING', 'NOT_SERVING', …) from the standard health service."""
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        try:
            response = health_pb2_grpc.HealthStub(self._channel).Check(
                health_pb2.HealthCheckRequest(service=service), metadata=self._metadata, timeout=self.timeout)
        except grpc.RpcError as err:
            raise status_error(err) from err
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))

    def ping(self) -> bool:
        """True when the server answers and is SERVING; False when it cannot be reached or is not serving."""
        try:
            return self.health() == "SERVING"
        except (UnavailableError, ServerError):
            return False

    # ── indexes ──────────────────────────────────────────────────────────────────────────────────────

    def create_index(self, index: str, schema_toml: str) -> IndexInfo:
        """Create an empty index from a schema in TOML (SPEC §1). AlreadyExistsError when the name is taken."""
        return index_info_of(self._call("CreateIndex", pb.CreateIndexRequest(index=index,
                                                                           schema_toml=schema_toml)).info)

    def drop_index(self, index: str) -> None:
        """Drop an index and everything in it. NotFoundError when there is none."""
        self._call("DropIndex", pb.DropIndexRequest(index=index))

    def list_indexes(self) -> list[IndexInfo]:
        """Every index with its sizes, sorted by name."""
        return [index_info_of(i) for i in self._call("ListIndexes", pb.ListIndexesRequest()).indexes]

    def get_index(self, index: str) -> IndexInfo:
        """One index: schema, sizes, and the names of its segments and lists."""
        return index_info_of(self._call("GetIndex", pb.GetIndexRequest(index=index)).info)

    # ── ingest ───────────────────────────────────────────────────────────────────────────────────────

    def upsert_profiles(self, index: str, rows: Iterable[Mapping[str, object]],
                        batch_rows: int = ROWS_PER_BATCH) -> IngestSummary:
        """Profile rows (each with `customer`); a row sets the fields it names, None clears one."""
        return self._ingest("UpsertProfiles", pb.ProfileBatch, index, rows, batch_rows)

    def add_purchases(self, index: str, lines: Iterable[Mapping[str, object]],
                      batch_rows: int = ROWS_PER_BATCH) -> IngestSummary:
        """Purchase lines: `customer`, `time`, `amount`, optional `quantity`, `order`, `line`, dimensions."""
        return self._ingest("AddPurchases", pb.PurchaseBatch, index, lines, batch_rows)

    def _ingest(self, method: str, batch_type: Any, index: str, rows: Iterable[Mapping[str, object]],
                batch_rows: int) -> IngestSummary:
        def batches() -> Iterator[Any]:
            batch = []
            first = True
            for row in rows:
                batch.append(pb.Row(cells={k: cell_text(v) for k, v in row.items()}))
                if len(batch) >= batch_rows:
                    yield batch_type(index=index if first else "", rows=batch)
                    batch, first = [], False
            if batch or first:  # the first message names the index, even when there are no rows
                yield batch_type(index=index if first else "", rows=batch)

        return summary_of(self._call(method, batches(), deadline=False).summary)

    def import_csv(self, index: str, path: str | os.PathLike[str], kind: Literal["profiles", "purchases"], *,
                   chunk_bytes: int = CHUNK_BYTES, progress: Callable[[int, int, int], None] | None = None,
                   force: bool = False) -> IngestSummary:
        """Stream a CSV (or gzipped CSV) file to the server in chunks of whole records; the server parses them.

        The first message carries the SHA-256 of the file's content: an index that already imported the same
        content refuses it (AlreadyExistsError naming the day) unless `force`, so a retried load is not doubled.

        `progress(bytes_read, total_bytes, lines_sent)` is called after each chunk. Rejected rows carry their
        line number in the file. InvalidInputError without `code` for a file that cannot be read as CSV (also
        midway: the stream is cancelled, what went in stays, no digest is recorded); an error of `progress` too."""
        if kind not in ("profiles", "purchases"):
            raise ValueError(f"kind must be 'profiles' or 'purchases', not {kind!r}")
        batch_type = pb.ProfileBatch if kind == "profiles" else pb.PurchaseBatch
        digest = content_sha256(path)
        source = CsvSource(os.fspath(path), chunk_bytes)

        failed: list[Exception] = []  # what stopped the stream here (grpc says "Exception iterating requests!")

        def batches() -> Iterator[Any]:
            first = True
            try:
                for data, line in source.chunks():
                    whole: dict[str, Any] = {"file_sha256": digest, "file_name": Path(path).name, "force": force} if first else {}
                    yield batch_type(index=index if first else "",
                                     csv=pb.CsvChunk(header=source.header, data=data, first_line=line), **whole)
                    first = False
                    if progress is not None:
                        progress(source.bytes_read, source.total_bytes, source.line - 2)
            except Exception as err:
                failed.append(err)
                raise

        with source:
            try:
                response = self._call("UpsertProfiles" if kind == "profiles" else "AddPurchases", batches(),
                                      deadline=False)
            except ServerError as err:
                raise failed[0] if failed else err
        return summary_of(response.summary)

    def delete_customers(self, index: str, customer_ids: Iterable[str]) -> int:
        """Erase customers (privacy); the number that existed."""
        return int(self._call("DeleteCustomers", pb.DeleteCustomersRequest(
            index=index, customer_ids=list(customer_ids))).deleted)

    # ── counting and membership ──────────────────────────────────────────────────────────────────────

    def count(self, index: str, query: Query | None = None, *, segment: str | None = None,
              as_of: Day = None) -> int:
        """The number of customers matching a query (text or tree) or a saved segment; see count_with_warnings."""
        return self._counted(index, _selection(query, segment), as_of).count

    def count_batch(self, index: str, queries: Sequence[Query], *, as_of: Day = None) -> list[CountResult]:
        """Many counts against one state of the index; a failing query gets its error in its own result."""
        request = pb.CountBatchRequest(index=index, as_of=_day(as_of),
                                       queries=[pb.Selection(query=_text(q)) for q in queries])
        results = []
        for r in self._call("CountBatch", request).results:
            located = r.HasField("query_error")  # a query error: where in the text
            results.append(CountResult(r.count, r.error, r.code, r.query_error.line if located else None,
                                       r.query_error.column if located else None, tuple(r.warnings)))
        return results

    def members(self, index: str, query: Query | None = None, *, segment: str | None = None, as_of: Day = None,
                after: str | None = None, limit: int = 0, chunk_size: int = 0) -> Iterator[str]:
        """The members' external ids in column order, streamed; a dropped stream resumes after the last id.

        Up to `retries` times (see Client) a stream that fails with UNAVAILABLE or INTERNAL after ids came is
        asked again from the cursor of the last chunk received, so each member comes exactly once, in order.
        """
        selection = _selection(query, segment)
        last, cursor, received, retried = after or "", "", 0, 0
        while True:
            request = pb.StreamMembersRequest(index=index, as_of=_day(as_of), chunk_size=chunk_size, after=last,
                                              cursor=cursor, limit=limit - received if limit else 0, **selection)
            stream = self._stub.StreamMembers(request, metadata=self._metadata)
            progressed = False
            try:
                for chunk in stream:
                    ids = chunk.customer_ids
                    if ids:
                        yield from ids
                        last, cursor, received, progressed = ids[-1], chunk.cursor, received + len(ids), True
                return
            except grpc.RpcError as err:
                code = err.code()
                # Only a stream under way resumes: a server that cannot be reached at all is an error at once.
                resumable = code in RESUMABLE and (progressed or (code is grpc.StatusCode.UNAVAILABLE and received))
                if not resumable or retried >= self.retries or (limit and received >= limit):
                    raise status_error(err, selection.get("query")) from err
                retried += 1
                time.sleep(min(0.05 * 2 ** retried, 2.0))
            finally:
                stream.cancel()  # a consumer that stops early must not leave the call open

    def check_membership(self, index: str, customer_id: str, segments: Sequence[str], *,
                         as_of: Day = None) -> dict[str, bool]:
        """For one customer, whether it is in each named segment (an unknown customer is in none)."""
        response = self._call("CheckMembership", pb.CheckMembershipRequest(
            index=index, customer_id=customer_id, segments=list(segments), as_of=_day(as_of)))
        return dict(zip(segments, response.is_member))

    def customer_segments(self, index: str, customer_id: str, *, as_of: Day = None) -> list[str]:
        """The names of every saved segment one customer is in."""
        return list(self._call("CustomerSegments", pb.CustomerSegmentsRequest(
            index=index, customer_id=customer_id, as_of=_day(as_of))).segments)

    # ── saved segments, lists, tierings ──────────────────────────────────────────────────────────────

    def save_segment(self, index: str, name: str, query: Query, *, kind: str | SegmentKind = SegmentKind.STANDARD,
                     description: str = "", backfill_days: int = 0) -> SavedSegment:
        """Create or replace a saved segment; kind 'standard', 'trigger' or 'hot' (a hot one with `backfill_days`:
        its history of the days before today too, as of each day, marked backfilled; no deadline then)."""
        text = _text(query)
        return segment_of(self._call("SaveSegment", pb.SaveSegmentRequest(
            index=index, name=name, query=text, kind=KINDS[SegmentKind.of(kind)], description=description,
            backfill_days=backfill_days), query=text, deadline=not backfill_days).segment)

    def get_segment(self, index: str, name: str) -> SavedSegment:
        """One saved segment, with its canonical query text."""
        return segment_of(self._call("GetSegment", pb.GetSegmentRequest(index=index, name=name)).segment)

    def list_segments(self, index: str) -> list[SavedSegment]:
        """Every saved segment of an index, sorted by name."""
        return [segment_of(s) for s in self._call("ListSegments", pb.ListSegmentsRequest(index=index)).segments]

    def delete_segment(self, index: str, name: str) -> None:
        """Delete a saved segment; InvalidInputError while another segment refers to it."""
        self._call("DeleteSegment", pb.DeleteSegmentRequest(index=index, name=name))

    def update_list(self, index: str, name: str, *, add: Iterable[str] = (), remove: Iterable[str] = (),
                    replace: Iterable[str] | None = None) -> int:
        """Change a static list (created when absent): first `replace` it when given, then add, then remove."""
        request = pb.UpdateListRequest(index=index, name=name, add=list(add), remove=list(remove))
        if replace is not None:
            request.replace = True
            request.replace_with.extend(replace)
        return int(self._call("UpdateList", request).size)

    def get_list(self, index: str, name: str) -> list[str]:
        """The members of a static list."""
        return list(self._call("GetList", pb.GetListRequest(index=index, name=name)).customer_ids)

    def save_tiering(self, index: str, name: str, tiers: Mapping[str, Query] | Sequence[tuple[str, Query]],
                     default: str) -> None:
        """Create or replace a tiering: (tier, query) pairs in priority order, and the tier of the rest."""
        pairs = list(tiers.items()) if isinstance(tiers, Mapping) else list(tiers)
        self._call("SaveTiering", pb.SaveTieringRequest(
            index=index, name=name, default_tier=default,
            tiers=[pb.Tier(name=tier, selection=pb.Selection(query=_text(q))) for tier, q in pairs]))

    def count_tiers(self, index: str, name: str, *, as_of: Day = None) -> dict[str, int]:
        """Customers per tier, in priority order then the default tier; they add up to the index size."""
        response = self._call("CountTiers", pb.CountTiersRequest(index=index, name=name, as_of=_day(as_of)))
        return {t.tier: t.count for t in response.tiers}

    # ── statistics ───────────────────────────────────────────────────────────────────────────────────

    def stats(self, index: str, query: Query | None = None, *, segment: str | None = None,
              as_of: Day = None) -> Stats:
        """KPIs of the members and of the rest of the customers (SPEC §4)."""
        selection = _selection(query, segment)
        r = self._call("GetStats", pb.GetStatsRequest(index=index, as_of=_day(as_of), **selection),
                       query=selection.get("query"))
        return Stats(r.count, group_of(r.members), group_of(r.rest))

    def buyers_per_day(self, index: str, start: Day, end: Day, query: Query | None = None, *,
                       segment: str | None = None, as_of: Day = None) -> dict[dt.date, int]:
        """Per day in [start, end], the customers (of the selection, or all) with a purchase that day."""
        selection = _selection(query, segment)
        r = self._call("BuyersPerDay", pb.BuyersPerDayRequest(index=index, as_of=_day(as_of), start=_day(start),
                                                              end=_day(end), **selection),
                       query=selection.get("query"))
        return {dt.date.fromisoformat(d.day): d.count for d in r.days}

    # ── history and persistence ──────────────────────────────────────────────────────────────────────

    def history(self, index: str, segment: str, *, start: Day = None, end: Day = None) -> list[HistoryDay]:
        """The daily size, entered and left counts of a hot segment, one row per evaluated day."""
        r = self._call("GetHistory", pb.GetHistoryRequest(index=index, segment=segment, start=_day(start),
                                                          end=_day(end)))
        return [HistoryDay(dt.date.fromisoformat(h.day), h.size, h.entered, h.left, h.backfilled) for h in r.rows]

    def changes(self, index: str, segment: str, since: Day, *, chunk_size: int = 0) -> Iterator[Changes]:
        """Who entered and left a trigger segment since a snapshot day, streamed in chunks."""
        request = pb.StreamChangesRequest(index=index, segment=segment, since=_day(since), chunk_size=chunk_size)
        stream = self._stub.StreamChanges(request, metadata=self._metadata)
        try:
            for chunk in stream:
                yield Changes(tuple(chunk.entered), tuple(chunk.left))
        except grpc.RpcError as err:
            raise status_error(err) from err
        finally:
            stream.cancel()

    def create_snapshot(self) -> Snapshot:
        """Write a snapshot of every index now (no deadline: a large server takes seconds)."""
        return snapshot_of(self._call("CreateSnapshot", pb.CreateSnapshotRequest(), deadline=False).snapshot)

    def server_info(self) -> ServerInfo:
        """Version, uptime, indexes with their sizes, the log, the last snapshot and the slowest recent calls."""
        from bitseg.wire import server_info_of

        return server_info_of(self._call("GetServerInfo", pb.GetServerInfoRequest()))

    def list_snapshots(self) -> list[Snapshot]:
        """The snapshots kept on the server's disk, newest first."""
        return [snapshot_of(s) for s in self._call("ListSnapshots", pb.ListSnapshotsRequest()).snapshots]
