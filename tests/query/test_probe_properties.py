"""Membership decided for one customer (index/probe.py) against the oracle and against full evaluation.

CheckMembership and CustomerSegments decide each saved segment for the one customer asked about when the segment
cache is empty (after any write); these properties pin that per-column path to the oracle (plain sets) on random
worlds and trees of every construct, before and after later changes, and to the engine's full evaluation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_oracle_properties import (  # noqa: E402
    Context,
    apply,
    draw_tree,
    evaluation_days,
    examples,
    show,
    worlds_with_segments,
)

from bitseg.index import planner  # noqa: E402
from bitseg.index.probe import Probe  # noqa: E402
from bitseg.query.expressions import InSegment  # noqa: E402
from bitseg.query.printer import to_text  # noqa: E402


def assert_probes_agree(data, world, ctx, index, oracle, phase: str) -> None:
    names = sorted(index.segments)
    customers = sorted(oracle.customers) + ["nobody"]
    for _ in range(3):
        as_of = data.draw(evaluation_days(world.as_of), label="as_of")
        # the saved segments, through the RPC paths, on an empty cache (a write came last)
        expected = {name: oracle.members(InSegment(name), as_of) for name in names}
        for customer in customers:
            got = index.check_membership(customer, names, as_of=as_of)
            want = [customer in expected[name] for name in names]
            assert got == want, f"{customer}: {got} != {want}" + show(world, InSegment(names[0]), as_of, phase)
            if customer in oracle.customers:
                assert index.customer_segments(customer, as_of=as_of) == [n for n in names if customer in expected[n]]
        # and a random tree, node by node, against the oracle and the full evaluation
        tree = draw_tree(data.draw, Context(as_of, ctx.day_pool, ctx.segments, ctx.lists))
        normalized, text = index.compiler.normalized(to_text(tree))
        plan = planner.plan(normalized, index, as_of, text)
        want_all = oracle.members(tree, as_of)
        full = set(index.members(text, as_of=as_of))
        assert full == want_all, show(world, tree, as_of, phase)
        for customer in sorted(oracle.customers):
            column = index.translator.column(customer)
            assert Probe(index, column).contains(plan.root) == (customer in want_all), (
                customer + show(world, tree, as_of, phase))


@examples(120)
@given(st.data())
def test_probe_equals_oracle_and_full_evaluation(data) -> None:
    world, ctx = data.draw(worlds_with_segments(), label="world")
    index, oracle = world.build()
    apply([("segment", ("s3", draw_tree(data.draw, ctx, max_leaves=5)))], index, oracle)  # on s0..s2
    assert_probes_agree(data, world, ctx, index, oracle, "first")
    apply(world.later, index, oracle)
    assert_probes_agree(data, world, ctx, index, oracle, "after changes")
