"""The planner: a normalised tree, the index data and an evaluation day → a plan (`plan.py`), every choice made.

Choices made here: PURCHASES MATCHES is answered from the time views when it has no measure, a day window (no
`date != d`) and at most one dimension with at most 256 matching values; otherwise from month roll-ups
(`rollups.py`) when its measures are sums (or it has none and two dimensions), it filters at most two dimensions
and the months its window covers whole hold at least half the window's lines (the edge days then come from line
bitmaps); otherwise from line bitmaps (`postings.py`) when its narrowest dimension filter keeps at most half of
the window's lines, else by one scan of the window's lines. The number compares of an AND walk their range
indexes last, smallest sampled estimate first, each within the result so far. No window reaches past the
evaluation day D, and on a D before the last line day a built-in predicate is computed from the lines up to D
(`asof.py`) instead of read from the kept built-ins. AND becomes an intersection of its positive operands minus
its negated ones, so `a AND NOT b` never builds the complement of b; `f IS NOT NULL` is the field's bitmap of set
values. A compare on a number field walks its bit-sliced index (an IN list of more than RANGE_IN_MAX values reads
the column once instead). A saved segment is read through the per-(segment, day) cache. Dates become day numbers; a date out of range, a bad ANNIVERSARY range and a segment
reference cycle are query errors with their position.
"""

from __future__ import annotations

import datetime as dt
import functools
import typing
from decimal import Decimal

from bitseg import days
from bitseg.errors import QueryError
from bitseg.index import postings, rollups
from bitseg.index.buckets import BUCKETS
from bitseg.index.fields import OPERATORS, NumberField
from bitseg.index.plan import (
    Anniversary,
    BucketRange,
    BuiltinAsOf,
    CachedSegment,
    Complement,
    DayCompare,
    DimCodes,
    Existence,
    FieldRange,
    FieldRows,
    IndexData,
    Intersect,
    LineBitmaps,
    LineScan,
    ListMembers,
    MeasureTest,
    MonthRollup,
    Plan,
    PlanNode,
    Present,
    Subtract,
    Union,
    ViewWindow,
)
from bitseg.index.plannode import line_count
from bitseg.index.values import DECIMAL_SCALE
from bitseg.index.views import ANY, cover
from bitseg.query import expressions as ex
from bitseg.schema import FieldType
from bitseg.vocabulary import BUILTIN_FIELDS

RANGE_IN_MAX = 16  # IN lists on a number field up to this long walk the bit-sliced index once per value
VIEW_CODES_MAX = 256  # past this many values, one pass over the lines beats a union of views
ROLLUP_EDGE_SHARE = 0.5  # month roll-ups answer a window when its edge days hold at most this share of its lines
_LITERAL_BOUND = 1 << 64


def plan(tree: ex.Node, data: IndexData, as_of: dt.date, text: str = "") -> Plan:
    """The plan of a normalised tree on day `as_of`; date, ANNIVERSARY and cycle errors carry their position.

    >>> from bitseg import Index
    >>> from bitseg.query.parser import parse
    >>> idx = Index.from_toml('[profile]\\nvip = "bool"\\n[purchase]\\nbrand = "keyword"')
    >>> idx.add_purchases([{"customer": "c1", "time": "2026-01-05", "amount": "5", "brand": "x"}])
    1
    >>> print(plan(parse("vip = true AND NOT purchases MATCHES (brand = 'x', date >= -30d)"), idx,
    ...            dt.date(2026, 1, 31)))
    vip = TRUE AND PURCHASES NOT MATCHES (brand = 'x', date >= -30d)  → minus 1
      vip = TRUE  → row bitmap
      minus PURCHASES MATCHES (brand = 'x', date >= -30d)  → time views: brand 1 value, 1 bucket (1 day), days 2026-01-05 to 2026-01-05
    """
    return Plan(_Planner(data, as_of, text).node(tree), as_of, text)


def line_scan(node: ex.Matches, data: IndexData, as_of: dt.date) -> LineScan:
    """The one-pass scan answering a MATCHES (what `why` reads a customer's lines with, views or not)."""
    planner = _Planner(data, as_of, "")
    return planner.scan(node, planner.window(node), bitmaps=False)


