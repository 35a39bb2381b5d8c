"""A slow, obvious evaluator of segment queries over plain Python rows and sets: the engine's independent oracle.

It reads SPEC §1–§4 literally and shares nothing with the engine but the expression tree and the schema types:
no bitmaps, no time buckets, no rewrites. "As of D" (SPEC §2) is read the same way: on day D every line dated
after D is skipped, by PURCHASES MATCHES and by the built-ins alike (`value(..., as_of)` filters the customer's
lines itself; nothing is asked of the engine), while profile fields are read as they are now.
Every customer is checked one by one, every purchase line is looked at for every MATCHES. It is meant to be easy to check by reading, not to be fast.

Data is given as the engine receives it, but already typed:

- profile rows: ``{"customer": "c1", "gender": "f", "tags": ("a", "b"), "birth_date": date(...), ...}``;
  a field absent from a row is untouched, ``None`` (or ``""``, or an empty tags value) clears it;
- purchase lines: ``{"customer": "c1", "day": date(...), "amount": Decimal("12.50"), "quantity": 1,
  "order": "o1" or None, "<dimension>": "value" or None, ...}``.

>>> from datetime import date
>>> from decimal import Decimal
>>> from bitseg.query.expressions import Compare, Matches, MeasureCompare, Not
>>> from bitseg.schema import Schema
>>> schema = Schema.from_toml('[profile]\\ncountry = "keyword"\\n[purchase]\\nbrand = "keyword"')
>>> world = Oracle(schema)
>>> world.upsert_profiles([{"customer": "a", "country": "NL"}, {"customer": "b"}])
>>> world.add_purchases([{"customer": "c", "day": date(2026, 3, 1), "amount": Decimal("5"), "quantity": 1}])
>>> sorted(world.members(Not(Compare("country", "=", "NL")), as_of=date(2026, 3, 31)))
['b', 'c']
>>> sorted(world.members(Matches((MeasureCompare("sum_amount", "<", 1),)), as_of=date(2026, 3, 31)))
['a', 'b']
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from bitseg.query.expressions import (
    All,
    And,
    Anniversary,
    Between,
    Bucket,
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
    MeasureCompare,
    Node,
    Not,
    Or,
    RelativeDay,
)
from bitseg.schema import FieldType, Schema

BUILTINS = {
    "orders": FieldType.INT,
    "clv": FieldType.DECIMAL,
    "first_purchase_date": FieldType.DATE,
    "last_purchase_date": FieldType.DATE,
}


class OracleError(Exception):
    """A tree the oracle refuses: wrong value type, unknown name, reference cycle, or a case the SPEC leaves open."""


# ── days ──────────────────────────────────────────────────────────────────────────────────────────────────

def add_months(day: dt.date, months: int) -> dt.date:
    """Move `day` by calendar months, clamping the day to the month's end.

    >>> add_months(dt.date(2026, 3, 31), -1), add_months(dt.date(2024, 2, 29), 12), add_months(dt.date(2025, 12, 31), 2)
    (datetime.date(2026, 2, 28), datetime.date(2025, 2, 28), datetime.date(2026, 2, 28))
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def resolve(value: object, as_of: dt.date) -> dt.date:
    """The day a date literal stands for when evaluated on `as_of`.

    >>> D = dt.date(2026, 3, 31)
    >>> [resolve(RelativeDay(n, u), D).isoformat() for n, u in [(0, "d"), (-1, "d"), (-2, "w"), (-1, "m"), (1, "y")]]
    ['2026-03-31', '2026-03-30', '2026-03-17', '2026-02-28', '2027-03-31']
    """
    if isinstance(value, RelativeDay):
        if value.unit == "d":
            return as_of + dt.timedelta(days=value.amount)
        if value.unit == "w":
            return as_of + dt.timedelta(days=7 * value.amount)
        if value.unit == "m":
            return add_months(as_of, value.amount)
        if value.unit == "y":
            return add_months(as_of, 12 * value.amount)
        raise OracleError(f"unknown date unit {value.unit!r}")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise OracleError(f"not a date: {value!r}")


