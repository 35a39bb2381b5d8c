"""bitseg.Client against real servers on port 0: every method round-trips, each status code becomes its bitseg
error, and `members` resumes a dropped stream with each member exactly once, in order."""

from __future__ import annotations

import datetime as dt
import gzip
import time
from collections.abc import Iterator
from concurrent import futures
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest

import bitseg
from bitseg import Client
from bitseg.errors import (
    AlreadyExistsError,
    AuthenticationError,
    BitsegError,
    InvalidInputError,
    NotFoundError,
    OverloadedError,
    QueryError,
    ServerError,
    UnavailableError,
)
from bitseg.names import SegmentKind
from bitseg.persistence import SimulatedClock
from bitseg.query.parser import parse
from bitseg.replies import CountResult, HistoryDay, SavedSegment
from bitseg.server.app import Server, ServerConfig, start
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

SCHEMA = """
timezone = "UTC"
[profile]
country = "keyword"
vip = "bool"
tags = "tags"
email = "presence"
[purchase]
brand = "keyword"
"""
DAY = dt.date(2026, 3, 14)
IDS = [f"c{i:04d}" for i in range(1000)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start(ServerConfig(port=0, data_dir=str(tmp_path_factory.mktemp("bitseg-data"))))
    yield running
    running.stop(grace=0)


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[Client]:
    with Client(f"127.0.0.1:{server.port}", timeout=30) as connected:
        yield connected


@pytest.fixture(scope="module")
def shop(client: Client) -> str:
    client.create_index("shop", SCHEMA)
    profiles = [{"customer": cid, "country": "NL" if i % 4 == 0 else "BE", "vip": i % 10 == 0,
                 "tags": ["app_user"] if i % 2 else [], "email": f"{cid}@x" if i % 3 else None}
                for i, cid in enumerate(IDS)]
    summary = client.upsert_profiles("shop", profiles, batch_rows=300)
    assert (summary.rows, summary.accepted, summary.rejected, summary.batches) == (1000, 1000, 0, 4)
    lines = [{"customer": IDS[i], "time": DAY - dt.timedelta(days=i // 5 % 5), "amount": "10.50", "brand": "Levi's",
              "order": f"o{i}"} for i in range(0, 1000, 5)]
    assert client.add_purchases("shop", lines).lines == 200
    return "shop"


def test_import_is_lazy_about_grpc() -> None:
    import subprocess
    import sys

    code = "import sys, bitseg; assert 'grpc' not in sys.modules; bitseg.Client; assert 'grpc' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert bitseg.Client is Client


def test_indexes(client: Client, shop: str) -> None:
    info = client.get_index(shop)
    assert (info.name, info.customers, info.lines, info.timezone) == ("shop", 1000, 200, "UTC")
    assert info.fields["country"] == "keyword" and "orders" in info.builtins and info.dimensions == ("brand",)
    assert "shop" in [i.name for i in client.list_indexes()]
    client.create_index("scratch", SCHEMA)
    with pytest.raises(AlreadyExistsError) as taken:
        client.create_index("scratch", SCHEMA)
    assert taken.value.code == "ALREADY_EXISTS"  # type: ignore[attr-defined]
    client.drop_index("scratch")
    with pytest.raises(NotFoundError) as gone:
        client.get_index("scratch")
    assert gone.value.code == "NOT_FOUND" and "scratch" in gone.value.details  # type: ignore[attr-defined]


def test_counts_and_membership(client: Client, shop: str) -> None:
    dutch = [cid for i, cid in enumerate(IDS) if i % 4 == 0]
    assert client.count(shop, "country = 'NL'") == len(dutch) == 250
    assert client.count(shop, parse("country = 'NL' AND vip = true")) == 50       # a query tree
    assert client.count(shop, "purchases MATCHES (date >= -2d)", as_of=DAY) == 120
    assert client.count(shop, "purchases MATCHES (date BETWEEN -2d AND today)", as_of="2026-03-11") == 80
    results = client.count_batch(shop, ["ALL", parse("vip = true"), "colour = 'x'"])
    assert results[:2] == [CountResult(1000), CountResult(100)]
    assert not results[2].ok and results[2].code == "INVALID_ARGUMENT" and "colour" in results[2].error
    assert list(client.members(shop, "country = 'NL'", chunk_size=7)) == dutch
    assert list(client.members(shop, "country = 'NL'", after=dutch[9], limit=5)) == dutch[10:15]
    client.save_segment(shop, "dutch", "country = 'NL'")
    assert list(client.members(shop, segment="dutch")) == dutch
    assert client.check_membership(shop, dutch[0], ["dutch"]) == {"dutch": True}
    assert client.check_membership(shop, "nobody", ["dutch"]) == {"dutch": False}
    assert client.customer_segments(shop, dutch[0]) == ["dutch"]
    with pytest.raises(ValueError, match="not both"):
        client.count(shop, "ALL", segment="dutch")


def test_segments_lists_and_tiers(client: Client, shop: str) -> None:
    saved = client.save_segment(shop, "vips", parse("vip = true"), kind="hot", description="the best")
    assert saved == SavedSegment("vips", "vip = TRUE", SegmentKind.HOT, "the best")
    assert client.get_segment(shop, "vips") == saved
    assert saved in client.list_segments(shop)
    client.delete_segment(shop, "vips")
    assert "vips" not in [s.name for s in client.list_segments(shop)]

    assert client.update_list(shop, "picked", add=IDS[:3]) == 3
    assert client.update_list(shop, "picked", remove=IDS[:1]) == 2
    assert client.get_list(shop, "picked") == IDS[1:3]
    assert client.update_list(shop, "picked", replace=IDS[5:6]) == 1
    assert client.count(shop, "IN LIST 'picked'") == 1

    client.save_tiering(shop, "loyalty", {"Gold": "vip = true", "Silver": parse("country = 'NL'")}, "Rest")
    assert client.count_tiers(shop, "loyalty") == {"Gold": 100, "Silver": 200, "Rest": 700}
    client.save_tiering(shop, "loyalty", [("Dutch", "country = 'NL'")], "Rest")
    assert client.count_tiers(shop, "loyalty", as_of=DAY) == {"Dutch": 250, "Rest": 750}


def test_statistics(client: Client, shop: str) -> None:
    stats = client.stats(shop, "purchases MATCHES (brand = 'Levi''s')", as_of=DAY)
    assert stats.count == stats.members.customers == 200 and stats.rest.customers == 800
    assert stats.members.orders == 200 and stats.members.revenue == Decimal("2100.00")
    assert stats.members.average_order_value == stats.members.average_clv
    assert set(stats.members.presence_share) == {"email"}
    assert client.breakdown(shop, "ALL", field="country", top=1) == {"BE": 750}
    client.save_segment(shop, "dutch", "country = 'NL'")
    assert client.breakdown(shop, segment="dutch", field="vip") == {"false": 200, "true": 50}
    per_day = client.buyers_per_day(shop, DAY - dt.timedelta(days=1), "2026-03-14", as_of=DAY)
    assert per_day == {dt.date(2026, 3, 13): 40, DAY: 40}
    assert client.buyers_per_day(shop, DAY, DAY, "vip = true", as_of=DAY) == {DAY: 20}


def test_ingest_csv_and_erasure(client: Client, shop: str, tmp_path: Path) -> None:
    client.create_index("csv", SCHEMA)
    path = tmp_path / "purchases.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("customer,time,amount,brand\n")
        handle.writelines(f"x{i},2026-03-{1 + i % 14:02d},{i}.25,\"Brand, {i % 3}\"\n" for i in range(5000))
        handle.write("bad,2026-02-30,1,x\n")
    seen: list[tuple[int, int, int]] = []
    summary = client.import_csv("csv", path, "purchases", chunk_bytes=4096,
                                progress=lambda done, total, lines: seen.append((done, total, lines)))
    assert (summary.rows, summary.accepted, summary.rejected) == (5001, 5000, 1)
    assert summary.rejected_rows[0].row == 5002 and "time" in summary.rejected_rows[0].message
    assert summary.customers == 5000 and summary.lines == 5000 and summary.batches == len(seen) > 1
    assert seen[-1][2] == 5001 and all(total == path.stat().st_size for _, total, _ in seen)
    assert client.count("csv", "purchases MATCHES (brand = 'Brand, 1')") == 1667
    profiles = tmp_path / "profiles.csv"
    profiles.write_text("customer,vip\nx1,true\nx2,maybe\n", encoding="utf-8")
    assert client.import_csv("csv", str(profiles), "profiles").accepted == 1
    with pytest.raises(InvalidInputError, match="empty file") as empty:
        (tmp_path / "empty.csv").write_text("")
        client.import_csv("csv", tmp_path / "empty.csv", "profiles")
    assert not hasattr(empty.value, "code")  # a local problem, not the server's answer
    assert client.delete_customers("csv", ["x1", "x2", "nobody"]) == 2
    assert client.get_index("csv").customers == 4998
    client.drop_index("csv")


def test_history_changes_and_snapshots(server: Server, client: Client, shop: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    store: Any = server.catalog
    monkeypatch.setattr(store, "clock", SimulatedClock("2026-03-14T01:00:00+01:00"))  # DAY, before its 02:00 run
    client.save_segment(shop, "hot_vips", "vip = true", kind=SegmentKind.HOT)
    client.save_segment(shop, "new_vips", "vip = true", kind="trigger")
    assert client.history(shop, "hot_vips") == [HistoryDay(DAY, 100, 100, 0)]  # from the day of the save
    assert list(client.changes(shop, "new_vips", DAY)) == []  # answers on day one: nothing changed yet
    made = client.create_snapshot()
    assert made.bytes > 0 and "shop" in made.indexes and made.created.startswith(made.id[:4])
    assert made in client.list_snapshots()
    store.daily_snapshot("2026-03-13")
    client.update_list(shop, "new", add=["c0001"])
    client.save_segment(shop, "new_vips", "vip = true OR IN LIST 'new'", kind="trigger")
    store.daily_snapshot(DAY)
    assert client.history(shop, "hot_vips", start="2026-03-13") == [
        HistoryDay(dt.date(2026, 3, 13), 100, 100, 0), HistoryDay(DAY, 100, 0, 0)]
    changes = list(client.changes(shop, "new_vips", dt.date(2026, 3, 13), chunk_size=1))
    assert [c.entered for c in changes if c.entered] == [("c0001",)] and not any(c.left for c in changes)


def test_health(server: Server, client: Client) -> None:
    assert client.health() == "SERVING" and client.ping()
    assert not Client("127.0.0.1:9", timeout=2).ping()


def test_status_codes_become_bitseg_errors(client: Client, shop: str) -> None:
    with pytest.raises(QueryError) as bad:
        client.count(shop, "country = 'NL' AND\n  colour = 'x'")
    assert (bad.value.line, bad.value.column, bad.value.offset) == (2, 3, 21)
    assert bad.value.code == "INVALID_ARGUMENT" and str(bad.value) == bad.value.details  # type: ignore[attr-defined]
    with pytest.raises(InvalidInputError):
        client.save_segment(shop, "no spaces allowed", "ALL")
    with pytest.raises(NotFoundError):
        client.count("nowhere", "ALL")
    with pytest.raises(NotFoundError):
        list(client.members(shop, segment="nowhere"))
    with pytest.raises(UnavailableError) as down:
        Client("127.0.0.1:9", timeout=5).count(shop, "ALL")
    assert down.value.code == "UNAVAILABLE"
    with pytest.raises(UnavailableError):
        list(Client("127.0.0.1:9").members(shop, "ALL"))  # nothing received: not a stream to resume


def test_token_size_limit_and_unimplemented(tmp_path: Path) -> None:
    locked = start(ServerConfig(port=0, token="s3cret", max_message_bytes=4096, data_dir=str(tmp_path)))
    try:
        address = f"127.0.0.1:{locked.port}"
        with pytest.raises(AuthenticationError) as denied:
            Client(address).list_indexes()
        assert denied.value.code == "UNAUTHENTICATED" and "token" in denied.value.details
        with Client(address, token="s3cret") as allowed:
            assert allowed.list_indexes() == []
            with pytest.raises(OverloadedError) as big:
                allowed.count("shop", "x" * 10_000)
            assert big.value.code == "RESOURCE_EXHAUSTED"
    finally:
        locked.stop(grace=0)
    in_memory = start(ServerConfig(port=0), bitseg.Catalog())
    try:
        with pytest.raises(ServerError) as missing, Client(f"127.0.0.1:{in_memory.port}") as plain:
            plain.list_snapshots()
        assert missing.value.code == "UNIMPLEMENTED"
    finally:
        in_memory.stop(grace=0)


# ── a dropped member stream ──────────────────────────────────────────────────────────────────────────

class FlakyProxy:
    """A server in front of the real one whose StreamMembers breaks after `chunks` chunks, `drops` times."""

    def __init__(self, target: str, chunks: int, drops: int, code: grpc.StatusCode) -> None:
        self.chunks, self.drops, self.code = chunks, drops, code
        self.afters: list[str] = []
        self.channel = grpc.insecure_channel(target)
        self.stub = pb_grpc.SegmentServiceStub(self.channel)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.unary_stream_rpc_method_handler(self.stream_members,
                                                       request_deserializer=pb.StreamMembersRequest.FromString,
                                                       response_serializer=pb.MemberChunk.SerializeToString)
        slow = grpc.unary_unary_rpc_method_handler(self.slow_count,
                                                   request_deserializer=pb.CountRequest.FromString,
                                                   response_serializer=pb.CountResponse.SerializeToString)
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            "bitseg.v1.SegmentService", {"StreamMembers": handler, "Count": slow}),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def stream_members(self, request: pb.StreamMembersRequest, context: grpc.ServicerContext) -> Iterator[Any]:
        self.afters.append(request.after)
        for sent, chunk in enumerate(self.stub.StreamMembers(request)):
            if sent == self.chunks and self.drops:
                self.drops -= 1
                context.abort(self.code, "connection reset by peer")
            yield chunk

    def slow_count(self, request: pb.CountRequest, context: grpc.ServicerContext) -> pb.CountResponse:
        time.sleep(2)  # past the test client's deadline
        return pb.CountResponse(count=0)

    def stop(self) -> None:
        self.server.stop(0)
        self.channel.close()


@pytest.fixture
def flaky(server: Server) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(f"127.0.0.1:{server.port}", chunks=3, drops=3, code=grpc.StatusCode.UNAVAILABLE)
    yield proxy
    proxy.stop()


def test_members_resume_after_a_dropped_stream(flaky: FlakyProxy, shop: str) -> None:
    with Client(f"127.0.0.1:{flaky.port}") as client:
        assert list(client.members(shop, "ALL", chunk_size=50)) == IDS  # each once, in order
        assert flaky.afters == ["", IDS[149], IDS[299], IDS[449]]
        flaky.drops, flaky.afters = 2, []
        assert list(client.members(shop, "ALL", chunk_size=50, limit=420)) == IDS[:420]
        assert flaky.afters == ["", IDS[149], IDS[299]]
        flaky.chunks, flaky.drops, flaky.code, flaky.afters = 2, 1, grpc.StatusCode.INTERNAL, []
        assert list(client.members(shop, "ALL", chunk_size=100)) == IDS  # a reset connection mid-stream
        assert flaky.afters == ["", IDS[199]]


def test_members_give_up_after_the_retries(flaky: FlakyProxy, shop: str) -> None:
    flaky.drops = 10
    with Client(f"127.0.0.1:{flaky.port}", retries=2) as client:
        received: list[str] = []
        with pytest.raises(UnavailableError, match="connection reset"):
            received.extend(client.members(shop, "ALL", chunk_size=10))
        assert len(flaky.afters) == 3
    flaky.chunks, flaky.drops, flaky.code, flaky.afters = 0, 1, grpc.StatusCode.INTERNAL, []
    with Client(f"127.0.0.1:{flaky.port}") as client, pytest.raises(ServerError):
        list(client.members(shop, "ALL"))  # INTERNAL before any id: a failure, not a dropped stream
    assert flaky.afters == [""]


def test_a_passed_deadline_is_unavailable(flaky: FlakyProxy) -> None:
    with Client(f"127.0.0.1:{flaky.port}", timeout=0.2) as client, pytest.raises(UnavailableError) as late:
        client.count("shop", "ALL")
    assert late.value.code == "DEADLINE_EXCEEDED"


def test_every_error_is_a_bitseg_error() -> None:
    for kind in (AuthenticationError, OverloadedError, UnavailableError, ServerError):
        assert issubclass(kind, BitsegError)
