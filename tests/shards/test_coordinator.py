"""A sharded server on in-process shards, each with its own Store (SPEC §9): the recorded shard count, restarts,
a dead shard answered with UNAVAILABLE and never a partial number, every acknowledged write back after recovery,
daily evaluations combined, GetIndex's shard sizes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from bitseg import Client
from bitseg.errors import PersistenceError
from bitseg.persistence import Store
from bitseg.server.app import Server, ServerConfig, open_store, start
from bitseg.shards.launch import open_shards
from bitseg.shards.routing import shard_of
from bitseg.shards.transport import LocalTransport, ShardUnavailableError
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

SCHEMA = '[profile]\nvip = "bool"\n[purchase]\nbrand = "keyword"\n'


def sharded_server(folder: Path, shards: int = 3) -> Server:
    return start(ServerConfig(port=0, data_dir=str(folder), shards=shards, shard_transport="local"))


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Server, pb_grpc.SegmentServiceStub]]:
    server = sharded_server(tmp_path)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield server, pb_grpc.SegmentServiceStub(channel)
    server.stop(grace=0)


def load(stub: pb_grpc.SegmentServiceStub, customers: range, name: str = "shop") -> None:
    rows = [pb.Row(cells={"customer": f"c{i}", "vip": "true" if i % 2 else "false"}) for i in customers]
    assert stub.UpsertProfiles(iter([pb.ProfileBatch(index=name, rows=rows)])).summary.rows_rejected == 0
    lines = [pb.Row(cells={"customer": f"c{i}", "time": "2026-03-01", "amount": "10", "brand": "B"})
             for i in customers]
    assert stub.AddPurchases(iter([pb.PurchaseBatch(index=name, rows=lines)])).summary.rows_rejected == 0


def count(stub: pb_grpc.SegmentServiceStub, query: str) -> int:
    return stub.Count(pb.CountRequest(index="shop", query=query, as_of="2026-03-14")).count


def test_the_shard_count_is_recorded_and_another_is_refused(tmp_path: Path) -> None:
    open_shards(str(tmp_path), 3, transport="local").close()
    assert (tmp_path / "shards" / "COUNT").read_text().strip() == "3"
    assert sorted(p.name for p in (tmp_path / "shards").iterdir()) == ["000", "001", "002", "COUNT"]
    with pytest.raises(PersistenceError, match="split into 3 shards; start with --shards 3"):
        open_shards(str(tmp_path), 2, transport="local")
    with pytest.raises(PersistenceError, match="start it with --shards 3"):
        open_store(ServerConfig(data_dir=str(tmp_path)))
    plain = tmp_path / "plain"
    Store(plain).open().close()
    with pytest.raises(PersistenceError, match="without shards"):
        open_shards(str(plain), 2, transport="local")


def test_acknowledged_writes_come_back_after_a_restart(tmp_path: Path) -> None:
    server = sharded_server(tmp_path)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.SegmentServiceStub(channel)
        stub.CreateIndex(pb.CreateIndexRequest(index="shop", schema_toml=SCHEMA))
        load(stub, range(0, 60))
        stub.SaveSegment(pb.SaveSegmentRequest(index="shop", name="vips", query="vip = true", kind=pb.HOT))
        stub.CreateSnapshot(pb.CreateSnapshotRequest())
        load(stub, range(60, 90))  # after the snapshot: only in the shards' logs
        stub.UpdateList(pb.UpdateListRequest(index="shop", name="gold", add=["c1", "c2", "c77"]))
        stub.DeleteCustomers(pb.DeleteCustomersRequest(index="shop", customer_ids=["c3"]))
    assert server.store is not None
    transport = server.store.transport  # type: ignore[attr-defined]
    assert isinstance(transport, LocalTransport)
    for k in range(3):
        transport.kill(k)  # a crash: no shutdown snapshot
    server.stop(grace=0)
    server = sharded_server(tmp_path)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = pb_grpc.SegmentServiceStub(channel)
            assert count(stub, "ALL") == 89
            assert count(stub, "vip = true") == 44  # c1 .. c89 odd, without c3
            assert count(stub, "IN SEGMENT 'vips'") == 44
            assert count(stub, "IN LIST 'gold'") == 3
            assert count(stub, "purchases MATCHES (brand = 'B')") == 89
            info = stub.GetIndex(pb.GetIndexRequest(index="shop")).info
            assert info.shards == 3 and info.segments == ["vips"] and info.lists == ["gold"]
            expected = [sum(1 for i in range(90) if i != 3 and shard_of(f"c{i}", 3) == k) for k in range(3)]
            assert [s.customers for s in info.shard_sizes] == expected
            assert [s.lines for s in info.shard_sizes] == expected
        with Client(f"127.0.0.1:{server.port}") as client:
            assert client.get_index("shop").shards == tuple((n, n) for n in expected)
    finally:
        server.stop(grace=0)


def test_a_dead_shard_is_unavailable_never_a_partial_count(
        running: tuple[Server, pb_grpc.SegmentServiceStub]) -> None:
    server, stub = running
    stub.CreateIndex(pb.CreateIndexRequest(index="shop", schema_toml=SCHEMA))
    load(stub, range(30))
    transport = server.store.transport  # type: ignore[union-attr]
    transport.kill(1)
    calls = [
        lambda: count(stub, "ALL"),
        lambda: list(stub.StreamMembers(pb.StreamMembersRequest(index="shop", query="ALL"))),
        lambda: load(stub, range(30, 40)),
        lambda: stub.GetStats(pb.GetStatsRequest(index="shop", query="vip = true")),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as err:
            call()
        assert err.value.code() is grpc.StatusCode.UNAVAILABLE, err.value.details()
        assert "shard 001 is unavailable" in err.value.details()
    transport.restart(1)
    # The batch refused above reached the live shards only: what every shard acknowledged is all there.
    assert count(stub, "ALL") in (30, 30 + sum(1 for i in range(30, 40) if shard_of(f"c{i}", 3) != 1))
    load(stub, range(30, 40))  # the client's retry: profiles are upserts, so the count is exact again
    assert count(stub, "ALL") == 40


def test_daily_evaluation_history_is_the_sum_of_the_shards(
        running: tuple[Server, pb_grpc.SegmentServiceStub]) -> None:
    server, stub = running
    stub.CreateIndex(pb.CreateIndexRequest(index="shop", schema_toml=SCHEMA))
    load(stub, range(20))
    stub.SaveSegment(pb.SaveSegmentRequest(index="shop", name="vips", query="vip = true", kind=pb.TRIGGER))
    store = server.store
    assert store is not None
    store.daily_snapshot("2099-01-01")
    load(stub, range(20, 30))
    store.daily_snapshot("2099-01-02")
    rows = stub.GetHistory(pb.GetHistoryRequest(index="shop", segment="vips")).rows
    assert [(r.day, r.size, r.entered) for r in rows][-2:] == [("2099-01-01", 10, 0), ("2099-01-02", 15, 5)]
    changes = [i for c in stub.StreamChanges(pb.StreamChangesRequest(index="shop", segment="vips",
                                                                    since="2099-01-01")) for i in c.entered]
    assert sorted(changes) == sorted(f"c{i}" for i in range(21, 30, 2))


def test_unavailable_names_the_shard(tmp_path: Path) -> None:
    store = open_shards(str(tmp_path), 2, transport="local")
    try:
        store.create_index("shop", SCHEMA)
        store.transport.kill(0)  # type: ignore[attr-defined]
        with pytest.raises(ShardUnavailableError, match="shard 000 is unavailable") as err:
            store.get("shop").count("ALL")
        assert err.value.shards == [0]
        assert store.writable is False and "000" in (store.problem or "")
    finally:
        store.transport.restart(0)  # type: ignore[attr-defined]
        store.close()


def test_nothing_of_ray_is_imported_without_shards(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from bitseg.server.app import ServerConfig, start\n"
        "import bitseg.cli, bitseg.shards.launch\n"
        f"server = start(ServerConfig(port=0, data_dir={str(tmp_path)!r}))\n"
        "server.stop(grace=0)\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n")
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "[]"


def test_a_clean_stop_writes_one_snapshot_per_shard(tmp_path: Path) -> None:
    store = open_shards(str(tmp_path), 2, transport="local")
    store.create_index("shop", SCHEMA)
    store.get("shop").upsert_profiles([{"customer": f"c{i}", "vip": True} for i in range(10)])
    store.close()
    for shard in ("000", "001"):
        assert len(list((tmp_path / "shards" / shard / "snapshots").iterdir())) == 1
    again = open_shards(str(tmp_path), 2, transport="local")
    try:
        assert again.get("shop").count("vip = true") == 10
    finally:
        again.close(snapshot=False)


def test_a_count_waiting_for_a_shards_lock_keeps_the_client_deadline(running) -> None:
    server, stub = running
    stub.CreateIndex(pb.CreateIndexRequest(index="shop", schema_toml=SCHEMA))
    load(stub, range(30))
    transport = server.store.transport  # type: ignore[attr-defined]
    lock = transport.workers[1].store.get("shop").lock  # shard 1 busy publishing a batch, say
    taken, release = threading.Event(), threading.Event()

    def hold_it() -> None:
        with lock:
            taken.set()
            release.wait(30)

    ended: list[tuple[str, str]] = []
    monitored = server.monitor.call_ended

    def record(method, code, seconds, request):
        ended.append((method, code))
        monitored(method, code, seconds, request)

    server.monitor.call_ended = record
    holder = threading.Thread(target=hold_it)
    holder.start()
    taken.wait(5)
    try:
        with pytest.raises(grpc.RpcError) as caught:
            stub.Count(pb.CountRequest(index="shop", query="vip = true"), timeout=0.3)
        assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        # the server's handler gave up too, while the shard's lock is still held: its worker is free again
        limit = time.monotonic() + 5
        while ("Count", "DEADLINE_EXCEEDED") not in ended and time.monotonic() < limit:
            time.sleep(0.02)
        assert ("Count", "DEADLINE_EXCEEDED") in ended
    finally:
        release.set()
        holder.join()
    assert count(stub, "vip = true") == 15
