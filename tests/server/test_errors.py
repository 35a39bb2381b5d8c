"""Every error → status pair of SPEC §5, and hostile input: each a clear error, the server alive and unchanged."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from bitseg.index.index import Index
from bitseg.server.app import ServerConfig, start
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

from .conftest import SHARD_TRANSPORT, SHARDS, channel_for
from .shop import AS_OF, PURCHASE_HEADER, SCHEMA

Code = grpc.StatusCode
FINGERPRINT = ["ALL", "country = 'NL'", "purchases MATCHES (brand = 'Levi''s')", "clv >= 100", "IN LIST 'gold'"]


def status(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        result = call()
        if isinstance(result, Iterator):
            list(result)
    return err.value.code(), err.value.details()


def fingerprint(stub: pb_grpc.SegmentServiceStub, index: str) -> list[int]:
    results = stub.CountBatch(pb.CountBatchRequest(index=index, as_of=AS_OF,
                                                   queries=[pb.Selection(query=q) for q in FINGERPRINT])).results
    return [r.count if not r.error else -1 for r in results]


@pytest.fixture(scope="module")
def before(stub: pb_grpc.SegmentServiceStub, shop: str) -> list[int]:
    stub.UpdateList(pb.UpdateListRequest(index=shop, name="gold", add=["c1"]))
    stub.SaveSegment(pb.SaveSegmentRequest(index=shop, name="nl", query="country = 'NL'"))
    return fingerprint(stub, shop)


@pytest.fixture(autouse=True)
def unchanged(stub: pb_grpc.SegmentServiceStub, shop: str, before: list[int]) -> Iterator[None]:
    """After every test here, the server still answers, and with the same numbers."""
    yield
    assert fingerprint(stub, shop) == before


# ── each error → status pair ─────────────────────────────────────────────────────────────────────────

def test_bad_query_is_invalid_argument_with_position(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    code, message = status(lambda: stub.Count(pb.CountRequest(index=shop, query="country = 'NL' AND colour = 1")))
    assert code is Code.INVALID_ARGUMENT
    assert "colour" in message and "1:20" in message and "did you mean" in message
    code, message = status(lambda: stub.Count(pb.CountRequest(index=shop, query="points = 'many'")))
    assert code is Code.INVALID_ARGUMENT and "points" in message


@pytest.mark.parametrize(("call", "expected"), [
    (lambda s: s.Count(pb.CountRequest(index="nowhere", query="ALL")), Code.NOT_FOUND),
    (lambda s: s.Count(pb.CountRequest(index="shop", segment="nowhere")), Code.NOT_FOUND),
    (lambda s: s.Count(pb.CountRequest(index="shop", query="IN SEGMENT 'nowhere'")), Code.NOT_FOUND),
    (lambda s: s.Count(pb.CountRequest(index="shop", query="IN LIST 'nowhere'")), Code.NOT_FOUND),
    (lambda s: s.GetSegment(pb.GetSegmentRequest(index="shop", name="nowhere")), Code.NOT_FOUND),
    (lambda s: s.DeleteSegment(pb.DeleteSegmentRequest(index="shop", name="nowhere")), Code.NOT_FOUND),
    (lambda s: s.GetList(pb.GetListRequest(index="shop", name="nowhere")), Code.NOT_FOUND),
    (lambda s: s.CountTiers(pb.CountTiersRequest(index="shop", name="nowhere")), Code.NOT_FOUND),
    (lambda s: s.CheckMembership(pb.CheckMembershipRequest(index="shop", customer_id="c1", segments=["nowhere"])),
     Code.NOT_FOUND),
    (lambda s: s.CustomerSegments(pb.CustomerSegmentsRequest(index="shop", customer_id="nobody")), Code.NOT_FOUND),
    (lambda s: s.StreamMembers(pb.StreamMembersRequest(index="shop", query="ALL", after="nobody")), Code.NOT_FOUND),
    (lambda s: s.DropIndex(pb.DropIndexRequest(index="nowhere")), Code.NOT_FOUND),
    (lambda s: s.CreateIndex(pb.CreateIndexRequest(index="shop", schema_toml=SCHEMA)), Code.ALREADY_EXISTS),
    (lambda s: s.CreateIndex(pb.CreateIndexRequest(index="x", schema_toml="[profile]\nage = 'number'")),
     Code.INVALID_ARGUMENT),
    (lambda s: s.CreateIndex(pb.CreateIndexRequest(index="x", schema_toml="not toml = = =")), Code.INVALID_ARGUMENT),
    (lambda s: s.CreateIndex(pb.CreateIndexRequest(index="bad name!", schema_toml=SCHEMA)), Code.INVALID_ARGUMENT),
    (lambda s: s.CreateIndex(pb.CreateIndexRequest(index="x" * 65, schema_toml=SCHEMA)), Code.INVALID_ARGUMENT),
    (lambda s: s.Count(pb.CountRequest(index="", query="ALL")), Code.INVALID_ARGUMENT),
    (lambda s: s.Count(pb.CountRequest(index="shop")), Code.INVALID_ARGUMENT),
    (lambda s: s.Count(pb.CountRequest(index="shop", query="ALL", as_of="2026-13-01")), Code.INVALID_ARGUMENT),
    (lambda s: s.Count(pb.CountRequest(index="shop", query="ALL", as_of="yesterday")), Code.INVALID_ARGUMENT),
    (lambda s: s.StreamMembers(pb.StreamMembersRequest(index="shop", query="ALL", chunk_size=-1)),
     Code.INVALID_ARGUMENT),
    (lambda s: s.StreamMembers(pb.StreamMembersRequest(index="shop", query="ALL", chunk_size=1_000_001)),
     Code.INVALID_ARGUMENT),
    (lambda s: s.StreamMembers(pb.StreamMembersRequest(index="shop", query="ALL", limit=-5)), Code.INVALID_ARGUMENT),
    (lambda s: s.SaveSegment(pb.SaveSegmentRequest(index="shop", name="nl", query="IN SEGMENT 'nl'")),
     Code.INVALID_ARGUMENT),
    (lambda s: s.SaveSegment(pb.SaveSegmentRequest(index="shop", name="bad/name", query="ALL")),
     Code.INVALID_ARGUMENT),
    (lambda s: s.SaveSegment(pb.SaveSegmentRequest(index="shop", name="empty")), Code.INVALID_ARGUMENT),
    (lambda s: s.SaveSegment(pb.SaveSegmentRequest(index="shop", name="k", query="ALL", kind=7)),
     Code.INVALID_ARGUMENT),
    (lambda s: s.Breakdown(pb.BreakdownRequest(index="shop", query="ALL", field="points")), Code.INVALID_ARGUMENT),
    (lambda s: s.Breakdown(pb.BreakdownRequest(index="shop", query="ALL", field="country", top=-1)),
     Code.INVALID_ARGUMENT),
    (lambda s: s.BuyersPerDay(pb.BuyersPerDayRequest(index="shop", start="2026-03-02", end="2026-03-01")),
     Code.INVALID_ARGUMENT),
    (lambda s: s.BuyersPerDay(pb.BuyersPerDayRequest(index="shop", start="1900-01-01", end="2100-01-01")),
     Code.INVALID_ARGUMENT),
    (lambda s: s.SaveTiering(pb.SaveTieringRequest(index="shop", name="t", default_tier="A", tiers=[
        pb.Tier(name="A", selection=pb.Selection(query="ALL"))])), Code.INVALID_ARGUMENT),
    (lambda s: s.UpdateList(pb.UpdateListRequest(index="shop", name="", add=["c1"])), Code.INVALID_ARGUMENT),
])
def test_error_status(stub: pb_grpc.SegmentServiceStub, shop: str, call: Callable, expected: grpc.StatusCode) -> None:
    code, message = status(lambda: call(stub))
    assert code is expected, message
    assert message and "Traceback" not in message


@pytest.mark.skipif(SHARD_TRANSPORT == "ray" and SHARDS > 0,
                    reason="the monkeypatch is in this process; the shards run in Ray's processes")
def test_unexpected_error_is_internal_and_logged(stub: pb_grpc.SegmentServiceStub, shop: str,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    def broken(self: Index, *args: object, **kwargs: object) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(Index, "breakdown", broken)
    logging.getLogger("bitseg").propagate = True
    with caplog.at_level(logging.ERROR, logger="bitseg.server"):
        code, message = status(lambda: stub.Breakdown(pb.BreakdownRequest(index=shop, query="ALL", field="country")))
    assert code is Code.INTERNAL and "ZeroDivisionError" in message and "a bug" not in message
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)


def test_overload_is_resource_exhausted(tmp_path: Path) -> None:
    server = start(ServerConfig(port=0, max_workers=2, max_concurrent_rpcs=1, max_message_bytes=64 * 1024,
                                data_dir=str(tmp_path)))
    release = threading.Event()
    try:
        with channel_for(server) as channel:
            stub = pb_grpc.SegmentServiceStub(channel)
            stub.CreateIndex(pb.CreateIndexRequest(index="busy", schema_toml=SCHEMA))

            def slow_batches() -> Iterator[pb.PurchaseBatch]:
                yield pb.PurchaseBatch(index="busy")
                release.wait(10)

            holding = stub.AddPurchases.future(slow_batches())
            code = None
            for _ in range(100):  # the first call may not have reached the server yet
                try:
                    stub.Count(pb.CountRequest(index="busy", query="ALL"))
                except grpc.RpcError as err:
                    code = err.code()
                    break
                release.wait(0.02)
            assert code is Code.RESOURCE_EXHAUSTED
            release.set()
            holding.result(timeout=10)
            # A message over the configured size is refused, and the server goes on.
            code, _ = status(lambda: stub.Count(pb.CountRequest(index="busy", query="x" * 100_000)))
            assert code is Code.RESOURCE_EXHAUSTED
            assert stub.Count(pb.CountRequest(index="busy", query="ALL")).count == 0
    finally:
        release.set()
        server.stop(grace=0)


def test_deadline_exceeded(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    stub.CreateIndex(pb.CreateIndexRequest(index="late", schema_toml=SCHEMA))
    stop = threading.Event()

    def late_batches() -> Iterator[pb.PurchaseBatch]:
        yield pb.PurchaseBatch(index="late")
        stop.wait(2)  # the client is slower than its own deadline

    try:
        code, _ = status(lambda: stub.AddPurchases(late_batches(), timeout=0.2))
    finally:
        stop.set()
    assert code is Code.DEADLINE_EXCEEDED


# ── hostile input ────────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("query", [
    "(((((", ")", "country = ", "country = 'unterminated", "\x00\xff\ufffd", "ALL ALL", "country IN ()",
    "purchases MATCHES (nonsense >>> 1)", "'; DROP TABLE customers; --", "NOT " * 200 + "ALL",
    "(" * 1000 + "ALL" + ")" * 1000, "country = 'x' OR " * 5000 + "ALL", "x" * 200_000,
    "country IN (" + ", ".join(f"'{i}'" for i in range(20_000)) + ")",
    "birth_date > -99999999999999d", "purchases MATCHES (date >= -99999999999999999m)",
    "points > " + "9" * 5000, "credit > 1" + "0" * 39 + ".5",
])
def test_garbage_and_huge_queries(stub: pb_grpc.SegmentServiceStub, shop: str, query: str) -> None:
    code, message = status(lambda: stub.Count(pb.CountRequest(index=shop, query=query, as_of=AS_OF)))
    assert code is Code.INVALID_ARGUMENT and message
    if len(query) > 64 * 1024:
        assert "max_query_length" in message
    elif query.startswith(("NOT NOT", "((((((")):
        assert "max_depth" in message


def _deep_expr_bytes(depth: int) -> bytes:
    """A CountRequest whose Expr nests `depth` NOTs: too deep for protobuf-python to build, so by hand."""
    def field(number: int, payload: bytes) -> bytes:
        return _varint(number << 3 | 2) + _varint(len(payload)) + payload

    expr = field(1, b"")                              # Expr.all
    for _ in range(depth):
        expr = field(2, field(1, expr))               # Expr.not_expr(Not.operand(expr))
    return field(1, b"shop") + field(4, expr)         # CountRequest.index, CountRequest.expr


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_raw_garbage_and_too_deep_messages(channel: grpc.Channel, shop: str) -> None:
    count = channel.unary_unary("/bitseg.v1.SegmentService/Count")   # bytes in, bytes out
    assert pb.CountResponse.FromString(count(_deep_expr_bytes(10))).count == 6  # NOT NOT … ALL = ALL
    for raw in (b"\xff\xff\xff\xff", b"garbage!", _deep_expr_bytes(300), _deep_expr_bytes(60)):
        code, message = status(lambda raw=raw: count(raw))
        assert code is Code.INVALID_ARGUMENT, message
        assert "could not be decoded" in message


def test_structured_query_limits(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    huge_in = pb.Expr(in_expr=pb.Expr.In(field="country", values=[pb.Value(text=str(i)) for i in range(100_001)]))
    code, message = status(lambda: stub.Count(pb.CountRequest(index=shop, expr=huge_in)))
    assert code is Code.INVALID_ARGUMENT and "max_in_values" in message
    wide = pb.Expr(or_expr=pb.Expr.Or(operands=[pb.Expr(all=pb.Expr.All())] * 30_000))
    code, message = status(lambda: stub.Count(pb.CountRequest(index=shop, expr=wide)))
    assert code is Code.INVALID_ARGUMENT and "nodes" in message
    for bad in (pb.Expr(), pb.Expr(compare=pb.Expr.Compare(field="country", op="==", value=pb.Value(text="NL"))),
                pb.Expr(compare=pb.Expr.Compare(field="country", op="=")),
                pb.Expr(compare=pb.Expr.Compare(field="birth_date", op="<", value=pb.Value(date="2026-02-30"))),
                pb.Expr(compare=pb.Expr.Compare(field="points", op="<", value=pb.Value(decimal="1e999999999"))),
                pb.Expr(anniversary=pb.Expr.Anniversary(field="birth_date", start=pb.Value(text="today"),
                                                        end=pb.Value(text="x"))),
                pb.Expr(matches=pb.Expr.Matches(params=[pb.MatchParam(measure_compare=pb.MatchParam.MeasureCompare(
                    measure="revenue", op=">", value=pb.Value(integer=1)))])),
                pb.Expr(compare=pb.Expr.Compare(field="nope", op="=", value=pb.Value(text="NL"))),
                pb.Expr(compare=pb.Expr.Compare(field="country", op="=", value=pb.Value(integer=3))),
                pb.Expr(and_expr=pb.Expr.And())):
        code, message = status(lambda bad=bad: stub.Count(pb.CountRequest(index=shop, expr=bad)))
        assert code is Code.INVALID_ARGUMENT, (bad, message)


def test_malformed_rows_are_rejected_alone_with_line_numbers(stub: pb_grpc.SegmentServiceStub) -> None:
    stub.CreateIndex(pb.CreateIndexRequest(index="rows", schema_toml=SCHEMA))
    data = (b"c1,2026-03-01,10.00,1,o1,Nike,black\n"          # 2 good
            b"c2,2026-02-30,10.00,1,o2,Nike,black\n"          # 3 no such day
            b"c3,yesterday,10.00,1,o3,Nike,black\n"           # 4 not a time
            b"c4,2026-03-01,ten,1,o4,Nike,black\n"            # 5 not a number
            b"c5,2026-03-01,10.00,1.5,o5,Nike,black\n"        # 6 quantity not an int
            b"c6,2026-03-01,10.00\n"                          # 7 too few cells
            b"c7,2026-03-01,10.00,1,o7,Nike,black,extra\n"    # 8 too many cells
            b"\n"                                             # 9 blank: no row
            b",2026-03-01,10.00,1,o9,Nike,black\n"            # 10 no customer
            b"c8,\"2026-03-01\",\"1,5\",1,o10,\"Levi\"\"s\",\"bl\nack\"\n"  # 11-12 quoted: bad amount
            b"c9,2026-03-01,5,1,o11,\"Levi\"\"s\",\"navy\"\n"  # 13 good, quoted
            b"\xff\xfe,2026-03-01,5,1,o12,Nike,black\n"       # 14 not UTF-8
            b"c10,2026-03-01 25:00:00,5,1,o13,Nike,black\n")  # 15 bad hour
    summary = stub.AddPurchases(iter([pb.PurchaseBatch(index="rows", csv=pb.CsvChunk(
        header=PURCHASE_HEADER, data=data, first_line=2))])).summary
    rejected = {r.row_number: r.message for r in summary.rejected}
    assert sorted(rejected) == [3, 4, 5, 6, 7, 8, 10, 11, 14, 15], rejected
    assert (summary.rows_accepted, summary.line_count) == (2, 2)
    assert "time" in rejected[3] and "amount" in rejected[5] and "quantity" in rejected[6]
    assert "3 cells" in rejected[7] and "8 cells" in rejected[8] and "UTF-8" in rejected[14]
    assert stub.Count(pb.CountRequest(index="rows", query="purchases MATCHES (brand = 'Levi\"s')")).count == 1


def test_malformed_streams(stub: pb_grpc.SegmentServiceStub) -> None:
    stub.CreateIndex(pb.CreateIndexRequest(index="streams", schema_toml=SCHEMA))
    cases = [
        [pb.PurchaseBatch(csv=pb.CsvChunk(header=["customer"], data=b"c1\n"))],                   # no index
        [pb.PurchaseBatch(index="streams", csv=pb.CsvChunk(header=["customer", "when"], data=b"c1,x\n"))],
        [pb.PurchaseBatch(index="streams", csv=pb.CsvChunk(header=["customer", "customer"], data=b"c,c\n"))],
        [pb.PurchaseBatch(index="streams", csv=pb.CsvChunk(data=b"c1\n"))],                          # no header
        [pb.PurchaseBatch(index="streams"), pb.PurchaseBatch(index="other")],
    ]
    for batches in cases:
        code, message = status(lambda batches=batches: stub.AddPurchases(iter(batches)))
        assert code is Code.INVALID_ARGUMENT, message
    code, _ = status(lambda: stub.AddPurchases(iter([pb.PurchaseBatch(index="missing")])))
    assert code is Code.NOT_FOUND
    # An empty stream is fine and changes nothing.
    assert stub.AddPurchases(iter([])).summary.rows_received == 0
    assert stub.GetIndex(pb.GetIndexRequest(index="streams")).info.line_count == 0


def test_a_broken_client_stream_leaves_the_applied_batches(stub: pb_grpc.SegmentServiceStub) -> None:
    stub.CreateIndex(pb.CreateIndexRequest(index="broken", schema_toml=SCHEMA))

    def batches() -> Iterator[pb.PurchaseBatch]:
        yield pb.PurchaseBatch(index="broken", csv=pb.CsvChunk(header=PURCHASE_HEADER,
                                                               data=b"c1,2026-03-01,1,1,o1,Nike,black\n"))
        raise RuntimeError("the client fell over")

    with pytest.raises(grpc.RpcError):
        stub.AddPurchases(batches())
    info = stub.GetIndex(pb.GetIndexRequest(index="broken")).info
    assert info.line_count in (0, 1)  # the first batch may or may not have arrived; never half of one
