"""The executor: runs a plan (`plan.py`) over the index data and returns the bitmap of matching columns.

Every choice was made by the planner; what is left here are the fast paths of each access: lookup tables instead
of np.isin, int32 day keys, the window's line slices, `from_mask`/`from_ids` instead of building bitmaps element
by element, and early exits on an empty result (PERF.md). The call's budget (`budget.py`) is checked before each
node and between the passes of a line scan, and a plan whose estimated cost is past the ceiling never starts.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from pyroaring import BitMap

from bitseg.index import asof, budget, planner, postings, rollups
from bitseg.index import plan as p
from bitseg.index.bitmaps import from_ids, from_mask, from_sorted, union
from bitseg.index.fields import OPERATORS, NumberField, TagsField, ValueField
from bitseg.index.plan import IndexData, Plan
from bitseg.index.sharing import kept, sharing
from bitseg.query.expressions import Node


def evaluate(tree: Node, data: IndexData, as_of: dt.date, text: str = "") -> BitMap:
    """The columns matching a normalised tree on day `as_of` (possibly a stored bitmap: do not change it)."""
    return execute(planner.plan(tree, data, as_of, text), data)


def execute(plan: Plan, data: IndexData) -> BitMap:
    """The bitmap of a plan (possibly a stored bitmap: do not change it)."""
    spending = budget.current()
    if spending.max_cost is not None:
        spending.check_cost(plan.cost(), f"the query {_short(plan.text)}" if plan.text else "the query")
    with sharing():  # scans of the same lines share their measures (sharing.py)
        return run(plan.root, data)


def run(node: p.PlanNode, data: IndexData) -> BitMap:
    """The bitmap of one plan node and the nodes below it."""
    budget.check()
    return _RUNNERS[type(node)](node, data)


def _existence(node: p.Existence, data: IndexData) -> BitMap:
    return data.existence


def _complement(node: p.Complement, data: IndexData) -> BitMap:
    return data.existence - run(node.operand, data)


def _union(node: p.Union, data: IndexData) -> BitMap:
    return union(run(o, data) for o in node.operands)


def _intersect(node: p.Intersect, data: IndexData) -> BitMap:
    # pyroaring intersects left to right: smallest first, and stop at the first empty result
    walks = [o for o in node.operands if isinstance(o, p.FieldRange) and o.estimate is not None]
    found = sorted((run(o, data) for o in node.operands if not any(o is w for w in walks)), key=len)
    result = found[0] if found else None
    for bitmap in found[1:]:
        if not result:
            return BitMap()
        result = result & bitmap
    for walk in walks:  # in the planner's order, smallest estimate first: each walks within the result so far
        if result is not None and not result:
            return BitMap()
        budget.check()
        result = _field_range(walk, data, result)
    assert result is not None
    return result


def _subtract(node: p.Subtract, data: IndexData) -> BitMap:
    result = run(node.base, data)
    for operand in node.operands:
        if not result:
            break
        result = result - run(operand, data)
    return result


def _field_rows(node: p.FieldRows, data: IndexData) -> BitMap:
    field = data.field(node.field)
    if isinstance(field, TagsField):
        return field.contains(node.values[0])  # type: ignore[arg-type]
    assert isinstance(field, ValueField)
    if node.op == "in":
        return field.select_in(node.values)
    if node.op == "between":
        return field.between(*node.values)
    return field.select(node.op, node.values[0])


def _field_range(node: p.FieldRange, data: IndexData, among: BitMap | None = None) -> BitMap:
    field = data.field(node.field)
    assert isinstance(field, NumberField)
    if node.op == "in":
        if node.slices is None:
            found = field.scan_in(node.values, node.columns)
            return found if among is None else found & among
        return field.select_in(node.values, among)
    if node.op == "between":
        low, high = node.values
        return field.between(low, high, among)
    return field.select(node.op, node.values[0], among)


def _builtin_as_of(node: p.BuiltinAsOf, data: IndexData) -> BitMap:
    values, has = asof.builtin_values(data.lines, node.field, node.day, data.column_count)
    return from_mask(asof.select(values, has, node.op, node.values)) & data.existence


def _present(node: p.Present, data: IndexData) -> BitMap:
    return data.field(node.field).present


def _anniversary(node: p.Anniversary, data: IndexData) -> BitMap:
    present, month_day = data.month_days(node.field)
    return from_sorted(present[lookup_table(node.month_days, 13 * 32)[month_day]])


def _bucket_range(node: p.BucketRange, data: IndexData) -> BitMap:
    if node.low > node.high:
        return BitMap()
    values = data.bucket_values(node.salt)
    return from_mask((values >= node.low) & (values <= node.high)) & data.existence


def _cached_segment(node: p.CachedSegment, data: IndexData) -> BitMap:
    return data.cached_segment(node.name, node.as_of, lambda: run(node.subplan, data))


def _list_members(node: p.ListMembers, data: IndexData) -> BitMap:
    return data.list_members(node.name)


def _view_window(node: p.ViewWindow, data: IndexData) -> BitMap:
    return data.views.union_of(node.dim, node.codes, node.buckets) if node.buckets else BitMap()


def _line_scan(node: p.LineScan, data: IndexData) -> BitMap:
    """One pass over the lines of the window: same-line filters, then measures per customer.

    Within a call the measures (and the buyers) of the same window and filters are computed once (sharing.py).
    """
    key = ("scan", node.slices, node.filters)

    def read() -> tuple[dict[str, np.ndarray], np.ndarray]:
        measures = {m.measure for m in node.measures}
        names = {"column", "day", "quantity", *(f.dim for f in node.filters if isinstance(f, p.DimCodes))}
        names |= {"amount"} if "sum_amount" in measures else set()
        names |= {"order"} if "count" in measures else set()
        lines = data.lines.gather(sorted(names), list(node.slices))
        return lines, filter_mask(node.filters, lines)

    return _per_customer(key, node.measures, read, data)


def filter_mask(filters: Sequence[p.DimCodes | p.DayCompare], lines: Mapping[str, np.ndarray]) -> np.ndarray:
    """Which of the gathered `lines` pass every same-line filter of a MATCHES."""
    mask = np.ones(len(lines["day"]), dtype=bool)
    for test in filters:
        budget.check()
        if isinstance(test, p.DimCodes):
            table = lookup_table([code + 1 for code in test.codes], test.size + 1)
            mask &= table[lines[test.dim] + 1]  # code -1 (NULL) is entry 0
        else:
            mask &= OPERATORS[test.op](lines["day"], test.day)
    return mask


def _line_bitmaps(node: p.LineBitmaps, data: IndexData) -> BitMap:
    """The lines the filters' value bitmaps select in the window, then measures per customer over them only."""
    key = ("bitmaps", node.slices, node.filters)

    def read() -> tuple[dict[str, np.ndarray], np.ndarray]:
        at = postings.positions(data.lines, [(f.dim, f.codes, f.size) for f in node.filters], list(node.slices))
        budget.check()
        names = {"column", "quantity", *(_MEASURE_COLUMNS[m.measure] for m in node.measures)}
        return {name: data.lines[name][at] for name in names}, np.ones(len(at), dtype=bool)

    return _per_customer(key, node.measures, read, data)


