"""The plan stage: golden Explain printouts of SPEC §2 examples, the planner's access-path choices, its errors,
and plans run by the executor against the independent oracle on random data and random trees."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitseg import Index
from bitseg.days import day_number
from bitseg.errors import NotFoundError, QueryError
from bitseg.index import plan as p
from bitseg.index.bitmaps import columns
from bitseg.index.executor import execute
from bitseg.index.planner import plan
from bitseg.query.expressions import InSegment
from bitseg.query.printer import to_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "query"))
from test_oracle_properties import (  # the oracle test's worlds and tree strategies, shared
    Context,
    draw_tree,
    evaluation_days,
    examples,
    worlds_with_segments,
)

SCHEMA = """\
[profile]
gender = "keyword"
country = "keyword"
tags = "tags"
loyalty_member = "bool"
email = "presence"
birth_date = "date"
input_date = "date"

[purchase]
brand = "keyword"
department = "keyword"
season = "keyword"
color = "keyword"
source = "keyword"
"""
AS_OF = dt.date(2026, 3, 3)


@pytest.fixture(scope="module")
def tiny() -> Index:
    """Three customers and five lines over two years, two lists and a saved segment."""
    idx = Index.from_toml(SCHEMA)
    idx.upsert_profiles([
        {"customer": "ann", "gender": "f", "country": "NL", "tags": "app_user|vip", "loyalty_member": True,
         "email": "ann@example.com", "birth_date": "1990-03-05", "input_date": "2026-02-20"},
        {"customer": "bob", "country": "DE", "tags": "app_user", "loyalty_member": False, "birth_date": "1985-12-31"},
        {"customer": "cid", "gender": "m", "country": "BE", "email": "cid@example.com"},
    ])
    idx.add_purchases([
        {"customer": "ann", "time": "2025-10-02", "amount": "320.00", "brand": "Levi's", "department": "Womenswear",
         "season": "AW24", "color": "blue", "source": "cpc", "order": "o1", "quantity": 2},
        {"customer": "ann", "time": "2026-03-01", "amount": "40.00", "brand": "Nike", "department": "Shoes",
         "season": "SS25", "color": "black", "source": "paid_social", "order": "o2"},
        {"customer": "bob", "time": "2024-06-15", "amount": "99.95", "brand": "Levi's", "department": "Menswear",
         "season": "SS24", "color": "black", "source": "email", "order": "o3"},
        {"customer": "bob", "time": "2025-12-24", "amount": "-20.00", "brand": "Levi's", "quantity": -1, "order": "o4"},
        {"customer": "cid", "time": "2026-01-10", "amount": "12.50", "department": "Shoes", "color": "black",
         "source": "cpc", "order": "o5"},
    ])
    idx.update_list("gold_manual", add=["cid"])
    idx.update_list("tier_blocked", add=["bob"])
    idx.save_segment("shoe_buyers", "purchases MATCHES (department = 'Shoes')")
    return idx


def planned(idx: Index, query: str, as_of: dt.date = AS_OF) -> p.Plan:
    tree, text = idx.compiler.normalized(query)
    return plan(tree, idx, as_of, text)


def members(idx: Index, found: p.Plan) -> set[str]:
    return set(idx.translator.to_keys(columns(execute(found, idx) & idx.existence)).tolist())


GOLDEN = [
    ("purchases MATCHES (brand = 'Levi''s', date >= -6m)", """\
PURCHASES MATCHES (brand = 'Levi''s', date >= -6m)  → time views: brand 1 value, 34 buckets (5 months, 29 days), \
days 2025-09-03 to 2026-03-01""", {"ann"}),
    ("purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)", """\
PURCHASES MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)  → month roll-up: brand 1 value, 6 months from \
2025-10; days 2025-09-03 to 2026-03-03""",
     {"ann"}),
    ("orders > 10 AND clv >= 1000 AND last_purchase_date < -180d", """\
