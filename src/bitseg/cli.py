"""The `bitseg` command: run the server, import CSV through it, ask it questions, generate test data.

Exit codes, for scripts:
    0  done
    1  bad input: a query or value the server refused, or an import with rejected rows
    2  usage: unknown verb or option (argparse)
    3  not found: unknown index, segment, list, tiering or customer
    4  anything else: server unavailable, wrong token, deadline, not implemented, internal error
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import grpc

from bitseg.names import SegmentKind

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_OTHER = 0, 1, 2, 3, 4
EXIT_CODES = {
    grpc.StatusCode.INVALID_ARGUMENT: EXIT_INPUT,
    grpc.StatusCode.ALREADY_EXISTS: EXIT_INPUT,
    grpc.StatusCode.FAILED_PRECONDITION: EXIT_INPUT,
    grpc.StatusCode.OUT_OF_RANGE: EXIT_INPUT,
    grpc.StatusCode.NOT_FOUND: EXIT_NOT_FOUND,
}
DEFAULT_SERVER = "127.0.0.1:50051"
MAX_MESSAGE = 64 * 1024 * 1024
CHUNK_BYTES = 256 << 10       # CSV bytes per import message: ~2,500 lines; the index lock is held for one message
MAX_RECORD_BYTES = 32 << 20    # one CSV record longer than this is not a record we can send


class UsageError(Exception):
    """A command line that cannot work (exit 2)."""


class InputError(Exception):
    """A local file or argument that is wrong (exit 1)."""


# ── the client ───────────────────────────────────────────────────────────────────────────────────────

class Client:
    """A channel to a bitseg server with the token and deadline every call needs."""

    def __init__(self, server: str, token: str | None = None, tls_ca: str | None = None,
                 timeout: float | None = 60.0, tls_server_name: str | None = None) -> None:
        from bitseg.v1 import segments_pb2_grpc

        options: list[tuple[str, int | str]] = [("grpc.max_receive_message_length", MAX_MESSAGE),
                   ("grpc.max_send_message_length", MAX_MESSAGE)]
        if tls_ca:
            credentials = grpc.ssl_channel_credentials(Path(tls_ca).read_bytes())
            if tls_server_name:
                options.append(("grpc.ssl_target_name_override", tls_server_name))
            self.channel = grpc.secure_channel(server, credentials, options)
        else:
            self.channel = grpc.insecure_channel(server, options)
        self.stub = segments_pb2_grpc.SegmentServiceStub(self.channel)
        self.metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self.timeout = timeout
        self.server = server

    def call(self, method: str, request: Any, timeout: float | None | bool = True) -> Any:
        """A unary or client-streaming call; `timeout=True` means the client's default deadline."""
        return getattr(self.stub, method)(request, metadata=self.metadata,
                                          timeout=self.timeout if timeout is True else timeout)

    def stream(self, method: str, request: Any) -> Iterator[Any]:
        return getattr(self.stub, method)(request, metadata=self.metadata)  # a stream may run for long


def _client(args: argparse.Namespace) -> Client:
    return Client(args.server, args.token, args.tls_ca, args.timeout, args.tls_server_name)


# ── output ───────────────────────────────────────────────────────────────────────────────────────────

def _emit(args: argparse.Namespace, data: Any, text: Callable[[], str] | str | None = None) -> None:
    """Print `data` as JSON with --json, else the human form."""
    if args.json:
        print(json.dumps(data, indent=None if isinstance(data, int | str) else 2, default=str))
    else:
        shown = text() if callable(text) else text
        if shown is None:
            shown = str(data)
        if shown:
            print(shown)


def _table(rows: Sequence[Sequence[object]]) -> str:
    if not rows:
        return ""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in rows)


def _number(value: int) -> str:
    return f"{value:,}"


# ── selections ───────────────────────────────────────────────────────────────────────────────────────