class _Planner:
    def __init__(self, data: IndexData, as_of: dt.date, text: str, segments: tuple[str, ...] = ()) -> None:
        self.data = data
        self.as_of = as_of
        self.text = text
        self.segments = segments  # the saved segments being planned, outermost first: cycles show up here
        self.today = days.day_number(as_of)  # D: no line after it counts (SPEC §2 "As of D")

    @functools.cached_property
    def past(self) -> bool:
        """Whether lines after D exist, so the kept built-ins (which count every line) cannot answer."""
        last = self.data.lines.last_day()
        return last is not None and self.today < last

    def as_of_builtin(self, name: str, op: str, values: tuple, node: ex.Node) -> PlanNode | None:
        """The built-in predicate computed from the lines up to D, when D is before the last line day."""
        return self.from_lines(name, op, values, node) if name in BUILTIN_FIELDS and self.past else None

    def from_lines(self, name: str, op: str, values: tuple, node: ex.Node) -> BuiltinAsOf:
        lines = line_count(self.data.lines.window(None, self.today))
        return BuiltinAsOf(name, op, values, self.today, lines, source=node)

    def error(self, message: str, node: ex.Node | ex.Param) -> QueryError:
        return QueryError(message, text=self.text, offset=node.pos if node.pos >= 0 else None)

    def day(self, value: ex.DateValue, node: ex.Node | ex.Param) -> int:
        try:
            return days.day_number(days.resolve(value, self.as_of))  # type: ignore[arg-type]
        except (OverflowError, ValueError):
            raise self.error(f"date {value!r} is out of range", node) from None

    def node(self, node: ex.Node) -> PlanNode:
        if isinstance(node, ex.And):
            return self.conjunction(node)
        if isinstance(node, ex.Or):
            return Union(tuple(self.node(o) for o in node.operands), source=node)
        if isinstance(node, ex.Not):
            if isinstance(node.operand, ex.IsNull):  # `f IS NOT NULL`: the field's own bitmap, no complement
                return self.present(node.operand.field, node)
            return Complement(self.node(node.operand), source=node)
        if isinstance(node, ex.All):
            return Existence(source=node)
        if isinstance(node, ex.Matches):
            return self.matches(node)
        if isinstance(node, ex.InSegment):
            return self.segment(node)
        if isinstance(node, ex.InList):
            self.data.list_members(node.name)  # an unknown list is an error whether or not the list runs
            return ListMembers(node.name, source=node)
        if isinstance(node, ex.IsNull):
            return Complement(self.present(node.field, ex.Not(node)), source=node)
        if isinstance(node, ex.Anniversary):
            return self.anniversary(node)
        if isinstance(node, ex.Bucket):
            return BucketRange(node.salt, *bucket_bounds(node), source=node)
        return self.field_predicate(node)

    def present(self, name: str, node: ex.Node) -> PlanNode:
        return self.as_of_builtin(name, "present", (), node) or Present(name, source=node)

    def conjunction(self, node: ex.And) -> PlanNode:
        positive = [self.node(o) for o in node.operands
                    if not isinstance(o, ex.Not) or isinstance(o.operand, ex.IsNull)]
        negative = tuple(self.node(o.operand) for o in node.operands
                         if isinstance(o, ex.Not) and not isinstance(o.operand, ex.IsNull))
        positive = _walks_last(positive)
        if not negative:
            return Intersect(tuple(positive), source=node)
        if not positive:
            base: PlanNode = Existence(source=ex.All())
        elif len(positive) == 1:
            base = positive[0]
        else:
            base = Intersect(tuple(positive), source=ex.And(tuple(p.source for p in positive)))  # type: ignore[misc]
        return Subtract(base, negative, source=node)

    # ── customer fields ──
    def field_predicate(self, node: ex.Node) -> PlanNode:
        name: str = node.field  # type: ignore[attr-defined]
        found = self.data.field(name)
        if isinstance(node, ex.Contains):
            return FieldRows(name, "contains", (node.value,), source=node)
        values: tuple[ex.Value, ...]
        if isinstance(node, ex.Compare):
            op, values = node.op, (node.value,)
        elif isinstance(node, ex.Between):
            op, values = "between", (node.low, node.high)
        elif isinstance(node, ex.In):
            op, values = "in", node.values
        else:
            raise TypeError(f"not a query node: {node!r}")
        if name in BUILTIN_FIELDS and self.past:
            stored = tuple(self.stored(BUILTIN_FIELDS[name], v, node) for v in values)
            return self.from_lines(name, op, stored, node)
        if isinstance(found, NumberField):
            stored = tuple(self.stored(found.kind, v, node) for v in values)
            # an IN list walks the index once per value: past RANGE_IN_MAX values one pass over the column is cheaper
            slices = found.index.depth if op != "in" or len(set(stored)) <= RANGE_IN_MAX else None
            estimate = found.estimate(op, stored) if slices is not None else None
            return FieldRange(name, op, stored, self.data.column_count, slices, estimate, source=node)
        return FieldRows(name, op, values, source=node)

    def stored(self, kind: FieldType, value: object, node: ex.Node) -> int | Decimal:
        """A literal in the field's stored units (days, ten-thousandths), possibly fractional."""
        if kind is FieldType.DATE:
            return self.day(value, node)  # type: ignore[arg-type]
        if kind is FieldType.DECIMAL:
            return _bounded(Decimal(value)) * DECIMAL_SCALE  # type: ignore[arg-type]
        return _bounded(value)  # type: ignore[arg-type]

    def anniversary(self, node: ex.Anniversary) -> PlanNode:
        start, end = (days.day_date(self.day(v, node)) for v in (node.start, node.end))
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
        month_days = tuple(sorted(wanted))
        return (self.as_of_builtin(node.field, "anniversary", month_days, node)
                or Anniversary(node.field, month_days, source=node))

    # ── references ──
    def segment(self, node: ex.InSegment) -> PlanNode:
        if node.name in self.segments:
            chain = " → ".join([*self.segments, node.name])
            raise self.error(f"segment reference cycle: {chain}", node)
        inner = _Planner(self.data, self.as_of, self.text, (*self.segments, node.name))
        return CachedSegment(node.name, self.as_of, self.data.segment_tree(node.name), inner.node, source=node)

    # ── purchases ──
    def matches(self, node: ex.Matches) -> PlanNode:
        window = self.window(node)
        dims = [p for p in node.params if isinstance(p, ex.DimCompare | ex.DimIn | ex.DimIsNull)]
        if not node.measures and window is not None and len({p.dim for p in dims}) <= 1:
            codes = set.intersection(*(self.codes(p) for p in dims)) if dims else {0}  # ANY has one value, 0
            if len(codes) <= VIEW_CODES_MAX:
                clamped = self.data.views.clamp(*window)
                low, high = clamped or (None, None)
                return ViewWindow(dims[0].dim if dims else ANY, tuple(sorted(codes)), low, high,
                                  tuple(cover(*clamped)) if clamped else (), source=node)
        return self.scan(node, window)

    def window(self, node: ex.Matches) -> tuple[int | None, int | None] | None:
        """The day range of the date params, never past D; None when one of them is not a range (`date != d`)."""
        low, high = None, self.today
        for param in node.params:
            if isinstance(param, ex.DateBetween):
                bounds = [(">=", param.low), ("<=", param.high)]
            elif isinstance(param, ex.DateCompare):
                bounds = [(param.op, param.value)]
            else:
                continue
            for op, value in bounds:
                day = self.day(value, param)
                if op == "!=":
                    return None
                if op in ("=", ">=", ">"):
                    start = day + (op == ">")
                    low = start if low is None else max(low, start)
                if op in ("=", "<=", "<"):
                    stop = day - (op == "<")
                    high = stop if high is None else min(high, stop)
        return low, high

    def codes(self, param: ex.DimCompare | ex.DimIn | ex.DimIsNull) -> set[int]:
        """The value codes (-1 for NULL) of the dimension that a line must have to satisfy `param`."""
        dictionary = self.data.lines.dictionaries[param.dim]
        every = set(range(len(dictionary))) | {-1}
        if isinstance(param, ex.DimIsNull):
            return every - {-1} if param.negated else {-1}
        if isinstance(param, ex.DimIn):
            chosen = {c for c in map(dictionary.code, param.values) if c is not None}
            return every - chosen if param.negated else chosen
        if param.op in ("=", "!="):
            code = dictionary.code(param.value)
            chosen = set() if code is None else {code}
            return every - chosen if param.op == "!=" else chosen
        test = OPERATORS[param.op]
        return {code for code, value in enumerate(dictionary.values) if test(value, param.value)}

    @typing.overload
    def scan(self, node: ex.Matches, window: tuple[int | None, int | None] | None, *,
             bitmaps: typing.Literal[False]) -> LineScan: ...
    @typing.overload
    def scan(self, node: ex.Matches, window: tuple[int | None, int | None] | None,
             *, bitmaps: bool = True) -> LineScan | LineBitmaps | MonthRollup: ...

    def scan(self, node: ex.Matches, window: tuple[int | None, int | None] | None, *,
             bitmaps: bool = True) -> LineScan | LineBitmaps | MonthRollup:
        filters: list[DimCodes | DayCompare] = []
        for param in node.line_filters:
            if isinstance(param, ex.DimCompare | ex.DimIn | ex.DimIsNull):
                filters.append(DimCodes(param.dim, frozenset(self.codes(param)),
                                        len(self.data.lines.dictionaries[param.dim])))
            elif window is None:  # a `date != d`: the window could not narrow the lines
                bounds = ([(">=", param.low), ("<=", param.high)] if isinstance(param, ex.DateBetween)
                          else [(param.op, param.value)])  # type: ignore[attr-defined]
                filters.extend(DayCompare(op, self.day(value, param)) for op, value in bounds)
        measures = tuple(
            MeasureTest(m.measure, m.op,
                        _bounded(Decimal(m.value)) * (DECIMAL_SCALE if m.measure == "sum_amount" else 1))
            for m in node.measures)
        low, high = window or (None, self.today)
        slices = tuple(self.data.lines.window(low, high))
        dims = [f for f in filters if isinstance(f, DimCodes)]
        if bitmaps and len(dims) == len(filters):
            rolled = self.rollup(node, low, high, slices, tuple(dims), measures)
            if rolled is not None:
                return rolled
        if bitmaps and dims and len(dims) == len(filters):
            # line bitmaps read only the lines every filter lets through (each at random, ~2× a scanned line):
            # they win while the narrowest filter keeps at most half of the window
            estimate = min(postings.count(self.data.lines, (f.dim, f.codes, f.size), slices) for f in dims)
            if 2 * estimate <= line_count(slices):
                return LineBitmaps(low, high, slices, tuple(dims), measures, estimate, source=node)
        return LineScan(low, high, slices, tuple(filters), measures, source=node)

    def rollup(self, node: ex.Matches, low: int | None, high: int | None, slices: tuple[tuple[int, int], ...],
               filters: tuple[DimCodes, ...], measures: tuple[MeasureTest, ...]) -> MonthRollup | None:
        """Month roll-ups for the months the window covers whole, when they hold at least half its lines."""
        codes: dict[str, frozenset[int]] = {}
        for f in filters:
            codes[f.dim] = codes[f.dim] & f.codes if f.dim in codes else f.codes
        if not measures and len(codes) <= 1:  # the time views answer, or a scan when there are too many values
            return None
        if (len(codes) > rollups.MAX_DIMS or any(m.measure not in rollups.SUMMED for m in measures)
                or any(f.size > rollups.MAX_CODES for f in filters)):
            return None
        last_day = self.data.lines.last_day()
        if last_day is None or high is None:
            return None
        first, last = rollups.month_of(low if low is not None else high), rollups.month_of(high)
        if low is not None and rollups.month_bounds(first)[0] < low:
            first += 1  # the month of `low` is not whole
        if high < last_day and rollups.month_bounds(last)[1] > high:
            last -= 1  # nor that of `high`, when lines after it exist
        if low is None:
            first = -rollups.MONTH_OFFSET
        if first > last:
            return None
        edges = ((low, rollups.month_bounds(first)[0] - 1) if low is not None else None,
                 (rollups.month_bounds(last)[1] + 1, high))
        edge_slices = tuple(s for edge in edges if edge is not None and edge[0] <= edge[1]
                            for s in self.data.lines.window(*edge))
        if line_count(edge_slices) > ROLLUP_EDGE_SHARE * line_count(slices):
            return None
        dims = tuple(sorted(codes))
        return MonthRollup(low, high, dims, tuple(codes[d] for d in dims), first, last, edge_slices, filters,
                           measures, source=node)


