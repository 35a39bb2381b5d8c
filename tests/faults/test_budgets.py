"""Issue 10, finding 1: an expensive query is abandoned when its caller cancels or its deadline passes; the
CPU and the index lock are free within a second, and a ceiling on the estimated cost refuses it up front."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import grpc
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile import Hostile  # noqa: E402

from bitseg.v1 import segments_pb2 as pb  # noqa: E402
from bitseg.v1 import segments_pb2_grpc as pb_grpc  # noqa: E402

EXPENSIVE = " OR ".join(f"purchases MATCHES (sum_amount > {i})" for i in range(1, 1000))  # ~10 s of CPU


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
    # 800 scans of 500,000 lines with three measures each: past the default ceiling (2e9 work units)
    huge = " OR ".join(f"purchases MATCHES (sum_amount > {i}, count > 0, sum_quantity > 0)" for i in range(800))
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        stub(server).Count(pb.CountRequest(index="shop", query=huge), timeout=10)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "max_query_cost" in caught.value.details()
    assert time.monotonic() - started < 2.0