def _add_selection(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("query", nargs="?", help="a segment query (SPEC §2); '-' reads it from stdin")
    parser.add_argument("--segment", help="a saved segment instead of a query")
    parser.add_argument("--as-of", default="", metavar="DAY", help="evaluation day YYYY-MM-DD (default today)")
    parser.set_defaults(selection_required=required)


def _selection(args: argparse.Namespace) -> dict[str, Any]:
    if args.query is not None and args.segment:
        raise UsageError("give a query or --segment, not both")
    if args.segment:
        return {"segment": args.segment}
    if args.query is None:
        if args.selection_required:
            raise UsageError("give a query (or '-' to read it from stdin) or --segment NAME")
        return {}
    return {"query": sys.stdin.read() if args.query == "-" else args.query}


# ── verbs: queries ───────────────────────────────────────────────────────────────────────────────────

def cmd_count(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    response = _client(args).call("Count", pb.CountRequest(index=args.index, as_of=args.as_of, **_selection(args)))
    _emit(args, {"count": response.count}, str(response.count))
    return EXIT_OK


def cmd_members(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    request = pb.StreamMembersRequest(index=args.index, as_of=args.as_of, chunk_size=args.chunk_size,
                                      after=args.after or "", limit=args.limit, **_selection(args))
    out = sys.stdout
    first = True
    if args.json:
        out.write("[")
    for chunk in _client(args).stream("StreamMembers", request):
        ids = chunk.customer_ids
        if not ids:
            continue
        if args.json:
            out.write(("" if first else ",") + ",".join(json.dumps(i) for i in ids))
        else:
            out.write("\n".join(ids) + "\n")
        first = False
    if args.json:
        out.write("]\n")
    out.flush()
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    r = _client(args).call("GetStats", pb.GetStatsRequest(index=args.index, as_of=args.as_of, **_selection(args)))

    def group(g: Any) -> dict[str, Any]:
        return {"customers": g.customers, "orders": g.orders, "revenue": g.revenue,
                "average_order_value": g.average_order_value, "average_clv": g.average_clv,
                "presence_share": dict(sorted(g.presence_share.items()))}

    data = {"count": r.count, "members": group(r.members), "rest": group(r.rest)}

    def text() -> str:
        rows: list[list[object]] = [["", "members", "rest"]]
        for key, label in (("customers", "customers"), ("orders", "orders"), ("revenue", "revenue"),
                           ("average_order_value", "avg order value"), ("average_clv", "avg clv")):
            m, o = data["members"][key], data["rest"][key]
            rows.append([label, _number(m) if isinstance(m, int) else m, _number(o) if isinstance(o, int) else o])
        for name in data["members"]["presence_share"]:
            rows.append([f"{name} set", f"{data['members']['presence_share'][name]:.1%}",
                         f"{data['rest']['presence_share'].get(name, 0.0):.1%}"])
        total = r.members.customers + r.rest.customers
        return f"{_number(r.count)} of {_number(total)} customers\n" + _table(rows)

    _emit(args, data, text)
    return EXIT_OK


def cmd_breakdown(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    r = _client(args).call("Breakdown", pb.BreakdownRequest(index=args.index, as_of=args.as_of, field=args.field,
                                                            top=args.top, **_selection(args)))
    values = [{"value": v.value or None, "count": v.count} for v in r.values]
    _emit(args, values, lambda: _table([[v["value"] or "(null)", _number(v["count"])] for v in values]))
    return EXIT_OK


def cmd_buyers(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    r = _client(args).call("BuyersPerDay", pb.BuyersPerDayRequest(index=args.index, as_of=args.as_of,
                                                                  start=args.start, end=args.end,
                                                                  **_selection(args)))
    days = [{"day": d.day, "count": d.count} for d in r.days]
    _emit(args, days, lambda: "\n".join(f"{d['day']}\t{d['count']}" for d in days))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    client = _client(args)
    if args.segments:
        r = client.call("CheckMembership", pb.CheckMembershipRequest(
            index=args.index, customer_id=args.customer, segments=args.segments, as_of=args.as_of))
        data = dict(zip(args.segments, r.is_member))
        _emit(args, data, lambda: "\n".join(f"{k}\t{str(v).lower()}" for k, v in data.items()))
    else:
        r = client.call("CustomerSegments", pb.CustomerSegmentsRequest(
            index=args.index, customer_id=args.customer, as_of=args.as_of))
        _emit(args, list(r.segments), "\n".join(r.segments))
    return EXIT_OK


# ── verbs: indexes, segments, lists, tiers ───────────────────────────────────────────────────────────

def _index_dict(info: Any) -> dict[str, Any]:
    return {"name": info.name, "customers": info.customer_count, "lines": info.line_count,
            "timezone": info.timezone, "fields": {f.name: f.type for f in info.fields},
            "dimensions": list(info.dimensions), "segments": list(info.segments), "lists": list(info.lists)}


def cmd_indexes(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    client = _client(args)
    if args.action == "list":
        infos = [_index_dict(i) for i in client.call("ListIndexes", pb.ListIndexesRequest()).indexes]
        _emit(args, infos, lambda: _table([["name", "customers", "lines"]] + [
            [i["name"], _number(i["customers"]), _number(i["lines"])] for i in infos]))
    elif args.action == "show":
        info = client.call("GetIndex", pb.GetIndexRequest(index=_need(args.name, "an index name"))).info
        _emit(args, {**_index_dict(info), "schema_toml": info.schema_toml}, lambda: "\n".join([
            f"index {info.name}: {_number(info.customer_count)} customers, {_number(info.line_count)} lines",
            f"segments: {', '.join(info.segments) or '-'}", f"lists: {', '.join(info.lists) or '-'}", "",
            info.schema_toml.rstrip()]))
    elif args.action == "create":
        if not args.schema:
            raise UsageError("indexes create needs --schema FILE")
        info = client.call("CreateIndex", pb.CreateIndexRequest(index=_need(args.name, "an index name"),
                                                                schema_toml=_read_text(args.schema))).info
        _emit(args, _index_dict(info), f"created index {info.name}")
    elif args.action == "drop":
        client.call("DropIndex", pb.DropIndexRequest(index=_need(args.name, "an index name")))
        _emit(args, {"dropped": args.name}, f"dropped index {args.name}")
    return EXIT_OK


KIND_NAMES = {0: "standard", 1: "standard", 2: "trigger", 3: "hot"}


def _segment_dict(segment: Any) -> dict[str, Any]:
    return {"name": segment.name, "query": segment.query, "kind": KIND_NAMES.get(segment.kind, "standard"),
            "description": segment.description}


def cmd_segments(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    client = _client(args)
    if args.action == "list":
        segments = [_segment_dict(s) for s in client.call("ListSegments",
                                                          pb.ListSegmentsRequest(index=args.index)).segments]
        _emit(args, segments, lambda: _table([[s["name"], s["kind"], s["query"]] for s in segments]))
    elif args.action == "get":
        s = _segment_dict(client.call("GetSegment", pb.GetSegmentRequest(
            index=args.index, name=_need(args.name, "a segment name"))).segment)
        _emit(args, s, lambda: "\n".join(f"{k}: {v}" for k, v in s.items()))
    elif args.action == "save":
        if args.query is None:
            raise UsageError("segments save NAME QUERY")
        kind = {"standard": pb.STANDARD, "trigger": pb.TRIGGER, "hot": pb.HOT}[args.kind]
        query = sys.stdin.read() if args.query == "-" else args.query
        s = _segment_dict(client.call("SaveSegment", pb.SaveSegmentRequest(
            index=args.index, name=_need(args.name, "a segment name"), query=query, kind=kind,
            description=args.description)).segment)
        _emit(args, s, f"saved segment {s['name']} ({s['kind']}): {s['query']}")
    elif args.action == "delete":
        client.call("DeleteSegment", pb.DeleteSegmentRequest(index=args.index, name=_need(args.name,
                                                                                          "a segment name")))
        _emit(args, {"deleted": args.name}, f"deleted segment {args.name}")
    return EXIT_OK


def _ids(args: argparse.Namespace) -> list[str]:
    ids = list(args.ids)
    if args.file:
        handle = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")  # noqa: SIM115
        with handle:
            ids += [line.strip() for line in handle if line.strip()]
    return ids


def cmd_lists(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    client = _client(args)
    if args.action == "list":
        names = list(client.call("GetIndex", pb.GetIndexRequest(index=args.index)).info.lists)
        _emit(args, names, "\n".join(names))
    elif args.action == "show":
        r = client.call("GetList", pb.GetListRequest(index=args.index, name=_need(args.name, "a list name")))
        _emit(args, list(r.customer_ids), "\n".join(r.customer_ids))
    else:
        ids = _ids(args)
        request = pb.UpdateListRequest(index=args.index, name=_need(args.name, "a list name"))
        if args.action == "add":
            request.add.extend(ids)
        elif args.action == "remove":
            request.remove.extend(ids)
        else:
            request.replace = True
            request.replace_with.extend(ids)
        size = client.call("UpdateList", request).size
        _emit(args, {"name": args.name, "size": size}, f"list {args.name}: {_number(size)} customers")
    return EXIT_OK


def cmd_tiers(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    client = _client(args)
    if args.action == "save":
        if not args.default:
            raise UsageError("tiers save needs --default TIER")
        tiers = []
        for spec in args.tier:
            name, sep, query = spec.partition("=")
            if not sep or not name.strip():
                raise UsageError(f"--tier {spec!r}: write NAME=QUERY")
            tiers.append(pb.Tier(name=name.strip(), selection=pb.Selection(query=query)))
        client.call("SaveTiering", pb.SaveTieringRequest(index=args.index, name=args.name, tiers=tiers,
                                                         default_tier=args.default))
        _emit(args, {"saved": args.name}, f"saved tiering {args.name}: {len(tiers)} tiers + {args.default}")
    else:
        r = client.call("CountTiers", pb.CountTiersRequest(index=args.index, name=args.name, as_of=args.as_of))
        counts = {t.tier: t.count for t in r.tiers}
        _emit(args, counts, lambda: _table([[k, _number(v)] for k, v in counts.items()]))
    return EXIT_OK


def cmd_delete_customers(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    deleted = _client(args).call("DeleteCustomers", pb.DeleteCustomersRequest(index=args.index,
                                                                              customer_ids=_ids(args))).deleted
    _emit(args, {"deleted": deleted}, f"deleted {_number(deleted)} customers")
    return EXIT_OK


# ── verbs: history and persistence ───────────────────────────────────────────────────────────────────

def _segment_argument(args: argparse.Namespace) -> str:
    if args.segment_name and args.segment and args.segment_name != args.segment:
        raise UsageError("give the segment once: SEGMENT or --segment NAME")
    return _need(args.segment_name or args.segment, "a segment name (SEGMENT or --segment NAME)")


def cmd_history(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    segment = _segment_argument(args)
    r = _client(args).call("GetHistory", pb.GetHistoryRequest(index=args.index, segment=segment,
                                                              start=args.start, end=args.end))
    rows = [{"day": h.day, "size": h.size, "entered": h.entered, "left": h.left} for h in r.rows]
    if args.chart:
        import datetime as dt

        from bitseg.persistence import HistoryRow, history_chart

        try:
            history_chart([HistoryRow(dt.date.fromisoformat(h["day"]), h["size"], h["entered"], h["left"])
                           for h in rows], args.chart, title=f"{args.index} / {segment}")
        except ModuleNotFoundError:
            raise InputError("--chart needs matplotlib: pip install 'bitseg[chart]'") from None
        except OSError as err:
            raise InputError(f"{args.chart}: {err.strerror or err}") from None
    _emit(args, rows, lambda: _table([["day", "size", "entered", "left"]]
                                     + [[h["day"], h["size"], h["entered"], h["left"]] for h in rows])
          + (f"\nchart written to {args.chart}" if args.chart else ""))
    return EXIT_OK


def cmd_changes(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    request = pb.StreamChangesRequest(index=args.index, segment=_segment_argument(args), since=args.since,
                                      chunk_size=args.chunk_size)
    stream = _client(args).stream("StreamChanges", request)
    if args.json:
        entered: list[str] = []
        left: list[str] = []
        for chunk in stream:
            entered += chunk.entered
            left += chunk.left
        _emit(args, {"entered": entered, "left": left})
        return EXIT_OK
    out = sys.stdout
    for chunk in stream:  # printed as they come: a trigger segment may change by millions
        if chunk.entered:
            out.write("".join(f"+{i}\n" for i in chunk.entered))
        if chunk.left:
            out.write("".join(f"-{i}\n" for i in chunk.left))
    out.flush()
    return EXIT_OK


def cmd_snapshot(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    client = _client(args)

    def snap(s: Any) -> dict[str, Any]:
        return {"id": s.id, "created": s.created, "bytes": s.bytes, "indexes": list(s.indexes)}

    if args.list:
        snaps = [snap(s) for s in client.call("ListSnapshots", pb.ListSnapshotsRequest()).snapshots]
        _emit(args, snaps, lambda: _table([[s["id"], s["created"], _number(s["bytes"])] for s in snaps]))
    else:
        s = snap(client.call("CreateSnapshot", pb.CreateSnapshotRequest(), timeout=None).snapshot)
        _emit(args, s, f"snapshot {s['id']} written ({_number(s['bytes'])} bytes)")
    return EXIT_OK


# ── import ───────────────────────────────────────────────────────────────────────────────────────────

class CsvSource:
    """A CSV file (plain or gzip) cut into chunks of whole records, with their line numbers.

    Records are cut at a newline outside quotes (an even number of '"' before it), so the server parses
    each chunk on its own; the client never parses cells.
    """

    def __init__(self, path: str, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.path = path
        self.chunk_bytes = chunk_bytes
        self.raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.total_bytes = os.fstat(self.raw.fileno()).st_size
        magic = self.raw.read(2)
        self.raw.seek(0)
        self.stream: IO[bytes] = (gzip.GzipFile(fileobj=self.raw) if magic == b"\x1f\x8b"  # type: ignore[assignment]
                                  else self.raw)
        self._pending = b""
        self.line = 1
        self.header = self._read_header()

    def close(self) -> None:
        self.stream.close()
        self.raw.close()

    @property
    def bytes_read(self) -> int:
        return self.raw.tell()

    def _read_header(self) -> list[str]:
        record = next(self._records(limit_one=True), None)
        if record is None:
            raise InputError(f"{self.path}: empty file (a CSV needs a header line)")
        data, _ = record
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"{self.path}: the header is not UTF-8") from None
        header = next(csv.reader(io.StringIO(text)), [])
        header = [name.strip() for name in header]
        if not header or not any(header):
            raise InputError(f"{self.path}: empty header line")
        return header

    def chunks(self) -> Iterator[tuple[bytes, int]]:
        """(records, line number of the first) pieces of about chunk_bytes."""
        return self._records(limit_one=False)

    def _records(self, limit_one: bool) -> Iterator[tuple[bytes, int]]:
        while True:
            block = self.stream.read(self.chunk_bytes)
            buffer = self._pending + block
            cut = self._cut(buffer, first=limit_one)
            if cut < 0:
                if block:
                    if len(buffer) > MAX_RECORD_BYTES:
                        raise InputError(f"{self.path}:{self.line}: a record longer than "
                                         f"{MAX_RECORD_BYTES >> 20} MiB (an unclosed quote?)")
                    self._pending = buffer
                    continue
                if not buffer.strip():
                    return
                cut = len(buffer) - 1  # the last record, without a final newline (or with an open quote)
            piece, self._pending = buffer[:cut + 1], buffer[cut + 1:]
            first = self.line
            self.line += piece.count(b"\n") + (not piece.endswith(b"\n"))
            yield piece, first
            if limit_one:
                return

    @staticmethod
    def _cut(buffer: bytes, first: bool) -> int:
        """The index of the newline ending the last (or, with first, the first) whole record, or -1."""
        if first:
            at = -1
            while True:
                at = buffer.find(b"\n", at + 1)
                if at < 0 or buffer.count(b'"', 0, at) % 2 == 0:
                    return at
        at = buffer.rfind(b"\n")
        quotes = buffer.count(b'"', 0, at) if at >= 0 else 0
        while at >= 0 and quotes % 2:
            previous = buffer.rfind(b"\n", 0, at)
            quotes -= buffer.count(b'"', previous + 1, at)
            at = previous
        return at


class Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal, or when forced)."""

    def __init__(self, label: str, total_bytes: int, enabled: bool) -> None:
        self.label, self.total, self.enabled = label, max(total_bytes, 1), enabled
        self.started = self.shown = time.perf_counter()

    def update(self, done_bytes: int, lines: int, final: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self.shown < 0.2 and not final):
            return
        self.shown = now
        share = min(done_bytes / self.total, 1.0)
        bar = "█" * int(share * 30)
        rate = lines / max(now - self.started, 1e-9)
        sys.stderr.write(f"\r{self.label} ▕{bar:<30}▏ {share:4.0%} {lines:>12,} lines {rate:>10,.0f}/s")
        if final:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _import_file(client: Client, index: str, path: str, kind: str, args: argparse.Namespace) -> dict[str, Any]:
    from bitseg.v1 import segments_pb2 as pb

    source = CsvSource(path, args.chunk_bytes)
    progress = Progress(f"{kind} {Path(path).name}", source.total_bytes,
                        args.progress or (sys.stderr.isatty() and not args.quiet))
    batch_type = pb.ProfileBatch if kind == "profiles" else pb.PurchaseBatch
    lines = 0

    def batches() -> Iterator[Any]:
        nonlocal lines
        first = True
        for data, line in source.chunks():
            yield batch_type(index=index if first else "", csv=pb.CsvChunk(header=source.header, data=data,
                                                                            first_line=line))
            first = False
            lines = source.line - 2
            progress.update(source.bytes_read, lines)

    started = time.perf_counter()
    try:
        response = client.call("UpsertProfiles" if kind == "profiles" else "AddPurchases", batches(),
                               timeout=None)
    finally:
        source.close()
    seconds = time.perf_counter() - started
    progress.update(source.total_bytes, lines, final=True)
    s = response.summary
    return {"file": path, "kind": kind, "rows": s.rows_received, "accepted": s.rows_accepted,
            "rejected": s.rows_rejected, "seconds": round(seconds, 3),
            "rows_per_second": round(s.rows_received / seconds) if seconds else 0,
            "customers": s.customer_count, "lines": s.line_count,
            "rejected_rows": [{"line": r.row_number, "message": r.message} for r in s.rejected]}


def cmd_import(args: argparse.Namespace) -> int:
    from bitseg.v1 import segments_pb2 as pb

    if not (args.profiles or args.purchases):
        raise UsageError("import needs --profiles FILE and/or --purchases FILE")
    for path in (args.profiles, args.purchases):
        if path and not Path(path).is_file():
            raise InputError(f"{path}: no such file")
    client = _client(args)
    try:
        client.call("GetIndex", pb.GetIndexRequest(index=args.index))
    except grpc.RpcError as err:
        if err.code() is not grpc.StatusCode.NOT_FOUND:
            raise
        if not args.schema:
            raise InputError(f"index {args.index!r} does not exist; give --schema FILE to create it") from None
        client.call("CreateIndex", pb.CreateIndexRequest(index=args.index, schema_toml=_read_text(args.schema)))
        if not args.quiet:
            print(f"created index {args.index} from {args.schema}", file=sys.stderr)
    reports = [_import_file(client, args.index, path, kind, args)
               for kind, path in (("profiles", args.profiles), ("purchases", args.purchases)) if path]
    rejected = sum(r["rejected"] for r in reports)
    if args.json:
        print(json.dumps({"index": args.index, "files": reports, "rejected": rejected}, indent=2))
    else:
        for r in reports:
            print(f"{r['kind']}: {r['file']}: {_number(r['rows'])} rows, {_number(r['accepted'])} accepted, "
                  f"{_number(r['rejected'])} rejected in {r['seconds']:.1f} s "
                  f"({_number(r['rows_per_second'])} rows/s)")
            for bad in r["rejected_rows"][:args.show_rejected]:
                print(f"{r['file']}:{bad['line']}: {bad['message']}", file=sys.stderr)
            hidden = r["rejected"] - min(len(r["rejected_rows"]), args.show_rejected)
            if hidden > 0:
                print(f"{r['file']}: … and {_number(hidden)} more rejected rows (--show-rejected N, --json)",
                      file=sys.stderr)
        last = reports[-1]
        print(f"index {args.index}: {_number(last['customers'])} customers, {_number(last['lines'])} lines")
    return EXIT_INPUT if rejected else EXIT_OK


# ── local verbs: serve and generate ──────────────────────────────────────────────────────────────────

def cmd_generate(args: argparse.Namespace) -> int:
    from bitseg.generate import size_of, write_dataset

    if args.size and (args.customers or args.lines):
        raise UsageError("give --size or --customers/--lines, not both")
    if args.size:
        customers, lines = size_of(args.size)
    else:
        if not (args.customers and args.lines is not None):
            raise UsageError("give --size XS|S|M|L or both --customers and --lines")
        customers, lines = args.customers, args.lines

    shown = {"at": 0.0}

    def progress(what: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if sys.stderr.isatty() and (now - shown["at"] > 0.2 or done == total):
            shown["at"] = now
            sys.stderr.write(f"\r{what:<10} {done:>13,} / {total:,}" + ("\n" if done == total else ""))

    summary: dict[str, Any] = write_dataset(args.out, customers, lines, seed=args.seed, end=args.end,
                                            progress=progress, compress=args.gzip)
    _emit(args, summary, lambda: (f"wrote {_number(summary['customers'])} customers and "
                                  f"{_number(summary['lines'])} lines to {args.out} in {summary['seconds']:.1f} s"))
    return EXIT_OK


def load_demo(catalog: Any, size: str = "S", seed: int = 42) -> None:
    """Create index `demo` from the generated fashion retailer, in-process through the columnar fast path."""
    from bitseg.errors import NotFoundError
    from bitseg.generate import FASHION_SCHEMA, generate_profiles, generate_purchases, size_of

    log = logging.getLogger("bitseg.server")
    try:
        catalog.get("demo")
        return
    except NotFoundError:
        pass
    started = time.perf_counter()
    customers, lines = size_of(size)
    index = catalog.create_index("demo", FASHION_SCHEMA)
    index.upsert_profile_columns(generate_profiles(customers, seed=seed))
    for batch in generate_purchases(customers, lines, seed=seed, batch_lines=250_000):
        index.add_purchase_columns(batch)
    log.info("demo index loaded", extra={"index": "demo", "customers": index.customer_count,
                                         "lines": index.line_count,
                                         "seconds": round(time.perf_counter() - started, 2)})


def cmd_serve(args: argparse.Namespace) -> int:
    from bitseg.errors import PersistenceError
    from bitseg.server.app import ServerConfig, open_store, serve
    from bitseg.server.logs import setup_logging

    setup_logging(args.log_level)
    log = logging.getLogger("bitseg.server")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UsageError("TLS needs both --tls-cert and --tls-key")
    config = ServerConfig(host=args.host, port=args.port, token=args.token or None,
                          tls_cert=Path(args.tls_cert).read_bytes() if args.tls_cert else None,
                          tls_key=Path(args.tls_key).read_bytes() if args.tls_key else None,
                          max_workers=args.max_workers, data_dir=args.data_dir)
    try:
        store = open_store(config)
    except PersistenceError as err:
        log.error("cannot open the data directory", extra={"data_dir": args.data_dir, "problem": str(err)})
        print(f"bitseg serve: {err}", file=sys.stderr)
        return EXIT_OTHER
    try:
        if args.demo and "demo" not in store.names():
            try:
                load_demo(store, args.demo_size)
            except BaseException:
                if "demo" in store.names():  # a half-loaded demo must not come back on the next start
                    try:
                        store.drop_index("demo")
                    except Exception:  # the first error is the one to report
                        log.exception("could not drop the half-loaded demo index")
                raise
            store.snapshot()  # a restart loads the snapshot instead of replaying millions of logged lines
        serve(config, store, grace=args.grace)  # a clean stop closes the store after a last snapshot
    except BaseException:
        store.close(snapshot=False)  # no-op once closed; else what was acknowledged is in the log
        raise
    return EXIT_OK


# ── the parser ───────────────────────────────────────────────────────────────────────────────────────

def _need(value: str | None, what: str) -> str:
    if not value:
        raise UsageError(f"this needs {what}")
    return value


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(f"{path}: {err.strerror}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bitseg", description="bitseg: a customer segment engine on roaring "
                                     "bitmaps, served over gRPC.",
                                     epilog="exit codes: 0 ok, 1 bad input or rejected rows, 2 usage, "
                                     "3 not found, 4 unavailable or other")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON")
    client = argparse.ArgumentParser(add_help=False, parents=[common])
    client.add_argument("--server", default=os.environ.get("BITSEG_SERVER", DEFAULT_SERVER),
                        help="HOST:PORT (default $BITSEG_SERVER or %(default)s)")
    client.add_argument("--token", default=os.environ.get("BITSEG_TOKEN"),
                        help="bearer token (default $BITSEG_TOKEN)")
    client.add_argument("--tls-ca", default=os.environ.get("BITSEG_TLS_CA"), metavar="PEM",
                        help="CA certificate to reach a TLS server (default $BITSEG_TLS_CA)")
    client.add_argument("--tls-server-name", metavar="NAME",
                        help="the name in the server's certificate, when it differs from the --server host")
    client.add_argument("--timeout", type=float, default=60.0, help="seconds per call (default %(default)s)")
    on_index = argparse.ArgumentParser(add_help=False, parents=[client])
    on_index.add_argument("--index", required=True, help="index name")

    p = verbs.add_parser("serve", parents=[common], help="run the server")
    p.add_argument("--data-dir", default=os.environ.get("BITSEG_DATA_DIR", "./bitseg-data"),
                   help="the write-ahead log and snapshots (default $BITSEG_DATA_DIR or ./bitseg-data)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=50051)
    p.add_argument("--demo", action="store_true", help="create index 'demo' (generated fashion retailer)")
    p.add_argument("--demo-size", default="S", help="size of the demo index: XS, S (default), M, L")
    p.add_argument("--token", default=os.environ.get("BITSEG_TOKEN"), help="require this bearer token")
    p.add_argument("--tls-cert", help="PEM certificate (with --tls-key: serve TLS)")
    p.add_argument("--tls-key", help="PEM private key")
    p.add_argument("--max-workers", type=int, default=32, help="request threads (default %(default)s)")
    p.add_argument("--grace", type=float, default=10.0, help="seconds running calls get at shutdown")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=cmd_serve)

    p = verbs.add_parser("import", parents=[on_index], help="import CSV files through the server")
    p.add_argument("--schema", help="schema.toml, to create the index when it does not exist")
    p.add_argument("--profiles", help="profiles CSV (or .csv.gz): customer + profile fields")
    p.add_argument("--purchases", help="purchases CSV (or .csv.gz): customer,time,amount[,order,quantity,dims]")
    p.add_argument("--chunk-bytes", type=int, default=CHUNK_BYTES, help="CSV bytes per message")
    p.add_argument("--show-rejected", type=int, default=20, metavar="N", help="rejected rows to print")
    p.add_argument("--progress", action="store_true", help="show progress even when stderr is not a terminal")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_import)

    p = verbs.add_parser("count", parents=[on_index], help="count the members of a query; prints the number")
    _add_selection(p)
    p.set_defaults(func=cmd_count)

    p = verbs.add_parser("members", parents=[on_index], help="stream member ids, one per line")
    _add_selection(p)
    p.add_argument("--limit", type=int, default=0, help="at most this many (0 = all)")
    p.add_argument("--after", help="resume after this customer id")
    p.add_argument("--chunk-size", type=int, default=0, help="ids per message (0 = server default)")
    p.set_defaults(func=cmd_members)

    p = verbs.add_parser("stats", parents=[on_index], help="KPIs of the members and of the rest")
    _add_selection(p)
    p.set_defaults(func=cmd_stats)

    p = verbs.add_parser("breakdown", parents=[on_index], help="members per value of a field")
    _add_selection(p)
    p.add_argument("--field", required=True, help="a keyword, bool or tags field")
    p.add_argument("--top", type=int, default=10)
    p.set_defaults(func=cmd_breakdown)

    p = verbs.add_parser("buyers", parents=[on_index], help="buyers per day over a date range")
    _add_selection(p, required=False)
    p.add_argument("--start", required=True, metavar="DAY")
    p.add_argument("--end", required=True, metavar="DAY")
    p.set_defaults(func=cmd_buyers)

    p = verbs.add_parser("check", parents=[on_index], help="which segments one customer is in")
    p.add_argument("--customer", required=True)
    p.add_argument("segments", nargs="*", help="segments to check (default: list every segment it is in)")
    p.add_argument("--as-of", default="", metavar="DAY")
    p.set_defaults(func=cmd_check)

    p = verbs.add_parser("indexes", parents=[client], help="list, show, create or drop indexes")
    p.add_argument("action", nargs="?", default="list", choices=["list", "show", "create", "drop"])
    p.add_argument("name", nargs="?")
    p.add_argument("--schema", help="schema.toml for create")
    p.set_defaults(func=cmd_indexes)

    p = verbs.add_parser("segments", parents=[on_index], help="saved segments: list, get, save, delete")
    p.add_argument("action", nargs="?", default="list", choices=["list", "get", "save", "delete"])
    p.add_argument("name", nargs="?")
    p.add_argument("query", nargs="?", help="for save: the query ('-' reads stdin)")
    p.add_argument("--kind", default="standard", choices=[kind.value for kind in SegmentKind])
    p.add_argument("--description", default="")
    p.set_defaults(func=cmd_segments)

    p = verbs.add_parser("lists", parents=[on_index], help="static lists: list, show, add, remove, replace")
    p.add_argument("action", nargs="?", default="list", choices=["list", "show", "add", "remove", "replace"])
    p.add_argument("name", nargs="?")
    p.add_argument("ids", nargs="*", help="customer ids")
    p.add_argument("--file", help="more ids, one per line ('-' = stdin)")
    p.set_defaults(func=cmd_lists)

    p = verbs.add_parser("tiers", parents=[on_index], help="tierings: save, count")
    p.add_argument("action", choices=["save", "count"])
    p.add_argument("name")
    p.add_argument("--tier", action="append", default=[], metavar="NAME=QUERY", help="in priority order")
    p.add_argument("--default", help="the tier of customers matching none")
    p.add_argument("--as-of", default="", metavar="DAY")
    p.set_defaults(func=cmd_tiers)

    p = verbs.add_parser("delete-customers", parents=[on_index], help="erase customers (privacy)")
    p.add_argument("ids", nargs="*")
    p.add_argument("--file", help="more ids, one per line ('-' = stdin)")
    p.set_defaults(func=cmd_delete_customers)

    p = verbs.add_parser("history", parents=[on_index], help="daily size history of a hot segment")
    p.add_argument("segment_name", nargs="?", metavar="SEGMENT", help="a hot (or trigger) segment")
    p.add_argument("--segment", help=argparse.SUPPRESS)  # the older spelling
    p.add_argument("--start", default="", metavar="DAY", help="first day (default: the oldest recorded)")
    p.add_argument("--end", default="", metavar="DAY", help="last day (default: the newest)")
    p.add_argument("--chart", metavar="FILE.png", help="also draw the history into a PNG (needs bitseg[chart])")
    p.set_defaults(func=cmd_history)

    p = verbs.add_parser("changes", parents=[on_index], help="who entered (+id) and left (-id) a trigger segment")
    p.add_argument("segment_name", nargs="?", metavar="SEGMENT", help="a trigger segment")
    p.add_argument("--segment", help=argparse.SUPPRESS)  # the older spelling
    p.add_argument("--since", required=True, metavar="DAY", help="a daily snapshot day, YYYY-MM-DD")
    p.add_argument("--chunk-size", type=int, default=0, help="ids per message (0 = server default)")
    p.set_defaults(func=cmd_changes)

    p = verbs.add_parser("snapshot", parents=[client], help="write a snapshot now (or --list them)")
    p.add_argument("--list", action="store_true")
    p.set_defaults(func=cmd_snapshot)

    p = verbs.add_parser("generate", parents=[common], help="write a synthetic fashion retailer (schema + CSV)")
    p.add_argument("--size", help="XS, S (100k customers / 2M lines), M (1M / 20M), L (10M / 100M)")
    p.add_argument("--customers", type=int)
    p.add_argument("--lines", type=int)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--end", help="last day of the two-year window (default today)")
    p.add_argument("--out", default="bitseg-dataset", help="output folder (default %(default)s)")
    p.add_argument("--gzip", action="store_true", help="write .csv.gz")
    p.set_defaults(func=cmd_generate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as err:
        print(f"bitseg {args.verb}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as err:
        _error(args, "INVALID_INPUT", str(err))
        return EXIT_INPUT
    except grpc.RpcError as err:
        code = err.code()
        message = err.details() or ""
        if code is grpc.StatusCode.UNAVAILABLE:
            message = f"cannot reach the server at {getattr(args, 'server', '?')} ({message})"
        _error(args, code.name, message)
        return EXIT_CODES.get(code, EXIT_OTHER)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `bitseg members … | head`: the reader left; that is not an error.
        sys.stderr.close()
        return EXIT_OK
    except Exception as err:  # noqa: BLE001 - bitseg errors from local verbs (generate) and the rest
        from bitseg.errors import InvalidInputError, NotFoundError

        _error(args, type(err).__name__, str(err))
        if isinstance(err, InvalidInputError):
            return EXIT_INPUT
        return EXIT_NOT_FOUND if isinstance(err, NotFoundError) else EXIT_OTHER


def _error(args: argparse.Namespace, code: str, message: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps({"error": {"code": code, "message": message}}), file=sys.stderr)
    else:
        print(f"bitseg {args.verb}: {code}: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