orders > 10 AND clv >= 1000 AND last_purchase_date < -180d  → intersect 3, smallest first, then 3 range walks \
within the result, smallest estimate first
  orders > 10  → range index: 2 bit slices, ~0 customers
  clv >= 1000  → range index: 22 bit slices, ~0 customers
  last_purchase_date < -180d  → range index: 15 bit slices, ~1 customer""", set()),
    ("purchases MATCHES (department = 'Womenswear', season = 'AW24', sum_quantity >= 2) AND purchases NOT MATCHES "
     + "(season = 'SS25')", """\
PURCHASES MATCHES (department = 'Womenswear', season = 'AW24', sum_quantity >= 2) AND PURCHASES NOT MATCHES \
(season = 'SS25')  → minus 1
  PURCHASES MATCHES (department = 'Womenswear', season = 'AW24', sum_quantity >= 2)  → month roll-up: department 1 \
value, season 1 value, months up to 2026-03; days up to 2026-03-03
  minus PURCHASES MATCHES (season = 'SS25')  → time views: season 1 value, 26 buckets (1 year, 8 months, 17 days), \
days 2024-06-15 to 2026-03-01""", set()),
    ("ANNIVERSARY(birth_date) BETWEEN today AND +13d AND loyalty_member = true AND email IS NOT NULL", """\
ANNIVERSARY(birth_date) BETWEEN TODAY AND +13d AND loyalty_member = TRUE AND email IS NOT NULL  → intersect 3, \
smallest first
  ANNIVERSARY(birth_date) BETWEEN TODAY AND +13d  → month-day table: 14 days of the year
  loyalty_member = TRUE  → row bitmap
  email IS NOT NULL  → bitmap of set values""", {"ann"}),
    ("(gender IS NULL OR birth_date IS NULL) AND purchases MATCHES (date >= -365d)", """\
(gender IS NULL OR birth_date IS NULL) AND PURCHASES MATCHES (date >= -365d)  → intersect 2, smallest first
  gender IS NULL OR birth_date IS NULL  → union of 2
    gender IS NULL  → existence minus
      gender IS NOT NULL  → bitmap of set values
    birth_date IS NULL  → existence minus
      birth_date IS NOT NULL  → bitmap of set values
  PURCHASES MATCHES (date >= -365d)  → time views: any purchase, 41 buckets (11 months, 30 days), \
days 2025-03-03 to 2026-03-01""", {"cid"}),
    ("(purchases MATCHES (date >= -365d, sum_amount >= 500) OR IN LIST 'gold_manual') AND NOT IN LIST 'tier_blocked'",
     """\
(PURCHASES MATCHES (date >= -365d, sum_amount >= 500) OR IN LIST 'gold_manual') AND NOT IN LIST 'tier_blocked'  \
→ minus 1
  PURCHASES MATCHES (date >= -365d, sum_amount >= 500) OR IN LIST 'gold_manual'  → union of 2
    PURCHASES MATCHES (date >= -365d, sum_amount >= 500)  → month roll-up: any line, 12 months from 2025-04; days \
2025-03-03 to 2026-03-03
    IN LIST 'gold_manual'  → static list bitmap
  minus IN LIST 'tier_blocked'  → static list bitmap""", {"cid"}),
    ("tags CONTAINS 'app_user' AND NOT country IN ('NL', 'BE')", """\
tags CONTAINS 'app_user' AND country NOT IN ('NL', 'BE')  → minus 1
  tags CONTAINS 'app_user'  → row bitmap
  minus country IN ('NL', 'BE')  → union of 2 rows""", {"bob"}),
    ("IN SEGMENT 'shoe_buyers' AND NOT purchases MATCHES (date != yesterday)", """\