def days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def anniversary_month_days(start: dt.date, end: dt.date) -> set[tuple[int, int]]:
    """The (month, day) pairs whose anniversary falls on a day of [start, end]; Feb 29 is Feb 28 in common years.

    >>> sorted(anniversary_month_days(dt.date(2026, 2, 27), dt.date(2026, 3, 1)))
    [(2, 27), (2, 28), (2, 29), (3, 1)]
    >>> sorted(anniversary_month_days(dt.date(2028, 2, 28), dt.date(2028, 2, 28)))
    [(2, 28)]
    """
    if end < start:
        raise OracleError(f"ANNIVERSARY window ends before it starts: {start} > {end}")
    if (end - start).days + 1 > 366:
        raise OracleError(f"ANNIVERSARY window longer than 366 days: {start} .. {end}")
    pairs: set[tuple[int, int]] = set()
    for day in days(start, end):
        pairs.add((day.month, day.day))
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            pairs.add((2, 29))
    return pairs


# ── comparisons ───────────────────────────────────────────────────────────────────────────────────────────

def compare(left: object, op: str, right: object) -> bool:
    """`left op right` on two non-NULL values of one type."""
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right  # type: ignore[operator]
    if op == "<=":
        return left <= right  # type: ignore[operator]
    if op == ">":
        return left > right  # type: ignore[operator]
    if op == ">=":
        return left >= right  # type: ignore[operator]
    raise OracleError(f"unknown comparison {op!r}")


def spec_bucket(salt: str, external_id: str) -> int:
    """SPEC §10, literally: a customer's bucket under a salt."""
    return int.from_bytes(hashlib.sha256(f"{salt}:{external_id}".encode()).digest()[:8], "big") % 10000


def is_number(value: object) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


# ── the data ──────────────────────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class Line:
    customer: str
    day: dt.date
    amount: Decimal
    quantity: int
    order: str | None
    dims: Mapping[str, str | None]

    @property
    def is_purchase(self) -> bool:
        return self.quantity > 0

    @property
    def order_key(self) -> tuple:
        # A missing order is the customer's purchases of that day (SPEC §1).
        return ("order", self.order) if self.order is not None else ("day", self.customer, self.day)


@dataclass
class Stats:
    customers: int
    orders: int
    revenue: Decimal
    average_order_value: Decimal | None
    average_clv: Decimal | None
    presence_shares: dict[str, float | None]