def _month_rollup(node: p.MonthRollup, data: IndexData) -> BitMap:
    """Roll-up entries for the whole months, the edge days' lines from line bitmaps, then the measures over the
    customers found in them only (everyone else has sums of 0). Within a call the sums of the same roll-up
    window are computed once (sharing.py: a tiering of many thresholds reads them once)."""
    key = ("rollup", node.dims, node.codes, node.first_month, node.last_month, node.edges, node.filters)
    if not node.measures:
        return kept((*key, "buyers"), lambda: from_ids(_rollup_entries(node, data, None)[0]))
    keep: np.ndarray | None = None
    at_zero = True
    for measure in node.measures:
        budget.check()
        found, total = kept((*key, measure.measure), functools.partial(_rollup_sums, node, data, measure.measure))
        passed = asof.compare(total, measure.op, measure.threshold)
        keep = passed if keep is None else keep & passed
        at_zero &= bool(asof.compare(np.zeros(1, dtype=np.int64), measure.op, measure.threshold)[0])
    assert keep is not None
    if at_zero:  # the customers without a line pass: everyone but those whose sums fail
        return data.existence - from_sorted(found[~keep].astype(np.uint32))
    return from_sorted(found[keep].astype(np.uint32)) & data.existence


def _rollup_entries(node: p.MonthRollup, data: IndexData, measure: str | None) -> tuple[np.ndarray, ...]:
    """(columns,) of the buying entries when `measure` is None, else (columns, values of the measure)."""
    names = ["column", "buys"] if measure is None else ["column", _MEASURE_COLUMNS[measure]]
    parts = (rollups.rollup_of(data.lines, node.dims).entries(node.codes, node.first_month, node.last_month, names)
             if node.first_month <= node.last_month else [])
    if node.edges:
        budget.check()
        at = postings.positions(data.lines, [(f.dim, f.codes, f.size) for f in node.filters], list(node.edges))
        edge = {name: data.lines[name][at] for name in ("column", "amount", "quantity")}
        parts.append({**edge, "buys": edge["quantity"] > 0})
    joined = [np.concatenate([part[name] for part in parts] or [np.empty(0, np.int64)]) for name in names]
    column = joined[0].astype(np.uint32, copy=False)
    return (column[joined[1].astype(bool)],) if measure is None else (column, joined[1])