IN SEGMENT 'shoe_buyers' AND PURCHASES NOT MATCHES (date != YESTERDAY)  → minus 1
  IN SEGMENT 'shoe_buyers'  → cached segment 'shoe_buyers' as of 2026-03-03, else:
    PURCHASES MATCHES (department = 'Shoes')  → time views: department 1 value, 26 buckets (1 year, 8 months, \
17 days), days 2024-06-15 to 2026-03-01
  minus PURCHASES MATCHES (date != YESTERDAY)  → scan of 5 lines, days up to 2026-03-03""", set()),
]


@pytest.mark.parametrize(("query", "expected", "answer"), GOLDEN, ids=[q[:40] for q, _, _ in GOLDEN])
def test_explain_golden(tiny: Index, query: str, expected: str, answer: set[str]) -> None:
    found = planned(tiny, query)
    assert found.explain() == expected
    assert str(found) == expected
    assert members(tiny, found) == answer == set(tiny.members(query, as_of=AS_OF))


def test_walk_visits_every_node_parents_first(tiny: Index) -> None:
    found = planned(tiny, GOLDEN[5][0])
    walked = list(found.walk())
    assert [depth for depth, _ in walked] == [0, 1, 2, 3, 2, 3, 1]
    assert len(walked) == len(found.explain().splitlines())
    assert isinstance(walked[0][1], p.Intersect) and walked[0][1].children() == found.root.children()


@pytest.mark.parametrize(("query", "kind"), [
    ("purchases MATCHES (brand = 'Levi''s', date >= -6m)", p.ViewWindow),
    ("purchases MATCHES (brand = 'Levi''s')", p.ViewWindow),                        # all time: still views
    ("purchases MATCHES (date >= -30d)", p.ViewWindow),                             # no dimension: ANY
    ("purchases MATCHES (brand != 'Nike', brand != 'x', date <= -1w)", p.ViewWindow),  # one dimension, twice
    ("purchases MATCHES (brand = 'Levi''s', date >= -6m, count >= 2)", p.LineBitmaps),  # a measure, narrow
    ("purchases MATCHES (brand != 'Nike', count >= 2)", p.LineScan),  # a measure, most of the window
    ("purchases MATCHES (brand = 'Levi''s', color = 'black')", p.MonthRollup),  # two dimensions, whole months
    ("purchases MATCHES (brand = 'Levi''s', color = 'black', count >= 1)", p.LineScan),  # each > half
    ("purchases MATCHES (department = 'Shoes', color = 'blue', days > 1)", p.LineBitmaps),  # narrow
    ("purchases MATCHES (brand = 'Levi''s', color = 'black', season = 'AW24')", p.LineBitmaps),  # 3 dimensions
    ("purchases MATCHES (brand = 'Levi''s', date >= -6d, sum_amount > 1)", p.MonthRollup),  # no edge line
    ("purchases MATCHES (brand = 'Levi''s', date BETWEEN -75d AND -69d, sum_amount > 1)", p.LineScan),  # no month
    ("purchases MATCHES (brand = 'Levi''s', date != 2026-01-10)", p.LineScan),       # no window
])
def test_views_or_scan(tiny: Index, query: str, kind: type) -> None:
    assert type(planned(tiny, query).root) is kind


def test_many_values_are_scanned() -> None:
    idx = Index.from_toml('[purchase]\nbrand = "keyword"')
    idx.add_purchases([{"customer": f"c{i}", "time": "2026-01-05", "amount": "1", "brand": f"b{i}"}
                       for i in range(300)])
    few, many = planned(idx, "purchases MATCHES (brand < 'b2')"), planned(idx, "purchases MATCHES (brand != 'b7')")
    assert isinstance(few.root, p.ViewWindow) and len(few.root.codes) == 112  # b0, b1, b10..b199
    assert isinstance(many.root, p.LineScan) and many.root.lines == 300
    assert len(members(idx, many)) == 299


def test_window_and_codes_are_resolved_in_the_plan(tiny: Index) -> None:
    view = planned(tiny, "purchases MATCHES (brand IN ('Levi''s', 'Zara'), date BETWEEN -6m AND -1d)").root
    assert isinstance(view, p.ViewWindow)
    assert view.codes == (0,)  # 'Zara' has no code: no value, no view
    assert (view.low_day, view.high_day) == (day_number(dt.date(2025, 9, 3)), day_number(dt.date(2026, 3, 1)))
    scan = planned(tiny, "purchases MATCHES (season = 'SS25', date != today, sum_amount > 10.5)").root
    assert isinstance(scan, p.LineScan)
    assert scan.filters == (p.DimCodes("season", frozenset({1}), 3), p.DayCompare("!=", day_number(AS_OF)))
    assert scan.measures == (p.MeasureTest("sum_amount", ">", 105000),)
    assert planned(tiny, "orders > 1.5").root == p.FieldRange("orders", ">", (Decimal("1.5"),), 3, 2)
    many = planned(tiny, f"orders IN ({', '.join(map(str, range(20)))})").root
    assert isinstance(many, p.FieldRange) and many.slices is None  # a long IN list reads the column once
    assert many.access() == "column compare over 3 customers"
    assert planned(tiny, "orders IN (1, 2)").root.access() == "range index: 2 bit slices, 2 values, ~3 customers"


def test_and_subtracts_negations_without_a_complement(tiny: Index) -> None:
    root = planned(tiny, "NOT country = 'NL' AND NOT IN LIST 'gold_manual'").root
    assert isinstance(root, p.Subtract) and isinstance(root.base, p.Existence)
    assert [type(o) for o in root.operands] == [p.FieldRows, p.ListMembers]
    assert isinstance(planned(tiny, "email IS NOT NULL").root, p.Present)


def test_plans_are_values(tiny: Index) -> None:
    query = GOLDEN[8][0]
    assert planned(tiny, query) == planned(tiny, query)
    assert planned(tiny, query) != planned(tiny, query, AS_OF - dt.timedelta(1))


@pytest.mark.parametrize(("query", "message", "offset"), [
    ("gender = 'f' AND purchases MATCHES (date >= -99999y)", "date RelativeDay(amount=-99999, unit='y') is out of range",
     36),
    ("ANNIVERSARY(birth_date) BETWEEN today AND -1d", "ANNIVERSARY range ends (2026-03-02) before it starts", 0),
    ("ANNIVERSARY(birth_date) BETWEEN today AND +2y", "ANNIVERSARY range covers 732 days", 0),
])
def test_errors_carry_the_position(tiny: Index, query: str, message: str, offset: int | None) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        planned(tiny, query)
    if offset is not None:
        assert caught.value.offset == offset


def test_reference_cycles_and_unknown_names(tiny: Index) -> None:
    class Cyclic:
        """The tiny index, with a segment that (against the save-time check) refers to itself."""

        def __getattr__(self, name: str) -> object:
            return getattr(tiny, name)

        def segment_tree(self, name: str):
            return InSegment("loop") if name == "loop" else tiny.segment_tree(name)

    looping = plan(InSegment("loop", pos=3), Cyclic(), AS_OF, "xx IN SEGMENT 'loop'")  # type: ignore[arg-type]
    # a segment's own plan is made when first needed (a cached segment needs none): the cycle shows up then
    with pytest.raises(QueryError, match="segment reference cycle: loop → loop"):
        looping.explain()
    with pytest.raises(QueryError, match="segment reference cycle: loop → loop"):
        execute(looping, Cyclic())  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="unknown list 'nope'"):
        planned(tiny, "IN LIST 'nope'")
    with pytest.raises(NotFoundError, match="unknown segment 'nope'"):
        planned(tiny, "IN SEGMENT 'nope'")


# ── plans run by the executor against the oracle ─────────────────────────────────────────────────────────

@examples(60)
@given(st.data())
def test_executed_plans_equal_oracle(data) -> None:
    world, ctx = data.draw(worlds_with_segments(), label="world")
    index, oracle = world.build()
    for _ in range(4):
        as_of = data.draw(evaluation_days(world.as_of), label="as_of")
        tree = draw_tree(data.draw, Context(as_of, ctx.day_pool, ctx.segments, ctx.lists))
        expected = oracle.members(tree, as_of)
        found = planned(index, to_text(tree), as_of)
        assert members(index, found) == expected, f"{to_text(tree)} on {as_of}\n{found.explain()}"
        assert len(found.explain().splitlines()) == sum(1 for _ in found.walk())
