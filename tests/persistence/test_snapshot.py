"""Snapshots: a faithful round trip, checksums that catch a flipped byte, fallback, atomic writes, retention."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyroaring import BitMap

from bitseg import Catalog, Index, PersistenceError
from bitseg.persistence import Store, layout, snapshot
from bitseg.persistence.capture import capture
from bitseg.schema import Schema

from . import shop


def same_state(a: Any, b: Any, path: str = "") -> None:
    """Deep equality of two Index.state() values: arrays by content, bitmaps by members."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.tolist() == b.tolist(), path
    elif isinstance(a, BitMap):
        assert a == b, path
    elif isinstance(a, dict):
        assert sorted(a, key=repr) == sorted(b, key=repr), path
        for key in a:
            same_state(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same_state(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    index = Catalog().create_index("shop", shop.SCHEMA)
    shop.populate(index)
    return shop.answers(index)


def build(directory: Path, **options: Any) -> Store:
    store = Store(directory, **options).open()
    shop.populate(store.create_index("shop", shop.SCHEMA))
    return store


def crash(store: Store) -> None:
    """What a killed process leaves: no shutdown snapshot, files and lock let go."""
    store.wal.close()
    store._release_lock()


def reopen(directory: Path, **options: Any) -> Store:
    return Store(directory, **options).open()


def test_round_trip_equals_the_original(tmp_path: Path, expected: dict[str, Any]) -> None:
    store = build(tmp_path)
    live = store.get("shop")
    live.count("purchases MATCHES (brand = 'Nike', date >= -40d)", as_of=shop.AS_OF)  # builds lazy day buckets
    assert shop.answers(live) == expected  # logging changes nothing
    info = store.snapshot()
    assert info.indexes == ("shop",) and info.bytes > 0
    _, [loaded] = snapshot.load(info.path)
    restored = Index.from_state(Schema.from_toml(loaded.schema_toml), "shop", loaded.state)
    with live.lock:
        same_state(live.state(), loaded.state)  # the tracking of hot segments included
        same_state(live.state(), restored.state())
    assert shop.answers(restored) == expected
    crash(store)
    again = reopen(tmp_path)
    assert again.problems == []
    assert shop.answers(again.get("shop")) == expected


def test_the_log_alone_rebuilds_everything(tmp_path: Path, expected: dict[str, Any]) -> None:
    crash(build(tmp_path))
    assert shop.answers(reopen(tmp_path).get("shop")) == expected


def test_writes_after_a_snapshot_come_from_the_log(tmp_path: Path, expected: dict[str, Any]) -> None:
    store = Store(tmp_path).open()
    index = store.create_index("shop", shop.SCHEMA)
    index.upsert_profile_columns(shop.profile_columns())
    store.snapshot()
    rest = Catalog().create_index("shop", shop.SCHEMA)  # the same calls, minus the profiles already in
    calls: list[tuple[str, tuple, dict]] = []

    class Recorder:
        def __getattr__(self, name: str) -> Any:
            return lambda *args, **kwargs: calls.append((name, args, kwargs))

    shop.populate(Recorder())
    for name, args, kwargs in calls[1:]:
        getattr(index, name)(*args, **kwargs)
        getattr(rest, name)(*args, **kwargs)
    crash(store)
    assert shop.answers(reopen(tmp_path).get("shop")) == expected


def two_snapshots_and_a_tail(directory: Path) -> Store:
    """Snapshot A after the profiles, snapshot B after everything else but one list change, then that change."""
    store = Store(directory).open()
    index = store.create_index("shop", shop.SCHEMA)
    profiles = shop.profile_columns()
    index.upsert_profile_columns(profiles)
    store.snapshot()
    calls: list[tuple[str, tuple, dict]] = []

    class Recorder:
        def __getattr__(self, name: str) -> Any:
            return lambda *args, **kwargs: calls.append((name, args, kwargs))

    shop.populate(Recorder())
    for name, args, kwargs in calls[1:-1]:
        getattr(index, name)(*args, **kwargs)
    store.snapshot()
    name, args, kwargs = calls[-1]
    getattr(index, name)(*args, **kwargs)
    return store


def flip(path: Path, at: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if at is None else at
    data[at] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("file", ["bitmaps.bin", "lines.column.npy", "lines.amount.npy", "meta.msgpack",
                                  "keys.msgpack", "fields.country.column_codes.npy", "MANIFEST"])
def test_a_flipped_byte_is_caught_and_the_previous_snapshot_plus_log_answers_the_same(
        tmp_path: Path, expected: dict[str, Any], file: str) -> None:
    crash(two_snapshots_and_a_tail(tmp_path))
    newest, _ = snapshot.list_all(tmp_path / "snapshots")
    flip(newest.path / file if file == "MANIFEST" else newest.path / "index" / "shop" / file)
    store = reopen(tmp_path)
    assert len(store.problems) == 1 and file in store.problems[0] and newest.id in store.problems[0]
    assert shop.answers(store.get("shop")) == expected
    # the next snapshot is good, and the log is kept back to the good one before it, not the damaged one
    store.snapshot()
    crash(store)
    store = reopen(tmp_path)
    assert shop.answers(store.get("shop")) == expected


def test_a_missing_file_is_damage(tmp_path: Path) -> None:
    crash(two_snapshots_and_a_tail(tmp_path))
    newest = snapshot.list_all(tmp_path / "snapshots")[0]
    (newest.path / "index" / "shop" / "lines.day.npy").unlink()
    store = reopen(tmp_path)
    assert "lines.day.npy is missing" in store.problems[0]


def test_no_usable_snapshot_refuses_to_start_and_says_why(tmp_path: Path) -> None:
    crash(two_snapshots_and_a_tail(tmp_path))
    newest, previous = snapshot.list_all(tmp_path / "snapshots")
    flip(newest.path / "index" / "shop" / "bitmaps.bin")
    flip(previous.path / "index" / "shop" / "lines.column.npy")
    with pytest.raises(PersistenceError) as caught:
        reopen(tmp_path)
    message = str(caught.value)
    assert "bitmaps.bin" in message and "lines.column.npy" in message and "from a backup" in message
    assert "wrong data" in message


def test_a_crash_before_the_rename_leaves_the_previous_snapshot(tmp_path: Path, expected: dict[str, Any],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    store = two_snapshots_and_a_tail(tmp_path)
    before = [s.id for s in store.list_snapshots()]

    def killed(temp: Path, final: Path) -> None:
        raise KeyboardInterrupt  # the process dies with every temporary file written and fsynced

    monkeypatch.setattr(snapshot, "_publish", killed)
    with pytest.raises(KeyboardInterrupt):
        store.snapshot()
    assert list((tmp_path / "snapshots").glob(".tmp-*"))
    crash(store)
    monkeypatch.undo()
    store = reopen(tmp_path)
    assert store.problems == [] and [s.id for s in store.list_snapshots()] == before
    assert not list((tmp_path / "snapshots").glob(".tmp-*"))  # leftovers cleared
    assert shop.answers(store.get("shop")) == expected


def test_retention_keeps_the_last_n_and_the_log_back_to_the_second(tmp_path: Path) -> None:
    store = Store(tmp_path, keep=3).open()
    index = store.create_index("shop", '[profile]\nvip = "bool"')
    bases = []
    for i in range(5):
        index.upsert_profiles([{"customer": f"c{i}", "vip": True}])
        bases.append(store.snapshot().base_seq)
    kept = store.list_snapshots()
    assert len(kept) == 3 and [s.base_seq for s in kept] == bases[:1:-1]
    assert store.wal.first_seq == bases[-2] + 1  # enough to rebuild from the snapshot before the newest
    store.close()
    assert len(Store(tmp_path, keep=3).open().list_snapshots()) == 3


def test_the_folder_is_locked(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    with pytest.raises(PersistenceError, match="in use by another"):
        Store(tmp_path).open()
    store.close()
    Store(tmp_path).open().close()


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path).open()
    yield store
    store.close(snapshot=False)


def test_snapshot_of_nothing_and_of_an_empty_index(empty_store: Store) -> None:
    assert empty_store.snapshot().indexes == ()
    empty_store.create_index("empty", '[profile]\nvip = "bool"\n[purchase]\nbrand = "keyword"')
    info = empty_store.snapshot()
    _, [loaded] = snapshot.load(info.path)
    restored = Index.from_state(Schema.from_toml(loaded.schema_toml), "empty", loaded.state)
    assert restored.count("ALL") == 0 and restored.count("purchases MATCHES (brand = 'x')") == 0


def test_many_order_ids_come_back_from_a_snapshot(tmp_path: Path) -> None:
    from bitseg.index.orderids import OrderIds

    n = 70_000  # many order ids: their hash table is adopted from the snapshot's files, not rebuilt
    columns = {"customer": [f"c{i % 5000}" for i in range(n)], "time": np.full(n, "2026-03-01", "datetime64[D]"),
               "amount": np.ones(n), "order": [f"o{i}" for i in range(n)]}
    more = [{"customer": "c1", "time": "2026-03-02", "amount": "1", "order": "o1"},      # a known order
            {"customer": "c1", "time": "2026-03-02", "amount": "1", "order": "new"}]    # a new one
    reference = Catalog().create_index("shop", shop.SCHEMA)
    reference.add_purchase_columns(columns)
    reference.add_purchases(more)
    store = Store(tmp_path).open()
    store.create_index("shop", shop.SCHEMA).add_purchase_columns(columns)
    store.close()
    store = Store(tmp_path).open()
    index = store.get("shop")
    assert isinstance(index.lines.orders, OrderIds) and len(index.lines.orders) == n
    assert index.count("orders = 14", as_of=shop.AS_OF) == 5000
    index.add_purchases(more)
    for query in ("orders >= 15", "orders = 14", "purchases MATCHES (count >= 15)", "ALL"):
        assert index.count(query, as_of=shop.AS_OF) == reference.count(query, as_of=shop.AS_OF), query
    store.close()
    assert Store(tmp_path).open().get("shop").count("orders >= 15") == reference.count("orders >= 15")


SMALL_SCHEMA = ('[profile]\ncountry = "keyword"\nvip = "bool"\ntags = "tags"\nemail = "presence"\n'
                'points = "int"\n[purchase]\nbrand = "keyword"')


def small_state() -> dict[str, Any]:
    index = Index.from_toml(SMALL_SCHEMA)
    index.upsert_profiles([{"customer": "c1", "country": "NL", "vip": True, "tags": ["a"], "email": "x@y",
                            "points": 3}, {"customer": "c2", "country": "BE"}])
    index.add_purchases([{"customer": "c2", "time": "2026-01-05", "amount": "9.95", "brand": "b",
                          "order": "o1"}])
    return {**index.state(), "tracking": {"last_day": None, "tracks": {}}}


def test_file_names_are_the_declared_layout(tmp_path: Path) -> None:
    """A golden list: a change here is a change of the snapshot format (bump layout.FORMAT)."""
    info = snapshot.write(tmp_path, [capture("small", SMALL_SCHEMA, 1, small_state())], 0,
                          dt.datetime(2026, 3, 14, tzinfo=dt.UTC), daily=False)
    assert sorted(p.name for p in (info.path / "index" / "small").iterdir()) == [
        "bitmaps.bin", "bitmaps.offsets.npy",
        "builtins.clv.values.npy", "builtins.first_purchase_date.values.npy",
        "builtins.last_purchase_date.values.npy", "builtins.orders.values.npy",
        "fields.country.column_codes.npy", "fields.points.values.npy", "fields.vip.column_codes.npy",
        "keys.msgpack",
        "line_ids.checks.npy", "line_ids.ends.npy", "line_ids.table.keys.npy", "line_ids.table.values.npy",
        "line_ids.texts.npy",
        "lines.amount.npy", "lines.brand.npy", "lines.column.npy", "lines.day.npy", "lines.order.npy",
        "lines.quantity.npy",
        "meta.msgpack", "order_pairs.keys.npy", "orders.checks.npy", "orders.ends.npy",
        "orders.table.keys.npy", "orders.table.values.npy", "orders.texts.npy", "schema.toml",
    ]
    assert snapshot.read_manifest(info.path)["format"] == layout.FORMAT == 2


def test_long_lists_get_the_declared_files() -> None:
    state = small_state()
    many = [f"v{i}" for i in range(70_000)]
    state["orders"] = state["fields"]["country"]["names"] = state["lines"]["dictionaries"]["brand"] = many
    captured = capture("small", SMALL_SCHEMA, 1, state)
    assert sorted(captured.objects) == ["dictionaries.brand.msgpack", "fields.country.names.msgpack",
                                        "keys.msgpack", "orders.msgpack"]


@pytest.mark.parametrize("change", ["array", "object array", "long list", "part", "renamed key"])
def test_an_array_or_list_the_layout_does_not_declare_is_refused(change: str) -> None:
    state = small_state()
    if change == "array":
        state["fields"]["points"]["extra"] = np.arange(3)
    elif change == "object array":
        state["lines"]["columns"]["note"] = np.array(["x"], dtype=object)
    elif change == "long list":
        state["views"]["names"] = [f"v{i}" for i in range(70_000)]
    elif change == "part":
        state["novel"] = {}
    else:  # a component renaming a key must not quietly rename its file
        state["translator"] = {"external_ids": state["translator"]["keys"]}
    with pytest.raises(PersistenceError, match="snapshot layout"):
        capture("small", SMALL_SCHEMA, 1, state)


def test_a_format_1_snapshot_is_refused_with_a_clear_message(tmp_path: Path,
                                                              expected: dict[str, Any]) -> None:
    store = build(tmp_path)
    info = store.snapshot()
    crash(store)
    manifest = json.loads((info.path / snapshot.MANIFEST).read_bytes().rpartition(b"\ncrc32")[0])
    body = json.dumps({**manifest, "format": 1}, indent=1, sort_keys=True).encode()
    (info.path / snapshot.MANIFEST).write_bytes(body + b"\ncrc32 %08x\n" % zlib.crc32(body))
    with pytest.raises(PersistenceError, match="format 1 is no longer read .*not migrated"):
        snapshot.load(info.path)
    assert "format 1" in (snapshot.list_all(tmp_path / "snapshots")[0].problem or "")
    store = reopen(tmp_path)  # the log still reaches back to the start: it alone rebuilds the index
    assert len(store.problems) == 1 and "format 1 is no longer read" in store.problems[0]
    assert shop.answers(store.get("shop")) == expected
