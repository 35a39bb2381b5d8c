"""Whether one customer (a column) is in a plan's result, without computing the whole bitmap.

CheckMembership and CustomerSegments ask about one customer, often right after a write has emptied the segment
cache. Running each segment's plan over every customer would cost a full evaluation per segment per write; here
each node is decided for the one column: a compare reads its one value, a line scan reads only that customer's
lines (found by one pass over the line store's columns, shared by every scan of the call), a saved segment
whose bitmap is cached is one lookup. Same answers as `executor.run(node) & existence` (property-tested).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bitseg import days
from bitseg.index import asof, budget
from bitseg.index import plan as p
from bitseg.index.executor import filter_mask, run
from bitseg.index.fields import NumberField, compare
from bitseg.index.plan import IndexData


class Probe:
    """Decides plan nodes for one column of `data`; keeps that customer's line positions for the call."""

    def __init__(self, data: IndexData, column: int) -> None:
        self.data = data
        self.column = column
        self._positions: np.ndarray | None = None

    def contains(self, node: p.PlanNode) -> bool:
        """Whether the column is in the node's result (and exists)."""
        return self.column in self.data.existence and self._has(node)

    def _has(self, node: p.PlanNode) -> bool:
        budget.check()
        return _PROBES.get(type(node), Probe._bitmap)(self, node)

    def _bitmap(self, node: p.PlanNode) -> bool:
        # bitmaps the index keeps (rows, lists, presence, time views): a lookup in the result is cheap enough
        return self.column in run(node, self.data)

    def _complement(self, node: p.Complement) -> bool:
        return not self._has(node.operand)

    def _union(self, node: p.Union) -> bool:
        return any(self._has(o) for o in node.operands)

    def _intersect(self, node: p.Intersect) -> bool:
        return all(self._has(o) for o in node.operands)

    def _subtract(self, node: p.Subtract) -> bool:
        return self._has(node.base) and not any(self._has(o) for o in node.operands)

    def _value(self, name: str) -> int | None:
        field = self.data.field(name)
        assert isinstance(field, NumberField)
        if self.column not in field.present or self.column >= len(field.values):
            return None
        return int(field.values[self.column])

    def _field_range(self, node: p.FieldRange) -> bool:
        value = self._value(node.field)
        if value is None:
            return False
        one = np.array([value], dtype=np.int64)
        if node.op == "in":
            return any(_holds(one, "=", v) for v in node.values)
        if node.op == "between":
            return _holds(one, ">=", node.values[0]) and _holds(one, "<=", node.values[1])
        return _holds(one, node.op, node.values[0])

    def _anniversary(self, node: p.Anniversary) -> bool:
        value = self._value(node.field)
        if value is None:
            return False
        day = days.day_date(value)
        return day.month * 32 + day.day in node.month_days

    def _cached_segment(self, node: p.CachedSegment) -> bool:
        cached = self.data.cached_bitmap(node.name, node.as_of)
        return self.column in cached if cached is not None else self._has(node.subplan)

    def positions(self) -> np.ndarray:
        """Positions of this customer's lines in the line store, ascending (one pass, then kept)."""
        if self._positions is None:
            self._positions = np.flatnonzero(self.data.lines["column"] == np.uint32(self.column))
        return self._positions

    def _line_scan(self, node: p.LineScan) -> bool:
        """The executor's line scan over this customer's lines of the window only."""
        mine = self.positions()
        picked = [mine[np.searchsorted(mine, start):np.searchsorted(mine, end)] for start, end in node.slices]
        at = np.concatenate(picked) if picked else mine[:0]  # none: measures are 0 then, and `= 0` holds
        lines = {name: self.data.lines[name][at] for name in
                 {"day", "quantity", "amount", "order", *(f.dim for f in node.filters if isinstance(f, p.DimCodes))}}
        lines["column"] = np.zeros(len(at), dtype=np.int64)  # one customer: column 0 of a universe of one
        mask = filter_mask(node.filters, lines)
        purchase = mask & (lines["quantity"] > 0)
        if not node.measures:
            return bool(purchase.any())
        for measure in node.measures:
            values = asof.measure(measure.measure, lines, mask, purchase, 1)
            if not asof.compare(values, measure.op, measure.threshold)[0]:  # the executor's compare
                return False
        return True

    def _month_rollup(self, node: p.MonthRollup) -> bool:
        """This customer's lines of the whole window: the roll-ups are for many customers at once."""
        slices = tuple(self.data.lines.window(node.low_day, node.high_day))
        return self._line_scan(p.LineScan(node.low_day, node.high_day, slices, node.filters, node.measures))


def _holds(values: np.ndarray, op: str, threshold: object) -> bool:
    matched = compare(values, op, threshold)  # type: ignore[arg-type]
    return matched is not None and bool(matched[0])


_PROBES: dict[type, Callable[..., bool]] = {
    p.Complement: Probe._complement, p.Union: Probe._union, p.Intersect: Probe._intersect,
    p.Subtract: Probe._subtract, p.FieldRange: Probe._field_range, p.Anniversary: Probe._anniversary,
    p.CachedSegment: Probe._cached_segment, p.LineScan: Probe._line_scan, p.LineBitmaps: Probe._line_scan,
    p.MonthRollup: Probe._month_rollup,
}
