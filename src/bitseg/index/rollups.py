"""Month roll-ups: per (dimension values, month, customer) the sums of the purchase lines, for MATCHES measures.

A MATCHES with sum_amount or sum_quantity measures (or none) and at most two filtered dimensions reads, for the
months its window covers whole, one contiguous slice of roll-up entries per matching value (combination) — a
customer's amount, quantity and whether any line was a purchase — and only the window's edge days from the lines
(`postings.py`). The sums then run over the selected customers only (`measures`), never over every customer.

Entries are kept in runs, each sorted by group (the dimension codes and the month) then column, with the groups'
offsets; a batch adds a run of its own lines (`add`, called once per published batch) and runs of similar size are
merged, as the line store does, so keeping them current costs about the batch times a log. The roll-up of a set of
dimensions is built from the whole line store when a query first asks for it, and rebuilt when the store no longer
holds the lines it folded (an erasure, or lines added without `add`). count and days (distinct orders and days)
do not add up across values or months and are not rolled up.

>>> from bitseg.index.lines import LineStore
>>> store = LineStore(["brand"])
>>> codes = store.dictionaries["brand"].encode(["x", "y", "x", "x"])
>>> days = np.array([0, 0, 40, 31], dtype=np.int32)  # January, January, February, February 1970
>>> store.append({"column": np.array([1, 1, 1, 2]), "day": days, "amount": np.array([5, 7, 9, 4]),
...               "quantity": np.array([1, 1, 1, -1]), "order": np.zeros(4), "brand": codes})
>>> [(part["column"].tolist(), part["amount"].tolist(), part["buys"].tolist())
...  for part in rollup_of(store, ("brand",)).entries([frozenset({0})], 0, 1)]
[([1, 1, 2], [5, 9, 4], [True, True, False])]
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from bitseg import days
from bitseg.index.arrays import distinct
from bitseg.index.lines import LineStore

CODE_BITS = 22  # per dimension: at most two dimensions and the month share a group's 63 bits
MONTH_BITS = 18
MONTH_OFFSET = 1 << (MONTH_BITS - 1)
MAX_DIMS = 2
MAX_CODES = (1 << CODE_BITS) - 2  # codes + 1 (NULL is -1) must fit in CODE_BITS
SUMMED = ("sum_amount", "sum_quantity")  # the measures a roll-up answers


def months(day: np.ndarray) -> np.ndarray:
    """Months since January 1970 of day numbers.

    >>> months(np.array([-1, 0, 30, 31, 365])).tolist()
    [-1, 0, 0, 1, 12]
    """
    return np.asarray(day).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


_EPOCH_MONTH = 1970 * 12  # months here count from January 1970, days.month_of's from year 0


def month_of(day: int) -> int:
    """The month since January 1970 of one day number.

    >>> month_of(-1), month_of(31)
    (-1, 1)
    """
    return days.month_of(day) - _EPOCH_MONTH


def month_bounds(month: int) -> tuple[int, int]:
    """The first and last day number of a month.

    >>> month_bounds(1), month_bounds(-1)
    ((31, 58), (-31, -1))
    """
    return days.month_days(month + _EPOCH_MONTH)


def _months_of(day: np.ndarray) -> np.ndarray:
    """`months` through a table over the days' span: far faster than datetime64 conversions of every day."""
    if len(day) == 0:
        return np.empty(0, dtype=np.int64)
    low = int(day.min())
    return months(np.arange(low, int(day.max()) + 1))[np.asarray(day, dtype=np.int64) - low]


