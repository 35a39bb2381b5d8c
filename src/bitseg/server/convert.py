"""Conversions between the wire (bitseg.v1 messages) and the core's query trees: Expr ↔ Node, values, days.

Nothing here touches an index; every function is pure and raises bitseg errors for malformed input.

>>> from bitseg.query.parser import parse
>>> tree = parse("orders > 10 AND purchases MATCHES (brand = 'Levi''s', date >= -6m)")
>>> expr_to_node(node_to_expr(tree)) == tree
True
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal

from bitseg.days import parse_day
from bitseg.errors import InvalidInputError, LimitError, QueryError
from bitseg.names import check_name
from bitseg.query import expressions as ex
from bitseg.query.limits import DEFAULT_LIMITS, Limits
from bitseg.v1 import segments_pb2 as pb
from bitseg.vocabulary import MEASURES

DECIMAL = re.compile(r"[+-]?(?=[\d.]{1,39}\Z)\d+(\.\d+)?\Z")
CUSTOMER_OPS = ("=", "<", "<=", ">", ">=")
# A structured tree is bounded like query text is: protobuf already caps nesting near 50 levels,
# this caps its breadth (a 64 KiB text query cannot hold more nodes than this either).
MAX_EXPR_NODES = 20_000


def check_query_text(text: str, limits: Limits = DEFAULT_LIMITS) -> str:
    # Checked before the text reaches the parser, so a huge query costs a length comparison, not a tokenizer pass.
    if len(text) > limits.max_query_length:
        raise LimitError(f"query is {len(text)} characters long; the limit (max_query_length) is "
                         f"{limits.max_query_length}")
    if not text.strip():
        raise QueryError("the query is empty; write ALL for every customer")
    return text


# ── the query tree: wire → core ──────────────────────────────────────────────────────────────────────

def expr_to_node(expr: pb.Expr, limits: Limits = DEFAULT_LIMITS) -> ex.Node:
    """A core tree from a structured query, checked against the same limits as query text."""
    return _ExprReader(limits).node(expr, "expr", 1)


class _ExprReader:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.nodes = 0

    def node(self, expr: pb.Expr, path: str, depth: int) -> ex.Node:
        self.nodes += 1
        if self.nodes > MAX_EXPR_NODES:
            raise LimitError(f"the query tree has more than {MAX_EXPR_NODES} nodes (the limit)")
        if depth > self.limits.max_depth:
            raise LimitError(f"{path}: the query tree nests deeper than the limit (max_depth) of "
                             f"{self.limits.max_depth}")
        kind = expr.WhichOneof("node")
        path = f"{path}.{kind}"
        if kind is None:
            raise QueryError(f"{path}: empty Expr; set one of its node fields")
        msg = getattr(expr, kind)
        if kind == "all":
            return ex.All()
        if kind == "not_expr":
            if not msg.HasField("operand"):
                raise QueryError(f"{path}.operand is missing")
            return ex.Not(self.node(msg.operand, f"{path}.operand", depth + 1))
        if kind in ("and_expr", "or_expr"):
            if not msg.operands:
                raise QueryError(f"{path}.operands is empty")
            operands = tuple(self.node(o, f"{path}.operands[{i}]", depth + 1) for i, o in enumerate(msg.operands))
            if len(operands) == 1:
                return operands[0]
            return ex.And(operands) if kind == "and_expr" else ex.Or(operands)
        if kind == "compare":
            field = _field(msg.field, path)
            value = _value(msg, "value", path)
            if msg.op == "!=":
                return ex.Not(ex.Compare(field, "=", value))
            return ex.Compare(field, _op(msg.op, CUSTOMER_OPS + ("!=",), path), value)
        if kind == "between":
            return ex.Between(_field(msg.field, path), _value(msg, "low", path), _value(msg, "high", path))
        if kind == "in_expr":
            self._check_in(len(msg.values), path)
            if not msg.values:
                raise QueryError(f"{path}.values is empty")
            return ex.In(_field(msg.field, path), tuple(_read_value(v, f"{path}.values[{i}]")
                                                     for i, v in enumerate(msg.values)))
        if kind == "is_null":
            return ex.IsNull(_field(msg.field, path))
        if kind == "contains":
            return ex.Contains(_field(msg.field, path), msg.value)
        if kind == "anniversary":
            return ex.Anniversary(_field(msg.field, path), _date_value(msg, "start", path),
                               _date_value(msg, "end", path))
        if kind == "bucket":
            op = _op(msg.op, CUSTOMER_OPS + ("!=", "between"), path)
            node: ex.Node = ex.Bucket(msg.salt, "=" if op == "!=" else op, msg.low,
                                msg.high if op == "between" else None)
            return ex.Not(node) if op == "!=" else node
        if kind == "in_segment":
            return ex.InSegment(check_name(msg.name, "segment"))
        if kind == "in_list":
            return ex.InList(check_name(msg.name, "list"))
        if kind == "matches":
            return ex.Matches(tuple(self.param(p, f"{path}.params[{i}]") for i, p in enumerate(msg.params)))
        raise QueryError(f"{path}: unknown node kind")  # pragma: no cover - the oneof has no other members

    def param(self, param: pb.MatchParam, path: str) -> ex.Param:
        self.nodes += 1
        kind = param.WhichOneof("param")
        path = f"{path}.{kind}"
        if kind is None:
            raise QueryError(f"{path}: empty MatchParam; set one of its fields")
        msg = getattr(param, kind)
        if kind == "dim_compare":
            return ex.DimCompare(_field(msg.dim, path, "dim"), _op(msg.op, ex.COMPARISONS, path), msg.value)
        if kind == "dim_in":
            self._check_in(len(msg.values), path)
            if not msg.values:
                raise QueryError(f"{path}.values is empty")
            return ex.DimIn(_field(msg.dim, path, "dim"), tuple(msg.values), msg.negated)
        if kind == "dim_is_null":
            return ex.DimIsNull(_field(msg.dim, path, "dim"), msg.negated)
        if kind == "date_compare":
            return ex.DateCompare(_op(msg.op, CUSTOMER_OPS, path), _date_value(msg, "value", path))
        if kind == "date_between":
            return ex.DateBetween(_date_value(msg, "low", path), _date_value(msg, "high", path))
        if kind == "measure_compare":
            if msg.measure not in MEASURES:
                raise QueryError(f"{path}.measure {msg.measure!r} is not one of {', '.join(MEASURES)}")
            value = _value(msg, "value", path)
            if isinstance(value, bool) or not isinstance(value, int | Decimal):
                raise QueryError(f"{path}.value must be an integer or a decimal")
            return ex.MeasureCompare(msg.measure, _op(msg.op, ex.COMPARISONS, path), value)
        raise QueryError(f"{path}: unknown parameter kind")  # pragma: no cover

    def _check_in(self, count: int, path: str) -> None:
        if count > self.limits.max_in_values:
            raise LimitError(f"{path}: IN list has {count} values; the limit (max_in_values) is "
                             f"{self.limits.max_in_values}")


def _field(name: str, path: str, what: str = "field") -> str:
    if not name:
        raise QueryError(f"{path}.{what} is empty")
    return name


def _op(op: str, allowed: Sequence[str], path: str) -> str:
    if op not in allowed:
        raise QueryError(f"{path}.op {op[:20]!r} is not one of {' '.join(allowed)}")
    return op


def _value(msg, name: str, path: str) -> ex.Value:
    if not msg.HasField(name):
        raise QueryError(f"{path}.{name} is missing")
    return _read_value(getattr(msg, name), f"{path}.{name}")


def _date_value(msg, name: str, path: str) -> dt.date | ex.RelativeDay:
    value = _value(msg, name, path)
    if not isinstance(value, dt.date | ex.RelativeDay):
        raise QueryError(f"{path}.{name} must be a date or a relative day")
    return value


def _read_value(value: pb.Value, path: str) -> ex.Value:
    kind = value.WhichOneof("kind")
    if kind == "text":
        return value.text
    if kind == "integer":
        return value.integer
    if kind == "decimal":
        # The query language's own notation only: no exponents, no NaN, at most 38 digits.
        if not DECIMAL.match(value.decimal):
            raise QueryError(f"{path}.decimal {value.decimal[:40]!r} is not a decimal number like 12.50")
        return Decimal(value.decimal)
    if kind == "boolean":
        return value.boolean
    if kind == "date":
        try:
            return parse_day(value.date, f"{path}.date")
        except InvalidInputError as err:
            raise QueryError(str(err)) from None
    if kind == "relative":
        if value.relative.unit not in ex.DATE_UNITS:
            raise QueryError(f"{path}.relative.unit {value.relative.unit[:10]!r} is not one of d w m y")
        return ex.RelativeDay(value.relative.amount, value.relative.unit)
    raise QueryError(f"{path} has no value; set one of text, integer, decimal, boolean, date, relative")


# ── the query tree: core → wire ──────────────────────────────────────────────────────────────────────

def node_to_expr(node: ex.Node) -> pb.Expr:
    """The structured form of a core tree (used to answer GetSegment)."""
    if isinstance(node, ex.All):
        return pb.Expr(all=pb.Expr.All())
    if isinstance(node, ex.Not):
        return pb.Expr(not_expr=pb.Expr.Not(operand=node_to_expr(node.operand)))
    if isinstance(node, ex.And):
        return pb.Expr(and_expr=pb.Expr.And(operands=[node_to_expr(o) for o in node.operands]))
    if isinstance(node, ex.Or):
        return pb.Expr(or_expr=pb.Expr.Or(operands=[node_to_expr(o) for o in node.operands]))
    if isinstance(node, ex.Compare):
        return pb.Expr(compare=pb.Expr.Compare(field=node.field, op=node.op, value=value_to_pb(node.value)))
    if isinstance(node, ex.Between):
        return pb.Expr(between=pb.Expr.Between(field=node.field, low=value_to_pb(node.low),
                                               high=value_to_pb(node.high)))
    if isinstance(node, ex.In):
        return pb.Expr(in_expr=pb.Expr.In(field=node.field, values=[value_to_pb(v) for v in node.values]))
    if isinstance(node, ex.IsNull):
        return pb.Expr(is_null=pb.Expr.IsNull(field=node.field))
    if isinstance(node, ex.Contains):
        return pb.Expr(contains=pb.Expr.Contains(field=node.field, value=node.value))
    if isinstance(node, ex.Anniversary):
        return pb.Expr(anniversary=pb.Expr.Anniversary(field=node.field, start=value_to_pb(node.start),
                                                       end=value_to_pb(node.end)))
    if isinstance(node, ex.Bucket):
        return pb.Expr(bucket=pb.Expr.Bucket(salt=node.salt, op=node.op, low=node.low, high=node.high or 0))
    if isinstance(node, ex.InSegment):
        return pb.Expr(in_segment=pb.Expr.InSegment(name=node.name))
    if isinstance(node, ex.InList):
        return pb.Expr(in_list=pb.Expr.InList(name=node.name))
    if isinstance(node, ex.Matches):
        return pb.Expr(matches=pb.Expr.Matches(params=[param_to_pb(p) for p in node.params]))
    raise TypeError(f"not a query node: {node!r}")


def param_to_pb(param: ex.Param) -> pb.MatchParam:
    if isinstance(param, ex.DimCompare):
        return pb.MatchParam(dim_compare=pb.MatchParam.DimCompare(dim=param.dim, op=param.op, value=param.value))
    if isinstance(param, ex.DimIn):
        return pb.MatchParam(dim_in=pb.MatchParam.DimIn(dim=param.dim, values=param.values,
                                                        negated=param.negated))
    if isinstance(param, ex.DimIsNull):
        return pb.MatchParam(dim_is_null=pb.MatchParam.DimIsNull(dim=param.dim, negated=param.negated))
    if isinstance(param, ex.DateCompare):
        return pb.MatchParam(date_compare=pb.MatchParam.DateCompare(op=param.op, value=value_to_pb(param.value)))
    if isinstance(param, ex.DateBetween):
        return pb.MatchParam(date_between=pb.MatchParam.DateBetween(low=value_to_pb(param.low),
                                                                    high=value_to_pb(param.high)))
    if isinstance(param, ex.MeasureCompare):
        return pb.MatchParam(measure_compare=pb.MatchParam.MeasureCompare(
            measure=param.measure, op=param.op, value=value_to_pb(param.value)))
    raise TypeError(f"not a MATCHES parameter: {param!r}")


def value_to_pb(value: object) -> pb.Value:
    """A core value as a wire Value (bool before int: a bool is an int in Python).

    >>> value_to_pb(Decimal("12.50"))
    decimal: "12.50"
    <BLANKLINE>
    """
    if isinstance(value, bool):
        return pb.Value(boolean=value)
    if isinstance(value, str):
        return pb.Value(text=value)
    if isinstance(value, int):
        return pb.Value(integer=value)
    if isinstance(value, Decimal):
        return pb.Value(decimal=format(value, "f"))
    if isinstance(value, ex.RelativeDay):
        return pb.Value(relative=pb.RelativeDay(amount=value.amount, unit=value.unit))
    if isinstance(value, dt.date):
        return pb.Value(date=value.isoformat())
    raise TypeError(f"not a query value: {value!r}")
