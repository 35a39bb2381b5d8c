"""Month roll-ups (index/rollups.py) against the oracle: random lines fed in small batches with erasures in
between, random windows (days and months, crossing month ends), random sum measures and thresholds, dimension
filters on zero to two dimensions, on random as_of days; every answer equal to tests/oracle.py."""

from __future__ import annotations

import datetime as dt
import random
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitseg import Index
from bitseg.index import plan as p
from bitseg.index import planner as planner_module
from bitseg.index import rollups
from bitseg.index.executor import execute
from bitseg.index.planner import plan
from bitseg.query.expressions import (
    DateBetween,
    DateCompare,
    DimCompare,
    DimIn,
    DimIsNull,
    Matches,
    MeasureCompare,
    RelativeDay,
)
from bitseg.query.printer import to_text
from bitseg.schema import Schema

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "query"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from oracle import Oracle
from test_lines_as_of import SHOP_SCHEMA, engine_rows, keys, shop_rows
from test_oracle_properties import examples

END = dt.date(2026, 3, 17)  # mid-month: a window ending on an as_of day has a partial last month
VALUES = ("x", "y", "z")
SCHEMA = Schema.from_toml('[profile]\nvip = "bool"\n[purchase]\nbrand = "keyword"\ncolor = "keyword"\n'
                          'season = "keyword"')
DIMS = ("brand", "color", "season")
DIM_PARAMS = st.one_of(
    st.builds(DimCompare, st.sampled_from(DIMS), st.sampled_from(("=", "!=", ">=")), st.sampled_from(VALUES)),
    st.builds(DimIn, st.sampled_from(DIMS), st.lists(st.sampled_from(VALUES), min_size=1, max_size=2).map(tuple),
              st.booleans()),
    st.builds(DimIsNull, st.sampled_from(DIMS), st.booleans()),
)
SUMS = st.builds(MeasureCompare, st.sampled_from(("sum_amount", "sum_quantity")),
                 st.sampled_from((">", ">=", "<", "<=", "=", "!=")),
                 st.sampled_from((0, 1, 2, 3, 5, -1, Decimal("10.5"), 20, 40)))
WINDOWS = st.one_of(
    st.just(()),
    st.builds(lambda n: (DateCompare(">=", RelativeDay(-n, "d")),), st.integers(0, 150)),
    st.builds(lambda n: (DateCompare(">=", RelativeDay(-n, "m")),), st.integers(0, 5)),
    st.builds(lambda n: (DateCompare("<", RelativeDay(-n, "d")),), st.integers(0, 90)),
    st.builds(lambda a, b: (DateBetween(RelativeDay(-a - b, "d"), RelativeDay(-a, "d")),),
              st.integers(0, 60), st.integers(0, 90)),
)


@st.composite
def batches(draw) -> list[list[dict]]:
    """Small batches over 150 days before END (five month ends), out of day order, NULL dimensions often."""
    out = []
    for _ in range(draw(st.integers(1, 7))):
        batch = []
        for _ in range(draw(st.integers(1, 14))):
            quantity = draw(st.sampled_from((1, 1, 2, 3, -1)))
            customer = f"c{draw(st.integers(0, 7))}"
            batch.append({"customer": customer, "day": END - dt.timedelta(draw(st.integers(0, 150))),
                          "amount": Decimal(draw(st.sampled_from(("5", "10.5", "20")))) * (1 if quantity > 0 else -1),
                          "quantity": quantity, "order": draw(st.sampled_from((None, f"{customer}-1"))),
                          **{dim: draw(st.sampled_from((None, *VALUES))) for dim in DIMS}})
        out.append(batch)
    return out


@pytest.fixture
def every_window(monkeypatch):
    """Roll-ups chosen whenever the window covers a whole month, however many edge lines it has."""
    monkeypatch.setattr(planner_module, "ROLLUP_EDGE_SHARE", float("inf"))


@examples(120)
@given(st.data())
def test_month_rollups_equal_the_oracle(data) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(planner_module, "ROLLUP_EDGE_SHARE", float("inf"))
        check_rollups(data)


def check_rollups(data) -> None:
    index, oracle = Index(SCHEMA), Oracle(SCHEMA)
    for number, batch in enumerate(data.draw(batches(), label="batches")):
        index.add_purchases(engine_rows(batch))
        oracle.add_purchases(batch)
        if number % 3 == 2:  # an erasure between batches: the roll-ups must not count the erased lines
            gone = data.draw(st.sets(st.sampled_from([f"c{i}" for i in range(8)]), max_size=2), label="erase")
            index.delete_customers(sorted(gone))
            oracle.delete_customers(gone)
        for _ in range(3):  # queries between batches: roll-ups built early are kept current by the batches
            params = (*data.draw(st.lists(DIM_PARAMS, max_size=3), label="dims"),
                      *data.draw(WINDOWS, label="window"), *data.draw(st.lists(SUMS, max_size=2), label="sums"))
            tree = Matches(tuple(params))
            as_of = END - dt.timedelta(data.draw(st.sampled_from((0, 0, 1, 14, 17, 40, 75)), label="back"))
            normal, text = index.compiler.normalized(to_text(tree))
            found = plan(normal, index, as_of, text)
            assert keys(index, execute(found, index)) == oracle.members(tree, as_of), f"{text} on {as_of}\n{found}"


def test_rollups_are_chosen_for_most_windows(every_window) -> None:
    index = Index(SCHEMA)
    rng = random.Random(5)
    rows = [{"customer": f"c{rng.randrange(20)}", "time": END - dt.timedelta(rng.randrange(150)), "amount": "5",
             "brand": rng.choice(VALUES)} for _ in range(300)]
    index.add_purchases(rows)
    text = "purchases MATCHES (brand = 'x', date >= -2m, sum_amount > 10)"
    found = plan(index.compiler.normalized(text)[0], index, END, text)
    assert isinstance(found.root, p.MonthRollup)
    assert "month roll-up: brand 1 value, 2 months from 2026-02, line bitmaps for the" in str(found)


