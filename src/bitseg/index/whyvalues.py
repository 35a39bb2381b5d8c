"""The values behind one plan node for one customer, for `why`: field values, measures against thresholds, lines.

Display only: whether a node holds is decided by its bitmap (`insight.py`), never here.

>>> amount(2_800_000), amount(12_345)
('280.00', '1.2345')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from bitseg.days import day_date
from bitseg.index import asof, planner
from bitseg.index import plan as p
from bitseg.index.arrays import distinct
from bitseg.index.fields import NumberField, PresenceField, TagsField, ValueField
from bitseg.index.lines import NO_ORDER
from bitseg.query import expressions as ex
from bitseg.query.printer import literal
from bitseg.schema import FieldType

MAX_LINES = 20


@dataclass(frozen=True)
class PurchaseLine:
    day: dt.date
    amount: Decimal
    quantity: int
    order: str | None
    dimensions: dict[str, str | None] = field(default_factory=dict)


def amount(stored: int) -> str:
    """Ten-thousandths as text, with at least two decimals."""
    exact = Decimal(int(stored)).scaleb(-4)
    cents = exact.quantize(Decimal("0.01"))
    return str(cents) if cents == exact else str(exact.normalize())


def node_values(node: p.PlanNode, data: p.IndexData, column: int,
                as_of: dt.date) -> tuple[tuple[str, ...], tuple[PurchaseLine, ...]]:
    """(the customer's values that `node` tests, the purchase lines it selected) for one column."""
    if isinstance(node, p.BucketRange):
        return (f"BUCKET({literal(node.salt)}) = {int(data.bucket_values(node.salt)[column])}",), ()
    if isinstance(node, p.BuiltinAsOf):  # the built-in as it stood on that day, not as kept now
        values, has = asof.builtin_values(data.lines, node.field, node.day, data.column_count)
        return (f"{node.field} {stored_text(data.field(node.field).kind, bool(has[column]), int(values[column]))}",), ()
    name = getattr(node, "field", None)
    if isinstance(name, str):
        return (f"{name} {field_value(data, name, column)}",), ()
    lined = p.ViewWindow | p.LineScan | p.LineBitmaps | p.MonthRollup
    if isinstance(node.source, ex.Matches) and isinstance(node, lined):
        scan = node if isinstance(node, p.LineScan) else planner.line_scan(node.source, data, as_of)
        return matched_lines(scan, data, column)
    return (), ()


def field_value(data: p.IndexData, name: str, column: int) -> str:
    """`= value` or `IS NULL`, as query text."""
    found = data.field(name)
    if column not in found.present:
        return "IS NULL"
    if isinstance(found, ValueField):
        return f"= {literal(found.value_of(column))}"
    if isinstance(found, TagsField):
        return "= " + ", ".join(literal(tag) for tag, row in sorted(found.rows.items()) if column in row)
    if isinstance(found, PresenceField):
        return "IS NOT NULL"
    assert isinstance(found, NumberField)
    return stored_text(found.kind, True, int(found.values[column]))


def stored_text(kind: FieldType, present: bool, value: int) -> str:
    """`= value` (a stored number shown as query text) or `IS NULL`."""
    if not present:
        return "IS NULL"
    if kind is FieldType.DATE:
        return f"= {day_date(value).isoformat()}"
    return f"= {amount(value) if kind is FieldType.DECIMAL else value}"


def matched_lines(scan: p.LineScan, data: p.IndexData,
                  column: int) -> tuple[tuple[str, ...], tuple[PurchaseLine, ...]]:
    """The customer's measures against their thresholds and up to 20 lines (latest first) the scan selected."""
    store = data.lines
    at = np.concatenate([start + np.flatnonzero(store["column"][start:end] == column)
                         for start, end in scan.slices] or [np.zeros(0, np.int64)])
    lines = {name: store[name][at] for name in ("day", "amount", "quantity", "order", *store.dimensions)}
    mask = np.ones(len(at), dtype=bool)
    for line_test in scan.filters:
        if isinstance(line_test, p.DimCodes):
            mask &= np.isin(lines[line_test.dim], list(line_test.codes))
        else:
            mask &= {"=": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
                     ">": np.greater, ">=": np.greater_equal}[line_test.op](lines["day"], line_test.day)
    purchase = mask & (lines["quantity"] > 0)
    values = []
    for test in scan.measures:
        if test.measure == "sum_amount":
            shown, needs = amount(int(lines["amount"][mask].sum())), amount(int(test.threshold))
        else:
            shown = str({"sum_quantity": int(lines["quantity"][mask].sum()),
                         "count": len(distinct(lines["order"][purchase])),
                         "days": len(distinct(lines["day"][purchase]))}[test.measure])
            needs = str(test.threshold)
        values.append(f"{test.measure} {shown}, needs {test.op} {needs}")
    selected = np.flatnonzero(mask if scan.measures else purchase)
    chosen = selected[np.argsort(-lines["day"][selected].astype(np.int64), kind="stable")][:MAX_LINES]
    orders = store.orders.values
    picked = tuple(PurchaseLine(
        day_date(int(lines["day"][i])), Decimal(amount(int(lines["amount"][i]))),
        int(lines["quantity"][i]),
        orders[int(lines["order"][i])] if int(lines["order"][i]) < NO_ORDER else None,
        {dim: (store.dictionaries[dim].values[int(lines[dim][i])] if lines[dim][i] >= 0 else None)
         for dim in store.dimensions})
        for i in chosen)
    return tuple(values), picked
