"""Issue 10, finding 1: an expensive query is abandoned when its caller cancels or its deadline passes; the
CPU and the index lock are free within a second, and a ceiling on the estimated cost refuses it up front."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import grpc
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile import Hostile  # noqa: E402

from bitseg.v1 import segments_pb2 as pb  # noqa: E402
from bitseg.v1 import segments_pb2_grpc as pb_grpc  # noqa: E402

# 800 MATCHES terms, each over its own window: ~10 s of CPU here (scans of the same window share their measures)
EXPENSIVE = " OR ".join(
    f"purchases MATCHES (date BETWEEN {dt.date(2025, 1, 1) + dt.timedelta(i % 40)} AND "
    f"{dt.date(2025, 12, 31) - dt.timedelta(i // 40)}, count > {i})" for i in range(800))  # count: no roll-up
# the 64 KiB query of the finding: 1,625 terms over the same lines, 85 s of CPU at 1M customers before their
# scans were shared; now one scan and 1,625 compares
FINDING = " OR ".join(f"purchases MATCHES (sum_amount > {i})" for i in range(1, 1626))


@pytest.fixture(scope="module")
def server():
    hostile = Hostile(50_000, 500_000, max_call_seconds=4.0)
    yield hostile
    hostile.stop()


def stub(server: Hostile) -> pb_grpc.SegmentServiceStub:
    return pb_grpc.SegmentServiceStub(server.channel())


def quick_count(server: Hostile) -> float:
    """Seconds a cheap Count on the same index takes (it needs the index lock)."""
    started = time.monotonic()
    assert stub(server).Count(pb.CountRequest(index="shop", query="country = 'NL'"), timeout=5).count > 0
    return time.monotonic() - started


def test_a_cancelled_query_stops_and_frees_the_cpu_and_the_lock(server: Hostile) -> None:
    call = stub(server).Count.future(pb.CountRequest(index="shop", query=EXPENSIVE))
    time.sleep(1.0)
    busy = server.cpu()
    time.sleep(0.5)
    assert server.cpu() - busy > 0.05, "the expensive query is not running"
    call.cancel()
    assert server.wait_idle() < 1.0
    assert quick_count(server) < 1.0
    assert call.cancelled()


def test_a_client_deadline_abandons_the_work(server: Hostile) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stub(server).Count(pb.CountRequest(index="shop", query=EXPENSIVE), timeout=1.0)
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert server.wait_idle() < 1.0
    assert quick_count(server) < 1.0


def test_the_server_caps_a_call_without_deadline(server: Hostile) -> None:
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        stub(server).Count(pb.CountRequest(index="shop", query=EXPENSIVE))  # no deadline: the server's 4 s
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert 3.5 < time.monotonic() - started < 6.0
    assert "max_call_seconds" in caught.value.details()
    assert quick_count(server) < 1.0


def test_a_query_past_the_cost_ceiling_is_refused_before_it_runs(server: Hostile) -> None:
    # 480 scans of about 480,000 lines, each over its own window with four measures: past the default ceiling
    # (2e9 work units)
    huge = " OR ".join(f"purchases MATCHES (date BETWEEN {dt.date(2025, 1, 1) + dt.timedelta(i % 20)} AND "
                       f"{dt.date(2025, 12, 31) - dt.timedelta(i // 20)}, sum_amount > {i}, count > 0, "
                       "sum_quantity > 0, days > 0)" for i in range(480))
    assert len(huge) <= 64 * 1024
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        stub(server).Count(pb.CountRequest(index="shop", query=huge), timeout=10)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "max_query_cost" in caught.value.details()
    assert time.monotonic() - started < 2.0


def test_the_findings_query_shares_one_scan(server: Hostile) -> None:
    assert len(FINDING) <= 64 * 1024
    reply = stub(server).Count(pb.CountRequest(index="shop", query=FINDING), timeout=30)  # the server's cap: 4 s
    assert reply.count > 0


def test_a_cancelled_tiering_stops(server: Hostile) -> None:
    """CountTiers over 200 expensive tiers (4 windows each) is abandoned on cancel; a Count answers next."""
    channel = server.channel()
    terms = EXPENSIVE.replace("count > ", "count > 9999").split(" OR ")  # no one in any tier
    tiers = [pb.Tier(name=f"t{i}", selection=pb.Selection(query=" OR ".join(terms[4 * i: 4 * i + 4])))
             for i in range(200)]
    pb_grpc.SegmentServiceStub(channel).SaveTiering(pb.SaveTieringRequest(index="shop", name="spend", tiers=tiers,
                                                                          default_tier="none"), timeout=30)
    call = stub(server).CountTiers.future(pb.CountTiersRequest(index="shop", name="spend"))
    time.sleep(0.5)
    assert not call.done(), "the tiering is not expensive enough to be cancelled"
    call.cancel()
    assert server.wait_idle() < 2.0
    assert quick_count(server) < 1.0
    assert call.cancelled()
