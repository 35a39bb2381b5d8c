"""The words of the segment language and of schemas: field types, keywords, measures, built-in fields.

The schema reads it to refuse field names that a query could not tell apart; the parser reads it to know
its keywords and measures; the server reads it to check a structured query.

>>> "orders" in RESERVED_NAMES, "date" in KEYWORDS, "date" in RESERVED_NAMES
(True, False, True)
"""

from __future__ import annotations

from enum import StrEnum


class FieldType(StrEnum):
    KEYWORD = "keyword"
    TAGS = "tags"
    BOOL = "bool"
    PRESENCE = "presence"
    DATE = "date"
    INT = "int"
    DECIMAL = "decimal"


NUMERIC_TYPES = frozenset({FieldType.DATE, FieldType.INT, FieldType.DECIMAL})

# Customer fields every index has, derived from its purchase lines (SPEC §1).
BUILTIN_FIELDS: dict[str, FieldType] = {
    "orders": FieldType.INT,
    "clv": FieldType.DECIMAL,
    "first_purchase_date": FieldType.DATE,
    "last_purchase_date": FieldType.DATE,
}

# Columns of a purchase line besides the schema's dimensions.
LINE_COLUMNS = frozenset({"customer", "time", "amount", "quantity", "order"})

# What PURCHASES MATCHES can measure, in the order the documentation lists them.
MEASURES = ("count", "sum_amount", "sum_quantity", "days")

# Reserved words of the language: never a field name in a query.
KEYWORDS = frozenset({
    "and", "or", "not", "between", "in", "is", "null", "contains", "anniversary", "purchases", "matches",
    "segment", "list", "all", "true", "false", "today", "yesterday",
})

# `date` is the line's day inside MATCHES: a keyword there only, but no field may take the name.
RESERVED_NAMES = frozenset(BUILTIN_FIELDS) | LINE_COLUMNS | frozenset(MEASURES) | KEYWORDS | {"date"}