def _walks_last(nodes: list[PlanNode]) -> list[PlanNode]:
    """The operands of an AND with its range-index compares last, smallest estimate first (the executor walks
    them in this order, each within the result so far)."""
    walks = [n for n in nodes if isinstance(n, FieldRange) and n.estimate is not None]
    rest = [n for n in nodes if not any(n is w for w in walks)]
    return rest + sorted(walks, key=lambda n: n.estimate or 0)  # type: ignore


def bucket_bounds(node: ex.Bucket) -> tuple[int, int]:
    """The inclusive bucket range of a BUCKET node, clamped to 0..9999 (low > high: nobody).

    >>> bucket_bounds(ex.Bucket("s", "<", 1000)), bucket_bounds(ex.Bucket("s", "between", 5, 2))
    ((0, 999), (5, 2))
    """
    value, top = node.low, BUCKETS - 1
    low, high = {"<": (0, value - 1), "<=": (0, value), ">": (value + 1, top), ">=": (value, top),
                 "=": (value, value)}.get(node.op, (value, node.high if node.high is not None else value))
    return max(low, 0), min(high, top)


def _bounded(value):
    """A literal clamped far beyond any stored number, so scaling it neither overflows nor takes long."""
    return max(-_LITERAL_BOUND, min(_LITERAL_BOUND, value))
