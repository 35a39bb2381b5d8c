"""Statistics over a set of members: group figures, breakdowns, tier counts, buyers per day (functions over data).

>>> from bitseg.index.builtins import Builtins
>>> builtins = Builtins()
>>> builtins.admit(BitMap([0, 1]), size=2)
>>> builtins["orders"].values[:2] = [2, 0]
>>> builtins["clv"].values[:2] = [1_000_000, 0]  # 100.00 in ten-thousandths
>>> group(BitMap([0, 1]), {}, builtins)
GroupStats(customers=2, orders=2, revenue=Decimal('100'), average_order_value=Decimal('50.00'), average_clv=Decimal('50.00'), presence={})
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import numpy as np
from pyroaring import BitMap

from bitseg.days import day_date
from bitseg.errors import CancelledError, DeadlineExceededError, InvalidInputError
from bitseg.index import budget
from bitseg.index.arrays import distinct
from bitseg.index.bitmaps import columns as bitmap_columns
from bitseg.index.builtins import Builtins
from bitseg.index.fields import Field, TagsField, ValueField
from bitseg.index.lines import LineStore
from bitseg.index.segments import Tiering
from bitseg.index.values import DECIMAL_SCALE
from bitseg.index.views import ANY, TimeViews
from bitseg.schema import FieldType

MAX_DAYS = 3660  # buyers per day: ten years
Row = TypeVar("Row", bound=tuple[Any, ...])  # (value or None, count, ...)


@dataclass(frozen=True)
class GroupStats:
    customers: int
    orders: int
    revenue: Decimal
    average_order_value: Decimal
    average_clv: Decimal
    presence: dict[str, float]


@dataclass(frozen=True)
class Stats:
    count: int
    members: GroupStats
    rest: GroupStats


def group(members: BitMap, fields: Mapping[str, Field], builtins: Builtins) -> GroupStats:
    """Customers, orders, revenue and their averages, and the share present in each presence field."""
    columns = bitmap_columns(members)
    customers = len(columns)
    orders = int(builtins["orders"].values[columns].sum())
    revenue = Decimal(int(builtins["clv"].values[columns].sum())) / DECIMAL_SCALE
    presence = {name: (field.present.intersection_cardinality(members) / customers if customers else 0.0)
                for name, field in fields.items() if field.kind is FieldType.PRESENCE}
    return GroupStats(customers, orders, revenue,
                      (revenue / orders).quantize(Decimal("0.01")) if orders else Decimal(0),
                      (revenue / customers).quantize(Decimal("0.01")) if customers else Decimal(0), presence)


def stats(members: BitMap, existence: BitMap, fields: Mapping[str, Field], builtins: Builtins) -> Stats:
    """The members' figures and those of everyone else."""
    return Stats(len(members), group(members, fields, builtins), group(existence - members, fields, builtins))


def check_top(top: int) -> None:
    """A breakdown's `top` (in one process and on the coordinator of shards): at least one row."""
    if top < 1:
        raise InvalidInputError(f"top must be positive, not {top}")


def largest_first(rows: Iterable[Row], top: int) -> list[Row]:
    """A breakdown's first `top` rows: largest count first, ties by value, NULL (None) after the values.

    >>> largest_first([("b", 2), (None, 2), ("a", 2), ("c", 5)], 3)
    [('c', 5), ('a', 2), ('b', 2)]
    """
    return sorted(rows, key=lambda row: (-row[1], row[0] is None, row[0] or ""))[:top]


def breakdown_field(fields: Mapping[str, Field], name: str, top: int) -> ValueField | TagsField:
    """The field a breakdown counts over; raises before any evaluation when it cannot be one."""
    found = fields.get(name)
    if not isinstance(found, ValueField | TagsField):
        raise InvalidInputError(f"breakdown needs a keyword, bool or tags field or a purchase dimension; {name!r} "
                                + (f"is a {found.kind.value} field" if found else "is neither"))
    check_top(top)
    return found


def breakdown(members: BitMap, field: ValueField | TagsField, top: int) -> list[tuple[str | None, int]]:
    """Members per value of the field, largest first; None counts the NULLs."""
    counts: list[tuple[str | None, int]] = [
        (str(value).lower() if isinstance(value, bool) else str(value), row.intersection_cardinality(members))
        for value, row in field.rows.items()]
    counts.append((None, members.difference_cardinality(field.present)))
    return largest_first((c for c in counts if c[1] > 0), top)


