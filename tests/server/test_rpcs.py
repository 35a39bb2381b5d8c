"""Every RPC of SegmentService against a real server through a real channel, with known answers."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from bitseg import Catalog
from bitseg.server.app import ServerConfig, start
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

from .conftest import channel_for, member_order
from .shop import AS_OF, SCHEMA, load_shop


def count(stub: pb_grpc.SegmentServiceStub, query: str, index: str = "shop") -> int:
    return stub.Count(pb.CountRequest(index=index, query=query, as_of=AS_OF)).count


@pytest.mark.parametrize(("query", "expected"), [
    ("ALL", 6),
    ("country = 'NL'", 2),
    ("country != 'NL'", 4),                      # NULL country included (c5, c6)
    ("vip = true", 1),
    ("tags CONTAINS 'app_user'", 2),
    ("email IS NOT NULL", 2),
    ("purchases MATCHES (brand = 'Levi''s')", 2),
    ("purchases MATCHES (brand = 'Levi''s', sum_amount >= 300)", 1),
    ("purchases MATCHES (date >= -30d)", 2),
    ("purchases MATCHES (color != 'black')", 3),   # c1's Nike line has no color
    ("clv >= 100 AND orders = 1", 2),
    ("ANNIVERSARY(birth_date) BETWEEN today AND +13d", 1),
])
def test_count(stub: pb_grpc.SegmentServiceStub, shop: str, query: str, expected: int) -> None:
    assert count(stub, query) == expected


def test_count_by_expr_and_by_segment(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    expr = pb.Expr(and_expr=pb.Expr.And(operands=[
        pb.Expr(compare=pb.Expr.Compare(field="country", op="=", value=pb.Value(text="NL"))),
        pb.Expr(matches=pb.Expr.Matches(params=[
            pb.MatchParam(date_compare=pb.MatchParam.DateCompare(
                op=">=", value=pb.Value(relative=pb.RelativeDay(amount=-30, unit="d")))),
        ])),
    ]))
    assert stub.Count(pb.CountRequest(index=shop, expr=expr, as_of=AS_OF)).count == 1
    negated = pb.Expr(compare=pb.Expr.Compare(field="country", op="!=", value=pb.Value(text="NL")))
    assert stub.Count(pb.CountRequest(index=shop, expr=negated, as_of=AS_OF)).count == 4
    stub.SaveSegment(pb.SaveSegmentRequest(index=shop, name="recent", query="purchases MATCHES (date >= -30d)"))
    assert stub.Count(pb.CountRequest(index=shop, segment="recent", as_of=AS_OF)).count == 2


def test_count_batch_answers_each_query_with_its_own_error(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    stub.SaveSegment(pb.SaveSegmentRequest(index=shop, name="dutch", query="country = 'NL'"))
    response = stub.CountBatch(pb.CountBatchRequest(index=shop, as_of=AS_OF, queries=[
        pb.Selection(query="ALL"),
        pb.Selection(segment="dutch"),
        pb.Selection(query="colour = 'red'"),
        pb.Selection(segment="no_such_segment"),
        pb.Selection(expr=pb.Expr(is_null=pb.Expr.IsNull(field="country"))),
    ]))
    results = [(r.count, r.code) for r in response.results]
    assert results == [(6, ""), (2, ""), (0, "INVALID_ARGUMENT"), (0, "NOT_FOUND"), (2, "")]
    assert "did you mean 'color'" in response.results[2].error or "colour" in response.results[2].error


def test_stream_members_in_column_order_with_resume(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    def ids(**kw: object) -> list[str]:
        request = pb.StreamMembersRequest(index=shop, query="ALL", as_of=AS_OF, **kw)
        return [i for chunk in stub.StreamMembers(request) for i in chunk.customer_ids]

    everyone = member_order(["c1", "c2", "c3", "c4", "c5", "c6"])  # sharded: by shard, then column order
    assert ids() == everyone
    assert ids(chunk_size=4) == ids()
    assert [len(c.customer_ids) for c in stub.StreamMembers(pb.StreamMembersRequest(
        index=shop, query="ALL", chunk_size=4))] == [4, 2]
    at = everyone.index("c2")
    assert ids(after="c2", limit=3) == everyone[at + 1: at + 4]
    assert ids(after=everyone[-1]) == []


def test_membership_and_customer_segments(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    stub.SaveSegment(pb.SaveSegmentRequest(index=shop, name="nl", query="country = 'NL'"))
    stub.SaveSegment(pb.SaveSegmentRequest(index=shop, name="nl_vip", query="IN SEGMENT 'nl' AND vip = true",
                                           kind=pb.HOT, description="Dutch VIPs"))
    check = stub.CheckMembership
    assert list(check(pb.CheckMembershipRequest(index=shop, customer_id="c1", segments=["nl", "nl_vip"]))
                .is_member) == [True, True]
    assert list(check(pb.CheckMembershipRequest(index=shop, customer_id="c3", segments=["nl", "nl_vip"]))
                .is_member) == [True, False]
    assert list(check(pb.CheckMembershipRequest(index=shop, customer_id="nobody", segments=["nl", "nl_vip"]))
                .is_member) == [False, False]
    segments = stub.CustomerSegments(pb.CustomerSegmentsRequest(index=shop, customer_id="c1", as_of=AS_OF))
    assert {"nl", "nl_vip"} <= set(segments.segments)
    assert "nl_vip" not in stub.CustomerSegments(pb.CustomerSegmentsRequest(index=shop, customer_id="c3")).segments


def test_saved_segments(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    saved = stub.SaveSegment(pb.SaveSegmentRequest(
        index=shop, name="big_levis", kind=pb.TRIGGER, description="Levi's fans",
        query="purchases matches (brand = 'Levi''s', sum_amount >= 300)")).segment
    assert saved.query == "PURCHASES MATCHES (brand = 'Levi''s', sum_amount >= 300)"  # canonical text
    assert saved.kind == pb.TRIGGER and saved.description == "Levi's fans"
    assert saved.expr.matches.params[1].measure_compare.value.integer == 300
    got = stub.GetSegment(pb.GetSegmentRequest(index=shop, name="big_levis")).segment
    assert got == saved
    # The structured form saves the same segment.
    again = stub.SaveSegment(pb.SaveSegmentRequest(index=shop, name="big_levis_2", expr=saved.expr)).segment
    assert again.query == saved.query and again.kind == pb.STANDARD
    names = [s.name for s in stub.ListSegments(pb.ListSegmentsRequest(index=shop)).segments]
    assert names == sorted(names) and {"big_levis", "big_levis_2"} <= set(names)
    stub.DeleteSegment(pb.DeleteSegmentRequest(index=shop, name="big_levis_2"))
    assert "big_levis_2" not in [s.name for s in stub.ListSegments(pb.ListSegmentsRequest(index=shop)).segments]


def test_static_lists(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    assert stub.UpdateList(pb.UpdateListRequest(index=shop, name="gold", add=["c1", "c2"])).size == 2
    assert stub.UpdateList(pb.UpdateListRequest(index=shop, name="gold", remove=["c2"])).size == 1
    assert stub.UpdateList(pb.UpdateListRequest(index=shop, name="gold", replace=True,
                                                replace_with=["c4", "c3"])).size == 2
    got = stub.GetList(pb.GetListRequest(index=shop, name="gold"))
    assert list(got.customer_ids) == member_order(["c3", "c4"]) and got.size == 2
    assert count(stub, "IN LIST 'gold'") == 2
    assert "gold" in stub.GetIndex(pb.GetIndexRequest(index=shop)).info.lists


def test_tierings(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    stub.SaveTiering(pb.SaveTieringRequest(index=shop, name="loyalty", default_tier="Bronze", tiers=[
        pb.Tier(name="Gold", selection=pb.Selection(query="clv >= 200")),
        pb.Tier(name="Silver", selection=pb.Selection(expr=pb.Expr(compare=pb.Expr.Compare(
            field="clv", op=">=", value=pb.Value(decimal="100.00"))))),
    ]))
    tiers = stub.CountTiers(pb.CountTiersRequest(index=shop, name="loyalty", as_of=AS_OF)).tiers
    assert [(t.tier, t.count) for t in tiers] == [("Gold", 1), ("Silver", 1), ("Bronze", 4)]


def test_statistics(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    stats = stub.GetStats(pb.GetStatsRequest(index=shop, query="country = 'NL'", as_of=AS_OF))
    assert stats.count == 2
    assert (stats.members.customers, stats.members.orders) == (2, 2)
    assert float(stats.members.revenue) == 450.0 and float(stats.members.average_clv) == 225.0
    assert stats.members.presence_share["email"] == 0.5
    assert (stats.rest.customers, float(stats.rest.revenue)) == (4, 65.5)

    values = stub.Breakdown(pb.BreakdownRequest(index=shop, query="ALL", field="country", top=3)).values
    assert [(v.value, v.count) for v in values] == [("NL", 2), ("", 2), ("BE", 1)]  # "" counts NULLs

    days = stub.BuyersPerDay(pb.BuyersPerDayRequest(index=shop, start="2026-03-01", end="2026-03-02")).days
    assert [(d.day, d.count) for d in days] == [("2026-03-01", 1), ("2026-03-02", 0)]
    nl_days = stub.BuyersPerDay(pb.BuyersPerDayRequest(index=shop, query="country = 'NL'", start="2026-02-01",
                                                       end="2026-02-01")).days
    assert [(d.day, d.count) for d in nl_days] == [("2026-02-01", 1)]


def test_index_lifecycle_and_delete_customers(stub: pb_grpc.SegmentServiceStub) -> None:
    created = stub.CreateIndex(pb.CreateIndexRequest(index="scratch", schema_toml=SCHEMA)).info
    assert (created.name, created.customer_count, created.timezone) == ("scratch", 0, "Europe/Amsterdam")
    assert {f.name for f in created.fields if f.builtin} == {"orders", "clv", "first_purchase_date",
                                                             "last_purchase_date"}
    assert list(created.dimensions) == ["brand", "color"]
    stub.DropIndex(pb.DropIndexRequest(index="scratch"))
    load_shop(stub, "scratch")
    info = stub.GetIndex(pb.GetIndexRequest(index="scratch")).info
    assert (info.customer_count, info.line_count) == (6, 6)
    assert "scratch" in [i.name for i in stub.ListIndexes(pb.ListIndexesRequest()).indexes]
    assert stub.DeleteCustomers(pb.DeleteCustomersRequest(index="scratch", customer_ids=["c1", "c3", "zz"])).deleted == 2
    assert count(stub, "ALL", "scratch") == 4
    assert count(stub, "purchases MATCHES (brand = 'Levi''s')", "scratch") == 0
    stub.DropIndex(pb.DropIndexRequest(index="scratch"))
    with pytest.raises(grpc.RpcError) as err:
        stub.GetIndex(pb.GetIndexRequest(index="scratch"))
    assert err.value.code() is grpc.StatusCode.NOT_FOUND


def test_profile_rows_set_only_the_fields_they_name(stub: pb_grpc.SegmentServiceStub) -> None:
    load_shop(stub, "profiles")
    summary = stub.UpsertProfiles(iter([
        pb.ProfileBatch(index="profiles", rows=[pb.Row(cells={"customer": "c1", "vip": "false"})]),
        pb.ProfileBatch(rows=[pb.Row(cells={"customer": "c4", "country": ""})]),           # "" clears
        pb.ProfileBatch(csv=pb.CsvChunk(header=["customer", "points"], data=b"c5,7\nc7,8\n", first_line=2)),
    ])).summary
    assert (summary.batches, summary.rows_received, summary.rows_accepted, summary.customer_count) == (3, 4, 4, 7)
    assert count(stub, "vip = true", "profiles") == 0
    assert count(stub, "country = 'NL'", "profiles") == 2                                  # c1 kept its country
    assert count(stub, "country IS NULL", "profiles") == 4                                 # c4, c5, c6, c7
    assert count(stub, "points < 9", "profiles") == 2


def test_snapshots_need_a_data_directory_and_history_does_not() -> None:
    catalog = Catalog()
    in_memory = start(ServerConfig(port=0), catalog)
    try:
        with channel_for(in_memory) as channel:
            stub = pb_grpc.SegmentServiceStub(channel)
            load_shop(stub)
            for call in (lambda: stub.CreateSnapshot(pb.CreateSnapshotRequest()),
                         lambda: stub.ListSnapshots(pb.ListSnapshotsRequest())):
                with pytest.raises(grpc.RpcError) as err:
                    call()
                assert err.value.code() is grpc.StatusCode.UNIMPLEMENTED
                assert "this server runs without a data directory" in err.value.details()
            # history and changes are the index's: an in-memory index answers them too, from the day of the save
            index = catalog.get("shop")
            index.clock = lambda: dt.datetime(2026, 3, 14, 12, tzinfo=dt.UTC)  # AS_OF
            stub.SaveSegment(pb.SaveSegmentRequest(index="shop", name="everyone", query="ALL", kind=pb.HOT))
            stub.SaveSegment(pb.SaveSegmentRequest(index="shop", name="arrivals", query="ALL", kind=pb.TRIGGER))
            size = stub.Count(pb.CountRequest(index="shop", query="ALL")).count
            [row] = stub.GetHistory(pb.GetHistoryRequest(index="shop", segment="everyone")).rows
            assert (row.day, row.size, row.entered, row.left) == (AS_OF, size, size, 0)
            assert list(stub.StreamChanges(pb.StreamChangesRequest(index="shop", segment="arrivals",
                                                                   since=AS_OF))) == []
            index.record_evaluation(index.daily_evaluation(index.as_of(AS_OF)))
            size = stub.Count(pb.CountRequest(index="shop", query="ALL")).count
            [row] = stub.GetHistory(pb.GetHistoryRequest(index="shop", segment="everyone")).rows
            assert (row.day, row.size, row.entered, row.left) == (AS_OF, size, size, 0)
            chunks = list(stub.StreamChanges(pb.StreamChangesRequest(index="shop", segment="arrivals", since=AS_OF)))
            assert [list(c.entered) for c in chunks] == [] and size > 0  # nothing changed since that evaluation
    finally:
        in_memory.stop(grace=0)


def test_health_and_reflection(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "bitseg.v1.SegmentService"):
        assert health.Check(health_pb2.HealthCheckRequest(service=service)).status == \
            health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    services = {s.name for answer in answers for s in answer.list_services_response.service}
    assert {"bitseg.v1.SegmentService", "grpc.health.v1.Health"} <= services
