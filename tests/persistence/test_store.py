"""The Store's contract: refused calls are not logged, the log replays every accepted call, daily scheduling."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bitseg import (
    AlreadyExistsError,
    InvalidInputError,
    NotFoundError,
    PersistenceError,
    QueryError,
    SchemaError,
)
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
        lambda: store.upsert_profiles("nope", [{"customer": "a"}]),
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


def test_a_failed_log_write_refuses_later_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path).open()
    index = store.create_index("shop", SCHEMA)
    index.upsert_profiles([{"customer": "a"}])

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wal_module, "_sync", full_disk)
    with pytest.raises(PersistenceError, match="No space left on device"):
        index.upsert_profiles([{"customer": "b"}])
    monkeypatch.undo()
    with pytest.raises(PersistenceError, match="refused until the server is restarted"):
        index.upsert_profiles([{"customer": "c"}])
    assert index.count("ALL") == 2  # reads go on (b was applied, but never acknowledged)
    with pytest.raises(PersistenceError):
        store.snapshot()
    store.close()
    assert Store(tmp_path).open().get("shop").members("ALL") == ["a"]


def test_a_snapshot_ahead_of_a_lost_log_continues_numbering_after_it(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    store.create_index("shop", SCHEMA).upsert_profiles([{"customer": "a"}])
    store.close()
    shutil.rmtree(tmp_path / "wal")
    store = Store(tmp_path).open()
    assert store.wal.last_seq >= 2
    store.get("shop").upsert_profiles([{"customer": "b"}])
    assert reopen(store).get("shop").members("ALL") == ["a", "b"]


def test_durable_index_reads_like_an_index(tmp_path: Path) -> None:
    with Store(tmp_path).open() as store:
        index = store.get(store.create_index("shop", SCHEMA).name)
        index.add_purchases([{"customer": "a", "time": "2026-03-01", "amount": "5", "brand": "x"}])
        assert index.count("purchases MATCHES (brand = 'x', date >= -30d)", as_of=AS_OF) == 1
        assert index.customer_count == 1 and index.line_count == 1 and index.schema.timezone == "Europe/Amsterdam"
        with index.lock:
            assert index.members("ALL") == ["a"]


def test_persistence_never_imports_grpc() -> None:
    code = ("import sys, bitseg.persistence; "
            "assert not [m for m in sys.modules if m.split('.')[0] == 'grpc'], 'grpc imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
