"""CSV records: where they end in raw bytes (the client cuts files), their cells with line numbers (the server),
and Python values as cell text (the client sends rows).

One home for the rule both sides rely on: a record ends at a newline outside quotes, that is after an even number
of '"'. A client cuts a file there, so the server can parse each chunk on its own; the client never parses cells.
No grpc here: the CLI, the client and the server's converters all use it.

>>> last_record_end(b'a,b\\n"x\\ny",2\\nc,')
11
>>> records('a,1\\n"x\\ny",2\\n', first=10, rejected=[])
([['a', '1'], ['x\\ny', '2']], [10, 11])
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import os
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Self

from bitseg.errors import InvalidInputError

CHUNK_BYTES = 4 << 20         # CSV bytes per import message: ~40,000 lines (readers never wait for a batch)
MAX_RECORD_BYTES = 32 << 20    # one CSV record longer than this is not a record we can send


# ── bytes: where records end ─────────────────────────────────────────────────────────────────────────

def first_record_end(buffer: bytes) -> int:
    """The index of the newline ending the first whole record, or -1.

    >>> first_record_end(b'"a\\nb",c\\nd\\n')
    7
    """
    at = -1
    while True:
        at = buffer.find(b"\n", at + 1)
        if at < 0 or buffer.count(b'"', 0, at) % 2 == 0:
            return at


def last_record_end(buffer: bytes) -> int:
    """The index of the newline ending the last whole record, or -1 when no record is complete."""
    at = buffer.rfind(b"\n")
    quotes = buffer.count(b'"', 0, at) if at >= 0 else 0
    while at >= 0 and quotes % 2:
        previous = buffer.rfind(b"\n", 0, at)
        quotes -= buffer.count(b'"', previous + 1, at)
        at = previous
    return at


def content_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 (hex) of a file's content, decompressed when it is gzip, so `x.csv` and `x.csv.gz` match."""
    digest = hashlib.sha256()
    with open(path, "rb") as raw:
        stream = _decompressed(raw)
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _decompressed(raw: IO[bytes]) -> IO[bytes]:
    """The bytes of an open file, through gzip when it starts with gzip's magic number."""
    magic = raw.read(2)
    raw.seek(0)
    return gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw  # type: ignore[return-value]


