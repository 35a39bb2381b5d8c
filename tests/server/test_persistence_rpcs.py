"""The server on a Store (SPEC §6): snapshots over RPC, a restart on the same folder, history and changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from bitseg.persistence import SimulatedClock, Store
from bitseg.server import app
from bitseg.server.app import Server, ServerConfig, start
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

from .conftest import channel_for
from .shop import load_shop

Code = grpc.StatusCode


def count(stub: pb_grpc.SegmentServiceStub, **selection: str) -> int:
    return stub.Count(pb.CountRequest(index="shop", as_of="2026-03-14", **selection)).count


def status(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code(), err.value.details()


def set_profiles(stub: pb_grpc.SegmentServiceStub, *rows: dict[str, str]) -> None:
    summary = stub.UpsertProfiles(iter([pb.ProfileBatch(index="shop", rows=[pb.Row(cells=r) for r in rows])])).summary
    assert summary.rows_rejected == 0, summary


def store_of(server: Server) -> Store:
    assert isinstance(server.catalog, Store)
    return server.catalog


def test_snapshot_restart_history_and_changes(tmp_path: Path) -> None:
    config = ServerConfig(port=0, data_dir=str(tmp_path / "data"))
    server = start(config)
    # saved on the first simulated day, before its 02:00 run: the rows of the save are replaced by that run's
    store_of(server).clock = SimulatedClock("2026-03-10T01:00:00+01:00")
    try:
        with channel_for(server) as channel:
            stub = pb_grpc.SegmentServiceStub(channel)
            load_shop(stub)
            stub.SaveSegment(pb.SaveSegmentRequest(index="shop", name="dutch", query="country = 'NL'", kind=pb.HOT))
            stub.SaveSegment(pb.SaveSegmentRequest(index="shop", name="vips", query="vip = true", kind=pb.TRIGGER))
            made = stub.CreateSnapshot(pb.CreateSnapshotRequest()).snapshot
            assert made.id and made.bytes > 0 and list(made.indexes) == ["shop"]
            assert made.created.startswith(made.id[:4])
            listed = stub.ListSnapshots(pb.ListSnapshotsRequest()).snapshots
            assert [s.id for s in listed] == [made.id] and listed[0] == made
            stub.UpdateList(pb.UpdateListRequest(index="shop", name="picked", add=["c1", "c4"]))  # after it: the log
            before = {"all": count(stub, query="ALL"), "dutch": count(stub, segment="dutch"),
                      "vips": count(stub, segment="vips"), "picked": count(stub, query="IN LIST 'picked'")}
            assert before == {"all": 6, "dutch": 2, "vips": 1, "picked": 2}
    finally:
        server.stop(grace=0)  # a clean stop: a last snapshot

    server = start(config)
    try:
        with channel_for(server) as channel:
            stub = pb_grpc.SegmentServiceStub(channel)
            after = {"all": count(stub, query="ALL"), "dutch": count(stub, segment="dutch"),
                     "vips": count(stub, segment="vips"), "picked": count(stub, query="IN LIST 'picked'")}
            assert after == before
            kinds = {s.name: s.kind for s in stub.ListSegments(pb.ListSegmentsRequest(index="shop")).segments}
            assert kinds == {"dutch": pb.HOT, "vips": pb.TRIGGER}
            snapshots = stub.ListSnapshots(pb.ListSnapshotsRequest()).snapshots
            assert len(snapshots) == 2 and snapshots[1].id == made.id  # newest first: the shutdown snapshot

            # Two simulated days, evaluated in-process; the answers come through the RPCs.
            store = store_of(server)
            store.daily_snapshot("2026-03-10")
            set_profiles(stub, {"customer": "c1", "vip": "false"}, {"customer": "c2", "vip": "true"},
                         {"customer": "c4", "vip": "true", "country": "NL"})
            store.daily_snapshot("2026-03-11")

            rows = stub.GetHistory(pb.GetHistoryRequest(index="shop", segment="dutch")).rows
            assert [(r.day, r.size, r.entered, r.left) for r in rows] == [
                ("2026-03-10", 2, 2, 0), ("2026-03-11", 3, 1, 0)]
            rows = stub.GetHistory(pb.GetHistoryRequest(index="shop", segment="dutch", start="2026-03-11")).rows
            assert [r.day for r in rows] == ["2026-03-11"]
            rows = stub.GetHistory(pb.GetHistoryRequest(index="shop", segment="dutch", end="2026-03-10")).rows
            assert [r.day for r in rows] == ["2026-03-10"]

            chunks = list(stub.StreamChanges(pb.StreamChangesRequest(index="shop", segment="vips",
                                                                     since="2026-03-10")))
            assert sorted(i for c in chunks for i in c.entered) == ["c2", "c4"]
            assert [i for c in chunks for i in c.left] == ["c1"]
            small = list(stub.StreamChanges(pb.StreamChangesRequest(index="shop", segment="vips",
                                                                    since="2026-03-10", chunk_size=1)))
            assert len(small) == 3 and all(len(c.entered) + len(c.left) == 1 for c in small)
            assert [i for c in small for i in [*c.entered, *c.left]] == [i for c in chunks
                                                                          for i in [*c.entered, *c.left]]
            assert list(stub.StreamChanges(pb.StreamChangesRequest(index="shop", segment="vips",
                                                                   since="2026-03-11"))) == []

            # Errors: unknown names, bad days and sizes, and a kind that keeps no history.
            def history(**fields: str) -> Callable[[], object]:
                return lambda: stub.GetHistory(pb.GetHistoryRequest(**{"index": "shop", **fields}))

            def changes(**fields: object) -> Callable[[], object]:
                request = pb.StreamChangesRequest(**{"index": "shop", "since": "2026-03-10", **fields})
                return lambda: list(stub.StreamChanges(request))

            assert status(history(segment="nowhere"))[0] is Code.NOT_FOUND
            assert status(history(segment="dutch", index="nowhere"))[0] is Code.NOT_FOUND
            assert status(changes(segment="nowhere"))[0] is Code.NOT_FOUND
            assert status(history(segment="dutch", start="10 March"))[0] is Code.INVALID_ARGUMENT
            assert status(history(segment="bad name!"))[0] is Code.INVALID_ARGUMENT
            assert status(changes(segment="vips", since=""))[0] is Code.INVALID_ARGUMENT
            assert status(changes(segment="vips", chunk_size=-1))[0] is Code.INVALID_ARGUMENT
            assert status(changes(segment="vips", chunk_size=1_000_001))[0] is Code.INVALID_ARGUMENT
            code, message = status(changes(segment="dutch"))  # a hot segment keeps sizes, not members
            assert code is Code.INVALID_ARGUMENT and "trigger" in message
    finally:
        server.stop(grace=0)


def test_the_timer_writes_the_daily_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "TIMER_SECONDS", 0.02)
    server = start(ServerConfig(port=0, data_dir=str(tmp_path)))
    try:
        clock = SimulatedClock("2026-03-14T01:00:00+01:00")  # before 02:00 in Amsterdam: nothing due yet
        store_of(server).clock = clock
        with channel_for(server) as channel:
            stub = pb_grpc.SegmentServiceStub(channel)
            load_shop(stub)
            stub.SaveSegment(pb.SaveSegmentRequest(index="shop", name="dutch", query="country = 'NL'", kind=pb.HOT))
            time.sleep(0.1)
            index = store_of(server).get("shop")
            assert index.last_evaluated is None  # not due yet: only the save's row
            rows = list(stub.GetHistory(pb.GetHistoryRequest(index="shop", segment="dutch")).rows)
            assert [(r.day, r.size) for r in rows] == [("2026-03-14", 2)]
            clock.advance(hours=2)
            deadline = time.monotonic() + 10
            while index.last_evaluated is None and time.monotonic() < deadline:
                time.sleep(0.02)
            assert str(index.last_evaluated) == "2026-03-14"
            rows = list(stub.GetHistory(pb.GetHistoryRequest(index="shop", segment="dutch")).rows)
            assert [(r.day, r.size) for r in rows] == [("2026-03-14", 2)]  # the run replaced the row
    finally:
        server.stop(grace=0)


def test_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    server = start(ServerConfig(port=0, data_dir=str(tmp_path)))
    try:
        with pytest.raises(Exception, match="in use by another bitseg process"):
            start(ServerConfig(port=0, data_dir=str(tmp_path)))
    finally:
        server.stop(grace=0)
    start(ServerConfig(port=0, data_dir=str(tmp_path))).stop(grace=0)  # released on stop
