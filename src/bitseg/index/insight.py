"""Segment insight (SPEC §10): explain a plan, why one customer is (not) a member, counts per criterion, overlap.

`Insight` is a part of the Index (mixed in like `Writes`): each method holds the index lock and reads the plan
stage (`planner.py`) and the executor (`executor.py`) the way a count does, so what it reports is what runs.
The per-customer values `why` shows come from `whyvalues.py`; whether a node holds comes from the node's bitmap.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from pyroaring import BitMap

from bitseg.days import day_number
from bitseg.errors import InvalidInputError, NotFoundError
from bitseg.index import plan as p
from bitseg.index import planner
from bitseg.index.bitmaps import columns as bitmap_columns
from bitseg.index.executor import run
from bitseg.index.journal import locked
from bitseg.index.segments import Registry
from bitseg.index.tracking import Tracker
from bitseg.index.translate import Translator
from bitseg.index.whyvalues import PurchaseLine, node_values
from bitseg.query import expressions as ex
from bitseg.query.compiler import Compiler
from bitseg.query.printer import to_text

MAX_OVERLAP = 32
MIN_OVERLAP = 2


@dataclass(frozen=True)
class PlanStep:
    """One node of an explained plan, parents first: its depth, canonical text and access path; with analyze,
    its count and the milliseconds it took (the nodes below it included)."""

    depth: int
    text: str
    access: str
    minus: bool = False          # subtracted from its parent (`a AND NOT b`)
    count: int | None = None
    ms: float | None = None


@dataclass(frozen=True)
class WhyStep:
    """One node of the query for one customer: whether it holds, the customer's values and the lines it picked."""

    depth: int
    text: str
    holds: bool
    minus: bool = False
    values: tuple[str, ...] = ()                 # "orders = 7", "sum_amount 280.00, needs > 300"
    lines: tuple[PurchaseLine, ...] = ()         # up to 20 purchase lines a MATCHES selected


@dataclass(frozen=True)
class Why:
    customer: str
    is_member: bool
    steps: tuple[WhyStep, ...]


@dataclass(frozen=True)
class Criterion:
    """A top-level criterion: its own count, the count of criteria 1..i combined, the query's count without it."""

    text: str
    count: int
    running: int
    without: int


@dataclass(frozen=True)
class CriteriaCounts:
    combinator: str              # "AND" or "OR"
    total: int
    criteria: tuple[Criterion, ...] = field(default=())


@dataclass(frozen=True)
class Overlap:
    sizes: tuple[int, ...]
    matrix: tuple[int, ...]      # N×N intersection counts, row-major


def _steps(root: p.PlanNode) -> list[tuple[int, p.PlanNode, bool]]:
    """(depth, node, minus) for every plan node, parents first, in the order Plan.explain prints them."""
    out: list[tuple[int, p.PlanNode, bool]] = []

    def visit(node: p.PlanNode, depth: int, minus: bool) -> None:
        out.append((depth, node, minus))
        for child in node.children():
            visit(child, depth + 1, isinstance(node, p.Subtract) and child is not node.base)
    visit(root, 0, False)
    return out


@dataclass(frozen=True)
class ChangedDay:
    """One evaluated day of a trigger segment: the external ids that entered and left against the day before."""

    day: dt.date
    entered: list[str]
    left: list[str]


