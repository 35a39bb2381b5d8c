"""Recursive-descent parser: query text → expression tree, with positions for every error.

>>> parse("orders > 10 AND NOT country IN ('NL', 'BE')")
And(operands=(Compare(field='orders', op='>', value=10), Not(operand=In(field='country', values=('NL', 'BE')))))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import cast

from bitseg.errors import LimitError, QueryError
from bitseg.query import expressions as ex
from bitseg.query.limits import DEFAULT_LIMITS, Limits
from bitseg.query.tokens import Token, tokenize
from bitseg.vocabulary import BUILTIN_FIELDS, KEYWORDS, MEASURES


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> ex.Node:
    if len(text) > limits.max_query_length:
        raise LimitError(f"query is {len(text)} characters long; the limit (max_query_length) is "
                         f"{limits.max_query_length}")
    return _Parser(text, limits).query()


class _Parser:
    def __init__(self, text: str, limits: Limits) -> None:
        self.text = text
        self.limits = limits
        self.tokens = tokenize(text)
        self.at = 0
        self.depth = 0

    # ── helpers ──
    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def error(self, message: str, token: Token | None = None) -> QueryError:
        hint = _hint(self.tokens, self.at)
        return QueryError(message + (f"; {hint}" if hint else ""), text=self.text,
                          offset=(token or self.token).offset)

    def describe(self, token: Token) -> str:
        return "end of query" if token.kind == "end" else repr(token.text)

    def is_word(self, *words: str) -> bool:
        return self.token.kind == "word" and self.token.value in words

    def accept_word(self, word: str) -> bool:
        if self.is_word(word):
            self.at += 1
            return True
        return False

    def expect_word(self, word: str, context: str = "") -> Token:
        if not self.is_word(word):
            raise self.error(f"expected {word.upper()}{context}, found {self.describe(self.token)}")
        return self.advance()

    def accept_op(self, op: str) -> bool:
        if self.token.kind == "op" and self.token.value == op:
            self.at += 1
            return True
        return False

    def expect_op(self, op: str, context: str = "") -> Token:
        if not (self.token.kind == "op" and self.token.value == op):
            raise self.error(f"expected '{op}'{context}, found {self.describe(self.token)}")
        return self.advance()

    def advance(self) -> Token:
        token = self.token
        self.at += 1
        return token

    def nest(self) -> None:
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise self.error(f"query nests deeper than the limit (max_depth) of {self.limits.max_depth}")

    # ── grammar ──
    def query(self) -> ex.Node:
        if self.token.kind == "end":
            raise self.error("empty query; write a condition such as country = 'NL', or ALL")
        node = self.disjunction()
        if self.token.kind != "end":
            raise self.error(f"unexpected {self.describe(self.token)}; expected AND, OR or the end of the query")
        return node

    def disjunction(self) -> ex.Node:
        start = self.token.offset
        operands = [self.conjunction()]
        while self.accept_word("or"):
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else ex.Or(tuple(operands), pos=start)

    def conjunction(self) -> ex.Node:
        start = self.token.offset
        operands = [self.unary()]
        while self.accept_word("and"):
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else ex.And(tuple(operands), pos=start)

    def unary(self) -> ex.Node:
        start = self.token
        if self.accept_word("not"):
            self.nest()
            node: ex.Node = ex.Not(self.unary(), pos=start.offset)
            self.depth -= 1
            return node
        return self.atom()

    def atom(self) -> ex.Node:
        token = self.token
        if self.accept_op("("):
            self.nest()
            node = self.disjunction()
            self.expect_op(")", " to close the '(' at " + _where(self.text, token.offset))
            self.depth -= 1
            return node
        if token.kind != "word":
            raise self.error(f"expected a condition, found {self.describe(token)}")
        if self.accept_word("all"):
            return ex.All(pos=token.offset)
        if self.accept_word("anniversary"):
            return self.anniversary(token)
        if self.accept_word("purchases"):
            return self.purchases(token)
        if self.accept_word("in"):
            if self.accept_word("segment"):
                return ex.InSegment(self.string("segment name"), pos=token.offset)
            if self.accept_word("list"):
                return ex.InList(self.string("list name"), pos=token.offset)
            raise self.error(f"expected SEGMENT or LIST after IN, found {self.describe(self.token)}")
        if token.value == "bucket" and self.tokens[self.at + 1].kind == "op" and self.tokens[self.at + 1].value == "(":
            self.advance()  # BUCKET( is never a field: a field is not followed by '('
            return self.bucket(token)
        if token.value in KEYWORDS:
            raise self.error(f"expected a field name, found the keyword {token.text.upper()}")
        self.advance()
        return self.predicate(token)

    def predicate(self, field_token: Token) -> ex.Node:
        field, pos = str(field_token.value), field_token.offset
        token = self.token
        if token.kind == "op" and token.value in ex.COMPARISONS:
            self.advance()
            value = self.literal()
            if token.value == "!=":
                return ex.Not(ex.Compare(field, "=", value, pos=pos), pos=pos)
            return ex.Compare(field, str(token.value), value, pos=pos)
        if self.accept_word("is"):
            negated = self.accept_word("not")
            self.expect_word("null", " after IS")
            node: ex.Node = ex.IsNull(field, pos=pos)
            return ex.Not(node, pos=pos) if negated else node
        negated = self.accept_word("not")
        if self.accept_word("between"):
            low = self.literal()
            self.expect_word("and", " between the two bounds of BETWEEN")
            node = ex.Between(field, low, self.literal(), pos=pos)
        elif self.accept_word("in"):
            node = ex.In(field, self.literal_list(), pos=pos)
        elif self.accept_word("contains"):
            node = ex.Contains(field, self.string("tag"), pos=pos)
        else:
            expected = "BETWEEN, IN or CONTAINS" if negated else "a comparison (=, !=, <, <=, >, >=), BETWEEN, IN, IS or CONTAINS"
            raise self.error(f"expected {expected} after {field!r}, found {self.describe(self.token)}")
        return ex.Not(node, pos=pos) if negated else node

    def anniversary(self, start: Token) -> ex.Node:
        self.expect_op("(", " after ANNIVERSARY")
        field_token = self.token
        if field_token.kind != "word" or field_token.value in KEYWORDS:
            raise self.error(f"expected a date field in ANNIVERSARY( ), found {self.describe(field_token)}")
        self.advance()
        self.expect_op(")", " after the field of ANNIVERSARY")
        self.expect_word("between", " after ANNIVERSARY(...)")
        low = self.date()
        self.expect_word("and", " between the two bounds of BETWEEN")
        return ex.Anniversary(str(field_token.value), low, self.date(), pos=start.offset)

    def bucket(self, start: Token) -> ex.Node:
        self.expect_op("(", " after BUCKET")
        salt = self.string("salt, such as BUCKET('q3')")
        self.expect_op(")", " after the salt of BUCKET")
        negated = self.accept_word("not")
        if self.accept_word("between"):
            low = self.bucket_number()
            self.expect_word("and", " between the two bounds of BETWEEN")
            node: ex.Node = ex.Bucket(salt, "between", low, self.bucket_number(), pos=start.offset)
            return ex.Not(node, pos=start.offset) if negated else node
        if negated:
            raise self.error(f"expected BETWEEN after NOT, found {self.describe(self.token)}")
        op = self.comparison("BUCKET(...)")
        value = self.bucket_number()
        if op == "!=":
            return ex.Not(ex.Bucket(salt, "=", value, pos=start.offset), pos=start.offset)
        return ex.Bucket(salt, op, value, pos=start.offset)

    def bucket_number(self) -> int:
        token = self.token
        if token.kind != "number" or not isinstance(token.value, int):
            raise self.error(f"BUCKET is compared with a whole number (0 to 9999), found {self.describe(token)}")
        self.advance()
        return token.value

    def purchases(self, start: Token) -> ex.Node:
        negated = self.accept_word("not")
        self.expect_word("matches", " after PURCHASES")
        self.expect_op("(", " after MATCHES")
        params: list[ex.Param] = []
        if not self.accept_op(")"):
            params.extend(self.params())
            while self.accept_op(","):
                params.extend(self.params())
            self.expect_op(")", " to close PURCHASES MATCHES (")
        node: ex.Node = ex.Matches(tuple(params), pos=start.offset)
        return ex.Not(node, pos=start.offset) if negated else node

    def params(self) -> list[ex.Param]:
        """One param as written; `measure BETWEEN a AND b` gives two, `>= a` and `<= b`: every measure param
        must hold, so that is the inclusive range (and reversed bounds match nobody, as BETWEEN elsewhere)."""
        token, following = self.token, self.tokens[min(self.at + 1, len(self.tokens) - 1)]
        if token.kind == "word" and token.value in MEASURES and following.kind == "word" \
                and following.value == "between":
            self.at += 2
            name = str(token.value)
            low = self.measure_value(name)
            self.expect_word("and", " between the two bounds of BETWEEN")
            high = self.measure_value(name)
            return [ex.MeasureCompare(name, ">=", low, pos=token.offset),
                    ex.MeasureCompare(name, "<=", high, pos=token.offset)]
        return [self.param()]

    def param(self) -> ex.Param:
        token = self.token
        if token.kind != "word" or token.value in KEYWORDS:
            raise self.error(f"expected a purchase dimension, DATE or a measure, found {self.describe(token)}")
        self.advance()
        name, pos = str(token.value), token.offset
        if name == "date":
            if self.accept_word("between"):
                low = self.date()
                self.expect_word("and", " between the two bounds of BETWEEN")
                return ex.DateBetween(low, self.date(), pos=pos)
            return ex.DateCompare(self.comparison(name), self.date(), pos=pos)
        if name in MEASURES:
            op = self.comparison(name)
            return ex.MeasureCompare(name, op, self.measure_value(name), pos=pos)
        if name in BUILTIN_FIELDS:
            raise self.error(f"{name!r} is a customer field, not a purchase dimension; write it outside MATCHES "
                             f"({name} >= 2 AND purchases MATCHES (…)), or count >= 2 inside to count the orders "
                             "with a matching line", token)
        if self.accept_word("is"):
            negated = self.accept_word("not")
            self.expect_word("null", " after IS")
            return ex.DimIsNull(name, negated, pos=pos)
        negated = self.accept_word("not")
        if self.accept_word("in"):
            return ex.DimIn(name, tuple(self.dimension_value(v) for v in self.literal_list()), negated, pos=pos)
        if negated:
            raise self.error(f"expected IN after NOT, found {self.describe(self.token)}")
        op = self.comparison(name)
        return ex.DimCompare(name, op, self.dimension_value(self.literal()), pos=pos)

    def measure_value(self, name: str) -> int | Decimal:
        value = self.literal()
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.error(f"{name} is compared with a number", self.tokens[self.at - 1])
        return value

    def dimension_value(self, value: object) -> str:
        if not isinstance(value, str):
            raise self.error("a purchase dimension is compared with a string such as 'black'",
                             self.tokens[self.at - 1])
        return value

    def comparison(self, name: str) -> str:
        token = self.token
        if token.kind == "op" and token.value in ex.COMPARISONS:
            self.advance()
            return str(token.value)
        raise self.error(f"expected a comparison (=, !=, <, <=, >, >=) after {name!r}, found {self.describe(token)}")

    def literal_list(self) -> tuple:
        self.expect_op("(", " to open the IN list")
        values = [self.literal()]
        while self.accept_op(","):
            values.append(self.literal())
            if len(values) > self.limits.max_in_values:
                raise self.error(f"IN list is longer than the limit (max_in_values) of {self.limits.max_in_values}")
        self.expect_op(")", " to close the IN list")
        return tuple(values)

    def string(self, what: str) -> str:
        if self.token.kind != "string":
            raise self.error(f"expected a {what} in quotes, found {self.describe(self.token)}")
        return str(self.advance().value)

    def date(self) -> dt.date | ex.RelativeDay:
        value = self.literal()
        if not isinstance(value, dt.date | ex.RelativeDay):
            raise self.error("expected a date (YYYY-MM-DD, TODAY, YESTERDAY or -30d, +2w, -6m, -1y)",
                             self.tokens[self.at - 1])
        return value

    def literal(self) -> ex.Value:
        token = self.token
        if token.kind in ("string", "number", "date", "relative"):
            return cast(ex.Value, self.advance().value)  # the tokenizer gives these kinds a literal value
        if token.kind == "word":
            constants: dict[str, ex.Value] = {"true": True, "false": False, "today": ex.RelativeDay(0, "d"),
                         "yesterday": ex.RelativeDay(-1, "d")}
            if token.value in constants:
                self.advance()
                return constants[str(token.value)]
            if token.value not in KEYWORDS:
                raise self.error(f"expected a value, found the name {token.text!r}; "
                                 "strings are written in single quotes")
        raise self.error(f"expected a value, found {self.describe(token)}")


def _where(text: str, offset: int) -> str:
    before = text[:offset]
    return f"{before.count(chr(10)) + 1}:{offset - before.rfind(chr(10))}"


_UNITS = {"day": "d", "days": "d", "week": "w", "weeks": "w", "month": "m", "months": "m", "year": "y",
          "years": "y"}


def _hint(tokens: Sequence[Token], at: int) -> str:
    """A suggestion for a spelling the language does not take, from the tokens around the error.

    >>> from bitseg.query.tokens import tokenize
    >>> _hint(tokenize("d >= -6 months"), 3), _hint(tokenize("d >= 2026-1-1"), 3)
    ('write -6m for 6 months (a number then d, w, m or y)', 'dates are written YYYY-MM-DD: 2026-01-01')
    """
    token = tokens[min(at, len(tokens) - 1)]
    before = tokens[at - 1] if 0 < at <= len(tokens) else None
    if before is None:
        return ""
    if token.kind == "word" and token.value in _UNITS and before.kind == "number":
        unit = _UNITS[str(token.value)]
        return f"write {before.text}{unit} for {before.text.lstrip('+-')} {token.text} (a number then d, w, m or y)"
    # `2026-1-1`: a year followed by -month and -day numbers written next to it
    parts = [t for t in tokens[at - 1:at + 2] if t.kind == "number"]
    if (len(parts) == 3 and len(parts[0].text) == 4 and all(p.text.startswith("-") for p in parts[1:])
            and all(a.offset + len(a.text) == b.offset for a, b in zip(parts, parts[1:]))):
        year, month, day = (int(p.text.lstrip("-")) for p in parts)
        try:
            return f"dates are written YYYY-MM-DD: {dt.date(year, month, day).isoformat()}"
        except ValueError:
            return "dates are written YYYY-MM-DD"
    return ""