def _rollup_sums(node: p.MonthRollup, data: IndexData, measure: str) -> np.ndarray:
    """Two rows: the distinct columns of the roll-up window's entries, and the measure's sum for each."""
    column, values = _rollup_entries(node, data, measure)
    found, (total,) = rollups.per_column(column, [values], data.column_count)
    return np.stack((found.astype(np.int64), total))


_MEASURE_COLUMNS = {"sum_amount": "amount", "sum_quantity": "quantity", "count": "order", "days": "day"}


def _per_customer(key: tuple, measures: tuple[p.MeasureTest, ...],
                  read: Callable[[], tuple[dict[str, np.ndarray], np.ndarray]], data: IndexData) -> BitMap:
    """Customers with a purchase among the lines `read` selects (lines, mask), or whose measures over them all
    hold; what was computed for the same `key` earlier in the call is reused, and the lines read at most once."""
    found: list[tuple[dict[str, np.ndarray], np.ndarray]] = []

    def lines() -> tuple[dict[str, np.ndarray], np.ndarray]:
        if not found:
            found.append(read())
        return found[0]

    def buyers() -> BitMap:
        columns, mask = lines()
        return from_ids(columns["column"][mask & (columns["quantity"] > 0)])

    if not measures:
        return kept((*key, "buyers"), buyers)
    keep = np.ones(data.column_count, dtype=bool)
    for measure in measures:
        budget.check()
        values = kept((*key, measure.measure), functools.partial(_measure, measure.measure, lines, data.column_count))
        keep &= asof.compare(values, measure.op, measure.threshold)
    return from_mask(keep) & data.existence


def _measure(name: str, read: Callable[[], tuple[dict[str, np.ndarray], np.ndarray]], size: int) -> np.ndarray:
    lines, mask = read()
    return asof.measure(name, lines, mask, mask & (lines["quantity"] > 0), size)


def _short(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")


def lookup_table(members, size: int) -> np.ndarray:
    """A boolean table over 0..size-1, true at `members`: indexing it tests membership faster than np.isin."""
    table = np.zeros(size, dtype=bool)
    table[list(members)] = True
    return table


_RUNNERS: dict[type, Callable[..., BitMap]] = {
    p.Existence: _existence, p.Complement: _complement, p.Union: _union, p.Intersect: _intersect,
    p.Subtract: _subtract, p.FieldRows: _field_rows, p.FieldRange: _field_range, p.Present: _present,
    p.Anniversary: _anniversary, p.CachedSegment: _cached_segment, p.ListMembers: _list_members,
    p.ViewWindow: _view_window, p.LineScan: _line_scan, p.BucketRange: _bucket_range,
    p.LineBitmaps: _line_bitmaps, p.BuiltinAsOf: _builtin_as_of, p.MonthRollup: _month_rollup,
}