class Insight:
    """Explain, why, criteria and overlap over an Index (this class is a part of it; the Index sets these up)."""

    compiler: Compiler
    translator: Translator
    existence: BitMap
    registry: Registry
    tracker: Tracker

    def as_of(self, as_of: dt.date | str | None) -> dt.date:
        raise NotImplementedError  # the Index's

    def _evaluate(self, query: str | ex.Node, as_of: dt.date | str | None) -> BitMap:
        raise NotImplementedError  # the Index's

    @property
    def _data(self) -> p.IndexData:
        return cast(p.IndexData, self)

    def _plan(self, query: str | ex.Node, as_of: dt.date | str | None) -> p.Plan:
        tree, text = self.compiler.normalized(query)
        return planner.plan(tree, self._data, self.as_of(as_of), text)

    @locked
    def explain(self, query: str | ex.Node, as_of: dt.date | str | None = None,
                analyze: bool = False) -> list[PlanStep]:
        """The plan of `query` as a list of nodes, parents first; with `analyze`, each node run on its own."""
        steps = []
        for depth, node, minus in _steps(self._plan(query, as_of).root):
            count = ms = None
            if analyze:
                start = time.perf_counter()
                found = run(node, self._data)
                ms = (time.perf_counter() - start) * 1000
                count = found.intersection_cardinality(self.existence)
            steps.append(PlanStep(depth, node.text(), node.access(), minus, count, ms))
        return steps

    @locked
    def explain_member(self, customer_id: str, query: str | ex.Node,
                       as_of: dt.date | str | None = None) -> Why:
        """For one customer: member or not, and per plan node whether it holds and the values behind it."""
        column = self.translator.column(customer_id)
        if column is None:
            raise NotFoundError(f"unknown customer {customer_id!r}")
        plan = self._plan(query, as_of)
        steps = []
        for depth, node, minus in _steps(plan.root):
            holds = column in run(node, self._data) and column in self.existence
            values, lines = node_values(node, self._data, column, plan.as_of)
            steps.append(WhyStep(depth, node.text(), holds, minus, values, lines))
        return Why(customer_id, steps[0].holds, tuple(steps))

    @locked
    def count_criteria(self, query: str | ex.Node, as_of: dt.date | str | None = None) -> CriteriaCounts:
        """Per top-level criterion of an AND or OR: own count, running count, count without it.

        Each criterion is evaluated once; the running and without counts combine those bitmaps (prefix and
        suffix combinations), so n criteria cost n evaluations and about 3n bitmap operations.
        """
        tree, _ = self.compiler.checked(query)
        combinator = "OR" if isinstance(tree, ex.Or) else "AND"
        operands = tree.operands if isinstance(tree, ex.And | ex.Or) else (tree,)
        bitmaps = [self._evaluate(operand, as_of) for operand in operands]
        join = (lambda a, b: a | b) if combinator == "OR" else (lambda a, b: a & b)
        empty = BitMap() if combinator == "OR" else self.existence
        prefix, suffix = [empty], [empty]
        for bitmap in bitmaps:
            prefix.append(join(prefix[-1], bitmap))
        for bitmap in reversed(bitmaps):
            suffix.append(join(suffix[-1], bitmap))
        suffix.reverse()  # suffix[i]: criteria i.. combined
        criteria = tuple(Criterion(to_text(operand), len(bitmaps[i]), len(prefix[i + 1]),
                                   len(join(prefix[i], suffix[i + 1])))
                         for i, operand in enumerate(operands))
        return CriteriaCounts(combinator, len(prefix[-1]), criteria)

    @locked
    def overlap(self, selections: Sequence[str | ex.Node], as_of: dt.date | str | None = None) -> Overlap:
        """Sizes and the N×N intersection counts of 2 to 32 selections, all on one state."""
        if not MIN_OVERLAP <= len(selections) <= MAX_OVERLAP:
            raise InvalidInputError(f"overlap takes {MIN_OVERLAP} to {MAX_OVERLAP} selections, "
                                    f"not {len(selections)}")
        bitmaps = [self._evaluate(selection, as_of) for selection in selections]
        matrix = [len(a) if i == j else a.intersection_cardinality(b)
                  for i, a in enumerate(bitmaps) for j, b in enumerate(bitmaps)]
        return Overlap(tuple(map(len, bitmaps)), tuple(matrix))

    @locked
    def changes_by_day(self, segment: str, since: dt.date | None) -> list[ChangedDay]:
        """Each evaluated day of a trigger segment after `since` (None: every kept day), with its changes."""
        kind = self.registry.get(segment).kind
        since_day = None if since is None else day_number(since)
        keys = self.translator.to_keys
        return [ChangedDay(c.day, keys(bitmap_columns(c.entered)).tolist(), keys(bitmap_columns(c.left)).tolist())
                for c in self.tracker.days_after(segment, since_day, kind)]

    def wait_evaluation(self, after: dt.date | None, timeout: float, segment: str | None = None) -> bool:
        """Wait (without the index lock) up to `timeout` seconds for an evaluation of a day after `after` (of
        `segment`, when given: a daily one or the row recorded when it was saved)."""
        return self.tracker.wait(None if after is None else day_number(after), timeout, segment)
