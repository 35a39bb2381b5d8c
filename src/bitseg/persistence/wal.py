"""The write-ahead log: every acknowledged change, in order, fsynced before the call that made it returns.

The log is a folder of segment files named by the sequence number of their first record
(`00000000000000000001.log`); a snapshot starts a new segment so that old ones can be deleted whole.
A record is one write call:

    magic b"BSW1" | seq u64 | length u32 | crc32(payload) u32 | crc32(the 20 bytes before) u32 | payload

where the payload is `codec.pack([op, args])`. Reading stops at the first record that fails a check. If no good
record follows it anywhere, it is the torn tail of a crash mid-write: it is dropped and the file truncated to
the last good record. If a good record does follow, the log is damaged in the middle — acknowledged changes
would be lost — and opening fails with a PersistenceError that says where.

>>> import tempfile
>>> folder = tempfile.TemporaryDirectory()
>>> log = WriteAheadLog(folder.name)
>>> list(log.replay())
[]
>>> log.append("create_index", {"name": "shop"}), log.append("drop_index", {"name": "shop"})
(1, 2)
>>> [(r.seq, r.op) for r in WriteAheadLog(log.directory).replay()]
[(1, 'create_index'), (2, 'drop_index')]
>>> log.close(); folder.cleanup()
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import threading
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from bitseg.errors import PersistenceError
from bitseg.persistence import codec

MAGIC = b"BSW1"
_HEADER = struct.Struct("<4sQIII")
HEADER_SIZE = _HEADER.size  # 24
_SUFFIX = ".log"
_sync = getattr(os, "fdatasync", os.fsync)


@dataclass(frozen=True)
class Record:
    seq: int
    op: str
    args: dict[str, Any]


def frame(seq: int, payload: bytes) -> bytes:
    head = struct.pack("<4sQII", MAGIC, seq, len(payload), zlib.crc32(payload))
    return head + struct.pack("<I", zlib.crc32(head)) + payload


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Damage(Exception):
    """A record that fails a check, at a byte offset."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def _read_header(data: mmap.mmap | bytes, offset: int, expected: int | None) -> tuple[int, int]:
    """(seq, payload length) of a record whose header and payload pass every check; raises _Damage."""
    end = len(data)
    if end - offset < HEADER_SIZE:
        raise _Damage(offset, f"only {end - offset} bytes of a {HEADER_SIZE}-byte record header")
    magic, seq, length, payload_crc, header_crc = _HEADER.unpack_from(data, offset)
    if magic != MAGIC:
        raise _Damage(offset, "no record marker")
    if zlib.crc32(data[offset: offset + 20]) != header_crc:
        raise _Damage(offset, "the record header fails its checksum")
    if expected is not None and seq != expected:
        raise _Damage(offset, f"sequence number {seq} where {expected} was expected")
    start = offset + HEADER_SIZE
    if start + length > end:
        raise _Damage(offset, f"record {seq} needs {length} bytes, the file has {end - start} left")
    if zlib.crc32(data[start: start + length]) != payload_crc:
        raise _Damage(offset, f"record {seq} fails its checksum")
    return seq, length


def _good_record_after(data: mmap.mmap, offset: int) -> int | None:
    """The offset of a record that passes every check somewhere after `offset`, if there is one."""
    at = data.find(MAGIC, offset + 1)
    while at >= 0:
        try:
            _read_header(data, at, None)
            return at
        except _Damage:
            at = data.find(MAGIC, at + 1)
    return None


