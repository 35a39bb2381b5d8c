"""Turning input cells (typed Python values or CSV text) into stored values, with errors that say where.

Stored forms: keyword str; tags frozenset of str; bool; presence True; date an int day number (days since
1970-01-01); int an int; decimal an int of ten-thousandths (amounts are kept to 4 decimal places).

>>> parse_cell(FieldType.DECIMAL, "12.5"), parse_cell(FieldType.TAGS, "vip|app_user") == {"vip", "app_user"}
(125000, True)
>>> parse_cell(FieldType.DATE, "1970-01-02"), parse_cell(FieldType.BOOL, "yes"), parse_cell(FieldType.INT, "")
(1, True, None)
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bitseg.days import day_number, parse_date
from bitseg.schema import FieldType

DECIMAL_SCALE = 10_000
ABSENT = object()  # a row that does not name a field leaves it untouched
_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}
_INT = re.compile(r"[+-]?\d+\Z")


def parse_decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        raise ValueError(f"{value!r} is not a number")
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def scaled(number: Decimal) -> int:
    """A decimal as an int of ten-thousandths, rounded half-even."""
    return int((number * DECIMAL_SCALE).to_integral_value())


def parse_int(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT.match(value.strip()):
        return int(value)
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    raise ValueError(f"{value!r} is not an integer")


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{value!r} is not a boolean (true/false, 1/0, yes/no)")


def parse_tags(value: object) -> frozenset[str]:
    if isinstance(value, str):
        tags = frozenset(t.strip() for t in value.split("|"))
    elif isinstance(value, list | tuple | set | frozenset):
        tags = frozenset(str(t) for t in value)
    else:
        raise ValueError(f"{value!r} is not a set of tags ('a|b' or a list)")
    return frozenset(t for t in tags if t)


def is_null(value: object) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def parse_cell(kind: FieldType, value: object):
    """The stored form of one profile cell; None for NULL. Raises ValueError with what is wrong."""
    if is_null(value):
        return None
    if kind is FieldType.KEYWORD:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a string")
        return value
    if kind is FieldType.TAGS:
        return parse_tags(value) or None
    if kind is FieldType.BOOL:
        return parse_bool(value)
    if kind is FieldType.PRESENCE:
        return True
    if kind is FieldType.DATE:
        return day_number(parse_date(value))
    if kind is FieldType.INT:
        return parse_int(value)
    return scaled(parse_decimal(value))

