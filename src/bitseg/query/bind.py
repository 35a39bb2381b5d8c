"""Checking a tree against an index schema: every field known, every value of the field's type.

>>> from bitseg.schema import Schema
>>> from bitseg.query.parser import parse
>>> schema = Schema.from_toml('[profile]\\ncolor = "keyword"')
>>> check(parse("colour = 'red'"), schema, "colour = 'red'")
Traceback (most recent call last):
bitseg.errors.QueryError: unknown field 'colour' at 1:1; did you mean 'color'?
"""

from __future__ import annotations

import datetime as dt
import difflib
from decimal import Decimal

from bitseg.errors import QueryError
from bitseg.query.expressions import (
    Anniversary,
    Between,
    Compare,
    Contains,
    DimCompare,
    DimIn,
    DimIsNull,
    In,
    IsNull,
    Matches,
    Node,
    RelativeDay,
    walk,
)
from bitseg.schema import FieldType, Schema

_TYPE_WORDS = {
    FieldType.KEYWORD: "a string in quotes", FieldType.BOOL: "TRUE or FALSE",
    FieldType.DATE: "a date (YYYY-MM-DD, TODAY, -30d, …)", FieldType.INT: "a number",
    FieldType.DECIMAL: "a number",
}


def check(tree: Node, schema: Schema, text: str = "") -> Node:
    """Raise QueryError at the first node that does not fit `schema`; return the tree unchanged."""
    for node in walk(tree):
        _check_node(node, schema, text)
    return tree


def _fail(message: str, node, text: str) -> QueryError:
    return QueryError(message, text=text, offset=node.pos if node.pos >= 0 else None)


def _field(name: str, node, schema: Schema, text: str) -> FieldType:
    kind = schema.field_type(name)
    if kind is None:
        message = f"unknown field {name!r}"
        close = difflib.get_close_matches(name, list(schema.fields), n=1)
        raise _fail(message + (f"; did you mean {close[0]!r}?" if close else ""), node, text)
    return kind


def _fits(kind: FieldType, value: object) -> bool:
    if kind is FieldType.KEYWORD:
        return isinstance(value, str)
    if kind is FieldType.BOOL:
        return isinstance(value, bool)
    if kind is FieldType.DATE:
        return isinstance(value, dt.date | RelativeDay)
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _check_values(name: str, kind: FieldType, values: tuple, node, text: str) -> None:
    if kind is FieldType.TAGS:
        raise _fail(f"{name!r} is a tags field: use {name} CONTAINS 'tag'", node, text)
    if kind is FieldType.PRESENCE:
        raise _fail(f"{name!r} is a presence field: only {name} IS NULL / IS NOT NULL apply", node, text)
    for value in values:
        if not _fits(kind, value):
            raise _fail(f"{name!r} is a {kind.value} field and is compared with {_TYPE_WORDS[kind]}, "
                        f"not {value!r}", node, text)


def _check_node(node: Node, schema: Schema, text: str) -> None:
    if isinstance(node, Compare):
        kind = _field(node.field, node, schema, text)
        _check_values(node.field, kind, (node.value,), node, text)
        if kind is FieldType.BOOL and node.op != "=":
            raise _fail(f"{node.field!r} is a bool field: only = and != apply", node, text)
    elif isinstance(node, Between):
        kind = _field(node.field, node, schema, text)
        _check_values(node.field, kind, (node.low, node.high), node, text)
        if kind is FieldType.BOOL:
            raise _fail(f"{node.field!r} is a bool field: only = and != apply", node, text)
    elif isinstance(node, In):
        kind = _field(node.field, node, schema, text)
        _check_values(node.field, kind, node.values, node, text)
    elif isinstance(node, IsNull):
        _field(node.field, node, schema, text)
    elif isinstance(node, Contains):
        kind = _field(node.field, node, schema, text)
        if kind is not FieldType.TAGS:
            raise _fail(f"CONTAINS applies to tags fields; {node.field!r} is a {kind.value} field", node, text)
    elif isinstance(node, Anniversary):
        kind = _field(node.field, node, schema, text)
        if kind is not FieldType.DATE:
            raise _fail(f"ANNIVERSARY needs a date field; {node.field!r} is a {kind.value} field", node, text)
    elif isinstance(node, Matches):
        for param in node.params:
            if isinstance(param, DimCompare | DimIn | DimIsNull) and param.dim not in schema.dimensions:
                message = f"unknown purchase dimension {param.dim!r}"
                close = difflib.get_close_matches(param.dim, list(schema.dimensions), n=1)
                if close:
                    message += f"; did you mean {close[0]!r}?"
                elif schema.field_type(param.dim):
                    message += f"; {param.dim!r} is a customer field, write it outside PURCHASES MATCHES"
                raise _fail(message, param, text)
