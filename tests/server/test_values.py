"""The Values RPC and the unknown-value warnings of Count and CountBatch, against a real server."""

from __future__ import annotations

import csv
import io
import json

import grpc
import pytest

from bitseg import Client
from bitseg.cli import main
from bitseg.replies import Counted, FieldValue
from bitseg.server.app import Server
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

from .shop import AS_OF, PROFILES, PURCHASE_HEADER, PURCHASES_CSV, load_shop


def values(stub: pb_grpc.SegmentServiceStub, field: str, prefix: str = "", limit: int = 0,
           index: str = "shop") -> list[tuple[str, int]]:
    reply = stub.Values(pb.ValuesRequest(index=index, field=field, prefix=prefix, limit=limit))
    return [(v.value, v.count) for v in reply.values]


def buyers_by_value(dim: str, gone: frozenset[str] = frozenset()) -> dict[str, int]:
    """Independently of the index: per value of `dim`, the customers with a line of quantity > 0 having it."""
    found: dict[str, set[str]] = {}
    for row in csv.DictReader(io.StringIO(PURCHASES_CSV.decode()), fieldnames=PURCHASE_HEADER):
        if int(row["quantity"]) > 0 and row[dim] and row["customer"] not in gone:
            found.setdefault(row[dim], set()).add(row["customer"])
    return {value: len(customers) for value, customers in found.items()}


def expected_order(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda c: (-c[1], c[0]))


def test_profile_field_values_largest_first(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    countries: dict[str, int] = {}
    for row in PROFILES:
        if row.get("country"):
            countries[row["country"]] = countries.get(row["country"], 0) + 1
    assert values(stub, "country") == expected_order(countries) == [("NL", 2), ("BE", 1), ("DE", 1)]
    assert values(stub, "tags") == [("app_user", 2), ("newsletter", 2)]
    assert values(stub, "vip") == [("false", 1), ("true", 1)]


@pytest.mark.parametrize("dim", ["brand", "color"])
def test_dimension_values_count_customers_with_a_purchase_line(stub: pb_grpc.SegmentServiceStub, shop: str,
                                                               dim: str) -> None:
    assert values(stub, dim) == expected_order(buyers_by_value(dim))


def test_prefix_is_case_insensitive_and_limit_keeps_the_largest(stub: pb_grpc.SegmentServiceStub,
                                                                shop: str) -> None:
    assert values(stub, "brand", prefix="ni") == [("Nike", 2)]
    assert values(stub, "brand", prefix="LEV") == [("Levi's", 2)]
    assert values(stub, "country", prefix="x") == []
    assert values(stub, "country", limit=1) == [("NL", 2)]
    assert values(stub, "brand", limit=2) == expected_order(buyers_by_value("brand"))[:2]


@pytest.mark.parametrize(("field", "limit", "code", "named"), [
    ("colour", 0, grpc.StatusCode.NOT_FOUND, "'colour'"),
    ("points", 0, grpc.StatusCode.INVALID_ARGUMENT, "int field"),
    ("birth_date", 0, grpc.StatusCode.INVALID_ARGUMENT, "date field"),
    ("email", 0, grpc.StatusCode.INVALID_ARGUMENT, "presence field"),
    ("country", -1, grpc.StatusCode.INVALID_ARGUMENT, "limit -1"),
])
def test_values_refuses_what_has_no_values(stub: pb_grpc.SegmentServiceStub, shop: str, field: str, limit: int,
                                           code: grpc.StatusCode, named: str) -> None:
    with pytest.raises(grpc.RpcError) as err:
        values(stub, field, limit=limit)
    assert err.value.code() is code and named in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        values(stub, "country", index="nowhere")
    assert err.value.code() is grpc.StatusCode.NOT_FOUND


def test_deleted_customers_leave_the_counts(stub: pb_grpc.SegmentServiceStub) -> None:
    load_shop(stub, "shop_values_deleted")
    stub.DeleteCustomers(pb.DeleteCustomersRequest(index="shop_values_deleted", customer_ids=["c6", "c2"]))
    assert values(stub, "brand", index="shop_values_deleted") == expected_order(
        buyers_by_value("brand", frozenset({"c6", "c2"})))
    assert values(stub, "country", index="shop_values_deleted") == [("NL", 2), ("DE", 1)]


@pytest.mark.parametrize(("query", "warned"), [
    ("country = 'nl'", ["no customer has country 'nl'; nearest: 'NL'"]),
    ("country IN ('NL', 'de')", ["no customer has country 'de'; nearest: 'DE'"]),
    ("NOT country != 'be'", ["no customer has country 'be'; nearest: 'BE'"]),
    ("tags CONTAINS 'App_User'", ["no customer has tags 'App_User'; nearest: 'app_user'"]),
    ("purchases MATCHES (brand = 'Nkie')", ["no purchase line has brand 'Nkie'; nearest: 'Nike'"]),
    ("purchases MATCHES (brand IN ('nike', 'Zara'))", ["no purchase line has brand 'nike'; nearest: 'Nike'"]),
    ("country = 'FR'", ["no customer has country 'FR'"]),
    ("country = 'NL' AND tags CONTAINS 'newsletter' AND purchases MATCHES (brand = 'Nike', color = 'black')", []),
    ("vip = true AND points > 5", []),
])
def test_count_warns_about_values_nobody_has(stub: pb_grpc.SegmentServiceStub, shop: str, query: str,
                                              warned: list[str]) -> None:
    reply = stub.Count(pb.CountRequest(index="shop", query=query, as_of=AS_OF))
    assert list(reply.warnings) == warned
    batch = stub.CountBatch(pb.CountBatchRequest(index="shop", as_of=AS_OF, queries=[
        pb.Selection(query=query), pb.Selection(query="colour = 'x'")]))
    assert list(batch.results[0].warnings) == warned and batch.results[0].count == reply.count
    assert batch.results[1].code == "INVALID_ARGUMENT" and not batch.results[1].warnings


def test_client_values_and_warnings(server: Server, shop: str) -> None:
    with Client(f"127.0.0.1:{server.port}") as client:
        assert client.values("shop", "brand", prefix="n") == (FieldValue("Nike", 2),)
        assert client.count_with_warnings("shop", "country = 'nl'") == Counted(
            0, ("no customer has country 'nl'; nearest: 'NL'",))
        assert client.count_with_warnings("shop", "country = 'NL'") == Counted(2, ())
        assert client.count("shop", "country = 'nl'") == 0
        [typo, fine] = client.count_batch("shop", ["country = 'nl'", "country = 'NL'"])
        assert typo.warnings == ("no customer has country 'nl'; nearest: 'NL'",) and fine.warnings == ()


def test_cli_values_and_count_warnings(capsys: pytest.CaptureFixture[str], server: Server, shop: str) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        code = main([args[0], "--server", f"127.0.0.1:{server.port}", "--index", "shop", *args[1:]])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    code, out, _ = run("values", "--field", "country")
    assert code == 0 and out.split("\n")[0].split() == ["NL", "2"] and "BE" in out
    code, out, _ = run("values", "--json", "--field", "brand", "--prefix", "ZA", "--limit", "5")
    assert json.loads(out) == [{"value": "Zara", "count": 1}]
    assert run("values", "--field", "colour")[0] != 0
    code, out, err = run("count", "--as-of", AS_OF, "country = 'nl'")
    assert code == 0 and out == "0\n" and "warning: no customer has country 'nl'; nearest: 'NL'" in err
    code, out, err = run("count", "--json", "--as-of", AS_OF, "country = 'NL'")
    assert json.loads(out) == {"count": 2} and err == ""
