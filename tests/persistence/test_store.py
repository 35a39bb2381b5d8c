"""The Store's contract: refused calls are not logged, the log replays every accepted call, daily scheduling."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pyroaring import BitMap

from bitseg import (
    AlreadyExistsError,
    Index,
    InvalidInputError,
    NotFoundError,
    PersistenceError,
    QueryError,
    ReadOnlyError,
    SchemaError,
)
from bitseg.days import day_number
from bitseg.index.tracking import HistoryRow
from bitseg.persistence import SimulatedClock, Store
from bitseg.persistence import wal as wal_module

SCHEMA = 'timezone = "Europe/Amsterdam"\n[profile]\nvip = "bool"\npoints = "int"\n[purchase]\nbrand = "keyword"\n'
AS_OF = dt.date(2026, 3, 14)


def reopen(store: Store) -> Store:
    """Drop the store as a crash would (no shutdown snapshot) and open its folder again."""
    store.wal.close()
    store._release_lock()
    return Store(store.data_dir, clock=store.clock).open()


def test_refused_calls_are_not_logged_and_replay_never_fails(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    index = store.create_index("shop", SCHEMA)
    index.upsert_profiles([{"customer": "a", "vip": "true", "points": "5"}])
    logged = store.wal.last_seq
    refused = [
        lambda: index.upsert_profiles([{"customer": "b", "points": "many"}]),
        lambda: index.add_purchases([{"customer": "b", "time": "yesterday", "amount": "1"}]),
        lambda: index.add_purchase_columns({"customer": ["b"], "time": ["2026-03-01"], "amount": ["1"],
                                            "colour": ["red"]}),
        lambda: index.save_segment("s", "colour = 'red'"),
        lambda: index.save_segment("bad name!", "ALL"),
        lambda: index.save_segment("loop", "IN SEGMENT 'loop'"),
        lambda: index.delete_segment("nope"),
        lambda: index.save_tiering("t", [("x", "vip = 3")], "rest"),
        lambda: index.update_list("no good", add=["a"]),
        lambda: store.create_index("shop", SCHEMA),
        lambda: store.create_index("other", "[profile]\nx = 'nonsense'"),
        lambda: store.drop_index("nope"),
        lambda: store.get("nope").upsert_profiles([{"customer": "a"}]),
    ]
    for call in refused:
        with pytest.raises((InvalidInputError, QueryError, NotFoundError, AlreadyExistsError, SchemaError)):
            call()
    assert index.delete_customers(["nobody"]) == 0  # a call that changes nothing is not logged either
    assert store.wal.last_seq == logged
    rejects: list = []
    assert index.upsert_profiles([{"customer": "b", "points": "many"}, {"customer": "c", "points": "7"}],
                                 rejects=rejects) == 1
    assert len(rejects) == 1 and store.wal.last_seq == logged + 1  # the good row went in, and was logged
    store = reopen(store)
    assert store.get("shop").members("ALL") == ["a", "c"]
    assert store.get("shop").count("points > 6") == 1


def test_drop_and_recreate_replay_in_order(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    store.create_index("shop", SCHEMA).upsert_profiles([{"customer": "old"}])
    store.snapshot()
    store.drop_index("shop")
    store.create_index("shop", '[profile]\ntier = "keyword"').upsert_profiles([{"customer": "new", "tier": "g"}])
    store.create_index("other", SCHEMA)
    store.drop_index("other")
    store = reopen(store)
    assert store.names() == ["shop"]
    assert store.get("shop").members("tier = 'g'") == ["new"]
    store.snapshot()
    store.drop_index("shop")
    store = reopen(store)
    assert store.names() == []
    store.close()


def test_a_stale_handle_cannot_write_to_a_dropped_index(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    stale = store.create_index("shop", SCHEMA)
    store.drop_index("shop")
    store.create_index("shop", SCHEMA)
    with pytest.raises(NotFoundError):
        stale.upsert_profiles([{"customer": "ghost"}])
    assert reopen(store).get("shop").count("ALL") == 0


def test_the_daily_snapshot_is_due_at_two_in_the_index_zone(tmp_path: Path) -> None:
    zone = ZoneInfo("Europe/Amsterdam")
    clock = SimulatedClock(dt.datetime(2026, 3, 13, 23, 0, tzinfo=zone))
    store = Store(tmp_path, clock=clock).open()
    assert not store.due()  # no index, nothing to do
    index = store.create_index("shop", SCHEMA)
    index.upsert_profiles([{"customer": "a", "vip": "true"}])
    index.save_segment("vips", "vip = true", kind="hot")
    assert store.due()  # 23:00, never evaluated: catches up at once (a server that was down at 02:00)
    assert store.run_due() is not None
    assert store.history("shop", "vips")[0].day == dt.date(2026, 3, 13)
    clock.now = dt.datetime(2026, 3, 14, 1, 59, tzinfo=zone)
    assert not store.due() and store.run_due() is None
    clock.now = dt.datetime(2026, 3, 14, 2, 0, tzinfo=zone)
    assert store.due(dt.datetime(2026, 3, 14, 1, 0, tzinfo=dt.UTC))  # 02:00 in Amsterdam
    info = store.run_due()
    assert info is not None and info.daily
    assert not store.due()
    store.snapshot()  # on demand: no evaluation, no history row
    assert [r.day for r in store.history("shop", "vips")] == [dt.date(2026, 3, 13), dt.date(2026, 3, 14)]
    store = reopen(store)
    assert not store.due()  # the last evaluated day survives a restart
    store.close()


def test_a_failed_log_write_is_never_visible_and_the_store_heals(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path, heal_backoff=(0.01, 0.05)).open()
    index = store.create_index("shop", SCHEMA)
    index.upsert_profiles([{"customer": "a"}])

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wal_module, "_sync", full_disk)
    with pytest.raises(ReadOnlyError, match="No space left on device"):
        index.upsert_profiles([{"customer": "b"}])
    assert not store.writable and "No space left" in (store.problem or "")
    with pytest.raises(ReadOnlyError, match="refused while the log cannot be written"):
        index.upsert_profiles([{"customer": "c"}])
    assert index.members("ALL") == ["a"]  # reads go on; the refused batches were never visible
    time.sleep(0.1)
    assert not store.writable  # still full: the healer keeps trying
    monkeypatch.undo()
    deadline = time.monotonic() + 5
    while not store.writable and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store.writable and store.problem is None  # healed without a restart
    index.upsert_profiles([{"customer": "d"}])
    store.close()
    assert Store(tmp_path).open().get("shop").members("ALL") == ["a", "d"]


def test_a_snapshot_ahead_of_a_lost_log_continues_numbering_after_it(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    store.create_index("shop", SCHEMA).upsert_profiles([{"customer": "a"}])
    store.close()
    continues_at = store.wal.current_first
    shutil.rmtree(tmp_path / "wal")
    with pytest.raises(PersistenceError, match="is missing: snapshot .* create an empty file of that name"):
        Store(tmp_path).open()  # the last log file is gone: said, not started silently
    (tmp_path / "wal").mkdir(exist_ok=True)
    (tmp_path / "wal" / f"{continues_at:020d}.log").touch()  # knowingly
    store = Store(tmp_path).open()
    assert store.wal.last_seq >= 2
    store.get("shop").upsert_profiles([{"customer": "b"}])
    assert reopen(store).get("shop").members("ALL") == ["a", "b"]


def test_writes_through_store_get_are_logged(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    store.create_index("shop", SCHEMA)
    index = store.get("shop")
    assert isinstance(index, Index)  # the Index itself: its writes go through the Store's journal
    profiles = [{"customer": f"c{i}", "vip": str(i % 3 == 0).lower(), "points": str(i)} for i in range(30)]
    lines = [{"customer": f"c{i}", "time": "2026-03-01", "amount": "5", "brand": "x" if i % 2 else "y"}
             for i in range(0, 30, 5)]
    gone = {"c0", "c3"}
    first = store.wal.last_seq
    index.upsert_profiles(profiles)
    index.add_purchases(lines)
    index.save_segment("vips", "vip = true", kind="hot")
    index.update_list("picked", add=["c1", "c2", "c3"])
    index.save_tiering("by_points", [("high", "points >= 20")], default="low")
    index.delete_customers(sorted(gone))
    assert store.wal.last_seq == first + 6  # one record per write
    with index.lock:
        assert index.members("ALL") == [p["customer"] for p in profiles if p["customer"] not in gone]

    store = reopen(store)
    again = store.get("shop")
    kept = [p for p in profiles if p["customer"] not in gone]
    assert again.customer_count == len(kept)
    assert again.line_count == len([r for r in lines if r["customer"] not in gone])
    assert again.members("IN SEGMENT 'vips'", as_of=AS_OF) == [p["customer"] for p in kept if p["vip"] == "true"]
    assert again.count("purchases MATCHES (brand = 'x', date >= -30d)", as_of=AS_OF) == len(
        [r for r in lines if r["brand"] == "x" and r["customer"] not in gone])
    assert again.get_list("picked") == ["c1", "c2"]
    high = len([p for p in kept if int(str(p["points"])) >= 20])
    assert again.count_tiers("by_points", as_of=AS_OF) == [("high", high), ("low", len(kept) - high)]
    store.close()


def test_a_log_written_before_the_one_write_path_replays(tmp_path: Path) -> None:
    old = wal_module.WriteAheadLog(tmp_path / "wal")  # op names and arguments as the Store logged them before
    assert list(old.replay()) == []
    old.append("create_index", {"name": "shop", "schema": SCHEMA})
    old.append("upsert_profiles", {"index": "shop", "rows": [{"customer": "a", "vip": "true"}], "first_row": 1})
    old.append("save_segment", {"index": "shop", "name": "vips", "query": "vip = TRUE", "kind": "hot",
                                "description": ""})
    old.append("evaluate", {"index": "shop", "day": day_number(AS_OF),
                            "segments": [["vips", "hot", BitMap([0]).serialize()]]})
    old.close()
    with Store(tmp_path).open() as store:
        assert store.get("shop").history("vips") == [HistoryRow(AS_OF, 1, 1, 0)]
        assert store.get("shop").last_evaluated == AS_OF


def test_persistence_never_imports_grpc() -> None:
    code = ("import sys, bitseg.persistence; "
            "assert not [m for m in sys.modules if m.split('.')[0] == 'grpc'], 'grpc imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