def _ranks(dims: Sequence[str], lines: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Callable]:
    """Per line, a small int ordered as its group (dimension codes, then month: a mixed radix over the batch's
    span), and the function turning such ints back into groups."""
    month = _months_of(lines["day"])
    first = int(month.min()) if len(month) else 0
    span = int(month.max()) - first + 1 if len(month) else 1
    codes = [np.asarray(lines[dim]).astype(np.int64) + 1 for dim in dims]
    radices = [int(code.max()) + 1 if len(code) else 1 for code in codes]
    rank = np.zeros(len(month), dtype=np.int64)
    for code, radix in zip(codes, radices):
        rank = rank * radix + code
    rank = rank * span + (month - first)

    def groups(ranks: np.ndarray) -> np.ndarray:
        ranks, key, shift = ranks.copy(), np.zeros(len(ranks), dtype=np.int64), 0
        ranks, month_at = np.divmod(ranks, span)
        for radix in reversed(radices):
            ranks, code = np.divmod(ranks, radix)
            key |= code << shift
            shift += CODE_BITS
        return (key << MONTH_BITS) | (month_at + first + MONTH_OFFSET)
    return rank, groups


def _run(rank: np.ndarray, groups: Callable, column: np.ndarray, amount: np.ndarray, quantity: np.ndarray,
         buys: np.ndarray) -> dict[str, np.ndarray]:
    """Entries summed by (group, column), sorted, with the distinct groups and their first entry. `rank` orders
    the entries' groups as the groups do (`groups` turns ranks into groups); ranks below 2**31 sort packed with
    the column into one int64, faster than a lexsort."""
    if len(rank) and int(rank.max()) < 1 << 31:
        packed = (rank << 32) | np.asarray(column, dtype=np.int64)
        order = np.argsort(packed)
        packed = packed[order]
        rank, column = packed >> 32, (packed & 0xFFFFFFFF)
    else:
        order = np.lexsort((column, rank))
        rank, column = rank[order], np.asarray(column)[order]
    if len(order):
        new = np.empty(len(order), dtype=bool)
        new[0] = True
        np.not_equal(rank[1:], rank[:-1], out=new[1:])
        new[1:] |= column[1:] != column[:-1]
        starts = np.flatnonzero(new)
    else:
        starts = np.empty(0, dtype=np.int64)
    reduce = (lambda values: np.add.reduceat(values[order], starts)) if len(order) else (lambda values: values)
    entry_rank = rank[starts]
    firsts = np.flatnonzero(np.concatenate(([True], entry_rank[1:] != entry_rank[:-1]))) if len(starts) else starts
    return {"column": column[starts].astype(np.uint32), "amount": reduce(np.asarray(amount, dtype=np.int64)),
            "quantity": reduce(np.asarray(quantity, dtype=np.int64)),
            "buys": np.maximum.reduceat(np.asarray(buys, dtype=bool)[order], starts) if len(order) else buys,
            "groups": groups(entry_rank[firsts]), "offsets": np.append(firsts, len(starts)).astype(np.int64)}


