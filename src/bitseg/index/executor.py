"""The executor: a checked expression tree and an evaluation day → the bitmap of matching columns.

AND intersects its operands smallest first and subtracts its negated operands, so `a AND NOT b` never builds
the complement of b. PURCHASES MATCHES is answered from the time views when it filters at most one dimension
and has no measure; otherwise by one pass over the line columns.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
from pyroaring import BitMap

from bitseg import days
from bitseg.errors import NotFoundError, QueryError
from bitseg.index.bitmaps import from_ids, from_mask, from_sorted, union
from bitseg.index.fields import OPERATORS, NumberField, TagsField, compare
from bitseg.index.lines import DAY_OFFSET, Dictionary
from bitseg.index.values import DECIMAL_SCALE
from bitseg.index.views import ANY
from bitseg.query.expressions import (
    All,
    And,
    Anniversary,
    Between,
    Compare,
    Contains,
    DateBetween,
    DateCompare,
    DimCompare,
    DimIn,
    DimIsNull,
    In,
    InList,
    InSegment,
    IsNull,
    Matches,
    Node,
    Not,
    Or,
    Param,
    RelativeDay,
)
from bitseg.schema import FieldType

if TYPE_CHECKING:
    from bitseg.index.core import Index

_LITERAL_BOUND = 1 << 64
_VIEW_CODES_MAX = 256  # past this many values, one pass over the lines beats a union of views


class Executor:
    def __init__(self, index: Index, as_of: dt.date, text: str = "") -> None:
        self.index = index
        self.as_of = as_of
        self.text = text
        self.segments: list[str] = []

    def run(self, node: Node) -> BitMap:
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    def error(self, message: str, node: Node | Param) -> QueryError:
        return QueryError(message, text=self.text, offset=node.pos if node.pos >= 0 else None)

    # ── boolean structure ──
    def _all(self, node: All) -> BitMap:
        return self.index.existence

    def _not(self, node: Not) -> BitMap:
        return self.index.existence - self.run(node.operand)

    def _or(self, node: Or) -> BitMap:
        return union(self.run(o) for o in node.operands)

    def _and(self, node: And) -> BitMap:
        positive = [self.run(o) for o in node.operands if not isinstance(o, Not)]
        negative = [o.operand for o in node.operands if isinstance(o, Not)]
        if not positive:
            result = self.index.existence
        else:
            positive.sort(key=len)
            result = positive[0]
            for bitmap in positive[1:]:
                if not result:
                    return BitMap()
                result = result & bitmap
        for operand in negative:
            if not result:
                break
            result = result - self.run(operand)
        return result

    # ── customer fields ──
    def _stored(self, kind: FieldType, value: object, node: Node) -> object:
        """A literal in the field's stored units (days, ten-thousandths), possibly fractional."""
        if kind is FieldType.DATE:
            return days.day_number(self.day(value, node))  # type: ignore[arg-type]
        if kind is FieldType.DECIMAL:
            return _bounded(Decimal(value)) * DECIMAL_SCALE  # type: ignore[arg-type]
        return _bounded(value) if kind is FieldType.INT else value

    def day(self, value: dt.date | RelativeDay, node: Node | Param) -> dt.date:
        try:
            return days.resolve(value, self.as_of)
        except (OverflowError, ValueError):
            raise self.error(f"date {value!r} is out of range", node) from None

    def _compare(self, node: Compare) -> BitMap:
        field = self.index.field(node.field)
        value = self._stored(field.kind, node.value, node)
        if isinstance(field, NumberField):
            return field.select(node.op, value, self.index.column_count)  # type: ignore[arg-type]
        return field.select(node.op, value)  # type: ignore[union-attr]

    def _between(self, node: Between) -> BitMap:
        field = self.index.field(node.field)
        low, high = (self._stored(field.kind, v, node) for v in (node.low, node.high))
        if isinstance(field, NumberField):
            return field.between(low, high, self.index.column_count)  # type: ignore[arg-type]
        return field.between(low, high)  # type: ignore[union-attr]

    def _in(self, node: In) -> BitMap:
        field = self.index.field(node.field)
        values = [self._stored(field.kind, v, node) for v in node.values]
        if isinstance(field, NumberField):
            return field.select_in(values, self.index.column_count)  # type: ignore[arg-type]
        return field.select_in(values)  # type: ignore[union-attr]

    def _isnull(self, node: IsNull) -> BitMap:
        return self.index.existence - self.index.field(node.field).present

    def _contains(self, node: Contains) -> BitMap:
        field = self.index.field(node.field)
        assert isinstance(field, TagsField)
        return field.contains(node.value)

    def _anniversary(self, node: Anniversary) -> BitMap:
        start, end = self.day(node.start, node), self.day(node.end, node)
        span = (end - start).days + 1
        if span < 1:
            raise self.error(f"ANNIVERSARY range ends ({end}) before it starts ({start})", node)
        if span > 366:
            raise self.error(f"ANNIVERSARY range covers {span} days; at most 366 are allowed", node)
        wanted = set()
        for offset in range(span):
            day = start + dt.timedelta(days=offset)
            wanted.add(day.month * 32 + day.day)
            if day.month == 2 and day.day == 28 and not days.is_leap(day.year):
                wanted.add(2 * 32 + 29)  # Feb 29 counts as Feb 28 in years without one
        present, month_day = self.index.month_days(node.field)
        return from_sorted(present[_lookup(wanted, 13 * 32)[month_day]])

    # ── references ──
    def _insegment(self, node: InSegment) -> BitMap:
        if node.name in self.segments:
            chain = " → ".join([*self.segments, node.name])
            raise self.error(f"segment reference cycle: {chain}", node)
        segment = self.index.segment_tree(node.name)
        self.segments.append(node.name)
        try:
            return self.index.cached_segment(node.name, self.as_of, lambda: self.run(segment))
        finally:
            self.segments.pop()

    def _inlist(self, node: InList) -> BitMap:
        found = self.index.lists.get(node.name)
        if found is None:
            raise NotFoundError(f"unknown list {node.name!r}")
        return found

    # ── purchases ──
    def _matches(self, node: Matches) -> BitMap:
        window = self._window(node)
        dims = [p for p in node.params if isinstance(p, DimCompare | DimIn | DimIsNull)]
        if not node.measures and window is not None and len({p.dim for p in dims}) <= 1:
            if not dims:
                return self.index.views.window(ANY, [0], *window)
            codes = None
            for param in dims:
                found = self._codes(param)
                codes = found if codes is None else codes & found
            if len(codes) <= _VIEW_CODES_MAX:  # type: ignore[arg-type]
                return self.index.views.window(dims[0].dim, sorted(codes), *window)  # type: ignore[arg-type]
        return self._scan(node, window)

    def _window(self, node: Matches) -> tuple[int | None, int | None] | None:
        """The day range of the date params, or None when one of them is not a range (`date != d`)."""
        low, high = None, None
        for param in node.params:
            if isinstance(param, DateBetween):
                bounds = [(">=", param.low), ("<=", param.high)]
            elif isinstance(param, DateCompare):
                bounds = [(param.op, param.value)]
            else:
                continue
            for op, value in bounds:
                day = days.day_number(self.day(value, param))
                if op == "!=":
                    return None
                if op in ("=", ">=", ">"):
                    start = day + (op == ">")
                    low = start if low is None else max(low, start)
                if op in ("=", "<=", "<"):
                    stop = day - (op == "<")
                    high = stop if high is None else min(high, stop)
        return low, high

    def _codes(self, param: DimCompare | DimIn | DimIsNull) -> set[int]:
        """The value codes (-1 for NULL) of the dimension that a line must have to satisfy `param`."""
        dictionary: Dictionary = self.index.lines.dictionaries[param.dim]
        every = set(range(len(dictionary))) | {-1}
        if isinstance(param, DimIsNull):
            return every - {-1} if param.negated else {-1}
        if isinstance(param, DimIn):
            chosen = {dictionary.code(v) for v in param.values} - {None}
            return every - chosen if param.negated else chosen  # type: ignore[return-value]
        if param.op in ("=", "!="):
            code = dictionary.code(param.value)
            chosen = set() if code is None else {code}
            return every - chosen if param.op == "!=" else chosen
        test = OPERATORS[param.op]
        return {code for code, value in enumerate(dictionary.values) if test(value, param.value)}

    def _scan(self, node: Matches, window: tuple[int | None, int | None] | None) -> BitMap:
        """One pass over the lines of the date window: same-line filters, then measures per customer."""
        measures = {m.measure for m in node.measures}
        dims = {p.dim for p in node.line_filters if isinstance(p, DimCompare | DimIn | DimIsNull)}
        names = {"column", "day", "quantity", *dims}
        names |= {"amount"} if "sum_amount" in measures else set()
        names |= {"order"} if "count" in measures else set()
        store = self.index.lines
        lines = store.gather(sorted(names), store.window(*(window or (None, None))))
        mask = np.ones(len(lines["column"]), dtype=bool)
        for param in node.line_filters:
            if isinstance(param, DimCompare | DimIn | DimIsNull):
                codes = self._codes(param)
                table = _lookup({code + 1 for code in codes}, len(self.index.lines.dictionaries[param.dim]) + 1)
                mask &= table[lines[param.dim] + 1]  # code -1 (NULL) is entry 0
            elif window is None:  # a `date != d`: the window could not narrow the lines
                bounds = ([(">=", param.low), ("<=", param.high)] if isinstance(param, DateBetween)
                          else [(param.op, param.value)])  # type: ignore[union-attr]
                for op, value in bounds:
                    mask &= OPERATORS[op](lines["day"], days.day_number(self.day(value, param)))
        purchase = mask & (lines["quantity"] > 0)
        if not node.measures:
            return from_ids(lines["column"][purchase])
        size = self.index.column_count
        keep = np.ones(size, dtype=bool)
        for measure in node.measures:
            values = self._measure(measure.measure, lines, mask, purchase, size)
            threshold = _bounded(Decimal(measure.value)) * (DECIMAL_SCALE if measure.measure == "sum_amount" else 1)
            matched = compare(values, measure.op, threshold)
            if matched is None:
                return BitMap()
            keep &= matched
        return from_mask(keep) & self.index.existence

    @staticmethod
    def _measure(measure: str, lines: dict[str, np.ndarray], mask: np.ndarray, purchase: np.ndarray,
                 size: int) -> np.ndarray:
        """The measure of every column over the matching lines (0 where none match)."""
        if measure in ("sum_amount", "sum_quantity"):
            weights = lines["amount" if measure == "sum_amount" else "quantity"][mask]
            sums = np.bincount(lines["column"][mask], weights=weights, minlength=size)
            return np.rint(sums).astype(np.int64)
        other = lines["order"] if measure == "count" else lines["day"].astype(np.int64) + DAY_OFFSET
        pairs = lines["column"][purchase].astype(np.int64) << 32 | other[purchase]
        return np.bincount(np.unique(pairs) >> 32, minlength=size)


def _lookup(members: set[int], size: int) -> np.ndarray:
    """A boolean table over 0..size-1, true at `members`: indexing it tests membership faster than np.isin."""
    table = np.zeros(size, dtype=bool)
    table[list(members)] = True
    return table


def _bounded(value):
    """A literal clamped far beyond any stored number, so scaling it neither overflows nor takes long."""
    return max(-_LITERAL_BOUND, min(_LITERAL_BOUND, value))


