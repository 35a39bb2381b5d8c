"""The structured query form converts to the core tree and back without loss; rows and CSV chunks parse."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitseg.errors import InvalidInputError
from bitseg.names import check_name
from bitseg.query.expressions import (
    All,
    And,
    Anniversary,
    Between,
    Compare,
    Contains,
    DateBetween,
    DateCompare,
    DimCompare,
    DimIn,
    DimIsNull,
    In,
    InList,
    InSegment,
    IsNull,
    Matches,
    MeasureCompare,
    Node,
    Not,
    Or,
    RelativeDay,
)
from bitseg.query.parser import parse
from bitseg.server.batches import read_batch
from bitseg.server.convert import expr_to_node, node_to_expr
from bitseg.v1 import segments_pb2 as pb

SPEC_EXAMPLES = [
    "purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)",
    "orders > 10 AND clv >= 1000 AND last_purchase_date < -180d",
    ("purchases MATCHES (department = 'Womenswear', season = 'AW24', sum_quantity >= 2) "
     "AND purchases NOT MATCHES (season = 'SS25')"),
    "ANNIVERSARY(birth_date) BETWEEN today AND +13d AND loyalty_member = true AND email IS NOT NULL",
    "input_date >= -30d AND orders = 0",
    "orders = 1 AND purchases MATCHES (date BETWEEN -90d AND -60d)",
    "purchases MATCHES (source IN ('cpc', 'paid_social')) AND purchases NOT MATCHES (source NOT IN ('cpc', 'paid_social'))",
    "purchases MATCHES (department = 'Shoes', color = 'black', date >= -12m, sum_quantity >= 3)",
    "(gender IS NULL OR birth_date IS NULL) AND purchases MATCHES (date >= -365d)",
    "(purchases MATCHES (date >= -365d, sum_amount >= 500) OR IN LIST 'gold_manual') AND NOT IN LIST 'tier_blocked'",
    "tags CONTAINS 'app_user' AND NOT country IN ('NL', 'BE')",
    "clv BETWEEN 10.5 AND 99.95 AND points NOT BETWEEN 1 AND 5 AND tags NOT CONTAINS 'x' AND IN SEGMENT 'a-b'",
    "ALL AND NOT (purchases MATCHES (color IS NOT NULL, days > 3, count <= 2, date < 2026-01-01, brand >= 'M'))",
]


@pytest.mark.parametrize("text", SPEC_EXAMPLES)
def test_spec_examples_round_trip(text: str) -> None:
    tree = parse(text)
    wire = pb.Expr.FromString(node_to_expr(tree).SerializeToString())
    assert expr_to_node(wire) == tree


names = st.sampled_from(["country", "tags", "points", "birth_date", "clv", "x_1"])
texts = st.text(max_size=8)
days = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
relative = st.builds(RelativeDay, st.integers(-1000, 1000), st.sampled_from("dwmy"))
day_values = st.one_of(days, relative)
decimals = st.decimals(min_value=-10**9, max_value=10**9, places=4, allow_nan=False, allow_infinity=False)
values = st.one_of(texts, st.integers(-(2**63), 2**63 - 1), decimals, st.booleans(), day_values)
params = st.one_of(
    st.builds(DimCompare, names, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), texts),
    st.builds(DimIn, names, st.lists(texts, min_size=1, max_size=3).map(tuple), st.booleans()),
    st.builds(DimIsNull, names, st.booleans()),
    st.builds(DateCompare, st.sampled_from(["=", "<", "<=", ">", ">="]), day_values),
    st.builds(DateBetween, day_values, day_values),
    st.builds(MeasureCompare, st.sampled_from(["count", "sum_amount", "sum_quantity", "days"]),
              st.sampled_from(["=", "!=", "<", ">="]), st.one_of(st.integers(-10**6, 10**6), decimals)),
)
leaves = st.one_of(
    st.just(All()), st.builds(Compare, names, st.sampled_from(["=", "<", "<=", ">", ">="]), values),
    st.builds(Between, names, values, values), st.builds(In, names, st.lists(values, min_size=1, max_size=3).map(tuple)),
    st.builds(IsNull, names), st.builds(Contains, names, texts), st.builds(Anniversary, names, day_values, day_values),
    st.builds(InSegment, st.from_regex(r"[A-Za-z0-9_-]{1,10}", fullmatch=True)),
    st.builds(InList, st.from_regex(r"[A-Za-z0-9_-]{1,10}", fullmatch=True)),
    st.builds(Matches, st.lists(params, max_size=4).map(tuple)),
)
trees = st.recursive(leaves, lambda kids: st.one_of(
    st.builds(Not, kids),
    st.builds(And, st.lists(kids, min_size=2, max_size=3).map(tuple)),
    st.builds(Or, st.lists(kids, min_size=2, max_size=3).map(tuple)),
), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(trees)
def test_random_trees_round_trip(tree: Node) -> None:
    wire = pb.Expr.FromString(node_to_expr(tree).SerializeToString())
    assert expr_to_node(wire) == tree


def test_decimal_values_keep_their_digits() -> None:
    tree = Compare("clv", ">=", Decimal("1000.50"))
    assert node_to_expr(tree).compare.value.decimal == "1000.50"
    assert expr_to_node(node_to_expr(tree)).value.as_tuple() == Decimal("1000.50").as_tuple()


def test_names() -> None:
    assert check_name("A-z_09", "segment") == "A-z_09"
    for bad in ("", "a b", "a/b", "x" * 65, "ü", "a\n"):
        with pytest.raises(InvalidInputError):
            check_name(bad, "segment")


def test_csv_chunk_line_numbers_with_quoted_newlines() -> None:
    data = b'c1,"a\nb"\nc2,plain\nc3\r\nc4,"x""y"\n'
    batch = read_batch(pb.ProfileBatch(csv=pb.CsvChunk(header=["customer", "note"], data=data, first_line=10)), 1)
    [columns] = batch.parts
    assert columns.columns == {"customer": ["c1", "c2", "c4"], "note": ["a\nb", "plain", 'x"y']}
    assert columns.numbers == [10, 12, 14]
    assert batch.rejected == [(13, "1 cell, the header has 2")]


def test_plain_csv_fast_path_matches_the_csv_module() -> None:
    data = b"c1,a\r\nc2,\r\n\r\nc3,b,extra\r\nc4,d"
    batch = read_batch(pb.ProfileBatch(csv=pb.CsvChunk(header=["customer", "note"], data=data, first_line=2)), 1)
    [columns] = batch.parts
    assert columns.columns == {"customer": ["c1", "c2", "c4"], "note": ["a", "", "d"]}
    assert columns.numbers == [2, 3, 6]
    assert batch.rejected == [(5, "3 cells, the header has 2")]


def test_rows_are_numbered_through_the_stream() -> None:
    batch = read_batch(pb.ProfileBatch(rows=[pb.Row(cells={"customer": "a"}), pb.Row(cells={"customer": "b"},
                                                                                    row_number=77)]), 5)
    [rows] = batch.parts
    assert rows.rows == [{"customer": "a"}, {"customer": "b"}] and rows.numbers == [5, 77]
