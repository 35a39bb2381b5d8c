"""Parsing a batch of input rows or columns into typed numpy columns, and naming each bad cell's row and field.

Columns arrive as typed numpy arrays (the fast path: days as datetime64, numbers as int/float) or as sequences
of Python values or CSV text (one parse per cell). A bad row is either raised (the default: the whole batch is
refused and nothing changes) or set aside in `rejects` while the good rows go in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from bitseg.days import day_number, local_day
from bitseg.errors import InvalidInputError
from bitseg.index.lines import Dictionary, LineStore
from bitseg.index.orderids import OrderIds
from bitseg.index.values import (
    ABSENT,
    DECIMAL_SCALE,
    is_null,
    parse_cell,
    parse_decimal,
    parse_int,
)
from bitseg.schema import FieldType, Schema
from bitseg.vocabulary import NUMERIC_TYPES

_EPOCH_DAY = np.datetime64("1970-01-01", "D")


@dataclass(frozen=True)
class Coded:
    """A text column in dictionary form: `values[codes[i]]` is row i's value, code -1 is NULL.

    The fast way to hand over customer ids, order ids and dimension values: each distinct value is looked up
    once instead of once per row (like a pandas Categorical or an Arrow dictionary array).
    """

    codes: np.ndarray
    values: Sequence[str | None]

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, position: int) -> str | None:
        code = int(self.codes[position])
        return None if code < 0 else self.values[code]

    def remap(self, value_codes: np.ndarray) -> np.ndarray:
        """Row codes given the code of each distinct value (-1 stays -1)."""
        table = np.append(np.asarray(value_codes, dtype=np.int64), -1)
        return table[np.asarray(self.codes, dtype=np.int64)]


class TextColumns(Mapping[str, list[str]]):
    """Columns cut from CSV text without quotes: the header and the records (one a line, at least one, no
    trailing newline), split into a list of cells per column when first read. A write logs the text itself
    (persistence.codec): one string instead of a string per cell, and replay splits it again.

    >>> columns = TextColumns(["customer", "amount"], "c1,10\\nc2,1.5")
    >>> dict(columns), "amount" in columns, len(columns)
    ({'customer': ['c1', 'c2'], 'amount': ['10', '1.5']}, True, 2)
    """

    def __init__(self, header: Sequence[str], text: str) -> None:
        self.header = list(header)
        self.text = text
        self._columns: dict[str, list[str]] | None = None

    def _split(self) -> dict[str, list[str]]:
        if self._columns is None:
            width = len(self.header)
            cells = self.text.replace("\n", ",").split(",")
            self._columns = {name: cells[i::width] for i, name in enumerate(self.header)}
        return self._columns

    def __getitem__(self, name: str) -> list[str]:
        return self._split()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.header)

    def __len__(self) -> int:
        return len(self.header)

    def __contains__(self, name: object) -> bool:
        return name in self.header


def loggable(columns: Mapping) -> Mapping:
    """What a write logs of the columns it was given: text columns as they are, others as a plain dict."""
    return columns if isinstance(columns, TextColumns) else dict(columns)


@dataclass
class Batch:
    """Rows being parsed: how many, the number of the first (for messages) and the bad ones."""

    size: int
    first_row: int = 1
    bad: dict[int, str] = field(default_factory=dict)

    def fail(self, position: int, name: str, problem: str) -> None:
        self.bad.setdefault(position, f"field {name!r}: {problem}")

    def settle(self, rejects: list[tuple[int, str]] | None) -> np.ndarray:
        """The mask of good rows; raises for the first bad one unless `rejects` collects (row, problem) pairs."""
        if self.bad and rejects is None:
            position = min(self.bad)
            error = InvalidInputError(f"row {self.first_row + position}: {self.bad[position]}")
            error.row = self.first_row + position  # type: ignore[attr-defined]
            raise error
        good = np.ones(self.size, dtype=bool)
        for position in sorted(self.bad):
            good[position] = False
            rejects.append((self.first_row + position, self.bad[position]))  # type: ignore[union-attr]
        return good


def rows_to_columns(rows: Iterable[Mapping[str, object]]) -> tuple[dict[str, list], int]:
    """Rows of dicts as columns; a key missing from a row is ABSENT there."""
    rows = list(rows)
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return {name: [row.get(name, ABSENT) for row in rows] for name in names}, len(rows)


def customers(values: Sequence | np.ndarray | Coded, batch: Batch) -> list[str] | Coded:
    if isinstance(values, Coded):
        for position in np.flatnonzero(np.asarray(values.codes) < 0).tolist():
            batch.fail(position, "customer", "a customer id is required")
        if not all(isinstance(v, str) and v.strip() for v in values.values):
            raise InvalidInputError("coded customer ids must all be non-empty strings")
        return values
    values = list(values)
    try:
        if all(map(str.strip, values)):
            return values
    except TypeError:
        pass
    out = []
    for position, value in enumerate(values):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            batch.fail(position, "customer", "a customer id is required")
            value = ""
        out.append(value)
    return out


def days_from_times(values: Sequence | np.ndarray, zone: ZoneInfo, batch: Batch, name: str = "time") -> np.ndarray:
    """Local day numbers of times (naive = in `zone`); typed datetime64 arrays take the fast path."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        days = values.astype("datetime64[D]")
        for position in np.flatnonzero(np.isnat(days)).tolist():
            batch.fail(position, name, "a time is required")
        return np.where(np.isnat(days), _EPOCH_DAY, days).astype(np.int64)
    values = list(values)
    days = np.zeros(len(values), dtype=np.int64)
    try:  # all text: lengths in C
        lengths = np.fromiter(map(str.__len__, values), np.int64, len(values))
    except TypeError:
        lengths = np.fromiter((len(v) if isinstance(v, str) else 0 for v in values), np.int64, len(values))
    simple = (lengths == 10) | (lengths == 16) | (lengths == 19)
    at = np.flatnonzero(simple)
    try:
        text = np.array(values if len(at) == len(values) else [values[i] for i in at.tolist()], dtype="U19")
        text.astype("datetime64[s]")  # validates the time of day, too
        days[at] = text.astype("U10").astype("datetime64[D]").astype(np.int64)
    except ValueError:
        simple[:] = False  # one bad cell: parse every cell on its own to name it
    for position in np.flatnonzero(~simple).tolist():
        try:
            if is_null(values[position]) or values[position] is ABSENT:
                batch.fail(position, name, "a time is required")
                continue
            days[position] = day_number(local_day(values[position], zone))
        except ValueError as err:
            batch.fail(position, name, str(err))
    return days


