"""The planner: a normalised tree, the index data and an evaluation day → a plan, every choice of access path made.

    text ──▶ tokens ──▶ tree ──▶ checked tree ──▶ normalised tree ──plan──▶ plan ──execute──▶ bitmap

A plan is a tree of frozen dataclasses, valid for one evaluation: one day (dates are day numbers in it) and one
version of the data (it names value codes, time buckets and line slices). `Plan.explain()` prints it, one line per
node: the node's canonical query text and its access path. The executor (`executor.py`) runs it and makes no
choice of its own, so what Explain shows is what runs.

Choices made here: PURCHASES MATCHES is answered from the time views when it has no measure, a day window (no
`date != d`) and at most one dimension with at most 256 matching values; otherwise by one scan of the window's
lines. AND becomes an intersection of its positive operands minus its negated ones, so `a AND NOT b` never builds
the complement of b. A saved segment is read through the per-(segment, day) cache.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

import numpy as np
from pyroaring import BitMap

from bitseg import days
from bitseg.errors import QueryError
from bitseg.index.fields import OPERATORS, Field, NumberField
from bitseg.index.lines import LineStore
from bitseg.index.values import DECIMAL_SCALE
from bitseg.index.views import ANY, TimeViews, cover
from bitseg.query import expressions as ex
from bitseg.query.printer import to_text
from bitseg.schema import FieldType

VIEW_CODES_MAX = 256  # past this many values, one pass over the lines beats a union of views
_LITERAL_BOUND = 1 << 64


class IndexData(Protocol):
    """What planning and execution read of an index (`bitseg.index.core.Index` is one)."""

    @property
    def existence(self) -> BitMap: ...
    @property
    def lines(self) -> LineStore: ...
    @property
    def views(self) -> TimeViews: ...
    @property
    def column_count(self) -> int: ...
    def field(self, name: str) -> Field: ...
    def month_days(self, name: str) -> tuple[np.ndarray, np.ndarray]: ...
    def segment_tree(self, name: str) -> ex.Node: ...
    def cached_segment(self, name: str, as_of: dt.date, compute: Callable[[], BitMap]) -> BitMap: ...
    def list_members(self, name: str) -> BitMap: ...


# ── plan nodes: each a bitmap of customers ────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class PlanNode:
    # The tree node planned, for its canonical text; not part of the plan's identity.
    source: ex.Node | None = field(default=None, compare=False, repr=False, kw_only=True)

    def children(self) -> tuple[PlanNode, ...]:
        """The nodes whose bitmaps this one combines, in the order they run."""
        return ()

    def access(self) -> str:
        """How the bitmap is found, for Explain."""
        raise NotImplementedError

    def text(self) -> str:
        return to_text(self.source) if self.source is not None else ""


@dataclass(frozen=True)
class Existence(PlanNode):
    """Every customer (ALL)."""

    def access(self) -> str:
        return "existence bitmap"


@dataclass(frozen=True)
class FieldRows(PlanNode):
    """Row bitmaps of a keyword, bool or tags field; op is a comparison, 'in', 'between' or 'contains'."""

    field: str
    op: str
    values: tuple[object, ...]

    def access(self) -> str:
        if self.op in ("=", "contains"):
            return "row bitmap"
        if self.op == "in":
            return f"union of {_count(len(set(self.values)), 'row')}"
        return f"union of the rows {self.op} {' and '.join(map(repr, self.values))}"


@dataclass(frozen=True)
class FieldRange(PlanNode):
    """A compare on an int, decimal or date column in stored units (ten-thousandths, day numbers).

    op is a comparison, 'in' or 'between'; `columns` is how many values the compare reads.
    """

    field: str
    op: str
    values: tuple[int | Decimal, ...]
    columns: int

    def access(self) -> str:
        return f"column compare over {self.columns:,} customers"


@dataclass(frozen=True)
class Present(PlanNode):
    """Customers whose field is not NULL."""

    field: str

    def access(self) -> str:
        return "bitmap of set values"


@dataclass(frozen=True)
class Anniversary(PlanNode):
    """Customers whose date field's month * 32 + day is one of `month_days`."""

    field: str
    month_days: tuple[int, ...]

    def access(self) -> str:
        return f"month-day table: {_count(len(self.month_days), 'day')} of the year"


