"""`bitseg verify`: check a data directory offline, changing nothing (redis-check-aof, FeatureBase's `check`).

Every snapshot is read through its manifest and every file checked against its checksum (as start-up would);
every log file is read record by record (marker, header and payload checksums, sequence numbers, decodable
payload) and the files must follow each other without a gap. A torn last record (a crash mid-write, never
acknowledged) is a note, not damage: start-up drops it.

>>> import tempfile
>>> folder = tempfile.TemporaryDirectory()
>>> report = verify(folder.name)
>>> report.sound, report.damaged
(True, [])
>>> folder.cleanup()
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass, field
from pathlib import Path

from bitseg.errors import PersistenceError
from bitseg.persistence import codec, snapshot
from bitseg.persistence.wal import _SUFFIX, HEADER_SIZE, _Damage, _good_record_after, _read_header


@dataclass
class Report:
    """What was checked (`checked`), what is damaged (`damaged`, each naming the file) and notes."""

    checked: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.damaged


def verify(data_dir: str | Path) -> Report:
    """Check every snapshot and the whole log of `data_dir`; nothing is written."""
    root = Path(data_dir)
    report = Report()
    if not root.is_dir():
        report.damaged.append(f"{root}: no such data directory")
        return report
    _snapshots(root / "snapshots", report)
    _log(root / "wal", report)
    return report


def _snapshots(folder: Path, report: Report) -> None:
    if not folder.is_dir():
        report.notes.append(f"{folder}: no snapshots yet")
        return
    for info in snapshot.list_all(folder):
        if info.problem is not None:
            report.damaged.append(f"snapshot {info.path}: {info.problem}")
            continue
        try:
            snapshot.load(info.path)
        except PersistenceError as err:
            report.damaged.append(f"snapshot {info.path}: {err}")
        except Exception as err:  # noqa: BLE001 - anything a load trips on is damage to report, not a crash
            report.damaged.append(f"snapshot {info.path}: cannot be loaded ({type(err).__name__}: {err})")
        else:
            report.checked.append(f"snapshot {info.id}: {info.bytes:,} bytes, indexes {', '.join(info.indexes)}")


def _segments(folder: Path) -> list[tuple[int, Path]]:
    found = []
    for path in folder.glob("*" + _SUFFIX):
        try:
            found.append((int(path.name[: -len(_SUFFIX)]), path))
        except ValueError:
            continue
    return sorted(found)


def _log(folder: Path, report: Report) -> None:
    segments = _segments(folder) if folder.is_dir() else []
    if not segments:
        report.notes.append(f"{folder}: no log files")
        return
    expected = segments[0][0]
    records = 0
    for number, (first, path) in enumerate(segments):
        last_file = number == len(segments) - 1
        if first != expected:
            report.damaged.append(f"log {path}: starts at record {first} where {expected} was expected "
                                  "(a log file is missing)")
            expected = first
        expected, count = _log_file(path, expected, last_file, report)
        records += count
    report.checked.append(f"log {folder}: {records:,} records in {len(segments)} files, "
                          f"records {segments[0][0]} to {expected - 1}")


def _log_file(path: Path, expected: int, last_file: bool, report: Report) -> tuple[int, int]:
    size = path.stat().st_size
    if size == 0:
        return expected, 0
    count = 0
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        offset = 0
        while offset < size:
            try:
                seq, length = _read_header(data, offset, expected)
                start = offset + HEADER_SIZE
                codec.unpack(data[start: start + length])
            except _Damage as damage:
                if _good_record_after(data, damage.offset) is None and last_file:
                    report.notes.append(f"log {path}: a torn last record at byte {damage.offset} "
                                        f"({damage.reason}); never acknowledged, start-up drops it")
                else:
                    report.damaged.append(f"log {path}: damaged at byte {damage.offset} ({damage.reason})")
                break
            except Exception as err:  # noqa: BLE001 - a payload that passes its checksum but does not decode
                report.damaged.append(f"log {path}: record {expected} at byte {offset} does not decode ({err})")
                break
            offset = start + length
            expected = seq + 1
            count += 1
    return expected, count
