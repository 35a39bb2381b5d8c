"""Segment insight against the independent oracle: why agrees with membership, criteria and overlap equal separate
counts, BUCKET equals the SPEC formula (across restarts and re-imports) and 10 ranges partition ALL."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bitseg
from bitseg.errors import InvalidInputError, NotFoundError
from bitseg.persistence import Store
from bitseg.query.expressions import And, Bucket, Node, Not, Or
from bitseg.query.printer import to_text

sys.path.insert(0, str(Path(__file__).parent.parent / "query"))
from test_oracle_properties import (  # noqa: E402
    Context,
    draw_tree,
    evaluation_days,
    examples,
    worlds_with_segments,
)


def formula(salt: str, external_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}:{external_id}".encode()).digest()[:8], "big") % 10000


def _world(data):
    world, ctx = data.draw(worlds_with_segments(), label="world")
    index, oracle = world.build()
    as_of = data.draw(evaluation_days(world.as_of), label="as_of")
    return index, oracle, Context(as_of, ctx.day_pool, ctx.segments, ctx.lists), as_of


@examples(60)
@given(st.data())
def test_why_agrees_with_membership_for_every_customer(data) -> None:
    index, oracle, ctx, as_of = _world(data)
    tree = draw_tree(data.draw, ctx)
    expected = oracle.members(tree, as_of)
    for customer in sorted(oracle.customers):
        why = index.explain_member(customer, to_text(tree), as_of=as_of)
        assert why.is_member == (customer in expected), f"{customer}: {to_text(tree)}"
        assert why.steps[0].holds == why.is_member and why.steps[0].depth == 0
        assert all(len(step.lines) <= 20 for step in why.steps)
    for name in ctx.segments if oracle.customers else ():  # a saved segment: as CheckMembership says
        customer = data.draw(st.sampled_from(sorted(oracle.customers)), label="customer")
        assert (index.explain_member(customer, f"IN SEGMENT '{name}'", as_of=as_of).is_member
                == index.check_membership(customer, [name], as_of=as_of)[0])


@examples(60)
@given(st.data())
def test_criteria_equal_separate_counts(data) -> None:
    index, oracle, ctx, as_of = _world(data)
    kind = data.draw(st.sampled_from((And, Or)), label="kind")
    operands = tuple(draw_tree(data.draw, ctx, max_leaves=3) for _ in range(data.draw(st.integers(2, 4))))
    tree = kind(operands)
    found = index.count_criteria(to_text(tree), as_of=as_of)
    # the parser flattens `a AND (b AND c)`: the criteria are the top-level operands of the parsed text
    written = bitseg.query.parser.parse(to_text(tree))
    parts = written.operands if isinstance(written, And | Or) else (written,)
    assert found.combinator == ("OR" if isinstance(written, Or) else "AND")
    assert [c.text for c in found.criteria] == [to_text(p) for p in parts]
    combine = Or if isinstance(written, Or) else And
    assert found.total == oracle.count(written, as_of)
    for i, criterion in enumerate(found.criteria):
        assert criterion.count == oracle.count(parts[i], as_of)
        assert criterion.running == oracle.count(combine(parts[: i + 1]), as_of)
        rest = parts[:i] + parts[i + 1:]
        without = oracle.count(combine(rest), as_of) if rest else (
            len(oracle.customers) if combine is And else 0)
        assert criterion.without == without


@examples(40)
@given(st.data())
def test_overlap_equals_pairwise_counts(data) -> None:
    index, oracle, ctx, as_of = _world(data)
    trees: list[Node] = [draw_tree(data.draw, ctx, max_leaves=3) for _ in range(data.draw(st.integers(2, 5)))]
    found = index.overlap([to_text(t) for t in trees], as_of=as_of)
    members = [oracle.members(t, as_of) for t in trees]
    assert list(found.sizes) == [len(m) for m in members]
    n = len(trees)
    assert list(found.matrix) == [len(members[i] & members[j]) for i in range(n) for j in range(n)]


def test_overlap_takes_2_to_32_selections() -> None:
    index = bitseg.Index.from_toml('[profile]\nvip = "bool"')
    index.upsert_profiles([{"customer": "a", "vip": True}])
    with pytest.raises(InvalidInputError, match="2 to 32"):
        index.overlap(["ALL"])
    with pytest.raises(InvalidInputError, match="not 33"):
        index.overlap(["ALL"] * 33)
    assert index.overlap(["ALL"] * 32).sizes == (1,) * 32


def test_why_refuses_an_unknown_customer() -> None:
    index = bitseg.Index.from_toml('[profile]\nvip = "bool"')
    with pytest.raises(NotFoundError, match="unknown customer 'nobody'"):
        index.explain_member("nobody", "ALL")


# ── BUCKET ────────────────────────────────────────────────────────────────────────────────────────────────

SCHEMA = '[profile]\nvip = "bool"\n[purchase]\nbrand = "keyword"'


def _ids(n: int) -> list[str]:
    return [f"cust-{i:05d}" for i in range(n)]


def test_bucket_equals_the_spec_formula_and_ten_ranges_partition_all() -> None:
    index = bitseg.Index.from_toml(SCHEMA)
    ids = _ids(3000)
    index.upsert_profiles([{"customer": c, "vip": i % 2 == 0} for i, c in enumerate(ids)])
    for salt in ("q3", "holdout", "ünïcode"):
        for low in range(0, 10000, 1000):
            got = set(index.members(f"BUCKET('{salt}') BETWEEN {low} AND {low + 999}"))
            assert got == {c for c in ids if low <= formula(salt, c) <= low + 999}
        parts = [set(index.members(f"BUCKET('{salt}') BETWEEN {low} AND {low + 999}"))
                 for low in range(0, 10000, 1000)]
        assert sum(map(len, parts)) == len(ids) and set().union(*parts) == set(ids)
    sample = index.count("BUCKET('q3') < 1000")
    assert 200 < sample < 400  # about 10%
    assert index.count("NOT BUCKET('holdout') < 500") == sum(formula("holdout", c) >= 500 for c in ids)


def test_bucket_follows_new_and_erased_customers() -> None:
    index = bitseg.Index.from_toml(SCHEMA)
    index.upsert_profiles([{"customer": c} for c in _ids(100)])
    assert set(index.members("BUCKET('s') < 5000")) == {c for c in _ids(100) if formula("s", c) < 5000}
    later = _ids(250)[100:]
    index.add_purchases([{"customer": c, "time": "2026-01-05", "amount": "1"} for c in later])
    index.delete_customers(_ids(10))
    alive = set(_ids(250)) - set(_ids(10))
    assert set(index.members("BUCKET('s') < 5000")) == {c for c in alive if formula("s", c) < 5000}


def test_bucket_is_stable_across_a_restart_and_a_re_import(tmp_path: Path) -> None:
    ids = _ids(500)
    query = "BUCKET('q3') BETWEEN 2000 AND 6999"
    expected = sorted(c for c in ids if 2000 <= formula("q3", c) <= 6999)
    with Store(tmp_path / "a").open() as store:
        index = store.create_index("shop", SCHEMA)
        index.upsert_profiles([{"customer": c} for c in ids])
        assert sorted(index.members(query)) == expected
    with Store(tmp_path / "a").open() as store:  # recovered from the log and snapshot: nothing of buckets is stored
        assert sorted(store.get("shop").members(query)) == expected
    reimport = bitseg.Index.from_toml(SCHEMA)  # other order, other columns: the same buckets
    reimport.add_purchases([{"customer": c, "time": "2026-01-05", "amount": "1"} for c in reversed(ids)])
    assert sorted(reimport.members(query)) == expected


def test_bucket_in_a_plan_and_in_why() -> None:
    index = bitseg.Index.from_toml(SCHEMA)
    index.upsert_profiles([{"customer": "a", "vip": True}])
    steps = index.explain("vip = true AND NOT BUCKET('h') < 500", analyze=True)
    assert [s.text for s in steps] == ["vip = TRUE AND NOT BUCKET('h') < 500", "vip = TRUE", "BUCKET('h') < 500"]
    assert steps[2].minus and "bucket table of salt 'h'" in steps[2].access and steps[0].count is not None
    why = index.explain_member("a", "BUCKET('h') >= 0")
    assert why.is_member and why.steps[0].values == (f"BUCKET('h') = {formula('h', 'a')}",)
    assert Not(Bucket("h", "=", 3)) == bitseg.query.parser.parse("BUCKET('h') != 3")


def test_why_shows_values_measures_and_lines() -> None:
    index = bitseg.Index.from_toml('[profile]\ncountry = "keyword"\n[purchase]\nbrand = "keyword"')
    index.upsert_profiles([{"customer": "a", "country": "NL"}])
    index.add_purchases([{"customer": "a", "time": f"2026-01-{d:02d}", "amount": "40", "brand": "x",
                          "order": f"o{d}"} for d in range(1, 8)])
    why = index.explain_member("a", "country = 'NL' AND orders = 7 AND PURCHASES MATCHES (brand = 'x', "
                                    "sum_amount > 300)", as_of=dt.date(2026, 2, 1))
    values = {v for s in why.steps for v in s.values}
    assert {"country = 'NL'", "orders = 7", "sum_amount 280.00, needs > 300.00"} <= values
    assert not why.is_member
    lines = next(s.lines for s in why.steps if s.lines)
    assert [line.day.day for line in lines] == list(range(7, 0, -1)) and lines[0].order == "o7"
    assert lines[0].dimensions == {"brand": "x"}


def test_why_reads_lines_behind_line_bitmaps_and_built_ins_as_of_the_day() -> None:
    index = bitseg.Index.from_toml('[purchase]\nbrand = "keyword"')
    index.add_purchases([{"customer": "a", "time": f"2026-01-{d:02d}", "amount": "40", "order": f"o{d}",
                          "brand": "x" if d <= 2 else "y"} for d in range(1, 9)])
    query = "orders = 4 AND PURCHASES MATCHES (brand = 'x', sum_amount > 100)"
    day = dt.date(2026, 1, 4)  # before the last line day: orders is computed from the lines up to it
    assert any("line bitmaps" in step.access for step in index.explain(query, as_of=day))
    why = index.explain_member("a", query, as_of=day)
    values = {v for s in why.steps for v in s.values}
    assert {"orders = 4", "sum_amount 80.00, needs > 100.00"} <= values  # not the 8 orders kept for today
    assert [line.order for s in why.steps for line in s.lines] == ["o2", "o1"]
