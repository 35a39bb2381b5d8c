"""Issue 10, finding 1 (the lock part): a call waiting for an index lock (a write publishing, a snapshot copying,
another write preparing) keeps its deadline and its cancellation: it answers DEADLINE_EXCEEDED or CANCELLED
while the lock is still held, with nothing left waiting, and a write abandoned this way is never applied."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import grpc
import pytest

import bitseg
from bitseg.server.app import ServerConfig, start
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc


@pytest.fixture()
def server():
    catalog = bitseg.Catalog()
    index = catalog.create_index("shop", '[profile]\ncountry = "keyword"\n')
    index.upsert_profiles([{"customer": f"c{i}", "country": "NL"} for i in range(100)])
    running = start(ServerConfig(port=0, max_call_seconds=1.0), catalog)
    ended: list[tuple[str, str, float]] = []
    monitored = running.monitor.call_ended

    def record(method, code, seconds, request):
        ended.append((method, code, time.monotonic()))
        monitored(method, code, seconds, request)

    running.monitor.call_ended = record
    channel = grpc.insecure_channel(running.address)
    yield pb_grpc.SegmentServiceStub(channel), index, ended
    channel.close()
    running.stop(grace=0)


@contextmanager
def held(lock):
    """`lock` taken by another thread (as a write's publish step or a snapshot's copy holds it) until the end."""
    taken, release = threading.Event(), threading.Event()

    def hold():
        with lock:
            taken.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait(5)
    try:
        yield
    finally:
        release.set()
        thread.join()


def ended_while_held(ended, method: str, *codes: str, timeout: float = 5.0) -> bool:
    """Whether the server finished `method` with one of `codes` (its handler returned) within `timeout` seconds."""
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        if any(m == method and c in codes for m, c, _ in ended):
            return True
        time.sleep(0.02)
    return False


def test_a_count_waiting_behind_a_publish_keeps_the_client_deadline(server) -> None:
    stub, index, ended = server
    with held(index.lock):
        with pytest.raises(grpc.RpcError) as caught:
            stub.Count(pb.CountRequest(index="shop", query="country = 'NL'"), timeout=0.3)
        assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        # the server's handler gave up too (the lock is still held): its worker is free again
        assert ended_while_held(ended, "Count", "DEADLINE_EXCEEDED")
    assert stub.Count(pb.CountRequest(index="shop", query="country = 'NL'"), timeout=5).count == 100


def test_the_server_cap_bounds_a_wait_without_client_deadline(server) -> None:
    stub, index, ended = server
    with held(index.lock):
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as caught:
            stub.Count(pb.CountRequest(index="shop", query="country = 'NL'"))  # the server's 1 s cap
        assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        assert "waited for the index" in caught.value.details()
        assert time.monotonic() - started < 10  # not until the lock is released (30 s)


def test_a_cancelled_count_stops_waiting(server) -> None:
    stub, index, ended = server
    with held(index.lock):
        call = stub.Count.future(pb.CountRequest(index="shop", query="country = 'NL'"))
        time.sleep(0.3)
        assert not ended
        call.cancel()
        assert ended_while_held(ended, "Count", "CANCELLED")


def test_a_write_waiting_for_another_write_is_abandoned_and_never_applied(server) -> None:
    stub, index, ended = server
    with held(index.write_lock):  # another write preparing, or a snapshot copying the state
        with pytest.raises(grpc.RpcError) as caught:
            stub.UpsertProfiles(iter([pb.ProfileBatch(index="shop", rows=[
                pb.Row(cells={"customer": "late", "country": "BE"})])]), timeout=0.3)
        # A client stream past its deadline may reach the handler as a cancelled stream first: either way the
        # write was abandoned while the lock was held.
        assert caught.value.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED)
        assert ended_while_held(ended, "UpsertProfiles", "DEADLINE_EXCEEDED", "CANCELLED")
    assert index.count("country = 'BE'") == 0 and index.customer_count == 100


def test_a_segment_save_waiting_for_the_readers_lock_is_abandoned_and_never_saved(server) -> None:
    stub, index, ended = server
    with held(index.lock):  # a publish or a snapshot copy: the save's prepare step reads the index as readers do
        with pytest.raises(grpc.RpcError) as caught:
            stub.SaveSegment(pb.SaveSegmentRequest(index="shop", name="dutch", query="country = 'NL'",
                                                   kind=pb.HOT), timeout=0.3)
        assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        assert ended_while_held(ended, "SaveSegment", "DEADLINE_EXCEEDED")
    assert [s.name for s in index.list_segments()] == []
    stub.SaveSegment(pb.SaveSegmentRequest(index="shop", name="dutch", query="country = 'NL'", kind=pb.HOT),
                     timeout=5)
    assert [s.name for s in index.list_segments()] == ["dutch"]
