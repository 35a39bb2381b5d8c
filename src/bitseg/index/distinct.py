"""The values a field or a dimension has (the Values RPC), and the warnings of a query about values none has.

A profile field's values come from its rows: a value counts the customers having it. A purchase dimension's
values come from its time views: the union of a value's year buckets is its customers with a purchase line
(quantity > 0) having that value. Values with no customer are left out, so a value is listed when and only when
a query comparing with it can match someone.

A warning names a literal of `=`, `!=` or IN on a keyword field, of CONTAINS on a tags field, or of `=`, `!=`
or IN on a dimension inside MATCHES, that no customer (line) has, with the nearest values that exist: those
equal to it but for case first, then difflib's close matches (looked for among at most CLOSE_MATCH_MAX values,
so that a dimension with a million SKUs costs no more than a dictionary walk).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Iterator, Mapping

from pyroaring import BitMap

from bitseg.errors import InvalidInputError, NotFoundError
from bitseg.index.bitmaps import union
from bitseg.index.fields import Field, TagsField, ValueField
from bitseg.index.lines import Dictionary
from bitseg.index.views import TimeViews
from bitseg.query.expressions import Compare, Contains, DimCompare, DimIn, In, Node, Param
from bitseg.vocabulary import FieldType

DEFAULT_LIMIT = 100
MAX_LIMIT = 100_000
CLOSE_MATCH_MAX = 20_000  # difflib looks among at most this many values; case-insensitive matches always
NEAREST = 3               # values named in a warning


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def profile_counts(field: Field, name: str) -> dict[str, int]:
    """Customers per value of a keyword, bool or tags field (values no customer has left out)."""
    if not isinstance(field, ValueField | TagsField):
        raise InvalidInputError(f"values needs a keyword, bool or tags field or a purchase dimension; {name!r} "
                                f"is a {field.kind.value} field")
    return {_text(value): len(row) for value, row in field.rows.items() if row}


def dimension_counts(views: TimeViews, dictionary: Dictionary, dim: str) -> dict[str, int]:
    """Customers with a purchase line (quantity > 0) per value of a dimension: the union of its year buckets."""
    counts: dict[str, int] = {}
    for code, value in enumerate(dictionary.values):
        view = views.views.get((dim, code))
        if view is not None:
            customers = union(list(view.years.values()))
            if customers:
                counts[value] = len(customers)
    return counts


def _bought(views: TimeViews, dictionary: Dictionary, dim: str) -> dict[str, None]:
    """The values of a dimension some customer has a purchase line (quantity > 0) with; no union computed."""
    found: dict[str, None] = {}
    for code, value in enumerate(dictionary.values):
        view = views.views.get((dim, code))
        if view is not None and any(view.years.values()):
            found[value] = None
    return found


def check_limit(limit: int) -> int:
    if not 0 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit {limit} is out of range: 0 (the default, {DEFAULT_LIMIT}) to {MAX_LIMIT:,}")
    return limit or DEFAULT_LIMIT


def largest_first(counts: Mapping[str, int], prefix: str, limit: int) -> list[tuple[str, int]]:
    """The values starting with `prefix` (case-insensitive), largest count first, ties by value; at most `limit`."""
    folded = prefix.casefold()
    found = [(v, n) for v, n in counts.items() if v.casefold().startswith(folded)]
    found.sort(key=lambda c: (-c[1], c[0]))
    return found[:limit]


def field_values(fields: Mapping[str, Field], views: TimeViews, dictionaries: Mapping[str, Dictionary],
                 name: str) -> dict[str, int]:
    """The counts of a profile field's values, else of a dimension's (a profile field wins a shared name)."""
    if name in fields:
        return profile_counts(fields[name], name)
    if name in dictionaries:
        return dimension_counts(views, dictionaries[name], name)
    raise NotFoundError(f"unknown field {name!r}: neither a profile field nor a purchase dimension")


# ── warnings ─────────────────────────────────────────────────────────────────────────────────────────────

def _parts(item: Node | Param) -> Iterator[Node | Param]:
    yield item
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        for child in value if isinstance(value, tuple) else (value,):
            if isinstance(child, Node | Param):
                yield from _parts(child)


def literals(tree: Node, fields: Mapping[str, Field]) -> Iterator[tuple[str, bool, str]]:
    """(field or dimension, is a dimension, literal) of each comparison a warning may be about."""
    for part in _parts(tree):
        if isinstance(part, Compare | In):
            field = fields.get(part.field)
            if isinstance(field, ValueField) and field.kind is FieldType.KEYWORD and (
                    isinstance(part, In) or part.op in ("=", "!=")):
                for value in part.values if isinstance(part, In) else (part.value,):
                    if isinstance(value, str):
                        yield part.field, False, value
        elif isinstance(part, Contains) and isinstance(fields.get(part.field), TagsField):
            yield part.field, False, part.value
        elif isinstance(part, DimCompare) and part.op in ("=", "!="):
            yield part.dim, True, part.value
        elif isinstance(part, DimIn):
            for value in part.values:
                yield part.dim, True, value


def nearest(literal: str, existing: Iterable[str]) -> list[str]:
    """Up to NEAREST existing values: equal but for case first, then difflib's close matches."""
    existing = list(existing)
    folded = literal.casefold()
    found = sorted(v for v in existing if v.casefold() == folded)
    if len(existing) <= CLOSE_MATCH_MAX:
        found += [v for v in difflib.get_close_matches(literal, existing, n=NEAREST) if v not in found]
    return found[:NEAREST]


def missing(tree: Node, fields: Mapping[str, Field], views: TimeViews,
            dictionaries: Mapping[str, Dictionary]) -> Iterator[tuple[str, str, Iterable[str]]]:
    """(what is missing, the literal, the values that exist) per distinct literal of `tree` no customer (purchase
    line) has."""
    seen: set[tuple[str, bool, str]] = set()
    for name, is_dim, literal in literals(tree, fields):
        if (name, is_dim, literal) in seen:
            continue
        seen.add((name, is_dim, literal))
        if is_dim:
            code = dictionaries[name].code(literal) if name in dictionaries else None
            if code is not None and (view := views.views.get((name, code))) is not None and any(view.years.values()):
                continue  # the common case, looked up without walking the dictionary
            bought = _bought(views, dictionaries[name], name) if name in dictionaries else {}
            yield f"no purchase line has {name} {literal!r}", literal, bought
        else:
            rows: Mapping[object, BitMap] = fields[name].rows  # type: ignore[attr-defined]
            if not rows.get(literal):
                yield f"no customer has {name} {literal!r}", literal, [str(v) for v, row in rows.items() if row]


def warnings(tree: Node, fields: Mapping[str, Field], views: TimeViews,
             dictionaries: Mapping[str, Dictionary]) -> list[str]:
    """A warning per distinct literal of `tree` that no customer (purchase line) has, naming the nearest values."""
    out: list[str] = []
    for whose, literal, existing in missing(tree, fields, views, dictionaries):
        close = nearest(literal, existing)
        out.append(whose + ("; nearest: " + ", ".join(repr(v) for v in close) if close else ""))
    return out