def amounts(values: Sequence | np.ndarray, batch: Batch, name: str = "amount") -> np.ndarray:
    """Amounts in ten-thousandths."""
    try:  # text: float() per cell in C, faster than numpy's own conversion of a list (same rules)
        numbers = (np.asarray(values, dtype=np.float64) if isinstance(values, np.ndarray)
                   else np.fromiter(map(float, values), np.float64, len(values)))
    except (ValueError, TypeError):
        numbers = np.zeros(len(values), dtype=np.float64)
        for position, value in enumerate(values):
            try:
                numbers[position] = float(parse_decimal(_present(value)))
            except ValueError as err:
                batch.fail(position, name, str(err))
    for position in np.flatnonzero(~np.isfinite(numbers)).tolist():
        batch.fail(position, name, "not a finite number")
    return np.rint(np.nan_to_num(numbers) * DECIMAL_SCALE).astype(np.int64)


def quantities(values: Sequence | np.ndarray | None, size: int, batch: Batch) -> np.ndarray:
    if values is None:
        return np.ones(size, dtype=np.int64)
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        return values.astype(np.int64)
    try:  # digits in C; an empty or bad cell sends the batch down the cell-by-cell path
        return np.array(values, dtype=np.int64)
    except (ValueError, TypeError, OverflowError):
        pass
    out = np.ones(size, dtype=np.int64)
    for position, value in enumerate(values):
        if value is ABSENT or is_null(value):
            continue
        try:
            out[position] = parse_int(value)
        except ValueError as err:
            batch.fail(position, "quantity", str(err))
    return out


def codes(values: Sequence | np.ndarray | None, size: int, name: str, dictionary: Dictionary | OrderIds,
          batch: Batch) -> np.ndarray:
    """Dictionary codes of an optional text column (-1 for NULL)."""
    if values is None:
        return np.full(size, -1, dtype=np.int32)
    if isinstance(values, Coded):
        bad = [v for v in values.values if v is not None and not isinstance(v, str)]
        if bad:
            raise InvalidInputError(f"column {name!r}: {bad[0]!r} is not a string")
        return values.remap(dictionary.encode(list(values.values))).astype(np.int32)
    return dictionary.encode(values, lambda position, problem: batch.fail(position, name, problem))


def line_ids(values: Sequence | np.ndarray | Coded | None, batch: Batch) -> list[str | None] | None:
    """The optional line id column: text, None where NULL (not interned here: see apply.skip_duplicates)."""
    if values is None:
        return None
    if isinstance(values, Coded):
        return [values[i] for i in range(len(values))]
    values = list(values)
    if set(map(type, values)) <= {str}:
        return [value or None for value in values]
    out: list[str | None] = []
    for position, value in enumerate(values):
        if isinstance(value, str):
            out.append(value or None)
            continue
        if value is not ABSENT and not is_null(value):
            batch.fail(position, "line", f"{value!r} is not a string")
        out.append(None)
    return out