class WriteAheadLog:
    """Append-only, fsynced, in segments. `replay()` once, then `append()`; one thread at a time appends."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.last_seq = 0
        self.dropped_tail: tuple[Path, int, str] | None = None  # (file, bytes dropped, why) after replay
        self._fd: int | None = None
        self._size = 0
        self._path: Path | None = None
        self._replayed = False

    # ── segments ──
    def segments(self) -> list[tuple[int, Path]]:
        """(first seq, path) of every segment file, oldest first."""
        found = []
        for path in self.directory.glob("*" + _SUFFIX):
            try:
                found.append((int(path.name[: -len(_SUFFIX)]), path))
            except ValueError:
                continue
        return sorted(found)

    @property
    def first_seq(self) -> int:
        """The sequence number of the oldest record the log still holds (or would hold next)."""
        segments = self.segments()
        return segments[0][0] if segments else self.last_seq + 1

    # ── reading ──
    def replay(self, after: int = 0) -> Iterator[Record]:
        """Every record with seq > `after`, in order; checks the whole log and drops a torn tail."""
        segments = self.segments()
        expected = segments[0][0] if segments else 1
        for number, (first, path) in enumerate(segments):
            last_segment = number == len(segments) - 1
            if first != expected:
                raise PersistenceError(
                    f"write-ahead log {path} starts at record {first}, but {expected} was expected: a log file is "
                    f"missing from {self.directory}. Restore the folder from a backup.")
            if not last_segment and segments[number + 1][0] <= after + 1:
                expected = segments[number + 1][0]  # wholly before `after`: kept for a fallback, not read now
                continue
            expected = yield from self._replay_segment(path, first, after, last_segment)
        self.last_seq = expected - 1
        self._replayed = True
        self._open_tail()

    def _replay_segment(self, path: Path, expected: int, after: int,
                        last_segment: bool) -> Generator[Record, None, int]:
        size = path.stat().st_size
        if size == 0:
            return expected
        with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            offset = 0
            while offset < size:
                try:
                    seq, length = _read_header(data, offset, expected)
                except _Damage as damage:
                    self._settle_damage(path, data, damage, last_segment)
                    break
                start = offset + HEADER_SIZE
                if seq > after:
                    op, args = codec.unpack(data[start: start + length])
                    yield Record(seq, op, args)
                offset = start + length
                expected = seq + 1
        if self.dropped_tail is not None and self.dropped_tail[0] == path:
            self._truncate(path, offset)
        return expected

    def _settle_damage(self, path: Path, data: mmap.mmap, damage: _Damage, last_segment: bool) -> None:
        later = _good_record_after(data, damage.offset)
        if later is not None or not last_segment:
            where = f"a good record follows at byte {later}" if later is not None else "a later log file follows"
            raise PersistenceError(
                f"write-ahead log {path} is damaged at byte {damage.offset} ({damage.reason}) and {where}, so "
                f"this is not a write cut short by a crash: acknowledged changes after it would be lost. "
                f"Restore {self.directory} from a backup, or move this file aside to start from the last snapshot "
                f"knowingly without those changes.")
        self.dropped_tail = (path, len(data) - damage.offset, damage.reason)

    def _truncate(self, path: Path, size: int) -> None:
        with open(path, "r+b") as file:
            file.truncate(size)
            os.fsync(file.fileno())

    # ── writing ──
    def _open_tail(self) -> None:
        segments = self.segments()
        if not segments:
            self._new_segment()
            return
        self._path = segments[-1][1]
        self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND)
        self._size = os.fstat(self._fd).st_size

    def _new_segment(self) -> None:
        """Continue in a new file; if it cannot be made (no inodes, a read-only folder) the current one stays
        in use and OSError is raised: the log never holds a closed or half-opened handle."""
        path = self.directory / f"{self.last_seq + 1:020d}{_SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            fsync_directory(self.directory)
        except OSError:
            os.close(fd)
            raise
        if self._fd is not None:
            os.close(self._fd)
        self._path, self._fd, self._size = path, fd, size

    def heal(self, probe_bytes: int = 1 << 16) -> None:
        """Reopen the log after a failed write, once the folder can be written again; raises PersistenceError
        while it cannot.

        A probe file of `probe_bytes` is written, fsynced and deleted first (space, inodes and a writable folder
        all shown by one write); then the current file is opened afresh and cut back to the last acknowledged
        record (a failed write may have left part of one), or a new file is started if it is gone. The old
        handle is closed whatever happens: appends never go through a stale one.
        """
        with self.lock:
            if not self._replayed:
                raise PersistenceError("the write-ahead log must be replayed before it is healed")
            self._drop_handle()
            probe = self.directory / ".probe"
            try:
                fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                try:
                    os.write(fd, bytes(probe_bytes))
                    _sync(fd)
                finally:
                    os.close(fd)
                    probe.unlink()
                if self._path is not None and self._path.exists():
                    fd = os.open(self._path, os.O_WRONLY | os.O_APPEND)
                    if os.fstat(fd).st_size != self._size:
                        os.ftruncate(fd, self._size)
                        _sync(fd)
                    self._fd = fd
                else:
                    self._new_segment()
            except OSError as err:
                raise PersistenceError(f"the write-ahead log in {self.directory} cannot be written yet: "
                                       f"{err.strerror}") from err

    def append(self, op: str, args: dict[str, Any]) -> int:
        """Write one record and fsync it; returns its sequence number."""
        payload = codec.pack([op, args])
        with self.lock:
            if not self._replayed:
                raise PersistenceError("the write-ahead log must be replayed before it is appended to")
            if self._fd is None:
                raise PersistenceError("the write-ahead log is closed")
            seq = self.last_seq + 1
            record = frame(seq, payload)
            try:
                view = memoryview(record)
                while view:
                    view = view[os.write(self._fd, view):]
                _sync(self._fd)
            except OSError as err:
                self._undo()
                raise PersistenceError(f"cannot write the write-ahead log {self._path}: {err.strerror}; "
                                       "the change was not made durable") from err
            self._size += len(record)
            self.last_seq = seq
            return seq

    def _undo(self) -> None:
        """After a failed write, cut the file back so that no partial record stays in front of later ones."""
        try:
            os.ftruncate(self._fd, self._size)  # type: ignore[arg-type]
            _sync(self._fd)  # type: ignore[arg-type]
        except OSError:
            self._drop_handle()  # appends now fail until the log is healed or reopened

    def _drop_handle(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):  # a handle gone bad may not even close
                os.close(self._fd)
            self._fd = None

    def rotate(self) -> int:
        """Start a new segment (when the current one holds records), so older segments can be deleted whole;
        returns the last sequence number before it (every later record is in the new segment)."""
        with self.lock:
            if self._fd is not None and self._size > 0:
                try:
                    self._new_segment()
                except OSError:
                    pass  # the log goes on in the current file; older files are trimmed later
            return self.last_seq

    @property
    def current_first(self) -> int:
        """The first sequence number of the file the log appends to (a snapshot notes it: if that file goes
        missing, start-up says so instead of starting without the changes it held)."""
        return int(self._path.name[: -len(_SUFFIX)]) if self._path is not None else self.last_seq + 1

    def trim(self, through: int) -> list[Path]:
        """Delete the segments holding only records with seq <= `through`; returns the deleted files."""
        with self.lock:
            segments = self.segments()
            gone = [path for (_, path), (next_first, _) in pairwise(segments)
                    if next_first <= through + 1 and path != self._path]
            for path in gone:
                path.unlink()
            if gone:
                fsync_directory(self.directory)
            return gone

    def restart_at(self, seq: int) -> None:
        """Continue numbering at `seq` when a snapshot is ahead of the whole log (the log files were lost):
        every record left is older than the snapshot, so the files are deleted and numbering resumes after it."""
        with self.lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            for _, path in self.segments():
                path.unlink()
            self.last_seq = seq - 1
            self._new_segment()

    def close(self) -> None:
        with self.lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
