"""Breakdown by a purchase dimension through the Breakdown RPC, bitseg.Client and `bitseg breakdown`, against a
real server on the shared shop (its lines worked by hand below)."""

from __future__ import annotations

import json
from decimal import Decimal

import grpc
import pytest

from bitseg import Client
from bitseg.cli import main
from bitseg.replies import BreakdownRow
from bitseg.server.app import Server
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

from .shop import AS_OF

# The shop's lines up to AS_OF: c1 Levi's 120 (black) and Nike 30 (no color) on 03-01; c2 Nike 50 (2025);
# c3 Levi's 400 (blue) on 02-01, returned -100 on 02-10; c6 Zara 15.50 (black) on 03-10.
ALL_BRANDS = [("Levi's", 2, "420"), ("Nike", 2, "80"), ("Zara", 1, "15.5")]
SINCE_FEB_5 = [("Levi's", 1, "120"), ("Nike", 1, "30"), ("Zara", 1, "15.5")]  # c3's return: not a buyer there
DUTCH_COLORS = [("black", 1, "120"), ("blue", 1, "300"), ("", 1, "30")]


def rows(stub: pb_grpc.SegmentServiceStub, field: str, query: str = "ALL", **window: str) -> list[tuple]:
    reply = stub.Breakdown(pb.BreakdownRequest(index="shop", query=query, field=field, as_of=AS_OF, **window))
    return [(v.value, v.count, v.revenue) for v in reply.values]


def same(got: list[tuple], expected: list[tuple]) -> bool:
    return [(v, n, Decimal(r)) for v, n, r in got] == [(v, n, Decimal(r)) for v, n, r in expected]


def test_rpc_breakdown_by_a_dimension(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    assert same(rows(stub, "brand"), ALL_BRANDS)
    assert same(rows(stub, "brand", start="2026-02-05"), SINCE_FEB_5)
    assert same(rows(stub, "brand", start="2026-02-05", end="2099-01-01"), SINCE_FEB_5)  # never past as_of
    assert same(rows(stub, "color", "country = 'NL'"), DUTCH_COLORS)
    assert rows(stub, "country") == [("NL", 2, ""), ("", 2, ""), ("BE", 1, ""), ("DE", 1, "")]  # a profile field: no revenue


@pytest.mark.parametrize(("window", "named"), [
    ({"field": "country", "start": "2026-01-01"}, "needs a purchase dimension"),
    ({"field": "brand", "end": "2026-02-30"}, "end"),
    ({"field": "colour"}, "'colour'"),
])
def test_rpc_breakdown_refusals_name_the_problem(stub: pb_grpc.SegmentServiceStub, shop: str, window: dict,
                                                 named: str) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.Breakdown(pb.BreakdownRequest(index="shop", query="ALL", as_of=AS_OF, **window))
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT and named in err.value.details()


def test_client_breakdown_rows(server: Server, shop: str) -> None:
    with Client(f"127.0.0.1:{server.port}") as client:
        got = client.breakdown_rows("shop", "ALL", field="brand", as_of=AS_OF, start="2026-02-05")
        assert got == [BreakdownRow(v, n, Decimal(r)) for v, n, r in SINCE_FEB_5]
        assert client.breakdown("shop", "ALL", field="brand", as_of=AS_OF, top=1) == {"Levi's": 2}
        assert client.breakdown_rows("shop", "ALL", field="country", top=1) == [BreakdownRow("NL", 2)]


def test_cli_breakdown_by_a_dimension(capsys: pytest.CaptureFixture[str], server: Server, shop: str) -> None:
    def run(*args: str) -> str:
        assert main(["breakdown", "--server", f"127.0.0.1:{server.port}", "--index", "shop", *args]) == 0
        return capsys.readouterr().out

    out = run("--field", "brand", "--as-of", AS_OF, "ALL", "--start", "2026-02-05")
    assert out.split("\n")[:2] == ["value   buyers  revenue", "Levi's  1       120.00"]
    data = json.loads(run("--json", "--field", "color", "--as-of", AS_OF, "country = 'NL'"))
    assert data == [{"value": "black", "count": 1, "revenue": "120"}, {"value": "blue", "count": 1,
                    "revenue": "300"}, {"value": None, "count": 1, "revenue": "30"}]
