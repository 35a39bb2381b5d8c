"""Snapshots under faults (issue 10, findings 6 and 8, and the lesser ones): a failed snapshot leaves no
temporary folder and writes go on; an index named MANIFEST; retention of daily snapshots apart from the others;
a failed daily snapshot retried; a clock that jumps; the data folder locked on itself."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bitseg import PersistenceError
from bitseg.persistence import SimulatedClock, Store
from bitseg.persistence import snapshot as snapshot_module
from tests.faults.small_disk import ENV, fill_space, give_back, small_disk

SCHEMA = '[profile]\nvip = "bool"\n[purchase]\nbrand = "keyword"\n'
START = "2026-03-14T03:00:00+00:00"


def lines(n: int, seed: int = 0) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    return {"customer": np.char.add("c", rng.integers(0, n // 4 + 1, n).astype(str)),
            "day": np.datetime64("2025-01-01") + rng.integers(0, 400, n).astype("timedelta64[D]"),
            "amount": rng.integers(1, 10_000, n) / 100, "brand": np.char.add("b", rng.integers(0, 50, n).astype(str))}


def test_a_snapshot_that_fills_the_disk_leaves_no_temporary_folder_and_writes_go_on(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "48m") as disk:
        store = Store(disk / "data").open()
        index = store.create_index("shop", SCHEMA)
        index.add_purchase_columns(lines(60_000))
        filler = fill_space(disk)  # full; now make 256 KiB of room: enough for the log, not for a snapshot
        with open(filler, "r+b") as file:
            file.truncate(max(0, filler.stat().st_size - (256 << 10)))
        with pytest.raises(PersistenceError, match="No space left"):
            store.snapshot()
        assert not list((disk / "data" / "snapshots").glob(".tmp-*"))  # the space is given back
        index.upsert_profiles([{"customer": "late", "vip": True}])  # writes go on
        assert store.writable and index.count("vip = true") == 1
        give_back(filler)
        store.snapshot()
        store.close(snapshot=False)
        assert Store(disk / "data").open().get("shop").count("vip = true") == 1


def test_a_failed_snapshot_write_removes_its_folder_everywhere(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path).open()
    store.create_index("shop", SCHEMA).add_purchase_columns(lines(1000))

    def full(path: Path, array: np.ndarray) -> dict[str, int]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot_module, "_write_array", full)
    with pytest.raises(PersistenceError, match="No space left"):
        store.snapshot()
    assert not list((tmp_path / "snapshots").glob(".tmp-*"))
    store.get("shop").upsert_profiles([{"customer": "x", "vip": True}])
    monkeypatch.undo()
    store.close()
    assert Store(tmp_path).open().get("shop").count("vip = true") == 1


@pytest.mark.parametrize("name", ["MANIFEST", "index", "tmp-x"])
def test_an_index_named_like_a_snapshot_file(tmp_path: Path, name: str) -> None:
    store = Store(tmp_path).open()
    store.create_index(name, SCHEMA).upsert_profiles([{"customer": "a", "vip": True}])
    store.create_index("shop", SCHEMA).upsert_profiles([{"customer": "b", "vip": True}])
    store.snapshot()
    store.close()
    again = Store(tmp_path).open()
    assert again.problems == [] and again.list_snapshots()[0].problem is None
    assert again.get(name).members("ALL") == ["a"] and again.get("shop").members("ALL") == ["b"]
    again.close()


def test_restarts_keep_the_daily_snapshots(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    store = Store(tmp_path, clock=clock, keep=3, keep_on_demand=2).open()
    store.create_index("shop", SCHEMA)
    for _ in range(4):
        assert store.run_due() is not None
        clock.advance(days=1)
    for _ in range(7):  # seven restarts, each with its shutdown snapshot
        store.close()
        clock.advance(minutes=1)
        store = Store(tmp_path, clock=clock, keep=3, keep_on_demand=2).open()
    kinds = [s.daily for s in store.list_snapshots()]
    assert kinds.count(True) == 3 and kinds.count(False) == 2
    store.close()


def test_a_failed_daily_snapshot_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = SimulatedClock(START)
    store = Store(tmp_path, clock=clock).open()
    store.create_index("shop", SCHEMA).save_segment("vips", "vip = true", kind="hot")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot_module, "_publish", full)
    with pytest.raises(PersistenceError):
        store.run_due()  # evaluated (and logged), but the snapshot failed
    monkeypatch.undo()
    assert store.due()
    clock.advance(minutes=1)
    info = store.run_due()
    assert info is not None and info.daily
    assert not store.due() and [r.day for r in store.history("shop", "vips")] == [dt.date(2026, 3, 14)]
    store.close(snapshot=False)


def test_a_daily_snapshot_cut_short_by_a_crash_is_retried_after_the_restart(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    clock = SimulatedClock(START)
    store = Store(tmp_path, clock=clock).open()
    store.create_index("shop", SCHEMA).save_segment("vips", "vip = true", kind="hot")

    def killed(*args: object) -> None:
        raise KeyboardInterrupt  # the process dies before the snapshot exists

    monkeypatch.setattr(snapshot_module, "_publish", killed)
    with pytest.raises(KeyboardInterrupt):
        store.run_due()
    monkeypatch.undo()
    store.close(snapshot=False)
    store = Store(tmp_path, clock=clock).open()
    assert store.due()  # evaluated (the log replays it), but no daily snapshot today
    assert store.run_due() is not None and not store.due()
    assert len(store.history("shop", "vips")) == 1  # not evaluated twice
    store.close(snapshot=False)


def test_a_clock_that_jumps_back_a_year_still_gives_a_daily_snapshot_each_day(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    store = Store(tmp_path, clock=clock).open()
    store.create_index("shop", SCHEMA).save_segment("vips", "vip = true", kind="hot")
    assert store.run_due() is not None
    clock.advance(days=-365)
    for _ in range(3):
        info = store.run_due()
        assert info is not None and info.daily  # one a day, without an evaluation out of order
        assert store.run_due() is None
        clock.advance(days=1)
    assert [r.day for r in store.history("shop", "vips")] == [dt.date(2026, 3, 14)]
    clock.advance(days=400)  # forward past the last evaluated day: evaluations resume, one for the day
    assert store.run_due() is not None
    assert [r.day for r in store.history("shop", "vips")][-1] == clock().date()
    store.close(snapshot=False)


def test_deleting_the_lock_file_does_not_let_a_second_server_in(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    (tmp_path / "LOCK").unlink(missing_ok=True)
    second = subprocess.run([sys.executable, "-c", "import sys; from bitseg.persistence import Store; "
                             "Store(sys.argv[1]).open()", str(tmp_path)], env=ENV, capture_output=True, text=True)
    assert second.returncode != 0 and "in use by another bitseg process" in second.stderr
    store.close()
