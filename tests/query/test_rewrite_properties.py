"""Every rewrite, and `normalize` as a whole, keeps a query's members (by the oracle) and is idempotent.

The data and tree strategies are those of test_oracle_properties.py. Its trees come out flat, the way the parser
builds them; here they are tangled first (nested AND in AND, NOT NOT, repeated operands, ALL among operands:
all writable in the DSL with parentheses) so that each rewrite has work to do.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitseg.query.expressions import All, And, Node, Not, Or
from bitseg.query.printer import to_text
from bitseg.query.rewrite import REWRITES, normalize

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_oracle_properties import (  # a sibling test module: tests/query is not a package
    SPECIAL_DAYS,
    Context,
    draw_tree,
    evaluation_days,
    examples,
    worlds_with_segments,
)

# Each rewrite on its own (flatten runs twice in REWRITES; once is enough here), then the whole pipeline.
STAGES: dict[str, Callable[[Node], Node]] = {
    **{rewrite.__name__: rewrite for rewrite in REWRITES},
    "normalize": normalize,
}

WRAPS = st.sampled_from(("keep", "keep", "keep", "not_not", "with_all", "twice_or", "twice_and"))
ONE_IN_THREE = st.integers(0, 2).map(lambda n: n == 0)


def tangle(draw: Callable, node: Node) -> Node:
    """The same kind of tree as `node`, with the redundancy the rewrites remove put back in at random."""
    if isinstance(node, Not):
        node = Not(tangle(draw, node.operand))
    elif isinstance(node, And | Or):
        kind = type(node)
        operands = [tangle(draw, operand) for operand in node.operands]
        if len(operands) >= 3 and draw(ONE_IN_THREE):  # a AND b AND c → a AND (b AND c)
            cut = draw(st.integers(1, len(operands) - 2))
            operands = operands[:cut] + [kind(tuple(operands[cut:]))]
        if draw(ONE_IN_THREE):
            operands.insert(draw(st.integers(0, len(operands))), draw(st.sampled_from(operands)))
        if draw(ONE_IN_THREE):
            operands.insert(draw(st.integers(0, len(operands))), All())
        node = kind(tuple(operands))
    wrap = draw(WRAPS)
    if wrap == "not_not":
        return Not(Not(node))
    if wrap == "with_all":
        return And((node, All())) if draw(st.booleans()) else Or((All(), node))
    if wrap == "twice_or":
        return Or((node, node))
    if wrap == "twice_and":
        return And((node, node))
    return node


def show(name: str, tree: Node, rewritten: Node) -> str:
    return f"\nrewrite: {name}\nquery:     {to_text(tree)}\nrewritten: {to_text(rewritten)}\ntree: {tree!r}"


@examples(60)
@given(st.data())
def test_each_rewrite_keeps_the_members(data) -> None:
    world, ctx = data.draw(worlds_with_segments(max_customers=8), label="world")
    index, oracle = world.build()
    for _ in range(3):
        as_of = data.draw(evaluation_days(world.as_of), label="as_of")
        tree = draw_tree(data.draw, Context(as_of, ctx.day_pool, ctx.segments, ctx.lists), max_leaves=6)
        tree = tangle(data.draw, tree)
        expected = oracle.members(tree, as_of)
        for name, rewrite in STAGES.items():
            rewritten = rewrite(tree)
            got = oracle.members(rewritten, as_of)
            assert got == expected, (f"oracle: extra {sorted(got - expected)} missing {sorted(expected - got)}"
                                     + show(name, tree, rewritten) + f"\nas_of: {as_of}\nsteps: {world.steps!r}")
            engine = set(index.members(rewritten, as_of=as_of))
            assert engine == expected, (f"engine: extra {sorted(engine - expected)} missing "
                                        f"{sorted(expected - engine)}" + show(name, tree, rewritten)
                                        + f"\nas_of: {as_of}\nsteps: {world.steps!r}")


@pytest.mark.parametrize("name", list(STAGES))
@examples(150)
@given(data=st.data())
def test_each_rewrite_is_idempotent(name: str, data) -> None:
    as_of = data.draw(st.sampled_from(SPECIAL_DAYS), label="as_of")
    ctx = Context(as_of, day_pool=(as_of - dt.timedelta(10), as_of), segments=("s0", "s1"))
    tree = tangle(data.draw, draw_tree(data.draw, ctx, max_leaves=8))
    once = STAGES[name](tree)
    twice = STAGES[name](once)
    assert twice == once, f"not idempotent{show(name, tree, once)}\nagain:     {to_text(twice)}"
