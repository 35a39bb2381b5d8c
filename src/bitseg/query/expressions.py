"""The expression tree of a segment query: frozen dataclasses, compared by structure, not by position.

Negated forms of the language are `Not` nodes around the positive form (`a != v` is `Not(Compare(a, '=', v))`),
except inside `PURCHASES MATCHES (…)`, where each parameter is about one purchase line and keeps its own
operator (`color != 'black'` matches lines whose color is NULL).

>>> tree = Compare("country", "=", "NL") & ~IsNull("email")
>>> tree
And(operands=(Compare(field='country', op='=', value='NL'), Not(operand=IsNull(field='email'))))
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
DATE_UNITS = ("d", "w", "m", "y")


@dataclass(frozen=True)
class RelativeDay:
    """A day relative to the evaluation day: `amount` days, weeks, calendar months or years (`unit` d/w/m/y).

    `today` is RelativeDay(0, "d") and `yesterday` RelativeDay(-1, "d").
    """

    amount: int
    unit: str = "d"


DateValue = dt.date | RelativeDay
Number = int | Decimal
Value = str | int | Decimal | bool | dt.date | RelativeDay


@dataclass(frozen=True)
class Node:
    # Where the node starts in the query text, for error messages; not part of the tree's identity.
    pos: int = field(default=-1, compare=False, repr=False, kw_only=True)

    def __and__(self, other: Node) -> Node:
        return And(_flat(And, (self, other)))

    def __or__(self, other: Node) -> Node:
        return Or(_flat(Or, (self, other)))

    def __invert__(self) -> Node:
        return Not(self)


def _flat(kind: type, nodes: tuple[Node, ...]) -> tuple[Node, ...]:
    out: list[Node] = []
    for node in nodes:
        out.extend(node.operands if isinstance(node, kind) else (node,))  # type: ignore[attr-defined]
    return tuple(out)


# ── customer-level nodes ────────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class All(Node):
    """Every customer of the index."""


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class And(Node):
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Compare(Node):
    """`field op value` with op one of = < <= > >= (`!=` is Not(Compare(=)))."""

    field: str
    op: str
    value: Value


@dataclass(frozen=True)
class Between(Node):
    field: str
    low: Value
    high: Value


@dataclass(frozen=True)
class In(Node):
    field: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class IsNull(Node):
    field: str


@dataclass(frozen=True)
class Contains(Node):
    field: str
    value: str


@dataclass(frozen=True)
class Anniversary(Node):
    """The month and day of `field` fall within [start, end] (at most 366 days, may wrap the year end)."""

    field: str
    start: DateValue
    end: DateValue


@dataclass(frozen=True)
class Bucket(Node):
    """`BUCKET('salt') BETWEEN low AND high` (also `cmp INT`, with op "between" or a comparison): the customer's
    bucket, sha256(f"{salt}:{external_id}")[:8] big-endian mod 10000 (SPEC §10), compared with integers."""

    salt: str
    op: str
    low: int
    high: int | None = None


@dataclass(frozen=True)
class InSegment(Node):
    name: str


@dataclass(frozen=True)
class InList(Node):
    name: str


@dataclass(frozen=True)
class Matches(Node):
    """`PURCHASES MATCHES (params)`: the params in the order written."""

    params: tuple[Param, ...]

    @property
    def line_filters(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if not isinstance(p, MeasureCompare))

    @property
    def measures(self) -> tuple[MeasureCompare, ...]:
        return tuple(p for p in self.params if isinstance(p, MeasureCompare))


# ── MATCHES parameters: each about one purchase line, or a measure over the matching lines ────────────────

@dataclass(frozen=True)
class Param:
    pos: int = field(default=-1, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class DimCompare(Param):
    """`dim op 'value'` on a line; op is any of COMPARISONS, `!=` matching lines where dim is NULL too."""

    dim: str
    op: str
    value: str


@dataclass(frozen=True)
class DimIn(Param):
    dim: str
    values: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class DimIsNull(Param):
    dim: str
    negated: bool = False


@dataclass(frozen=True)
class DateCompare(Param):
    op: str
    value: DateValue


@dataclass(frozen=True)
class DateBetween(Param):
    low: DateValue
    high: DateValue


@dataclass(frozen=True)
class MeasureCompare(Param):
    """`measure op number` with measure one of count, sum_amount, sum_quantity, days."""

    measure: str
    op: str
    value: Number


def walk(node: Node):
    """Yield `node` and every customer-level node below it, parents first."""
    yield node
    if isinstance(node, Not):
        yield from walk(node.operand)
    elif isinstance(node, And | Or):
        for operand in node.operands:
            yield from walk(operand)
