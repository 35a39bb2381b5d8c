"""Every kind of bad query, schema and input row raises a BitsegError subclass naming what and where."""

from __future__ import annotations

import datetime as dt

import pytest

import bitseg
from bitseg.errors import (
    AlreadyExistsError,
    InvalidInputError,
    LimitError,
    NotFoundError,
    QueryError,
    SchemaError,
)

SCHEMA = """
timezone = "Europe/Amsterdam"
[profile]
country = "keyword"
tags = "tags"
vip = "bool"
email = "presence"
birth_date = "date"
points = "int"
credit = "decimal"
[purchase]
brand = "keyword"
color = "keyword"
"""


@pytest.fixture
def index() -> bitseg.Index:
    idx = bitseg.Index.from_toml(SCHEMA)
    idx.upsert_profiles([{"customer": "c1", "country": "NL"}])
    return idx


@pytest.mark.parametrize("query, message, position", [
    ("colour = 'red'", "unknown field 'colour' at 1:1", None),
    ("country = 'NL' AND\n  coutnry = 'BE'", "unknown field 'coutnry' at 2:3; did you mean 'country'?", (2, 3)),
    ("country = 1", "'country' is a keyword field and is compared with a string", (1, 1)),
    ("points = 'x'", "'points' is a int field and is compared with a number", (1, 1)),
    ("birth_date > 5", "compared with a date", (1, 1)),
    ("vip < true", "only = and != apply", (1, 1)),
    ("tags = 'x'", "use tags CONTAINS 'tag'", (1, 1)),
    ("email = 'x'", "only email IS NULL / IS NOT NULL apply", (1, 1)),
    ("country CONTAINS 'x'", "CONTAINS applies to tags fields", (1, 1)),
    ("ANNIVERSARY(points) BETWEEN today AND +3d", "ANNIVERSARY needs a date field", (1, 1)),
    ("purchases MATCHES (colour = 'red')", "unknown purchase dimension 'colour' at 1:20; did you mean 'color'?",
     (1, 20)),
    ("purchases MATCHES (country = 'NL')", "is a customer field", (1, 20)),
    ("purchases MATCHES (color = 5)", "compared with a string", (1, 28)),
    ("purchases MATCHES (count >= 'x')", "count is compared with a number", (1, 29)),
    ("country = 'NL' AND", "expected a condition, found end of query", (1, 19)),
    ("(country = 'NL'", "expected ')' to close the '(' at 1:1", (1, 16)),
    ("country = 'NL')", "unexpected ')'", (1, 15)),
    ("country = 'NL", "unterminated string", (1, 11)),
    ("country = NL", "strings are written in single quotes", (1, 11)),
    ("country ~ 'NL'", "unexpected character '~'", (1, 9)),
    ("birth_date = 2026-02-30", "invalid date '2026-02-30'", (1, 14)),
    ("", "empty query", (1, 1)),
    ("IN FOLDER 'x'", "expected SEGMENT or LIST after IN", (1, 4)),
    ("ANNIVERSARY(birth_date) BETWEEN 2026-01-01 AND 2027-06-01", "at most 366", (1, 1)),
    ("ANNIVERSARY(birth_date) BETWEEN +3d AND today", "ends", (1, 1)),
    ("birth_date > -99999999y", "out of range", (1, 1)),
    ("points > " + "9" * 5000, "has more than 40 characters", (1, 10)),
])
def test_bad_query_names_the_problem_and_position(index, query, message, position):
    with pytest.raises(QueryError) as caught:
        index.count(query, as_of=dt.date(2026, 3, 1))
    assert message in str(caught.value)
    if position:
        assert (caught.value.line, caught.value.column) == position


def test_limits_are_named():
    idx = bitseg.Index(bitseg.Schema.from_toml(SCHEMA), limits=bitseg.Limits(max_query_length=100, max_depth=5,
                                                                                max_in_values=3))
    with pytest.raises(LimitError, match="max_query_length"):
        idx.count("country = 'NL' OR " * 10 + "ALL")
    with pytest.raises(QueryError, match="max_depth"):
        idx.count("(" * 6 + "ALL" + ")" * 6)
    with pytest.raises(QueryError, match="max_depth"):
        idx.count("NOT " * 6 + "ALL")
    with pytest.raises(QueryError, match="max_in_values"):
        idx.count("country IN ('a', 'b', 'c', 'd')")


def test_unknown_references_are_not_found(index):
    with pytest.raises(NotFoundError, match="unknown segment 'nope'"):
        index.count("IN SEGMENT 'nope'")
    with pytest.raises(NotFoundError, match="unknown list 'nope'"):
        index.count("IN LIST 'nope'")
    with pytest.raises(NotFoundError, match="unknown customer"):
        index.customer_segments("zz")
    with pytest.raises(NotFoundError):
        index.count_tiers("nope")