def _merge(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    every = np.union1d(a["groups"], b["groups"])  # the distinct groups of both: their positions are ranks
    rank = np.concatenate([np.repeat(np.searchsorted(every, r["groups"]), np.diff(r["offsets"])) for r in (a, b)])
    return _run(rank, every.__getitem__, *(np.concatenate((a[name], b[name]))
                                          for name in ("column", "amount", "quantity", "buys")))


class Rollup:
    """The month roll-up of one set of dimensions (empty: every line) over the lines of one store."""

    def __init__(self, dims: tuple[str, ...], store: LineStore) -> None:
        self.dims = dims
        self.runs: list[dict[str, np.ndarray]] = []
        self.lines = 0
        self.erasures = getattr(store, "erasures", 0)
        if store.size:
            self.add(store.arrays())

    def add(self, lines: Mapping[str, np.ndarray]) -> None:
        """Fold in a batch of lines (a mapping of line columns: column, day, amount, quantity, the dimensions)."""
        if len(lines["column"]) == 0:
            return
        runs = [*self.runs, _run(*_ranks(self.dims, lines), np.asarray(lines["column"]), lines["amount"],
                                 lines["quantity"], np.asarray(lines["quantity"]) > 0)]
        while len(runs) >= 2 and 2 * len(runs[-1]["column"]) >= len(runs[-2]["column"]):
            runs[-2:] = [_merge(runs[-2], runs[-1])]
        self.runs = runs  # one assignment: a reader sees the runs before or after the batch
        self.lines += len(lines["column"])

    def entries(self, codes: Sequence[frozenset[int]], first_month: int, last_month: int,
                names: Sequence[str] = ("column", "amount", "quantity", "buys")) -> list[dict[str, np.ndarray]]:
        """The `names` arrays (of column, amount, quantity, buys) of the entries whose dimension codes are in
        `codes` (one set per dimension, in `dims` order) and whose month is in [first_month, last_month]: a
        part per run and matching value (views, not copies)."""
        parts: list[dict[str, np.ndarray]] = []
        low, high = first_month + MONTH_OFFSET, last_month + MONTH_OFFSET
        for run in self.runs:
            keys = distinct(run["groups"] >> MONTH_BITS)
            wanted = np.ones(len(keys), dtype=bool)
            for at, allowed in enumerate(codes):
                shift = CODE_BITS * (len(self.dims) - 1 - at)
                code = ((keys >> shift) & ((1 << CODE_BITS) - 1)) - 1
                wanted &= np.isin(code, np.fromiter(allowed, dtype=np.int64, count=len(allowed)))
            keys = keys[wanted]
            starts = run["offsets"][np.searchsorted(run["groups"], (keys << MONTH_BITS) | low)]
            ends = run["offsets"][np.searchsorted(run["groups"], (keys << MONTH_BITS) | high, side="right")]
            parts.extend({name: run[name][start:end] for name in names}
                         for start, end in zip(starts.tolist(), ends.tolist()) if start < end)
        return parts

    def nbytes(self) -> int:
        return sum(array.nbytes for run in self.runs for array in run.values())


class Rollups:
    """The roll-ups of one line store, by their dimensions, built when first asked for."""

    def __init__(self) -> None:
        self.built: dict[tuple[str, ...], Rollup] = {}

    def of(self, store: LineStore, dims: tuple[str, ...]) -> Rollup:
        found = self.built.get(dims)
        if found is None or found.lines != store.size or found.erasures != getattr(store, "erasures", 0):
            found = self.built[dims] = Rollup(dims, store)
        return found

    def add(self, lines: Mapping[str, np.ndarray]) -> None:
        for rollup in list(self.built.values()):
            rollup.add(lines)


_STORES: weakref.WeakKeyDictionary[LineStore, Rollups] = weakref.WeakKeyDictionary()


def rollups_of(store: LineStore) -> Rollups:
    found = _STORES.get(store)
    if found is None:
        found = _STORES[store] = Rollups()
    return found


def rollup_of(store: LineStore, dims: tuple[str, ...]) -> Rollup:
    """The month roll-up of `dims` over `store`, current with its lines."""
    return rollups_of(store).of(store, dims)


def published(store: LineStore, lines: Mapping[str, np.ndarray]) -> None:
    """The one ingest hook: a batch of lines was appended to `store`; the roll-ups built so far fold it in.

    Roll-ups not asked for yet cost nothing. A batch appended without this call only makes the next query
    rebuild the roll-up it reads (its line count no longer matches the store's).
    """
    found = _STORES.get(store)
    if found is not None:
        found.add(lines)


def per_column(column: np.ndarray, values: Sequence[np.ndarray], size: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The distinct columns of the entries (sorted) and, for each of `values`, its sum per column: by sorting when
    the entries are few next to the `size` columns, else by bincounts (faster than a sort past a few percent).

    >>> found, (total,) = per_column(np.array([3, 1, 3], dtype=np.uint32), [np.array([5, 2, 4])], 10)
    >>> found.tolist(), total.tolist()
    ([1, 3], [2, 9])
    """
    if 32 * len(column) >= size:
        present = np.zeros(size, dtype=bool)
        present[column] = True
        found = np.flatnonzero(present).astype(np.uint32)
        return found, [np.rint(np.bincount(column, weights=v, minlength=size)[found]).astype(np.int64)
                       for v in values]
    order = np.argsort(column, kind="stable")
    ordered = column[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1]))) if len(order) else order
    return ordered[starts], [np.add.reduceat(v[order], starts) if len(order) else v for v in values]
