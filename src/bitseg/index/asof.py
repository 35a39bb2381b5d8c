"""The built-in customer fields as of a past day, computed from the purchase lines dated up to it (SPEC §2).

The kept built-ins (`builtins.py`) fold in every line. On a day D before the last line day a query must not see
the lines after D, so the planner sends a predicate on a built-in here instead (`plan.BuiltinAsOf`): orders are the
distinct orders with a purchase line ≤ D, clv the net sum of every line ≤ D, first/last purchase date the first/last
day of a purchase line ≤ D (NULL when there is none). Nothing here reads the kept built-ins.

>>> from bitseg.index.lines import DAY_OFFSET, LineStore
>>> store = LineStore(())
>>> store.append({"column": np.array([0, 0, 1]), "day": np.array([3, 9, 5]), "amount": np.array([10, 20, -5]),
...               "quantity": np.array([1, 1, -1]), "order": np.array([7, 8, 9])})
>>> [builtin_values(store, name, 5, 2)[0].tolist() for name in ("orders", "clv", "last_purchase_date")]
[[1, 0], [10, -5], [3, 0]]
>>> builtin_values(store, "first_purchase_date", 5, 2)[1].tolist()
[True, False]
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from bitseg.index import fields
from bitseg.index.arrays import distinct
from bitseg.index.lines import DAY_OFFSET, LineStore

_KEPT = 8  # (built-in, day) results kept per line store: a backtest asks the same day again and again
_CACHE: weakref.WeakKeyDictionary[LineStore, dict[tuple, tuple[np.ndarray, np.ndarray]]] = (
    weakref.WeakKeyDictionary())



def month_days(day_numbers: np.ndarray) -> np.ndarray:
    """month * 32 + day of each day number: what ANNIVERSARY compares (Feb 29 is 2 * 32 + 29).

    >>> month_days(np.array([0, 59])).tolist()  # 1970-01-01, 1970-03-01
    [33, 97]
    """
    dates = np.asarray(day_numbers).astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    return (months.astype(np.int64) % 12 + 1) * 32 + (dates - months).astype(np.int64) + 1

def builtin_values(lines: LineStore, name: str, day: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, has) per column 0..size-1 of the built-in `name` over the lines dated up to `day`.

    `has` is False where the value is NULL: a date of a customer without a purchase line ≤ day (orders and clv
    are 0, never NULL). Values are in stored units: orders, ten-thousandths, day numbers. The last few results
    are kept while the lines do not change (their count and the erasures say so); do not change them.
    """
    kept = _CACHE.setdefault(lines, {})
    key = (name, day, size, lines.size, getattr(lines, "erasures", 0))
    found = kept.get(key)
    if found is None:
        for stale in list(kept)[: max(0, len(kept) - _KEPT + 1)]:
            kept.pop(stale, None)  # pop, not del: two readers may tidy up at once
        found = kept[key] = _compute(lines, name, day, size)
    return found


def _compute(lines: LineStore, name: str, day: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    wanted = ["column", "quantity"] + (["amount"] if name == "clv" else ["order"] if name == "orders" else ["day"])
    found = lines.gather(wanted, lines.window(None, day))
    column = found["column"]
    purchase = found["quantity"] > 0
    if name in ("clv", "orders"):  # the measures sum_amount and count over every line up to the day
        every = np.ones(len(column), dtype=bool)
        counted = measure("sum_amount" if name == "clv" else "count", found, every, purchase, size)
        return counted.astype(np.int64), np.ones(size, dtype=bool)
    buyers = column[purchase]
    has = np.zeros(size, dtype=bool)
    has[buyers] = True
    days = found["day"][purchase].astype(np.int64)
    if name == "first_purchase_date":
        values = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(values, buyers, days)
    elif name == "last_purchase_date":
        values = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(values, buyers, days)
    else:
        raise KeyError(f"not a built-in field: {name!r}")
    values[~has] = 0
    return values, has


def measure(measure: str, lines: dict[str, np.ndarray], mask: np.ndarray, purchase: np.ndarray,
             size: int) -> np.ndarray:
    """The measure of every column over the lines of `mask` (`purchase`: those of them with a positive quantity);
    0 where none match. A MATCHES measure, and the built-ins orders and clv as of a day."""
    if measure in ("sum_amount", "sum_quantity"):
        weights = lines["amount" if measure == "sum_amount" else "quantity"][mask]
        sums = np.bincount(lines["column"][mask], weights=weights, minlength=size)
        return np.rint(sums).astype(np.int64)
    other = lines["order"] if measure == "count" else lines["day"].astype(np.int64) + DAY_OFFSET
    pairs = lines["column"][purchase].astype(np.int64) << 32 | other[purchase]
    return np.bincount(distinct(pairs) >> 32, minlength=size)


def select(values: np.ndarray, has: np.ndarray, op: str, operands: Sequence[int | Decimal]) -> np.ndarray:
    """The mask of columns whose non-NULL value satisfies `op` ('present', 'in', 'between', 'anniversary' with
    month * 32 + day numbers, or a comparison) against `operands` in stored units.

    >>> select(np.array([1, 2, 3]), np.array([True, True, False]), ">", [Decimal("1.5")]).tolist()
    [False, True, False]
    >>> select(np.array([1, 2, 3]), np.ones(3, dtype=bool), "between", [2, 9]).tolist()
    [False, True, True]
    """
    if op == "present":
        return has
    if op == "in":
        mask = np.zeros(len(values), dtype=bool)
        for operand in operands:
            mask |= compare(values, "=", operand)
    elif op == "between":
        mask = compare(values, ">=", operands[0]) & compare(values, "<=", operands[1])
    elif op == "anniversary":
        table = np.zeros(13 * 32, dtype=bool)
        table[[int(o) for o in operands]] = True
        mask = table[month_days(values)]
    else:
        mask = compare(values, op, operands[0])
    return mask & has


def compare(values: np.ndarray, op: str, threshold: int | Decimal) -> np.ndarray:
    """`values op threshold`, exact for a fractional threshold (stored values are whole numbers).

    >>> compare(np.array([1, 2]), "=", Decimal("1.5")).tolist(), compare(np.array([1, 2]), "<=", 1.5).tolist()
    ([False, False], [True, False])
    """
    mask = fields.compare(values, op, threshold)
    return np.zeros(len(values), dtype=bool) if mask is None else mask
