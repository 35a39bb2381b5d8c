"""The write-ahead log: framing, fsync per call, torn tails dropped, damage in the middle refused, segments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from bitseg import Coded, PersistenceError
from bitseg.persistence import wal as wal_module
from bitseg.persistence.wal import HEADER_SIZE, WriteAheadLog


def opened(directory: Path) -> tuple[WriteAheadLog, list]:
    log = WriteAheadLog(directory)
    return log, list(log.replay())


def write_records(directory: Path, count: int) -> list[int]:
    """`count` records; returns the byte offset where each one starts."""
    log, _ = opened(directory)
    starts = []
    for i in range(count):
        starts.append(log._size)
        log.append("add", {"index": "shop", "i": i, "payload": "x" * (50 + i)})
    log.close()
    return starts


def only_segment(directory: Path) -> Path:
    [(_, path)] = WriteAheadLog(directory).segments()
    return path


def test_payloads_round_trip(tmp_path: Path) -> None:
    columns = {
        "customer": np.array(["a", "b", None], dtype=object),
        "day": np.array(["2026-03-01", "2026-03-02", "NaT"], dtype="datetime64[D]"),
        "amount": np.array([1.5, -2.25, 0.0]),
        "brand": Coded(np.array([0, -1, 1], dtype=np.int32), ["Levi's", "Nike"]),
        "time": ["2026-03-01T10:00:00+01:00", "2026-03-02", ""],
    }
    rows = [{"customer": "a", "tags": frozenset({"vip", "app"}), "when": dt.datetime(2026, 3, 1, 10, 5),
             "birth": dt.date(1990, 1, 2), "credit": Decimal("10.25"), "n": np.int64(3)}]
    log, _ = opened(tmp_path)
    assert log.append("add_purchase_columns", {"columns": columns}) == 1
    assert log.append("upsert_profiles", {"rows": rows}) == 2
    log.close()
    [first, second] = WriteAheadLog(tmp_path).replay()
    back = first.args["columns"]
    assert back["customer"].tolist() == ["a", "b", None] and back["customer"].dtype == object
    assert back["day"].dtype == columns["day"].dtype and np.array_equal(back["day"], columns["day"], equal_nan=True)
    assert back["amount"].tolist() == [1.5, -2.25, 0.0] and back["amount"].flags.writeable
    assert back["brand"].codes.tolist() == [0, -1, 1] and list(back["brand"].values) == ["Levi's", "Nike"]
    assert back["time"] == columns["time"]
    assert second.args["rows"] == [{**rows[0], "n": 3}]


def test_one_fsync_per_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syncs = []
    monkeypatch.setattr(wal_module, "_sync", lambda fd: syncs.append(fd))
    log, _ = opened(tmp_path)
    log.append("add_purchase_columns", {"columns": {"customer": ["c"] * 100_000}})
    log.append("delete_customers", {"ids": ["a"]})
    assert len(syncs) == 2


@pytest.mark.parametrize("keep", [1, HEADER_SIZE - 3, HEADER_SIZE, HEADER_SIZE + 10, -1])
def test_torn_tail_is_dropped_and_earlier_records_kept(tmp_path: Path, keep: int) -> None:
    starts = write_records(tmp_path, 5)
    path = only_segment(tmp_path)
    size = path.stat().st_size
    cut = starts[-1] + keep if keep > 0 else size + keep
    path.write_bytes(path.read_bytes()[:cut])  # a crash in the middle of writing the last record
    log, records = opened(tmp_path)
    assert [r.args["i"] for r in records] == [0, 1, 2, 3]
    assert log.dropped_tail is not None and log.dropped_tail[1] == cut - starts[-1]
    assert path.stat().st_size == starts[-1]  # truncated to the last good record
    assert log.append("add", {"i": 99}) == 5  # numbering continues where the good records end
    log.close()
    assert [r.args["i"] for r in WriteAheadLog(tmp_path).replay()] == [0, 1, 2, 3, 99]


@pytest.mark.parametrize("where", [0, 5, 9, 13, 17, 21, HEADER_SIZE + 3, "last"])
def test_flipped_byte_in_the_last_record_drops_it(tmp_path: Path, where: int | str) -> None:
    starts = write_records(tmp_path, 4)
    path = only_segment(tmp_path)
    data = bytearray(path.read_bytes())
    at = len(data) - 1 if where == "last" else starts[-1] + int(where)
    data[at] ^= 0x40
    path.write_bytes(bytes(data))
    _, records = opened(tmp_path)
    assert [r.args["i"] for r in records] == [0, 1, 2]
    assert path.stat().st_size == starts[-1]


def test_zeros_after_the_last_record_are_dropped(tmp_path: Path) -> None:
    write_records(tmp_path, 3)
    path = only_segment(tmp_path)
    size = path.stat().st_size
    with open(path, "ab") as file:
        file.write(b"\0" * 4096)  # a file extended but never written, as some file systems leave it
    _, records = opened(tmp_path)
    assert len(records) == 3 and path.stat().st_size == size


def test_damage_in_the_middle_is_refused(tmp_path: Path) -> None:
    starts = write_records(tmp_path, 5)
    path = only_segment(tmp_path)
    data = bytearray(path.read_bytes())
    data[starts[2] + HEADER_SIZE + 4] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(PersistenceError, match=f"damaged at byte {starts[2]}.*a good record follows"):
        opened(tmp_path)
    assert path.stat().st_size == len(data)  # nothing truncated


def test_segments_rotate_trim_and_must_be_contiguous(tmp_path: Path) -> None:
    log, _ = opened(tmp_path)
    for i in range(3):
        log.append("add", {"i": i})
    log.rotate()
    log.rotate()  # an empty segment is not rotated again
    for i in range(3, 5):
        log.append("add", {"i": i})
    log.rotate()
    log.append("add", {"i": 5})
    assert [first for first, _ in log.segments()] == [1, 4, 6]
    log.close()
    middle = tmp_path / "00000000000000000004.log"
    kept = middle.read_bytes()
    middle.unlink()
    with pytest.raises(PersistenceError, match="a log file is missing"):
        opened(tmp_path)
    middle.write_bytes(kept)
    log, _ = opened(tmp_path)
    assert log.trim(2) == []  # segment 1..3 still holds record 3
    assert [p.name for p in log.trim(3)] == ["00000000000000000001.log"]
    assert log.first_seq == 4
    log.close()
    assert [r.seq for r in WriteAheadLog(tmp_path).replay(after=4)] == [5, 6]


def test_a_torn_record_in_an_earlier_segment_is_damage(tmp_path: Path) -> None:
    log, _ = opened(tmp_path)
    log.append("add", {"i": 0})
    log.append("add", {"i": 1})
    log.rotate()
    log.append("add", {"i": 2})
    log.close()
    first = WriteAheadLog(tmp_path).segments()[0][1]
    first.write_bytes(first.read_bytes()[:-5])
    with pytest.raises(PersistenceError, match="a later log file follows"):
        opened(tmp_path)


def test_a_failed_write_leaves_no_partial_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log, _ = opened(tmp_path)
    log.append("add", {"i": 0})

    failures = [OSError(28, "No space left on device")]

    def full_disk(fd: int) -> None:  # fails once: the record is written but not synced
        if failures:
            raise failures.pop()

    monkeypatch.setattr(wal_module, "_sync", full_disk)
    with pytest.raises(PersistenceError, match="No space left"):
        log.append("add", {"i": 1})
    monkeypatch.undo()
    assert log.append("add", {"i": 2}) == 2
    log.close()
    assert [r.args["i"] for r in WriteAheadLog(tmp_path).replay()] == [0, 2]