def test_segment_cycles_are_refused(index):
    index.save_segment("a", "country = 'NL'")
    index.save_segment("b", "IN SEGMENT 'a'")
    with pytest.raises(QueryError, match="cycle: a → b → a"):
        index.save_segment("a", "IN SEGMENT 'b'")
    with pytest.raises(QueryError, match="cycle: c → c"):
        index.save_segment("c", "IN SEGMENT 'c'")
    assert index.count("IN SEGMENT 'b'") == 1  # the refused definition changed nothing


@pytest.mark.parametrize("toml, message", [
    ("[profile\nx = 1", "not valid TOML"),
    ('[profile]\nx = "text"', "field 'x' has unknown type 'text'"),
    ('[profile]\nOrders = "int"', "must match"),
    ('[profile]\norders = "int"', "'orders' is reserved"),
    ('[profile]\nand = "int"', "'and' is reserved"),
    ('[purchase]\nbrand = "int"', "purchase dimension 'brand' must be \"keyword\""),
    ('timezone = "Mars/Olympus"', "unknown timezone 'Mars/Olympus'"),
    ('color = "keyword"', "unknown top-level key 'color'"),
])
def test_bad_schema(toml, message):
    with pytest.raises(SchemaError, match=message.replace("(", r"\(").replace("'", "'")):
        bitseg.Schema.from_toml(toml)


@pytest.mark.parametrize("row, message", [
    ({"customer": "c", "time": "2026-13-01", "amount": "1"}, "row 1: field 'time': '2026-13-01' is not"),
    ({"customer": "c", "time": "2026-01-01", "amount": "abc"}, "row 1: field 'amount': 'abc' is not a number"),
    ({"customer": "c", "time": "2026-01-01", "amount": "1", "quantity": "1.5"}, "field 'quantity'"),
    ({"customer": "", "time": "2026-01-01", "amount": "1"}, "field 'customer': a customer id is required"),
    ({"customer": "c", "time": "", "amount": "1"}, "field 'time': a time is required"),
    ({"customer": "c", "time": "2026-01-01", "amount": "1", "brand": 7}, "field 'brand': 7 is not a string"),
])
def test_bad_purchase_rows(index, row, message):
    before = index.line_count
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(")):
        index.add_purchases([row])
    assert index.line_count == before


def test_bad_rows_can_be_set_aside(index):
    rejects: list = []
    rows = [{"customer": "a", "time": "2026-01-01", "amount": "1"},
            {"customer": "b", "time": "yesterday", "amount": "1"},
            {"customer": "c", "time": "2026-01-02", "amount": "2"}]
    assert index.add_purchases(rows, rejects=rejects, first_row=2) == 2
    assert rejects == [(3, "field 'time': 'yesterday' is not an ISO-8601 date or time")]
    assert index.count("purchases MATCHES ()") == 2


@pytest.mark.parametrize("row, message", [
    ({"customer": "c", "vip": "maybe"}, "field 'vip': 'maybe' is not a boolean"),
    ({"customer": "c", "points": "1.5"}, "field 'points': '1.5' is not an integer"),
    ({"customer": "c", "birth_date": "31/12/1990"}, "field 'birth_date': '31/12/1990' is not a date"),
    ({"customer": "c", "credit": "1,5"}, "field 'credit': '1,5' is not a number"),
    ({"customer": "c", "orders": "3"}, "unknown profile field 'orders' (a built-in"),
    ({"country": "NL"}, "profile rows need a 'customer' column"),
])
def test_bad_profile_rows(index, row, message):
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(")):
        index.upsert_profiles([row])


def test_names_and_arguments():
    catalog = bitseg.Catalog()
    catalog.create_index("shop", SCHEMA)
    with pytest.raises(AlreadyExistsError):
        catalog.create_index("shop", SCHEMA)
    with pytest.raises(InvalidInputError, match="index name 'bad name'"):
        catalog.create_index("bad name", SCHEMA)
    with pytest.raises(NotFoundError):
        catalog.get("other")
    idx = catalog.get("shop")
    with pytest.raises(InvalidInputError, match="segment kind 'cold'"):
        idx.save_segment("s", "ALL", kind="cold")
    with pytest.raises(InvalidInputError, match="as_of 'soon'"):
        idx.count("ALL", as_of="soon")
    with pytest.raises(InvalidInputError, match="chunk_size"):
        list(idx.iter_member_chunks("ALL", chunk_size=0))
    with pytest.raises(InvalidInputError, match="breakdown needs"):
        idx.breakdown("ALL", "points")


def test_huge_thresholds_in_a_tree_do_not_hang(index):
    from decimal import Decimal

    from bitseg.query.expressions import Compare, In
    assert index.count(Compare("credit", ">", Decimal("1e999999999"))) == 0
    assert index.count(In("points", (Decimal("-1e999999999"),))) == 0
