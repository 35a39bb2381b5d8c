"""Ingest messages (ProfileBatch, PurchaseBatch) read into rows or columns for the core, bad rows set aside.

Rows come as maps or as CSV chunks; a chunk is split into records by `bitseg.csvrecords` (the client splits
files with the same code) and turned into columns. A bad row (wrong cell count, not UTF-8) is set aside with
its row number; the core judges the cells.
"""

from __future__ import annotations

from dataclasses import dataclass

from bitseg.csvrecords import records as csv_records
from bitseg.errors import InvalidInputError
from bitseg.v1 import segments_pb2 as pb


@dataclass
class Rows:
    """Rows given as maps (field → CSV text), each with its row number."""

    rows: list[dict[str, str]]
    numbers: list[int]

    def __len__(self) -> int:
        return len(self.numbers)


@dataclass
class Columns:
    """Rows given as columns (name → CSV text per row), for the core's fast columnar path."""

    columns: dict[str, list[str]]
    numbers: list[int]

    def __len__(self) -> int:
        return len(self.numbers)


@dataclass
class Batch:
    """One ingest message ready for the core, with the rows already known to be bad (row number, message)."""

    parts: list[Rows | Columns]
    rejected: list[tuple[int, str]]

    @property
    def received(self) -> int:
        return sum(len(p) for p in self.parts) + len(self.rejected)


def read_batch(batch: pb.ProfileBatch | pb.PurchaseBatch, next_number: int) -> Batch:
    """The rows of a ProfileBatch/PurchaseBatch; rows without a number are numbered from `next_number`.

    >>> b = read_batch(pb.PurchaseBatch(csv=pb.CsvChunk(header=["customer", "amount"], first_line=2,
    ...                                                 data=b"c1,10\\nc2\\nc3,1.5\\n")), 1)
    >>> b.parts[0].columns, b.parts[0].numbers, b.rejected
    ({'customer': ['c1', 'c3'], 'amount': ['10', '1.5']}, [2, 4], [(3, '1 cell, the header has 2')])
    """
    parts: list[Rows | Columns] = []
    rejected: list[tuple[int, str]] = []
    if batch.rows:
        rows = Rows([], [])
        for offset, row in enumerate(batch.rows):
            rows.rows.append(dict(row.cells))
            rows.numbers.append(row.row_number or next_number + offset)
        parts.append(rows)
    if batch.HasField("csv"):
        columns = _csv_columns(batch.csv, rejected)
        if columns is not None:
            parts.append(columns)
    return Batch(parts, rejected)


def _csv_columns(chunk: pb.CsvChunk, rejected: list[tuple[int, str]]) -> Columns | None:
    header = list(chunk.header)
    if not header:
        raise InvalidInputError("CSV chunk without a header")
    if len(set(header)) != len(header):
        raise InvalidInputError(f"CSV header names a column twice: {', '.join(header)}")
    first = chunk.first_line or 1
    try:
        text = chunk.data.decode("utf-8")
    except UnicodeDecodeError:
        text = _utf8_lines(chunk.data, first, rejected)
    if '"' not in text:
        return _plain_columns(text, header, first, rejected)
    width = len(header)
    records, numbers = csv_records(text, first, rejected, width)
    good: list[list[str]] = []
    good_numbers: list[int] = []
    for cells, number in zip(records, numbers):
        if len(cells) == width:
            good.append(cells)
            good_numbers.append(number)
        elif cells:  # a blank line is no row at all
            rejected.append((number, _width_problem(len(cells), width)))
    if not good:
        return None
    return Columns({name: list(column) for name, column in zip(header, zip(*good))}, good_numbers)


def _utf8_lines(data: bytes, first: int, rejected: list[tuple[int, str]]) -> str:
    """The chunk as text with every line that is not UTF-8 rejected and blanked (the line count stays)."""
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as err:
            rejected.append((first + i, f"not UTF-8 text (byte {err.start + 1} of the line); save the file as UTF-8"))
            lines[i] = b""
    return b"\n".join(lines).decode("utf-8")


def _width_problem(cells: int, width: int) -> str:
    return f"{cells} cell{'s' * (cells != 1)}, the header has {width}"


def _plain_columns(text: str, header: list[str], first: int, rejected: list[tuple[int, str]]) -> Columns | None:
    # Without a quote, CSV is lines of comma-separated cells: split the whole chunk at once and slice the
    # columns out of one flat list, about three times faster than the csv module.
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()
    if "\r" in text:
        lines = [line.removesuffix("\r") for line in lines]
    width = len(header)
    commas = width - 1
    numbers = list(range(first, first + len(lines)))
    bad = [i for i, line in enumerate(lines) if line.count(",") != commas]
    if bad:
        for i in bad:
            if lines[i]:  # a blank line is no row at all
                rejected.append((first + i, _width_problem(lines[i].count(",") + 1, width)))
        skip = set(bad)
        lines = [line for i, line in enumerate(lines) if i not in skip]
        numbers = [n for i, n in enumerate(numbers) if i not in skip]
    if not lines:
        return None
    cells = ",".join(lines).split(",")
    return Columns({name: cells[i::width] for i, name in enumerate(header)}, numbers)
