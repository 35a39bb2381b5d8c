"""Plans: what the planner (`planner.py`) decides and the executor (`executor.py`) runs, as frozen dataclasses.

A plan is valid for one evaluation: one day (dates are day numbers in it) and one version of the data (it names
value codes, time buckets and line slices). Each node is a bitmap of customers with its access path chosen;
`children()` walks the tree (Explain --analyze can time each node), and `Plan.explain()` prints it, one line per
node: the node's canonical query text → its access path. The executor makes no choice of its own, so what
Explain shows is what runs.
"""

from __future__ import annotations

import dataclasses
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
from bitseg.index.fields import Field
from bitseg.index.lines import LineStore
from bitseg.index.plan_lines import DayCompare as DayCompare
from bitseg.index.plan_lines import DimCodes as DimCodes
from bitseg.index.plan_lines import LineBitmaps as LineBitmaps
from bitseg.index.plan_lines import LineScan as LineScan
from bitseg.index.plan_lines import MeasureTest as MeasureTest
from bitseg.index.plan_lines import MonthRollup as MonthRollup
from bitseg.index.plannode import PlanNode as PlanNode
from bitseg.index.plannode import counted as _count
from bitseg.index.plannode import day_span as _days
from bitseg.index.views import ANY, TimeViews
from bitseg.query import expressions as ex


class IndexData(Protocol):
    """What planning and execution read of an index (`bitseg.index.index.Index` is one)."""

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
    def cached_bitmap(self, name: str, as_of: dt.date) -> BitMap | None: ...
    def list_members(self, name: str) -> BitMap: ...
    def bucket_values(self, salt: str) -> np.ndarray: ...


# ── plan nodes: each a bitmap of customers ────────────────────────────────────────────────────────────────

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
    """A compare on an int, decimal or date field in stored units (ten-thousandths, day numbers).

    op is a comparison, 'in' or 'between'. Answered by the field's bit-sliced index, which has `slices`
    magnitude bit slices; or, when `slices` is None (a long IN list), by one pass over the `columns` values.
    """

    field: str
    op: str
    values: tuple[int | Decimal, ...]
    columns: int
    slices: int | None = None
    # about how many customers it selects (orders the compares of an AND); not part of the plan's identity
    estimate: int | None = dataclasses.field(default=None, compare=False)

    def access(self) -> str:
        if self.slices is None:
            return f"column compare over {self.columns:,} customers"
        walks = f", {_count(len(set(self.values)), 'value')}" if self.op == "in" else ""
        about = f", ~{_count(self.estimate, 'customer')}" if self.estimate is not None else ""
        return f"range index: {_count(self.slices, 'bit slice')}{walks}{about}"

    def cost(self) -> int:
        return self.columns


@dataclass(frozen=True)
class BuiltinAsOf(PlanNode):
    """A predicate on a built-in field on a day before the last line day: computed from the lines up to `day`.

    op is a comparison, 'in', 'between', 'present' (IS NOT NULL) or 'anniversary' (values: month * 32 + day);
    values are in stored units. `lines` is how many lines are read.
    """

    field: str
    op: str
    values: tuple[int | Decimal, ...]
    day: int
    lines: int

    def access(self) -> str:
        return f"{self.field} as of {days.day_date(self.day)}, from the {_count(self.lines, 'line')} up to it"


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
class BucketRange(PlanNode):
    """Customers whose bucket under `salt` lies in [low, high] (empty when low > high)."""

    salt: str
    low: int
    high: int

    def access(self) -> str:
        return f"bucket table of salt {self.salt!r}, buckets {self.low} to {self.high}"


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
    """The operands other than range-index compares run; they are intersected smallest first, stopping as soon
    as the result is empty; then the range-index compares (`FieldRange` with an estimate) walk, in the order
    given (the planner sorts them by estimate), each only within the result so far, which it becomes.

    (Other sizes are known only once run, so their order is decided while running, by this rule.)
    """

    operands: tuple[PlanNode, ...]

    def children(self) -> tuple[PlanNode, ...]:
        return self.operands

    def access(self) -> str:
        walked = sum(isinstance(o, FieldRange) and o.estimate is not None for o in self.operands)
        within = f", then {walked} range walks within the result, smallest estimate first" if walked > 1 else ""
        return f"intersect {len(self.operands)}, smallest first{within}"


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

    def cost(self) -> int:
        return 1 + len(self.buckets) * len(self.codes)


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

    def cost(self) -> int:
        """The estimated work of the plan; a saved segment counts as a cache hit (a miss runs under the budget);
        scans of the same lines and measures count once (the executor shares them, `sharing.py`)."""
        total, stack, scans = 0, [self.root], set()
        while stack:
            node = stack.pop()
            scan = (node.slices, node.filters, tuple(sorted({m.measure for m in node.measures}))) if isinstance(
                node, LineScan | LineBitmaps) else None
            total += 1 if scan is not None and scan in scans else node.cost()
            scans.add(scan)
            if not isinstance(node, CachedSegment):  # its subplan is made only when the cache misses
                stack.extend(node.children())
        return total

    def explain(self) -> str:
        """The plan as an indented tree: per node, its canonical text → its access path."""
        out: list[str] = []

        def show(node: PlanNode, depth: int, minus: bool) -> None:
            out.append(f"{'  ' * depth}{'minus ' if minus else ''}{node.text()}  → {node.access()}")
            for child in node.children():
                show(child, depth + 1, isinstance(node, Subtract) and child is not node.base)
        show(self.root, 0, False)
        return "\n".join(out)

    __str__ = explain
