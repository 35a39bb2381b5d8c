"""`measure BETWEEN` inside MATCHES against the oracle, and the hints for spellings the language does not take.

Before, `sum_amount BETWEEN 10 AND 20` was "expected a comparison", `orders >= 2` inside MATCHES was "a purchase
dimension is compared with a string such as 'black'", and `-6 months`, `2026-1-1` got no suggestion.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitseg.errors import QueryError
from bitseg.query.expressions import Matches, MeasureCompare
from bitseg.query.parser import parse
from bitseg.query.printer import to_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_oracle_properties import MATCHES, Context, drawing, examples, worlds  # noqa: E402

BOUNDS = st.one_of(st.integers(-5, 300), st.sampled_from((Decimal("0.5"), Decimal("59.90"), Decimal("-1.25"))))


def test_measure_between_is_the_inclusive_range() -> None:
    tree = parse("purchases MATCHES (brand = 'x', sum_amount BETWEEN 10 AND 20.5)")
    assert isinstance(tree, Matches)
    assert tree.measures == (MeasureCompare("sum_amount", ">=", 10), MeasureCompare("sum_amount", "<=",
                                                                                    Decimal("20.5")))
    assert parse(to_text(tree)) == tree  # printed as the two comparisons it means
    assert parse("PURCHASES MATCHES (COUNT between 2 AND 3)") == parse("purchases MATCHES (count >= 2, count <= 3)")
    with pytest.raises(QueryError, match="sum_amount is compared with a number"):
        parse("purchases MATCHES (sum_amount BETWEEN 'a' AND 3)")
    with pytest.raises(QueryError, match="expected 'and' between the two bounds|AND"):
        parse("purchases MATCHES (days BETWEEN 1 3)")


@examples(60)
@given(st.data())
def test_measure_between_equals_the_oracle(data) -> None:
    world = data.draw(worlds(), label="world")
    index, oracle = world.build()
    with drawing(Context(world.as_of, tuple(world.day_pool))):
        base = data.draw(MATCHES, label="matches")
    measure = data.draw(st.sampled_from(("count", "days", "sum_amount", "sum_quantity")), label="measure")
    low, high = data.draw(BOUNDS, label="low"), data.draw(BOUNDS, label="high")
    text = to_text(base)[:-1] + (", " if base.params else "") + f"{measure} BETWEEN {low} AND {high})"
    # The oracle's meaning of the range, written by hand: both bounds hold (reversed bounds: nobody).
    expected = oracle.members(Matches(base.params + (MeasureCompare(measure, ">=", low),
                                                     MeasureCompare(measure, "<=", high))), world.as_of)
    assert set(index.members(text, as_of=world.as_of)) == expected, text


@pytest.mark.parametrize(("query", "hint"), [
    ("purchases MATCHES (orders >= 2)", "'orders' is a customer field, not a purchase dimension"),
    ("purchases MATCHES (clv > 10)", "or count >= 2 inside"),
    ("input_date >= -6 months", "write -6m for 6 months"),
    ("purchases MATCHES (date >= -2 weeks)", "write -2w for 2 weeks"),
    ("input_date >= 2026-1-1", "dates are written YYYY-MM-DD: 2026-01-01"),
    ("purchases MATCHES (date BETWEEN 2026-3-9 AND today)", "2026-03-09"),
])
def test_hints(query: str, hint: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse(query)
    assert hint in str(raised.value)
    assert raised.value.line == 1