@dataclass(frozen=True)
class Complement(PlanNode):
    """Existence minus the operand."""

    operand: PlanNode

    def children(self) -> tuple[PlanNode, ...]:
        return (self.operand,)

    def access(self) -> str:
        return "existence minus"


@dataclass(frozen=True)
class Union(PlanNode):
    operands: tuple[PlanNode, ...]

    def children(self) -> tuple[PlanNode, ...]:
        return self.operands

    def access(self) -> str:
        return f"union of {len(self.operands)}"


@dataclass(frozen=True)
class Intersect(PlanNode):
    """All operands run; then they are intersected smallest first, stopping as soon as the result is empty.

    (Sizes are known only once run, so the order is decided while running, by this rule.)
    """

    operands: tuple[PlanNode, ...]

    def children(self) -> tuple[PlanNode, ...]:
        return self.operands

    def access(self) -> str:
        return f"intersect {len(self.operands)}, smallest first"


@dataclass(frozen=True)
class Subtract(PlanNode):
    """`base` minus each operand in turn; an operand runs only while the result is not empty."""

    base: PlanNode
    operands: tuple[PlanNode, ...]

    def children(self) -> tuple[PlanNode, ...]:
        return (self.base, *self.operands)

    def access(self) -> str:
        return f"minus {len(self.operands)}"


@dataclass(frozen=True)
class ViewWindow(PlanNode):
    """Customers with a purchase line of `dim` (ANY: any line) having one of `codes`, from time view buckets."""

    dim: str
    codes: tuple[int, ...]
    low_day: int | None  # the clamped window; None when no purchase line falls in it
    high_day: int | None
    buckets: tuple[tuple[str, int], ...]  # ('year' | 'month' | 'day', key), from views.cover

    def access(self) -> str:
        what = "any purchase" if self.dim == ANY else f"{self.dim} {_count(len(self.codes), 'value')}"
        if not self.buckets:
            return f"time views: {what}, no purchase in the window"
        levels = Counter(level for level, _ in self.buckets)
        spread = ", ".join(_count(levels[level], level) for level in ("year", "month", "day") if levels[level])
        return (f"time views: {what}, {_count(len(self.buckets), 'bucket')} ({spread}), "
                f"{_days(self.low_day, self.high_day)}")


@dataclass(frozen=True)
class DimCodes:
    """A line filter: the line's `dim` code is in `codes` (-1 for NULL); the dictionary holds `size` values."""

    dim: str
    codes: frozenset[int]
    size: int


@dataclass(frozen=True)
class DayCompare:
    """A line filter kept when a `date != d` leaves no window: `day op value`."""

    op: str
    day: int


@dataclass(frozen=True)
class MeasureTest:
    """A measure over the matching lines against a threshold in stored units."""

    measure: str
    op: str
    threshold: int | Decimal


@dataclass(frozen=True)
class LineScan(PlanNode):
    """One pass over the lines of `slices`: same-line filters, then the measures per customer (if any)."""

    low_day: int | None
    high_day: int | None
    slices: tuple[tuple[int, int], ...]
    filters: tuple[DimCodes | DayCompare, ...]
    measures: tuple[MeasureTest, ...]

    @property
    def lines(self) -> int:
        return sum(end - start for start, end in self.slices)

    def access(self) -> str:
        return f"scan of {_count(self.lines, 'line')}, {_days(self.low_day, self.high_day)}"


