"""Breakdown by a purchase dimension (SPEC §4): per value, the members who bought it in an optional date window
and their net revenue from it, against the oracle on random worlds and on a fixed example worked by hand.

Before, `breakdown --field department` was refused ("breakdown needs a keyword, bool or tags field").
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bitseg
from bitseg.errors import InvalidInputError
from bitseg.query.printer import to_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_oracle_properties import SCHEMA, apply, draw_tree, examples, near, worlds_with_segments  # noqa: E402


@examples(60)
@given(st.data())
def test_purchase_breakdown_equals_the_oracle(data) -> None:
    world, ctx = data.draw(worlds_with_segments(max_customers=10), label="world")
    index, oracle = world.build()
    as_of = world.as_of
    for round_ in range(2):  # again after later changes: nothing kept may go stale
        tree = draw_tree(data.draw, ctx, max_leaves=3)
        dim = data.draw(st.sampled_from(SCHEMA.dimensions), label="dim")
        start = data.draw(st.one_of(st.none(), near(as_of)), label="start")
        end = data.draw(st.one_of(st.none(), near(as_of)), label="end")
        expected = oracle.purchase_breakdown(tree, dim, as_of, start, end)
        got = index.purchase_breakdown(to_text(tree), dim, top=100, as_of=as_of, start=start, end=end)
        assert {value: (n, revenue) for value, n, revenue in got} == expected, (to_text(tree), dim, start, end)
        assert [row[1] for row in got] == sorted((row[1] for row in got), reverse=True)
        top = data.draw(st.integers(1, 3), label="top")
        assert index.purchase_breakdown(to_text(tree), dim, top=top, as_of=as_of, start=start, end=end) == got[:top]
        if round_ == 0:
            apply(world.later, index, oracle)


SHOP = """
[profile]
country = "keyword"
[purchase]
department = "keyword"
"""


def shop() -> bitseg.Index:
    index = bitseg.Index.from_toml(SHOP)
    index.upsert_profiles([{"customer": c, "country": country} for c, country in
                           (("ann", "NL"), ("bob", "NL"), ("cat", "BE"), ("dan", "NL"))])
    index.add_purchases([
        {"customer": "ann", "time": "2026-01-10", "amount": "100.00", "department": "Shoes", "order": "o1"},
        {"customer": "ann", "time": "2026-01-20", "amount": "-40.00", "quantity": -1, "department": "Shoes",
         "order": "o2"},
        {"customer": "ann", "time": "2026-02-01", "amount": "30.00", "department": "Bags", "order": "o3"},
        {"customer": "bob", "time": "2026-01-15", "amount": "59.90", "department": "Shoes", "order": "o4"},
        {"customer": "bob", "time": "2026-03-01", "amount": "20.00", "order": "o5"},  # no department
        {"customer": "cat", "time": "2026-01-12", "amount": "500.00", "department": "Shoes", "order": "o6"},
        # dan only returned shoes in the window: not a buyer, and his return is not in the buyers' revenue
        {"customer": "dan", "time": "2026-01-18", "amount": "-25.00", "quantity": -1, "department": "Shoes",
         "order": "o7"},
    ])
    return index


def test_fixed_example_worked_by_hand() -> None:
    index = shop()
    # Dutch members, all of January and February: ann (100 - 40) and bob (59.90) bought Shoes; ann Bags.
    rows = index.purchase_breakdown("country = 'NL'", "department", as_of="2026-03-31", start="2026-01-01",
                                    end="2026-02-28")
    assert rows == [("Shoes", 2, Decimal("119.90")), ("Bags", 1, Decimal("30.00"))]
    # No window: bob's line without a department counts as the NULL row, after the values of the same count.
    rows = index.purchase_breakdown("country = 'NL'", "department", as_of="2026-03-31")
    assert rows == [("Shoes", 2, Decimal("119.90")), ("Bags", 1, Decimal("30")), (None, 1, Decimal("20"))]
    # As of 2026-01-15 nothing after that day counts, whatever the window says: ann's return is not there yet.
    rows = index.purchase_breakdown("ALL", "department", as_of="2026-01-15", end="2026-12-31")
    assert rows == [("Shoes", 3, Decimal("659.90"))]
    assert index.purchase_breakdown("ALL", "department", top=1, as_of="2026-03-31")[0][0] == "Shoes"
    assert index.purchase_breakdown("ALL", "department", as_of="2026-03-31", start="2026-04-01") == []


def test_bad_input_is_named() -> None:
    index = shop()
    with pytest.raises(InvalidInputError, match="'country': not a purchase dimension"):
        index.purchase_breakdown("ALL", "country")
    with pytest.raises(InvalidInputError, match="top must be positive"):
        index.purchase_breakdown("ALL", "department", top=0)
    with pytest.raises(InvalidInputError, match="start"):
        index.purchase_breakdown("ALL", "department", start="2026-13-01")
