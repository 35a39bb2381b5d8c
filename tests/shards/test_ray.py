"""A sharded server on a real local Ray runtime (N = 3): kill a shard actor's process during counts and writes.

Runs only with BITSEG_TEST_RAY=1 (CI's Ray step; it starts Ray, which takes seconds and several processes). While
the shard is down and being restarted by Ray, calls fail with UNAVAILABLE; no count is ever outside what the
acknowledged and the attempted writes allow; after recovery every acknowledged write is there.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from bitseg.server.app import Server, ServerConfig, start
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

pytestmark = pytest.mark.skipif(os.environ.get("BITSEG_TEST_RAY") != "1",
                                reason="Ray tests run with BITSEG_TEST_RAY=1")

SCHEMA = '[profile]\nvip = "bool"\n[purchase]\nbrand = "keyword"\n'
BATCH = 40
BASE = 200


@pytest.fixture(scope="module")
def ray_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("ray-data")
    server = start(ServerConfig(port=0, data_dir=str(folder), shards=3, shard_transport="ray"))
    yield server
    server.stop(grace=0)


def rows(first: int, size: int) -> list[pb.Row]:
    return [pb.Row(cells={"customer": f"k{i}", "vip": "true"}) for i in range(first, first + size)]


def upsert(stub: pb_grpc.SegmentServiceStub, first: int, size: int) -> None:
    stub.UpsertProfiles(iter([pb.ProfileBatch(index="shop", rows=rows(first, size))]), timeout=60)


def test_a_killed_shard_fails_calls_until_it_recovers_and_loses_no_acknowledged_write(
        ray_server: Server, tmp_path: Path) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{ray_server.port}") as channel:
        stub = pb_grpc.SegmentServiceStub(channel)
        stub.CreateIndex(pb.CreateIndexRequest(index="shop", schema_toml=SCHEMA))
        upsert(stub, 0, BASE)
        transport = ray_server.store.transport  # type: ignore[union-attr]
        before = transport.pids()
        acknowledged: list[int] = []   # first id of each batch the server acknowledged
        attempted: list[int] = []      # first id of each batch sent (acknowledged or not)
        counts: list[tuple[int, int, int]] = []  # (acknowledged before, count, attempted after)
        codes: list[str] = []
        stop = threading.Event()

        def writer() -> None:
            first = BASE
            while not stop.is_set():
                attempted.append(first)
                while True:  # a client retries a refused batch until it is acknowledged: profiles are upserts
                    try:
                        upsert(stub, first, BATCH)
                        break
                    except grpc.RpcError as err:
                        codes.append(err.code().name)
                        time.sleep(0.05)
                acknowledged.append(first)
                first += BATCH

        def counter() -> None:
            while not stop.is_set():
                done = len(acknowledged)
                try:
                    found = stub.Count(pb.CountRequest(index="shop", query="vip = true"), timeout=60).count
                except grpc.RpcError as err:
                    codes.append(err.code().name)
                    time.sleep(0.01)
                    continue
                counts.append((done, found, len(attempted)))

        threads = [threading.Thread(target=writer), threading.Thread(target=counter)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        os.kill(before[1], signal.SIGKILL)  # shard 001's actor process
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # until Ray has restarted it and calls succeed again
            time.sleep(0.5)
            try:
                after = transport.pids()
                break
            except Exception:  # noqa: BLE001 - still restarting
                continue
        else:
            pytest.fail("the shard did not come back within 90 s")
        time.sleep(1.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)

        assert after[1] != before[1] and after[0] == before[0] and after[2] == before[2]
        assert set(codes) <= {"UNAVAILABLE"}, codes
        for done, found, tried in counts:  # never a number no sequence of whole writes can give
            assert BASE + BATCH * done <= found <= BASE + BATCH * tried, (done, found, tried)
        final = stub.Count(pb.CountRequest(index="shop", query="vip = true")).count
        members = {i for chunk in stub.StreamMembers(pb.StreamMembersRequest(index="shop", query="ALL"))
                   for i in chunk.customer_ids}
        assert all(f"k{i}" in members for first in acknowledged for i in range(first, first + BATCH))
        assert final == len(members) == BASE + BATCH * len(acknowledged)
        print(f"counts {len(counts)}, writes {len(acknowledged)}, refused: {len(codes)} UNAVAILABLE")
