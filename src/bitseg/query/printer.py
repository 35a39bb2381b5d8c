"""Canonical text of an expression tree: keywords upper case, names as written, minimal parentheses.

`parse(to_text(tree)) == tree` for every tree.

>>> from bitseg.query.parser import parse
>>> to_text(parse("not (a = 1 or b != 'x') and purchases not matches (color not in ('red'), count >= 2)"))
"NOT (a = 1 OR b != 'x') AND PURCHASES NOT MATCHES (color NOT IN ('red'), count >= 2)"
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bitseg.query import expressions as ex


def to_text(node: ex.Node) -> str:
    if isinstance(node, ex.Or):
        return " OR ".join(_operand(o, ex.Or) for o in node.operands)
    if isinstance(node, ex.And):
        return " AND ".join(_operand(o, ex.And) for o in node.operands)
    if isinstance(node, ex.Not):
        return _negated(node.operand)
    if isinstance(node, ex.All):
        return "ALL"
    if isinstance(node, ex.Compare):
        return f"{node.field} {node.op} {literal(node.value)}"
    if isinstance(node, ex.Between):
        return f"{node.field} BETWEEN {literal(node.low)} AND {literal(node.high)}"
    if isinstance(node, ex.In):
        return f"{node.field} IN {_list(node.values)}"
    if isinstance(node, ex.IsNull):
        return f"{node.field} IS NULL"
    if isinstance(node, ex.Contains):
        return f"{node.field} CONTAINS {literal(node.value)}"
    if isinstance(node, ex.Anniversary):
        return f"ANNIVERSARY({node.field}) BETWEEN {literal(node.start)} AND {literal(node.end)}"
    if isinstance(node, ex.Matches):
        return f"PURCHASES MATCHES ({', '.join(param_text(p) for p in node.params)})"
    if isinstance(node, ex.Bucket):
        head = f"BUCKET({literal(node.salt)})"
        if node.op == "between":
            return f"{head} BETWEEN {node.low} AND {node.high}"
        return f"{head} {node.op} {node.low}"
    if isinstance(node, ex.InSegment):
        return f"IN SEGMENT {literal(node.name)}"
    if isinstance(node, ex.InList):
        return f"IN LIST {literal(node.name)}"
    raise TypeError(f"not a query node: {node!r}")


def _operand(node: ex.Node, parent: type) -> str:
    text = to_text(node)
    # AND binds tighter than OR: only an OR inside an AND, or a nested node of the same kind, needs parentheses.
    if isinstance(node, ex.Or) or (isinstance(node, ex.And) and parent is ex.And):
        return f"({text})"
    return text


def _negated(node: ex.Node) -> str:
    if isinstance(node, ex.Compare) and node.op == "=":
        return f"{node.field} != {literal(node.value)}"
    if isinstance(node, ex.IsNull):
        return f"{node.field} IS NOT NULL"
    if isinstance(node, ex.In):
        return f"{node.field} NOT IN {_list(node.values)}"
    if isinstance(node, ex.Between):
        return f"{node.field} NOT BETWEEN {literal(node.low)} AND {literal(node.high)}"
    if isinstance(node, ex.Bucket) and node.op in ("=", "between"):
        head = f"BUCKET({literal(node.salt)})"
        if node.op == "=":
            return f"{head} != {node.low}"
        return f"{head} NOT BETWEEN {node.low} AND {node.high}"
    if isinstance(node, ex.Contains):
        return f"{node.field} NOT CONTAINS {literal(node.value)}"
    if isinstance(node, ex.Matches):
        return "PURCHASES NOT " + to_text(node)[len("PURCHASES "):]
    text = to_text(node)
    return f"NOT ({text})" if isinstance(node, ex.And | ex.Or) else f"NOT {text}"


def param_text(param: ex.Param) -> str:
    if isinstance(param, ex.DimCompare):
        return f"{param.dim} {param.op} {literal(param.value)}"
    if isinstance(param, ex.DimIn):
        return f"{param.dim} {'NOT IN' if param.negated else 'IN'} {_list(param.values)}"
    if isinstance(param, ex.DimIsNull):
        return f"{param.dim} IS {'NOT NULL' if param.negated else 'NULL'}"
    if isinstance(param, ex.DateCompare):
        return f"date {param.op} {literal(param.value)}"
    if isinstance(param, ex.DateBetween):
        return f"date BETWEEN {literal(param.low)} AND {literal(param.high)}"
    if isinstance(param, ex.MeasureCompare):
        return f"{param.measure} {param.op} {literal(param.value)}"
    raise TypeError(f"not a MATCHES parameter: {param!r}")


def _list(values: tuple) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ")"


def literal(value: object) -> str:
    """A value as query text.

    >>> literal("Levi's"), literal(ex.RelativeDay(-6, "m")), literal(ex.RelativeDay(0, "d")), literal(Decimal("2.50"))
    ("'Levi''s'", '-6m', 'TODAY', '2.50')
    """
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, ex.RelativeDay):
        if value.unit == "d" and value.amount in (0, -1):
            return "TODAY" if value.amount == 0 else "YESTERDAY"
        return f"{value.amount:+d}{value.unit}"
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text if "." in text else text + ".0"
    if isinstance(value, int | dt.date):
        return str(value) if isinstance(value, int) else value.isoformat()
    raise TypeError(f"not a query value: {value!r}")
