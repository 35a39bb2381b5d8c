"""Scans that share their measures (index/sharing.py) answer as the oracle does: many MATCHES over the same lines
with only the measure or its threshold changing, in one query, in a tiering and in a count batch."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bitseg.query.expressions import Matches, Or
from bitseg.query.printer import to_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_oracle_properties import (  # a sibling test module: tests/query is not a package
    drawing,
    examples,
    line_filters,
    measures,
    worlds_with_segments,
)


@st.composite
def sibling_matches(draw) -> list[Matches]:
    """3 to 6 MATCHES over the same line filters (the same scan), each with its own measures."""
    filters = tuple(draw(st.lists(line_filters(), max_size=2)))
    return [Matches(filters + tuple(draw(st.lists(measures(), min_size=1, max_size=2))))
            for _ in range(draw(st.integers(3, 6)))]


@examples(60)
@given(st.data())
def test_matches_sharing_a_scan_equal_the_oracle(data) -> None:
    world, ctx = data.draw(worlds_with_segments(max_customers=10), label="world")
    index, oracle = world.build()
    as_of = world.as_of
    with drawing(ctx):  # the world's days, for the date filters
        siblings = data.draw(sibling_matches(), label="siblings")
    either = Or(tuple(siblings))
    assert set(index.members(to_text(either), as_of=as_of)) == oracle.members(either, as_of)
    tiers = [(f"t{i}", tree) for i, tree in enumerate(siblings)]
    index.save_tiering("spend", [(name, to_text(tree)) for name, tree in tiers], default="rest")
    assert list(index.count_tiers("spend", as_of=as_of)) == oracle.count_tiers(tiers, "rest", as_of)
    counted = index.count_batch([to_text(tree) for tree in siblings], as_of=as_of)
    assert [entry[0] for entry in counted] == [oracle.count(tree, as_of) for tree in siblings]