@dataclass(frozen=True)
class CachedSegment(PlanNode):
    """The members of a saved segment on `as_of`, from the segment cache or by running `subplan`.

    The subplan is made when first asked for: a cache hit (most evaluations) needs none, so planning a query
    never walks the saved segments below it. Errors inside a segment (a reference cycle) come when it is made.
    """

    name: str
    as_of: dt.date
    tree: ex.Node  # the segment's normalised tree
    planner: Callable[[ex.Node], PlanNode] = field(compare=False, repr=False)

    @functools.cached_property
    def subplan(self) -> PlanNode:
        return self.planner(self.tree)

    def children(self) -> tuple[PlanNode, ...]:
        return (self.subplan,)

    def access(self) -> str:
        return f"cached segment {self.name!r} as of {self.as_of}, else:"


@dataclass(frozen=True)
class ListMembers(PlanNode):
    name: str

    def access(self) -> str:
        return "static list bitmap"


@dataclass(frozen=True)
class Plan:
    """A plan for one evaluation: the root node, the evaluation day and the query text it came from."""

    root: PlanNode
    as_of: dt.date
    text: str = ""

    def walk(self) -> Iterator[tuple[int, PlanNode]]:
        """(depth, node) for every node, parents first, in the order `explain` prints them."""
        stack = [(0, self.root)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, child) for child in reversed(node.children()))

    def explain(self) -> str:
        """The plan as an indented tree: per node, its canonical text → its access path."""
        out: list[str] = []

        def show(node: PlanNode, depth: int, minus: bool) -> None:
            out.append(f"{'  ' * depth}{'minus ' if minus else ''}{node.text()}  → {node.access()}")
            for child in node.children():
                show(child, depth + 1, isinstance(node, Subtract) and child is not node.base)
        show(self.root, 0, False)
        return "\n".join(out)

    def __str__(self) -> str:
        return self.explain()


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _days(low: int | None, high: int | None) -> str:
    if low is None:
        return "all days" if high is None else f"days up to {days.day_date(high)}"
    return f"days from {days.day_date(low)}" if high is None else f"days {days.day_date(low)} to {days.day_date(high)}"


# ── the planner ───────────────────────────────────────────────────────────────────────────────────────────

def plan(tree: ex.Node, data: IndexData, as_of: dt.date, text: str = "") -> Plan:
    """The plan of a normalised tree on day `as_of`; date, ANNIVERSARY and cycle errors carry their position.

    >>> from bitseg.index.core import Index
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


class _Planner:
    def __init__(self, data: IndexData, as_of: dt.date, text: str, segments: tuple[str, ...] = ()) -> None:
        self.data = data
        self.as_of = as_of
        self.text = text
        self.segments = segments  # the saved segments being planned, outermost first: cycles show up here

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
                return Present(node.operand.field, source=node)
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
            return Complement(Present(node.field, source=ex.Not(node)), source=node)
        if isinstance(node, ex.Anniversary):
            return self.anniversary(node)
        return self.field_predicate(node)

    def conjunction(self, node: ex.And) -> PlanNode:
        positive = [self.node(o) for o in node.operands
                    if not isinstance(o, ex.Not) or isinstance(o.operand, ex.IsNull)]
        negative = tuple(self.node(o.operand) for o in node.operands
                         if isinstance(o, ex.Not) and not isinstance(o.operand, ex.IsNull))
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
        if isinstance(found, NumberField):
            stored = tuple(self.stored(found.kind, v, node) for v in values)
            return FieldRange(name, op, stored, self.data.column_count, source=node)
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
        return Anniversary(node.field, tuple(sorted(wanted)), source=node)

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
        """The day range of the date params, or None when one of them is not a range (`date != d`)."""
        low, high = None, None
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

    def scan(self, node: ex.Matches, window: tuple[int | None, int | None] | None) -> LineScan:
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
        low, high = window or (None, None)
        return LineScan(low, high, tuple(self.data.lines.window(low, high)), tuple(filters), measures, source=node)


def _bounded(value):
    """A literal clamped far beyond any stored number, so scaling it neither overflows nor takes long."""
    return max(-_LITERAL_BOUND, min(_LITERAL_BOUND, value))