def _present(value: object) -> object:
    if value is ABSENT or is_null(value):
        raise ValueError("a value is required")
    return value


def purchase_columns(columns: Mapping[str, Sequence | np.ndarray], schema: Schema, lines: LineStore,
                     batch: Batch) -> dict:
    """Parse purchase columns: customer, time or day, amount, quantity, order and the schema's dimensions.

    Order ids and dimension values come back as codes of the line store's dictionaries.
    """
    unknown = set(columns) - {"customer", "time", "day", "amount", "quantity", "order", "line", *schema.dimensions}
    if unknown:
        raise InvalidInputError(f"unknown purchase column {sorted(unknown)[0]!r}; expected customer, time, amount, "
                                f"quantity, order, line or a dimension ({', '.join(schema.dimensions) or 'none'})")
    for required in ("customer", "amount"):
        if required not in columns:
            raise InvalidInputError(f"purchase lines need a {required!r} column")
    if "time" not in columns and "day" not in columns:
        raise InvalidInputError("purchase lines need a 'time' column")
    when = columns["day"] if "day" in columns else columns["time"]
    return {
        "customer": customers(columns["customer"], batch),
        "day": days_from_times(when, schema.zone, batch, "day" if "day" in columns else "time"),
        "amount": amounts(columns["amount"], batch),
        "quantity": quantities(columns.get("quantity"), batch.size, batch),
        "order": codes(columns.get("order"), batch.size, "order", lines.orders, batch),
        "line": line_ids(columns.get("line"), batch),
        "dimensions": {dim: codes(columns.get(dim), batch.size, dim, lines.dictionaries[dim], batch)
                       for dim in schema.dimensions},
    }


def profile_columns(columns: Mapping[str, Sequence | np.ndarray], schema: Schema,
                    batch: Batch) -> tuple[list[str] | Coded, dict]:
    """Parse profile columns into stored values: {field: (values, given)} with `given` False where ABSENT."""
    unknown = set(columns) - {"customer", *schema.profile}
    if unknown:
        name = sorted(unknown)[0]
        hint = " (a built-in, derived from purchases)" if name in schema.fields else ""
        raise InvalidInputError(f"unknown profile field {name!r}{hint}; the schema has "
                                f"{', '.join(schema.profile) or 'no profile fields'}")
    if "customer" not in columns:
        raise InvalidInputError("profile rows need a 'customer' column")
    ids = customers(columns["customer"], batch)
    parsed = {}
    for name, values in columns.items():
        if name != "customer":
            parsed[name] = profile_values(name, schema.profile[name], values, batch)
    return ids, parsed


def profile_values(name: str, kind: FieldType, values: Sequence | np.ndarray, batch: Batch):
    """(stored values, given mask): a list with None for NULL, or for numeric fields (int64 array, is_set mask)."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "Mifb" and (kind in NUMERIC_TYPES or values.dtype.kind == "b"):
        return _typed_values(kind, values)
    given = np.fromiter((v is not ABSENT for v in values), bool, len(values))
    out: list[object] = []
    for position, value in enumerate(values):
        if value is ABSENT:
            out.append(None)
            continue
        try:
            out.append(parse_cell(kind, value))
        except ValueError as err:
            batch.fail(position, name, str(err))
            out.append(None)
    if kind in NUMERIC_TYPES:
        is_set = np.array([v is not None for v in out], dtype=bool)
        numbers = np.array([0 if v is None else v for v in out], dtype=np.int64)
        return (numbers, is_set), given
    return out, given


def _typed_values(kind: FieldType, values: np.ndarray):
    given = np.ones(len(values), dtype=bool)
    if values.dtype.kind == "b":
        return list(values.tolist()), given
    if values.dtype.kind == "M":
        days = values.astype("datetime64[D]")
        is_set = ~np.isnat(days)
        return (np.where(is_set, days, _EPOCH_DAY).astype(np.int64), is_set), given
    if values.dtype.kind == "f":
        is_set = ~np.isnan(values)
        scale = DECIMAL_SCALE if kind is FieldType.DECIMAL else 1
        return (np.rint(np.nan_to_num(values) * scale).astype(np.int64), is_set), given
    scale = DECIMAL_SCALE if kind is FieldType.DECIMAL else 1
    return (values.astype(np.int64) * scale, np.ones(len(values), dtype=bool)), given