@dataclass
class Oracle:
    """One customer universe held as plain dicts, lists and sets."""

    schema: Schema
    customers: dict[str, None] = field(default_factory=dict)  # insertion-ordered set of external ids
    profiles: dict[str, dict[str, object]] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)
    segments: dict[str, Node] = field(default_factory=dict)
    lists: dict[str, set[str]] = field(default_factory=dict)
    _by_customer: dict[str, list[Line]] | None = field(default=None, repr=False)

    # ── changes ──

    def upsert_profiles(self, rows: Iterable[Mapping[str, object]]) -> None:
        for row in rows:
            customer = str(row["customer"])
            self.customers.setdefault(customer, None)
            profile = self.profiles.setdefault(customer, {})
            for name, value in row.items():
                if name == "customer":
                    continue
                if name not in self.schema.profile:
                    raise OracleError(f"unknown profile field {name!r}")
                profile[name] = self._profile_value(name, value)

    def _profile_value(self, name: str, value: object) -> object:
        kind = self.schema.profile[name]
        if value is None or value == "":
            return None
        if kind is FieldType.TAGS:
            tags = frozenset(value.split("|") if isinstance(value, str) else value)  # type: ignore[union-attr]
            tags = frozenset(tag for tag in tags if tag != "")
            return tags or None  # no tag at all is NULL: the customer is in no tag's row
        if kind is FieldType.PRESENCE:
            return True
        return value

    def add_purchases(self, rows: Iterable[Mapping[str, object]]) -> None:
        for row in rows:
            customer = str(row["customer"])
            self.customers.setdefault(customer, None)
            self._by_customer = None
            quantity = int(row.get("quantity", 1))  # type: ignore[arg-type]
            if quantity == 0:
                raise OracleError("a purchase line's quantity must not be 0")
            self.lines.append(Line(
                customer=customer,
                day=row["day"],  # type: ignore[arg-type]
                amount=Decimal(row["amount"]),  # type: ignore[arg-type]
                quantity=quantity,
                order=row.get("order"),  # type: ignore[arg-type]
                dims={dim: row.get(dim) or None for dim in self.schema.dimensions},  # an empty cell is NULL
            ))

    def delete_customers(self, ids: Iterable[str]) -> None:
        gone = set(ids)
        for customer in gone:
            self.customers.pop(customer, None)
            self.profiles.pop(customer, None)
        self.lines = [line for line in self.lines if line.customer not in gone]
        self._by_customer = None
        for members in self.lists.values():
            members -= gone

    def update_list(self, name: str, add: Iterable[str] = (), remove: Iterable[str] = (),
                    replace: Iterable[str] | None = None) -> None:
        """Change a static list; an unknown customer added is created with an empty profile (as the engine does)."""
        members = self.lists.setdefault(name, set())
        added = [str(c) for c in (*(replace or ()), *add)]
        if replace is not None:
            members.clear()
        for customer in added:
            self.customers.setdefault(customer, None)
        members.update(added)
        members.difference_update(str(c) for c in remove)

    def save_segment(self, name: str, tree: Node) -> None:
        self.segments[name] = tree

    # ── per-customer values ──

    def lines_of(self, customer: str) -> list[Line]:
        if self._by_customer is None:  # a plain cache: the lines grouped by customer, dropped on every change
            self._by_customer = {}
            for line in self.lines:
                self._by_customer.setdefault(line.customer, []).append(line)
        return self._by_customer.get(customer, [])

    def value(self, customer: str, name: str, as_of: dt.date | None = None) -> object:
        """The customer's value of a profile or built-in field on day `as_of` (None: over every line); None is NULL.

        Profiles keep no history; the built-ins are those of the lines dated up to `as_of` (SPEC §2).
        """
        if name in self.schema.profile:
            return self.profiles.get(customer, {}).get(name)
        lines = [line for line in self.lines_of(customer) if as_of is None or line.day <= as_of]
        purchases = [line for line in lines if line.is_purchase]
        if name == "orders":
            return len({line.order_key for line in purchases})
        if name == "clv":
            return sum((line.amount for line in lines), Decimal(0))
        if name == "first_purchase_date":
            return min((line.day for line in purchases), default=None)
        if name == "last_purchase_date":
            return max((line.day for line in purchases), default=None)
        raise OracleError(f"unknown field {name!r}")

    def field_type(self, name: str) -> FieldType:
        kind = self.schema.profile.get(name) or BUILTINS.get(name)
        if kind is None:
            raise OracleError(f"unknown field {name!r}")
        return kind

    # ── queries ──

    def members(self, tree: Node, as_of: dt.date) -> set[str]:
        """The external ids of the customers matching `tree` on day `as_of`."""
        return self._eval(tree, as_of, ())

    def count(self, tree: Node, as_of: dt.date) -> int:
        return len(self.members(tree, as_of))

    def _eval(self, node: Node, as_of: dt.date, stack: tuple[str, ...]) -> set[str]:
        everyone = set(self.customers)
        if isinstance(node, All):
            return everyone
        if isinstance(node, Not):
            return everyone - self._eval(node.operand, as_of, stack)
        if isinstance(node, And):
            result = everyone
            for operand in node.operands:
                result = result & self._eval(operand, as_of, stack)
            return result
        if isinstance(node, Or):
            result = set()
            for operand in node.operands:
                result = result | self._eval(operand, as_of, stack)
            return result
        if isinstance(node, InSegment):
            if node.name in stack:
                raise OracleError(f"segment reference cycle: {' -> '.join(stack + (node.name,))}")
            if node.name not in self.segments:
                raise OracleError(f"unknown segment {node.name!r}")
            return self._eval(self.segments[node.name], as_of, stack + (node.name,))
        if isinstance(node, InList):
            if node.name not in self.lists:
                raise OracleError(f"unknown list {node.name!r}")
            return self.lists[node.name] & everyone
        if isinstance(node, Matches):
            return {customer for customer in everyone if self._matches(customer, node, as_of)}
        if isinstance(node, Bucket):
            def inside(bucket: int) -> bool:
                if node.op == "between":
                    return node.low <= bucket <= node.high  # type: ignore[operator]
                return compare(bucket, node.op, node.low)
            return {customer for customer in everyone if inside(spec_bucket(node.salt, customer))}
        test = self._predicate(node, as_of)
        return {customer for customer in everyone if test(customer)}

    def _predicate(self, node: Node, as_of: dt.date):
        """A per-customer test for a field predicate; NULL satisfies none of them (negation is a Not around)."""
        name = node.field  # type: ignore[attr-defined]
        kind = self.field_type(name)
        if isinstance(node, IsNull):
            return lambda customer: self.value(customer, name, as_of) is None
        if kind is FieldType.PRESENCE:
            raise OracleError(f"presence field {name!r} only takes IS [NOT] NULL")
        if isinstance(node, Contains):
            if kind is not FieldType.TAGS or not isinstance(node.value, str):
                raise OracleError(f"CONTAINS needs a tags field and a string: {node}")
            return lambda customer: node.value in (self.value(customer, name, as_of) or ())
        if kind is FieldType.TAGS:
            raise OracleError(f"tags field {name!r} only takes CONTAINS and IS [NOT] NULL")
        if isinstance(node, Anniversary):
            if kind is not FieldType.DATE:
                raise OracleError(f"ANNIVERSARY needs a date field, not {name!r}")
            pairs = anniversary_month_days(resolve(node.start, as_of), resolve(node.end, as_of))

            def in_window(customer: str) -> bool:
                day = self.value(customer, name, as_of)
                return day is not None and (day.month, day.day) in pairs  # type: ignore[attr-defined]
            return in_window
        if isinstance(node, Compare):
            if node.op not in ("=", "<", "<=", ">", ">="):
                raise OracleError(f"customer-level comparison {node.op!r}")
            op, right = node.op, self._literal(kind, node.value, as_of)

            def compared(customer: str) -> bool:
                left = self.value(customer, name, as_of)
                return left is not None and compare(left, op, right)
            return compared
        if isinstance(node, Between):
            low, high = self._literal(kind, node.low, as_of), self._literal(kind, node.high, as_of)

            def between(customer: str) -> bool:
                left = self.value(customer, name, as_of)
                return left is not None and low <= left <= high  # type: ignore[operator]
            return between
        if isinstance(node, In):
            values = [self._literal(kind, value, as_of) for value in node.values]

            def within(customer: str) -> bool:
                left = self.value(customer, name, as_of)
                return left is not None and any(left == value for value in values)
            return within
        raise OracleError(f"unknown node {node!r}")

    def _literal(self, kind: FieldType, value: object, as_of: dt.date) -> object:
        """A query literal as a value of the field's type; a mismatch is an error, as in the engine."""
        if kind is FieldType.KEYWORD and isinstance(value, str):
            return value
        if kind is FieldType.BOOL and isinstance(value, bool):
            return value
        if kind is FieldType.DATE and isinstance(value, dt.date | RelativeDay):
            return resolve(value, as_of)
        if kind is FieldType.INT and is_number(value):
            return value
        if kind is FieldType.DECIMAL and is_number(value):
            return Decimal(value)  # type: ignore[arg-type]
        raise OracleError(f"a {kind.value} field cannot be compared with {value!r}")

    def _line_matches(self, line: Line, params: Sequence[object], as_of: dt.date) -> bool:
        """Whether one purchase line satisfies every dimension and date parameter."""
        for param in params:
            if isinstance(param, DimCompare | DimIn | DimIsNull):
                if param.dim not in self.schema.dimensions:
                    raise OracleError(f"unknown dimension {param.dim!r}")
                value = line.dims.get(param.dim)
            if isinstance(param, DimCompare):
                if not isinstance(param.value, str):
                    raise OracleError(f"dimension compared with a non-string {param.value!r}")
                # `!=` is the negation of `=`, so a line whose dimension is NULL satisfies it.
                ok = (value is None or value != param.value) if param.op == "!=" else (
                    value is not None and compare(value, param.op, param.value))
            elif isinstance(param, DimIn):
                inside = value is not None and value in param.values
                ok = not inside if param.negated else inside
            elif isinstance(param, DimIsNull):
                ok = (value is not None) if param.negated else (value is None)
            elif isinstance(param, DateCompare):
                ok = compare(line.day, param.op, resolve(param.value, as_of))
            elif isinstance(param, DateBetween):
                ok = resolve(param.low, as_of) <= line.day <= resolve(param.high, as_of)
            else:
                raise OracleError(f"unknown MATCHES parameter {param!r}")
            if not ok:
                return False
        return True

    def measures(self, customer: str, node: Matches, as_of: dt.date) -> dict[str, object]:
        """count, days, sum_amount, sum_quantity over the customer's lines matching the line params."""
        filters = [p for p in node.params if not isinstance(p, MeasureCompare)]
        # lines after D do not exist yet on D, whatever the date params say
        matching = [line for line in self.lines_of(customer)
                    if line.day <= as_of and self._line_matches(line, filters, as_of)]
        purchases = [line for line in matching if line.is_purchase]
        return {
            "count": len({line.order_key for line in purchases}),
            "days": len({line.day for line in purchases}),
            "sum_amount": sum((line.amount for line in matching), Decimal(0)),
            "sum_quantity": sum(line.quantity for line in matching),
            "any_purchase": bool(purchases),
        }

    def _matches(self, customer: str, node: Matches, as_of: dt.date) -> bool:
        measured = self.measures(customer, node, as_of)
        conditions = [p for p in node.params if isinstance(p, MeasureCompare)]
        if not conditions:
            return bool(measured["any_purchase"])
        for condition in conditions:
            if condition.measure not in ("count", "days", "sum_amount", "sum_quantity"):
                raise OracleError(f"unknown measure {condition.measure!r}")
            if not is_number(condition.value):
                raise OracleError(f"measure compared with a non-number {condition.value!r}")
            if not compare(measured[condition.measure], condition.op, condition.value):
                return False
        return True

    # ── tiers and statistics ──

    def count_tiers(self, tiers: Sequence[tuple[str, Node]], default: str, as_of: dt.date) -> list[tuple[str, int]]:
        """Customers per tier, each in the first tier it matches, the rest in `default`."""
        left = set(self.customers)
        counts = []
        for name, tree in tiers:
            taken = self.members(tree, as_of) & left
            counts.append((name, len(taken)))
            left -= taken
        counts.append((default, len(left)))
        return counts

    def group_stats(self, group: set[str]) -> Stats:
        orders = sum(self.value(c, "orders") for c in group)  # type: ignore[misc]
        revenue = sum((self.value(c, "clv") for c in group), Decimal(0))  # type: ignore[misc]
        presence = [name for name, kind in self.schema.profile.items() if kind is FieldType.PRESENCE]
        return Stats(
            customers=len(group),
            orders=orders,
            revenue=revenue,
            average_order_value=revenue / orders if orders else None,
            average_clv=revenue / len(group) if group else None,
            presence_shares={name: (sum(self.value(c, name) is not None for c in group) / len(group)
                                    if group else None) for name in presence},
        )

    def stats(self, tree: Node, as_of: dt.date) -> tuple[Stats, Stats]:
        """(members, the rest of the customers)."""
        members = self.members(tree, as_of)
        return self.group_stats(members), self.group_stats(set(self.customers) - members)

    def breakdown(self, tree: Node, name: str, as_of: dt.date) -> Counter[str | None]:
        """Members per value of a keyword, bool or tags field, bools as 'true'/'false'; None counts the NULLs."""
        kind = self.field_type(name)
        counts: Counter[str | None] = Counter()
        for customer in self.members(tree, as_of):
            value = self.value(customer, name)
            if value is None:
                counts[None] += 1
                continue
            if kind is FieldType.TAGS:
                counts.update(value)  # type: ignore[arg-type]
            elif kind is FieldType.BOOL:
                counts["true" if value else "false"] += 1
            elif kind is FieldType.KEYWORD:
                counts[value] += 1  # type: ignore[index]
            else:
                raise OracleError(f"breakdown by a {kind.value} field")
        return counts

    def purchase_breakdown(self, tree: Node, dim: str, as_of: dt.date, start: dt.date | None = None,
                           end: dt.date | None = None) -> dict[str | None, tuple[int, Decimal]]:
        """Per value of a purchase dimension (None: lines without one): the members with a purchase line having it
        dated in [start, end] and not after as_of, and the net sum of those members' lines having it there."""
        if dim not in self.schema.dimensions:
            raise OracleError(f"unknown dimension {dim!r}")
        members = self.members(tree, as_of)
        last = as_of if end is None else min(end, as_of)
        inside = [line for line in self.lines
                  if line.customer in members and line.day <= last and (start is None or line.day >= start)]
        buyers: dict[str | None, set[str]] = {}
        for line in inside:
            if line.is_purchase:
                buyers.setdefault(line.dims[dim], set()).add(line.customer)
        return {value: (len(who), sum((line.amount for line in inside
                                       if line.dims[dim] == value and line.customer in who), Decimal(0)))
                for value, who in buyers.items()}

    def buyers_per_day(self, start: dt.date, end: dt.date, tree: Node | None = None,
                       as_of: dt.date | None = None) -> dict[dt.date, int]:
        """Distinct customers (members of `tree` if given) with a purchase line on each day of [start, end]."""
        group = set(self.customers) if tree is None else self.members(tree, as_of)  # type: ignore[arg-type]
        buyers: dict[dt.date, set[str]] = {day: set() for day in days(start, end)}
        for line in self.lines:
            if line.is_purchase and line.customer in group and start <= line.day <= end:
                buyers[line.day].add(line.customer)
        return {day: len(who) for day, who in buyers.items()}
