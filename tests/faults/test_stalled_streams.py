"""Issue 10, finding 2: 64 StreamMembers readers that stop reading neither hang the server nor its health check;
streams past the cap are refused with RESOURCE_EXHAUSTED, and stalled ones are ended after `stall_seconds`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile import Hostile  # noqa: E402

from bitseg.v1 import segments_pb2 as pb  # noqa: E402
from bitseg.v1 import segments_pb2_grpc as pb_grpc  # noqa: E402

STALL_SECONDS = 6.0


@pytest.fixture(scope="module")
def server():
    hostile = Hostile(200_000, 0, stall_seconds=STALL_SECONDS)
    yield hostile
    hostile.stop()


def stall(server: Hostile, count: int) -> tuple[list, list[grpc.StatusCode]]:
    """`count` streams that read one chunk and then nothing; (the open ones, the codes of refused ones)."""
    opened, refused = [], []
    for _ in range(count):
        # no BDP probing: the flow-control window stays small, so the server's sends block at once
        channel = server.channel(**{"grpc.http2.bdp_probe": 0})
        stream = pb_grpc.SegmentServiceStub(channel).StreamMembers(
            pb.StreamMembersRequest(index="shop", query="ALL", chunk_size=1000))
        try:
            next(stream)
            opened.append((channel, stream))
        except grpc.RpcError as err:
            refused.append(err.code())
            channel.close()
    return opened, refused


def test_stalled_streams_leave_health_and_count_answering(server: Hostile) -> None:
    opened, refused = stall(server, 64)
    assert len(opened) == 24 and set(refused) == {grpc.StatusCode.RESOURCE_EXHAUSTED}  # 32 workers - 8
    channel = server.channel()
    stub, health = pb_grpc.SegmentServiceStub(channel), health_pb2_grpc.HealthStub(channel)
    times = []
    for _ in range(200):
        started = time.perf_counter()
        assert stub.Count(pb.CountRequest(index="shop", query="country = 'NL'"), timeout=2).count > 0
        times.append(time.perf_counter() - started)
        assert health.Check(health_pb2.HealthCheckRequest(), timeout=2).status == health_pb2.HealthCheckResponse.SERVING
    times.sort()
    p99 = times[int(len(times) * 0.99) - 1]
    print(f"\nCount p99 with {len(opened)} stalled streams (and {len(refused)} refused): {p99 * 1000:.2f} ms")
    assert p99 < 1.0
    # the watchdog ends the stalled streams, and their slots serve new streams
    time.sleep(STALL_SECONDS + 2)
    for _, stream in opened:
        with pytest.raises(grpc.RpcError) as caught:
            for _ in stream:
                pass
        assert caught.value.code() is grpc.StatusCode.CANCELLED
    again, refused = stall(server, 5)
    assert len(again) == 5 and not refused
    for each, _ in opened + again:
        each.close()
    channel.close()


def test_an_import_stream_left_open_is_ended(server: Hostile) -> None:
    channel = server.channel()
    stub = pb_grpc.SegmentServiceStub(channel)

    def batches():
        yield pb.ProfileBatch(index="shop")
        time.sleep(STALL_SECONDS * 3)  # then nothing: the server must not wait for ever

    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        stub.UpsertProfiles(batches(), timeout=STALL_SECONDS * 4)
    assert caught.value.code() is grpc.StatusCode.CANCELLED
    assert time.monotonic() - started < STALL_SECONDS + 3
    channel.close()


def test_health_answers_while_every_worker_holds_a_stalled_stream() -> None:
    """max_streams = max_workers: every worker thread can be taken by a stalled stream; health has its own."""
    hostile = Hostile(200_000, 0, max_workers=4, max_streams=4, stall_seconds=120.0)
    try:
        opened, refused = stall(hostile, 6)
        assert len(opened) == 4 and set(refused) == {grpc.StatusCode.RESOURCE_EXHAUSTED}
        channel = hostile.channel()
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(20):
            reply = health.Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        # a call of the service is refused at once rather than queued behind the stalled streams
        with pytest.raises(grpc.RpcError) as caught:
            pb_grpc.SegmentServiceStub(channel).Count(pb.CountRequest(index="shop", query="ALL"), timeout=5)
        assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "max_workers" in caught.value.details()
        for each, _ in opened:
            each.close()
        channel.close()
    finally:
        hostile.stop()


def test_health_watches_take_call_slots_not_the_health_threads() -> None:
    """Health watches (streams that stay open) count as calls: past max_workers they are refused, and a health
    check still answers on the threads kept for it."""
    import bitseg
    from bitseg.server.app import ServerConfig, start

    running = start(ServerConfig(port=0, max_workers=2, max_streams=2), bitseg.Catalog())
    channel = grpc.insecure_channel(running.address)
    try:
        health = health_pb2_grpc.HealthStub(channel)
        watches = [health.Watch(health_pb2.HealthCheckRequest()) for _ in range(3)]
        statuses = []
        for watch in watches:
            try:
                statuses.append(next(watch).status)
            except grpc.RpcError as err:
                statuses.append(err.code())
        assert statuses.count(health_pb2.HealthCheckResponse.SERVING) == 2
        assert grpc.StatusCode.RESOURCE_EXHAUSTED in statuses
        for _ in range(10):
            assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == \
                health_pb2.HealthCheckResponse.SERVING
        for watch in watches:
            watch.cancel()
    finally:
        channel.close()
        running.stop(grace=0)