def purchase_breakdown(lines: LineStore, dim: str, members: BitMap, low: int | None, high: int,
                       top: int) -> list[tuple[str | None, int, Decimal]]:
    """Per value of the dimension `dim` (None: lines without one), the members with a purchase line (quantity > 0)
    having it dated in [low, high] (None: from the first line), and the net sum of every line (returns included)
    of those members having it in the window; largest count first, ties by value, the top `top`.

    >>> store = LineStore(("color",))
    >>> store.dictionaries["color"].encode(["red", "blue"]).tolist()
    [0, 1]
    >>> store.append({"column": np.array([0, 0, 1, 2]), "day": np.array([1, 2, 2, 3]), "order": np.arange(4),
    ...               "amount": np.array([300_000, -100_000, 50_000, 70_000]), "quantity": np.array([2, -1, 1, 1]),
    ...               "color": np.array([0, 0, -1, 1], dtype=np.int32)})
    >>> purchase_breakdown(store, "color", BitMap([0, 1, 2]), None, 2, 10)
    [('red', 1, Decimal('20')), (None, 1, Decimal('5'))]
    """
    if dim not in lines.dictionaries:
        raise InvalidInputError(f"breakdown by {dim!r}: not a purchase dimension")
    check_top(top)
    if low is not None and low > high:
        return []
    found = lines.gather(["column", "quantity", "amount", dim], lines.window(low, high))
    column = found["column"]
    wanted = bitmap_columns(members)
    if not len(column) or not len(wanted):
        return []
    table = np.zeros(max(int(column.max()), int(wanted[-1])) + 1, dtype=bool)
    table[wanted] = True
    mine = table[column]
    codes = found[dim][mine].astype(np.int64) + 1  # 0: NULL
    pairs, amount = codes << 32 | column[mine], found["amount"][mine]
    purchase = found["quantity"][mine] > 0
    bought = distinct(pairs[purchase])  # (value, customer) of every buyer
    buyers = np.bincount(bought >> 32, minlength=len(lines.dictionaries[dim]) + 1)
    # a purchase line is a buyer's; a return line counts when its customer also bought the value in the window
    # (the few return lines are looked up, not every line: a random searchsorted over 2M lines takes seconds)
    returned = ~purchase
    at = np.minimum(np.searchsorted(bought, pairs[returned]), max(len(bought) - 1, 0))
    kept = bought[at] == pairs[returned] if len(bought) else np.zeros(int(returned.sum()), dtype=bool)
    sums = np.rint(np.bincount(codes[purchase], weights=amount[purchase], minlength=len(buyers))
                   + np.bincount(codes[returned][kept], weights=amount[returned][kept], minlength=len(buyers)))
    values: list[str | None] = [None, *lines.dictionaries[dim].values]
    rows = [(values[code], int(buyers[code]), Decimal(int(sums[code])) / DECIMAL_SCALE)
            for code in np.flatnonzero(buyers)]
    return largest_first(rows, top)


def entry(selection: Any, count: Callable[[Any], Any]) -> Any:
    """`count(selection)`, or the error it raised, as one entry of a batch (an error given is passed through).

    A spent budget is raised, not kept: the whole call is abandoned, not one entry."""
    if isinstance(selection, Exception):
        return selection
    try:
        return count(selection)
    except (DeadlineExceededError, CancelledError):
        raise
    except Exception as err:  # noqa: BLE001 - each entry carries its own error
        return err


def tier_counts(tiering: Tiering, existence: BitMap,
                evaluate: Callable[[str], BitMap]) -> list[tuple[str, int]]:
    """Customers per tier, each in the first tier it matches, then the default tier: they add up to everyone."""
    remaining = BitMap(existence)
    counts = []
    for tier, query in tiering.tiers:
        budget.check()
        if not remaining:  # everyone has a tier already: the later ones are empty
            counts.append((tier, 0))
            continue
        members = evaluate(query) & remaining
        remaining -= members
        counts.append((tier, len(members)))
    return counts + [(tiering.default, len(remaining))]


def check_day_range(first: int, last: int) -> None:
    if last < first or last - first > MAX_DAYS:
        raise InvalidInputError(f"buyers per day needs start <= end and at most {MAX_DAYS + 1} days")


def buyers_per_day(views: TimeViews, first: int, last: int, members: BitMap | None) -> list[tuple[dt.date, int]]:
    """Customers with a purchase line on each day number of [first, last], among `members` when given."""
    check_day_range(first, last)
    view = views.views.get((ANY, 0))
    out = []
    for day in range(first, last + 1):
        buyers = view.days.get(day) if view else None
        count = 0 if buyers is None else (
            len(buyers) if members is None else buyers.intersection_cardinality(members))
        out.append((day_date(day), count))
    return out