class CsvSource:
    """A CSV file (plain or gzip) cut into chunks of whole records, with the line number of each chunk's first.

    Raises InvalidInputError for an empty file, a header that is not UTF-8, or a record past MAX_RECORD_BYTES.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.csv"
    >>> _ = path.write_bytes(b"customer,vip\\nc1,true\\nc2,false\\n")
    >>> source = CsvSource(str(path), chunk_bytes=8)
    >>> source.header, list(source.chunks())
    (['customer', 'vip'], [(b'c1,true\\n', 2), (b'c2,false\\n', 3)])
    >>> source.close()
    """

    def __init__(self, path: str, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.path = path
        self.chunk_bytes = chunk_bytes
        self.raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.total_bytes = os.fstat(self.raw.fileno()).st_size
        self.stream = _decompressed(self.raw)
        self._pending = b""
        self.line = 1
        try:
            self.header = self._read_header()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stream.close()
        self.raw.close()

    @property
    def bytes_read(self) -> int:
        """Bytes of the file read so far (compressed bytes for a gzipped file), for progress against total_bytes."""
        return self.raw.tell()

    def _read_header(self) -> list[str]:
        record = next(self._records(limit_one=True), None)
        if record is None:
            raise InvalidInputError(f"{self.path}: empty file (a CSV needs a header line)")
        data, _ = record
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInputError(f"{self.path}: the header is not UTF-8") from None
        header = [name.strip() for name in next(csv.reader(io.StringIO(text)), [])]
        if not header or not any(header):
            raise InvalidInputError(f"{self.path}: empty header line")
        return header

    def chunks(self) -> Iterator[tuple[bytes, int]]:
        """(records, line number of the first) pieces of about chunk_bytes."""
        return self._records(limit_one=False)

    def _records(self, limit_one: bool) -> Iterator[tuple[bytes, int]]:
        while True:
            block = self.stream.read(self.chunk_bytes)
            buffer = self._pending + block
            cut = first_record_end(buffer) if limit_one else last_record_end(buffer)
            if cut < 0:
                if block:
                    if len(buffer) > MAX_RECORD_BYTES:
                        raise InvalidInputError(f"{self.path}:{self.line}: a record longer than "
                                                f"{MAX_RECORD_BYTES >> 20} MiB (an unclosed quote?)")
                    self._pending = buffer
                    continue
                if not buffer.strip():
                    return
                cut = len(buffer) - 1  # the last record, without a final newline (or with an open quote)
            piece, self._pending = buffer[:cut + 1], buffer[cut + 1:]
            first = self.line
            self.line += piece.count(b"\n") + (not piece.endswith(b"\n"))
            yield piece, first
            if limit_one:
                return


# ── text: the records and their line numbers ─────────────────────────────────────────────────────────

def records(text: str, first: int, rejected: list[tuple[int, str]],
            width: int | None = None) -> tuple[list[list[str]], list[int]]:
    """The records of a chunk of CSV text whose first line is line `first`, each with its line number.

    A record the csv module cannot read is appended to `rejected` as (line, message) and reading goes on. With
    the header's `width`, a record that runs over several lines (a quoted newline) but has the wrong number of
    cells is an unclosed quote: it is rejected naming the line the quote opened on, and the lines after that one
    are read as records of their own, so an open quote never swallows the rows that follow.

    >>> bad = []
    >>> records('c1,"true\\nc2,false\\nc3,true\\n', 2, bad, width=2)
    ([['c2', 'false'], ['c3', 'true']], [3, 4])
    >>> bad
    [(2, 'unclosed quote: the quote opened on line 2 runs to line 4; the lines after line 2 are read on their own')]
    """
    # Fast path: one record per line (no quoted newlines), so record i is on line first + i.
    lines = text.count("\n") + (not text.endswith("\n") and bool(text))
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        rows = []
    if len(rows) == lines:
        return rows, list(range(first, first + lines))
    numbers: list[int] = []
    rows = []
    split = text.split("\n")  # once: an unclosed-quote check and a restart look at lines of it
    while True:  # slow path: follow the reader's line counter; after an unclosed quote, start again below it
        restart = _read_records(text, split, first, rejected, width, rows, numbers)
        if restart is None:
            return rows, numbers
        split = split[restart:]
        text, first = "\n".join(split), first + restart


def _read_records(text: str, split: list[str], first: int, rejected: list[tuple[int, str]], width: int | None,
                  rows: list[list[str]], numbers: list[int]) -> int | None:
    """Append the records of `text` (`split`: its lines) to rows/numbers; the line offset to read again from after
    an unclosed quote."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return None
        except csv.Error as err:
            rejected.append((first + start, f"malformed CSV: {err}"))
            start = reader.line_num
            continue
        end = reader.line_num
        if width is not None and cells and end - start > 1 and _unclosed(split[start:end], cells, width):
            cells_note = f" ({len(cells)} cells, the header has {width})" if len(cells) != width else ""
            rejected.append((first + start, f"unclosed quote: the quote opened on line {first + start} runs to "
                             f"line {first + end - 1}{cells_note}; the lines after line {first + start} are read "
                             "on their own"))
            return start + 1
        rows.append(cells)
        numbers.append(first + start)
        start = end


def _unclosed(inside: list[str], cells: list[str], width: int) -> bool:
    """Whether a record over the lines `inside` is an open quote rather than a quoted newline: it has the wrong
    number of cells, its quote is never closed, or a line inside it reads as a row of its own."""
    if len(cells) != width:
        return True
    if sum(line.count('"') for line in inside) % 2:
        return True
    return width > 1 and any(len(next(csv.reader([line]), [])) == width for line in inside[1:])


def cell_text(value: object) -> str:
    """A Python value as the cell text the server reads (SPEC §7): '' is NULL, tags joined by '|'.

    >>> [cell_text(v) for v in (None, True, Decimal("1.50"), dt.date(2026, 3, 14), ["a", "b"], 7)]
    ['', 'true', '1.50', '2026-03-14', 'a|b', '7']
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Iterable):
        return "|".join(cell_text(v) for v in value)
    return str(value)
