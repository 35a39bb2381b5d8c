"""Numbers and codes as text without a Python call per cell: zero-padded byte matrices, CSV rows, str objects.

CSV text is made a column at a time: each cell is a row of a uint8 matrix, padded with zero bytes. Joining the
matrices side by side with commas and dropping every zero byte leaves the rows, in a few numpy passes over the
block instead of a Python format call per cell (about 10x faster).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np


def id_width(customers: int) -> int:
    """Digits in a customer id: seven, more when there are that many customers."""
    return max(7, len(str(customers)))


def fixed_ids(prefix: bytes, numbers: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` then the zero-padded number (``C0000001``), one row each."""
    head = np.full((len(numbers), len(prefix)), np.frombuffer(prefix, np.uint8), np.uint8)
    return concat([head, digits(numbers, width)])


def order_matrix(numbers: np.ndarray, returned: np.ndarray) -> np.ndarray:
    """Order ids ``O000000001``, or ``R000000001`` for the return of that order."""
    prefix = np.where(returned, ord("R"), ord("O")).astype(np.uint8)[:, None]
    return concat([prefix, digits(numbers, 9)])


# ── object arrays ────────────────────────────────────────────────────────────────────────────────────────

def customer_ids(columns: np.ndarray, customers: int) -> np.ndarray:
    """External ids (object array of str) of 0-based customer columns."""
    return as_str_objects(fixed_ids(b"C", columns + 1, id_width(customers)))


def shared(text: Callable[[np.ndarray], np.ndarray], keys: np.ndarray) -> np.ndarray:
    """An object array of str with one object per distinct key, shared by its rows: fewer, faster objects.

    ``text`` turns the distinct keys into a zero-padded byte matrix.
    """
    if not len(keys):
        return np.empty(0, dtype=object)
    # Keys are dense (customer columns, order numbers): a presence array dedupes them without sorting.
    low = int(keys.min())
    seen = np.zeros(int(keys.max()) - low + 1, bool)
    seen[keys - low] = True
    slot = np.cumsum(seen) - 1
    return as_str_objects(text(np.flatnonzero(seen) + low))[slot[keys - low]]


def as_str_objects(matrix: np.ndarray) -> np.ndarray:
    """The rows of a zero-padded ASCII byte matrix as an object array of str."""
    fixed = np.ascontiguousarray(matrix).view(f"S{matrix.shape[1]}").reshape(-1)
    return fixed.astype(f"U{matrix.shape[1]}").astype(object)


def objects(values: Sequence[object], codes: np.ndarray) -> np.ndarray:
    """An object array of ``values[code]``; the code ``len(values)`` (or -1) is None."""
    table = np.empty(len(values) + 1, dtype=object)
    table[:-1] = list(values)
    return np.take(table, codes.astype(np.int64))


# ── cells ────────────────────────────────────────────────────────────────────────────────────────────────

@functools.cache
def four_digits() -> np.ndarray:
    """Row i is the ASCII of i zero-padded to four digits."""
    values = np.arange(10_000)
    table = np.stack([values // 1000, values // 100 % 10, values // 10 % 10, values % 10], axis=1)
    return table.astype(np.uint8) + ord("0")


@functools.cache
def clock_matrix() -> np.ndarray:
    """Row s is ``HH:MM:SS`` of second s of the day."""
    second = np.arange(86_400)
    two = four_digits()[:, 2:]
    colon = np.full((86_400, 1), ord(":"), np.uint8)
    return concat([two[second // 3600], colon, two[second // 60 % 60], colon, two[second % 60]])


@functools.cache
def _value_matrix(values: tuple[str | None, ...]) -> np.ndarray:
    """Row i is the UTF-8 of values[i] padded with zero bytes (None is empty)."""
    encoded = [(v or "").encode() for v in values]
    for cell in encoded:
        if any(c in cell for c in b',"\n\r\0'):
            raise ValueError(f"generator vocabulary value {cell!r} would need CSV quoting")
    matrix = np.zeros((len(encoded), max(1, *map(len, encoded))), np.uint8)
    for row, cell in enumerate(encoded):
        matrix[row, :len(cell)] = np.frombuffer(cell, np.uint8)
    return matrix


def coded(values: Sequence[str | None], codes: np.ndarray) -> np.ndarray:
    """Row i is the text of ``values[codes[i]]`` (None is empty): a vocabulary's cells from their codes.

    >>> [bytes(r[r != 0]) for r in coded(["NL", "BE", None], np.array([1, 2, 0]))]
    [b'BE', b'', b'NL']
    """
    return np.take(_value_matrix(tuple(values)), codes, axis=0)


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded ASCII digits, one row each."""
    groups = []
    rest = values.astype(np.int64)
    for _ in range(math.ceil(width / 4)):
        groups.append(np.take(four_digits(), rest % 10_000, axis=0))
        rest = rest // 10_000
    return np.concatenate(groups[::-1], axis=1)[:, -width:]


def int_text(values: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    """Integers as text (``-2``, ``15``) in rows padded with zero bytes; null rows empty."""
    magnitude = np.abs(values)
    width = len(str(int(magnitude.max()))) if len(values) else 1
    matrix = digits(magnitude, width)
    leading = np.logical_and.accumulate(matrix == ord("0"), axis=1)
    leading[:, -1] = False
    matrix[leading] = 0
    matrix = concat([np.where(values < 0, ord("-"), 0).astype(np.uint8)[:, None], matrix])
    if null is not None:
        matrix[null] = 0
    return matrix


def cents_text(cents: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    """Amounts in cents as decimal text with two places (``-0.50``, ``59.95``); null rows empty.

    >>> row = cents_text(np.array([-50, 59_95]))
    >>> [bytes(r[r != 0]) for r in row]
    [b'-0.50', b'59.95']
    """
    magnitude = np.abs(cents)
    whole = int_text(magnitude // 100)
    whole[:, 0] = np.where(cents < 0, ord("-"), 0)                   # so that -0.50 keeps its sign
    point = np.full((len(cents), 1), ord("."), np.uint8)
    matrix = concat([whole, point, np.take(four_digits()[:, 2:], magnitude % 100, axis=0)])
    if null is not None:
        matrix[null] = 0
    return matrix


def date_text(days: np.ndarray) -> np.ndarray:
    """``datetime64[D]`` as ``YYYY-MM-DD`` rows; NaT empty."""
    known = ~np.isnat(days)
    if not known.any():
        return np.zeros((len(days), 1), np.uint8)
    low, high = days[known].min(), days[known].max()
    names = np.datetime_as_string(np.arange(low, high + np.timedelta64(1, "D")))
    table = np.zeros((len(names) + 1, 10), np.uint8)
    table[:-1] = np.frombuffer(names.astype("S10").tobytes(), np.uint8).reshape(-1, 10)
    codes = np.where(known, (days - low).astype(np.int64), len(names))
    return np.take(table, codes, axis=0)


# ── rows ─────────────────────────────────────────────────────────────────────────────────────────────────

def concat(parts: list[np.ndarray]) -> np.ndarray:
    """Byte matrices side by side."""
    return np.concatenate(parts, axis=1)


def csv_rows(cells: list[np.ndarray]) -> bytes:
    """CSV rows from one zero-padded byte matrix per column: the zero bytes vanish, the rest is the text."""
    n = len(cells[0])
    comma = np.full((n, 1), ord(","), np.uint8)
    parts: list[np.ndarray] = []
    for cell in cells:
        parts += [cell, comma]
    parts[-1] = np.full((n, 1), ord("\n"), np.uint8)
    flat = concat(parts).reshape(-1)
    return flat[flat != 0].tobytes()