def test_spec_examples_choose_rollups_and_equal_the_oracle() -> None:
    """At the default edge share, on the SPEC §2 shop: the measure examples are rolled up and correct."""
    index, oracle = Index.from_toml(SHOP_SCHEMA), Oracle(Schema.from_toml(SHOP_SCHEMA))
    profiles, rows = shop_rows(random.Random(3), 150, 3000)
    index.upsert_profiles(profiles)
    oracle.upsert_profiles(profiles)
    for start in range(0, len(rows), 500):
        index.add_purchases(engine_rows(rows[start: start + 500]))
        oracle.add_purchases(rows[start: start + 500])
        if start == 1000:  # roll-ups built here are kept current by the later batches
            index.count("purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)")
    end = dt.date(2026, 3, 31)
    for text in ("purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)",
                 "purchases MATCHES (department = 'Womenswear', season = 'AW24', sum_quantity >= 2)",
                 "purchases MATCHES (department = 'Shoes', color = 'black', date >= -12m, sum_quantity >= 3)",
                 "purchases MATCHES (date >= -365d, sum_amount >= 500)",
                 "purchases MATCHES (date >= -365d, sum_amount < 500)"):
        tree = index.compiler.normalized(text)[0]
        for day in (end, end - dt.timedelta(10), end - dt.timedelta(100)):
            found = plan(tree, index, day, text)
            assert isinstance(found.root, p.MonthRollup), f"{text} on {day}\n{found}"
            assert keys(index, execute(found, index)) == oracle.members(tree, day), f"{text} on {day}"


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(-1000, 1000)), max_size=300), st.integers(51, 5000))
def test_sums_per_column_equal_a_dictionary(entries, size) -> None:
    column = np.array([c for c, _ in entries], dtype=np.uint32)
    values = np.array([v for _, v in entries], dtype=np.int64)
    expected: dict[int, int] = {}
    for c, v in entries:
        expected[c] = expected.get(c, 0) + v
    found, (total,) = rollups.per_column(column, [values], size)
    assert dict(zip(found.tolist(), total.tolist())) == expected
    assert found.tolist() == sorted(expected)


@given(st.integers(-23600, 95900))
def test_month_bounds_hold_their_days(month) -> None:
    first, last = rollups.month_bounds(month)
    assert rollups.month_of(first) == rollups.month_of(last) == month
    assert rollups.month_of(first - 1) == month - 1 and rollups.month_of(last + 1) == month + 1
    assert rollups.months(np.array([first, last])).tolist() == [month, month]


def test_batches_fold_into_the_built_rollups_without_a_rebuild() -> None:
    """The ingest hook (rollups.published) keeps a built roll-up current: same object, the batch folded in."""
    index, oracle = Index(SCHEMA), Oracle(SCHEMA)
    rng = random.Random(9)

    def batch(n: int) -> list[dict]:
        return [{"customer": f"c{rng.randrange(30)}", "day": END - dt.timedelta(rng.randrange(150)),
                 "amount": Decimal(rng.choice(("5", "20"))), "quantity": 1, "order": None,
                 "brand": rng.choice(VALUES), "color": rng.choice((None, *VALUES)), "season": None}
                for _ in range(n)]
    text = "purchases MATCHES (brand = 'x', color IN ('y', 'z'), date >= -3m, sum_amount >= 25)"
    tree = index.compiler.normalized(text)[0]
    for number in range(12):
        rows = batch(rng.randrange(1, 60))
        index.add_purchases(engine_rows(rows))
        oracle.add_purchases(rows)
        if number == 0:
            index.count(text)  # builds the roll-up of (brand, color)
            built = rollups.rollups_of(index.lines).built[("brand", "color")]
        assert rollups.rollups_of(index.lines).built[("brand", "color")] is built
        assert built.lines == index.lines.size and len(built.runs) <= 6  # runs merge as they come
        found = plan(tree, index, END, text)
        assert isinstance(found.root, p.MonthRollup)
        assert keys(index, execute(found, index)) == oracle.members(tree, END)
    assert rollups.rollups_of(index.lines).built[("brand", "color")] is built


def test_tiers_of_one_window_share_its_sums(monkeypatch) -> None:
    """Several thresholds on the same roll-up window in one query: one summing (sharing.py), oracle answers."""
    from bitseg.index import executor

    index, oracle = Index(SCHEMA), Oracle(SCHEMA)
    rng = random.Random(4)
    rows = [{"customer": f"c{rng.randrange(40)}", "day": END - dt.timedelta(rng.randrange(150)),
             "amount": Decimal(rng.choice(("5", "20", "-5"))), "quantity": 1, "order": None,
             "brand": rng.choice(VALUES), "color": None, "season": None} for _ in range(400)]
    index.add_purchases(engine_rows(rows))
    oracle.add_purchases(rows)
    calls = []
    summing = executor._rollup_sums
    monkeypatch.setattr(executor, "_rollup_sums", lambda *args: calls.append(args) or summing(*args))
    text = " OR ".join(f"purchases MATCHES (brand = 'x', date >= -3m, sum_amount {op} {n})"
                       for op, n in ((">", 30), (">=", 60), ("<", 10), ("=", 20)))
    tree = index.compiler.normalized(text)[0]
    found = plan(tree, index, END, text)
    assert sum(isinstance(node, p.MonthRollup) for _, node in found.walk()) == 4
    assert keys(index, execute(found, index)) == oracle.members(tree, END)
    assert len(calls) == 1
