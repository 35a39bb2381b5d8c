"""An AND of number compares walks the range indexes smallest estimate first, each within the result so far
(planner._walks_last, executor._intersect): against the oracle on random worlds (NULLs, negatives, decimals,
the built-ins), with random compares, BETWEENs and IN lists on int, decimal and date fields, some negated."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bitseg.index import plan as p
from bitseg.index.planner import plan
from bitseg.query.expressions import And, Between, Compare, In, Not
from bitseg.query.printer import to_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "query"))
from test_oracle_properties import (
    DATE_FIELDS,
    DECIMAL_FIELDS,
    INT_FIELDS,
    ORDERING,
    VALUES,
    Context,
    drawing,
    examples,
    ordered,
    worlds,
)

NUMBERS = DATE_FIELDS + INT_FIELDS + DECIMAL_FIELDS


@st.composite
def number_compare(draw):
    name = draw(st.sampled_from(NUMBERS))
    kind = draw(st.sampled_from(("compare", "compare", "between", "in", "not")))
    if kind == "between":
        return Between(name, *ordered(draw(VALUES[name]), draw(VALUES[name])))
    if kind == "in":
        return In(name, tuple(draw(st.lists(VALUES[name], min_size=1, max_size=3))))
    node = Compare(name, draw(st.sampled_from(ORDERING)), draw(VALUES[name]))
    return Not(node) if kind == "not" else node


@examples(150)
@given(st.data())
def test_and_of_number_compares_equals_the_oracle(data) -> None:
    world = data.draw(worlds(), label="world")
    index, oracle = world.build()
    with drawing(Context(world.as_of, tuple(world.day_pool))):
        for _ in range(4):
            tree = And(tuple(data.draw(st.lists(number_compare(), min_size=2, max_size=4), label="compares")))
            text = to_text(tree)
            normal = index.compiler.normalized(text)[0]
            found = plan(normal, index, world.as_of, text)
            assert set(index.members(text, as_of=world.as_of)) == oracle.members(tree, world.as_of), (
                f"{text} on {world.as_of}\n{found}")
            for _, node in found.walk():  # the walks come last, smallest estimate first
                if isinstance(node, p.Intersect):
                    estimates = [o.estimate for o in node.operands if isinstance(o, p.FieldRange)
                                 and o.estimate is not None]
                    assert estimates == sorted(estimates), str(found)
