"""Tokenizer of the segment query language: words, strings, numbers, dates, relative dates and operators.

>>> [(t.kind, t.value) for t in tokenize("brand = 'Levi''s' AND date >= -6m")][:5]
[('word', 'brand'), ('op', '='), ('string', "Levi's"), ('word', 'and'), ('word', 'date')]
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from bitseg.errors import QueryError
from bitseg.query.expressions import RelativeDay

_PATTERN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\w.]))
  | (?P<relative>[+-]\d+[dwmyDWMY](?!\w))
  | (?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?![\w.]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>'(?:[^']|'')*')
  | (?P<op><=|>=|!=|<>|[=<>(),])
    """,
    re.VERBOSE,
)


_MAX_DIGITS = 40  # past any int64 or amount; keeps int() and Decimal cheap


@dataclass(frozen=True)
class Token:
    kind: str  # word, string, number, date, relative, op, end
    value: object
    offset: int
    text: str


def tokenize(text: str) -> list[Token]:
    tokens = []
    offset = 0
    while offset < len(text):
        match = _PATTERN.match(text, offset)
        if match is None:
            if text[offset] == "'":
                raise QueryError("unterminated string", text=text, offset=offset)
            raise QueryError(f"unexpected character {text[offset]!r}", text=text, offset=offset)
        kind = match.lastgroup
        raw = match.group()
        if kind in ("number", "relative") and len(raw) > _MAX_DIGITS:
            raise QueryError(f"number {raw[:12]}… has more than {_MAX_DIGITS} characters", text=text, offset=offset)
        if kind != "space":
            tokens.append(Token(kind, _value(kind, raw, text, offset), offset, raw))  # type: ignore[arg-type]
        offset = match.end()
    tokens.append(Token("end", None, len(text), ""))
    return tokens


def _value(kind: str, raw: str, text: str, offset: int) -> object:
    if kind == "word":
        return raw.lower()
    if kind == "string":
        return raw[1:-1].replace("''", "'")
    if kind == "number":
        return Decimal(raw) if "." in raw else int(raw)
    if kind == "relative":
        return RelativeDay(int(raw[:-1]), raw[-1].lower())
    if kind == "date":
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise QueryError(f"invalid date {raw!r}", text=text, offset=offset) from None
    if raw == "<>":
        return "!="
    return raw
