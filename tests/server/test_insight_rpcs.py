"""The segment insight RPCs over a real server: answers, each error status, and WatchChanges resumed by day
(simulated clock: the server's daily timer evaluates the trigger segment as the clock moves)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from bitseg import Client
from bitseg.errors import InvalidInputError, NotFoundError
from bitseg.persistence import SimulatedClock, Store
from bitseg.server import app
from bitseg.server.app import Server, ServerConfig, start
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

from .conftest import channel_for
from .shop import AS_OF, load_shop

Code = grpc.StatusCode


def status(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code(), err.value.details()


def test_answers(server: Server, stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    with Client(f"127.0.0.1:{server.port}") as client:
        steps = client.explain(shop, "country = 'NL' AND NOT vip = true", as_of=AS_OF, analyze=True)
        assert [(s.depth, s.text, s.minus) for s in steps] == [
            (0, "country = 'NL' AND vip != TRUE", False), (1, "country = 'NL'", False), (1, "vip = TRUE", True)]
        assert steps[0].count == client.count(shop, "country = 'NL' AND NOT vip = true", as_of=AS_OF)
        assert all(s.ms is not None and s.ms >= 0 for s in steps)
        assert client.explain(shop, "ALL")[0].count is None
        for customer in ("c1", "c2", "c3", "c4", "c5", "c6"):
            why = client.why(shop, customer, "country = 'NL' OR PURCHASES MATCHES (brand = 'Levi''s')", as_of=AS_OF)
            members = set(client.members(shop, "country = 'NL' OR PURCHASES MATCHES (brand = 'Levi''s')",
                                         as_of=AS_OF))
            assert why.is_member == (customer in members)
        found = client.criteria(shop, "country = 'NL' AND vip = true", as_of=AS_OF)
        assert found.combinator == "AND" and [c.text for c in found.criteria] == ["country = 'NL'", "vip = TRUE"]
        assert found.criteria[0].count == client.count(shop, "country = 'NL'", as_of=AS_OF)
        overlap = client.overlap(shop, ["country = 'NL'", "BUCKET('q3') < 5000"], as_of=AS_OF)
        assert overlap.matrix[0][0] == overlap.sizes[0] and overlap.matrix[0][1] == overlap.matrix[1][0]
        assert overlap.matrix[0][1] == client.count(shop, "country = 'NL' AND BUCKET('q3') < 5000", as_of=AS_OF)
        expr = pb.Expr(bucket=pb.Expr.Bucket(salt="q3", op="!=", low=3))
        assert stub.Count(pb.CountRequest(index=shop, expr=expr)).count == client.count(shop, "BUCKET('q3') != 3")
        with pytest.raises(NotFoundError):
            client.why(shop, "nobody", "ALL")
        with pytest.raises(InvalidInputError):
            client.overlap(shop, ["ALL"] * 33)


def test_error_statuses(stub: pb_grpc.SegmentServiceStub, shop: str) -> None:
    checks: list[tuple[Callable[[], object], Code, str]] = [
        (lambda: stub.Explain(pb.ExplainRequest(index=shop, query="country =")), Code.INVALID_ARGUMENT, "value"),
        (lambda: stub.Explain(pb.ExplainRequest(index="nope", query="ALL")), Code.NOT_FOUND, "nope"),
        (lambda: stub.Explain(pb.ExplainRequest(index=shop, segment="nope")), Code.NOT_FOUND, "nope"),
        (lambda: stub.Explain(pb.ExplainRequest(index=shop)), Code.INVALID_ARGUMENT, "no selection"),
        (lambda: stub.ExplainMember(pb.ExplainMemberRequest(index=shop, customer_id="nobody", query="ALL")),
         Code.NOT_FOUND, "nobody"),
        (lambda: stub.ExplainMember(pb.ExplainMemberRequest(index=shop, query="ALL")), Code.INVALID_ARGUMENT,
         "customer_id"),
        (lambda: stub.ExplainMember(pb.ExplainMemberRequest(index=shop, customer_id="c1", query="BUCKET('x') < 'a'")),
         Code.INVALID_ARGUMENT, "whole number"),
        (lambda: stub.CountCriteria(pb.CountCriteriaRequest(index=shop, query="nofield = 1")),
         Code.INVALID_ARGUMENT, "unknown field"),
        (lambda: stub.Overlap(pb.OverlapRequest(index=shop, selections=[pb.Selection(query="ALL")] * 33)),
         Code.INVALID_ARGUMENT, "not 33"),
        (lambda: stub.Overlap(pb.OverlapRequest(index=shop, selections=[pb.Selection(query="ALL")])),
         Code.INVALID_ARGUMENT, "not 1"),
        (lambda: stub.Overlap(pb.OverlapRequest(index=shop, selections=[pb.Selection(query="ALL"),
                                                                         pb.Selection(segment="nope")])),
         Code.NOT_FOUND, "nope"),
        (lambda: stub.Count(pb.CountRequest(index=shop, expr=pb.Expr(bucket=pb.Expr.Bucket(salt="s", op="~")))),
         Code.INVALID_ARGUMENT, "op"),
        (lambda: list(stub.WatchChanges(pb.WatchChangesRequest(index=shop, segment="nope"))), Code.NOT_FOUND, "nope"),
        (lambda: list(stub.WatchChanges(pb.WatchChangesRequest(index=shop, segment="s", chunk_size=-1))),
         Code.INVALID_ARGUMENT, "chunk_size"),
        (lambda: list(stub.WatchChanges(pb.WatchChangesRequest(index=shop, segment="s", since="yesterday"))),
         Code.INVALID_ARGUMENT, "since"),
    ]
    for call, code, words in checks:
        got, details = status(call)
        assert (got, words in details) == (code, True), (details, code)
    stub.SaveSegment(pb.SaveSegmentRequest(index=shop, name="plain", query="ALL"))
    got, details = status(lambda: list(stub.WatchChanges(pb.WatchChangesRequest(index=shop, segment="plain"))))
    assert got == Code.INVALID_ARGUMENT and "standard" in details


VIPS = {  # the trigger segment's members on each evaluated day
    "2026-03-14": {"c1"}, "2026-03-15": {"c1", "c2"}, "2026-03-16": {"c2"},
    "2026-03-17": {"c2", "c3"}, "2026-03-18": {"c3"}, "2026-03-19": {"c1", "c3", "c4"},
}


def expected_changes() -> list[tuple[str, set[str], set[str]]]:
    out, before = [], set()
    for day, members in VIPS.items():
        out.append((day, members - before, before - members))
        before = members
    return out


def test_watch_changes_resumed_by_day_misses_nothing_and_repeats_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "TIMER_SECONDS", 0.02)
    server = start(ServerConfig(port=0, data_dir=str(tmp_path)))
    store = server.catalog
    assert isinstance(store, Store)
    clock = SimulatedClock("2026-03-14T01:00:00+01:00")  # the daily evaluation is due at 02:00 Amsterdam time
    store.clock = clock
    received: queue.Queue = queue.Queue()

    def watch(since: str) -> grpc.Future:
        call = stub.WatchChanges(pb.WatchChangesRequest(index="shop", segment="vips", since=since))

        def read() -> None:
            try:
                for message in call:
                    received.put(message)
            except grpc.RpcError as err:
                received.put(err.code())
        threading.Thread(target=read, daemon=True).start()
        return call

    def evaluate(day: str) -> None:
        for customer in ("c1", "c2", "c3", "c4"):
            stub.UpsertProfiles(iter([pb.ProfileBatch(index="shop", rows=[pb.Row(cells={
                "customer": customer, "vip": "true" if customer in VIPS[day] else "false"})])]))
        clock.advance(hours=1 if day == "2026-03-14" else 24)
        deadline = time.monotonic() + 20
        while store.get("shop").last_evaluated is None or str(store.get("shop").last_evaluated) != day:
            assert time.monotonic() < deadline, f"{day} was not evaluated"
            time.sleep(0.02)

    def take(n: int) -> list[pb.ChangeDay]:
        return [received.get(timeout=20) for _ in range(n)]

    try:
        with channel_for(server) as channel:
            stub = pb_grpc.SegmentServiceStub(channel)
            load_shop(stub)
            stub.SaveSegment(pb.SaveSegmentRequest(index="shop", name="vips", query="vip = true", kind=pb.TRIGGER))
            days = list(VIPS)
            first = watch("")  # before any evaluation: it waits
            seen: list[pb.ChangeDay] = []
            for day in days[:3]:
                evaluate(day)
                seen += take(1)  # each day arrives live, as it is evaluated
            first.cancel()  # the client hangs up
            assert received.get(timeout=20) == Code.CANCELLED
            for day in days[3:5]:  # evaluated while nobody watches
                evaluate(day)
            last = [m for m in seen if m.complete][-1].day
            second = watch(last)
            seen += take(2)
            evaluate(days[5])
            seen += take(1)
            second.cancel()
            got = [(m.day, set(m.entered), set(m.left)) for m in seen]
            assert got == expected_changes()
            assert all(m.complete for m in seen)
    finally:
        server.stop(grace=0)


def test_a_trigger_segments_save_row_wakes_a_waiting_watcher() -> None:
    """The row recorded when a trigger segment is saved wakes its watchers (before, only a daily evaluation
    did: a segment changed at 01:00 reached its consumers after the next one). In-process, so that the wait
    is the only thing that can bring it: waiting with a day past every daily evaluation returned False."""
    import datetime as dt

    from bitseg import Index

    index = Index.from_toml('[profile]\nvip = "bool"\ncountry = "keyword"')
    now = [dt.datetime(2026, 3, 14, 9, tzinfo=dt.UTC)]
    index.clock = lambda: now[0]
    index.upsert_profiles([{"customer": "c1", "vip": True, "country": "NL"}, {"customer": "c2", "country": "NL"}])
    index.save_segment("vips", "vip = true", kind="trigger")
    index.record_evaluation(index.daily_evaluation(dt.date(2026, 3, 14)))
    other = Index.from_toml('[profile]\nvip = "bool"')
    assert not other.wait_evaluation(dt.date(2026, 3, 14), 0.05, "vips")  # nothing recorded: it times out
    woken: queue.Queue = queue.Queue()
    waiter = threading.Thread(target=lambda: woken.put(index.wait_evaluation(dt.date(2026, 3, 14), 20, "vips")))
    waiter.start()
    time.sleep(0.1)
    now[0] = dt.datetime(2026, 3, 15, 0, 30, tzinfo=dt.UTC)  # the next day, before its daily evaluation
    index.save_segment("vips", "country = 'NL'", kind="trigger")
    started = time.monotonic()
    assert woken.get(timeout=20) is True and time.monotonic() - started < 5
    waiter.join()
    [day] = index.changes_by_day("vips", dt.date(2026, 3, 14))
    assert (str(day.day), day.entered, day.left) == ("2026-03-15", ["c2"], [])
    assert index.last_evaluated == dt.date(2026, 3, 14)  # a save's row is no daily evaluation


def test_watch_changes_streams_a_trigger_segments_save_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "TIMER_SECONDS", 0.02)
    server = start(ServerConfig(port=0, data_dir=str(tmp_path)))
    store = server.catalog
    assert isinstance(store, Store)
    clock = SimulatedClock("2026-03-14T01:00:00+01:00")
    store.clock = clock
    received: queue.Queue = queue.Queue()
    try:
        with channel_for(server) as channel:
            stub = pb_grpc.SegmentServiceStub(channel)
            load_shop(stub)
            stub.SaveSegment(pb.SaveSegmentRequest(index="shop", name="vips", query="vip = true", kind=pb.TRIGGER))
            call = stub.WatchChanges(pb.WatchChangesRequest(index="shop", segment="vips"))

            def read() -> None:
                try:
                    for message in call:
                        received.put(message)
                except grpc.RpcError as err:
                    received.put(err.code())
            threading.Thread(target=read, daemon=True).start()
            first = received.get(timeout=20)  # the save's row: streamed before any daily evaluation
            assert (first.day, list(first.entered), first.complete) == ("2026-03-14", ["c1"], True)
            clock.advance(hours=1)  # 02:00: the 14th is evaluated (its row replaced: no new day)
            deadline = time.monotonic() + 20
            while str(store.get("shop").last_evaluated) != "2026-03-14":
                assert time.monotonic() < deadline, store.get("shop").last_evaluated
                time.sleep(0.02)
            clock.advance(hours=23)
            stub.SaveSegment(pb.SaveSegmentRequest(index="shop", name="vips", query="country = 'NL'",
                                                   kind=pb.TRIGGER))  # on the 15th at 01:00
            second = received.get(timeout=20)
            assert (second.day, sorted(second.entered), list(second.left)) == ("2026-03-15", ["c3"], [])
            call.cancel()
    finally:
        server.stop(grace=0)
