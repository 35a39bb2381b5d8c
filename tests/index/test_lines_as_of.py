"""Line bitmaps against the window scan and the oracle, and point-in-time as_of against the oracle (SPEC §2).

The line-bitmap property runs every MATCHES twice, once as planned with line bitmaps and once as a scan of the
same window, on data fed in small batches (many runs, merged as they come), with erasures in between and
dimensions with NULLs; both must equal the oracle (tests/oracle.py, which filters lines by day on its own).
The as_of properties evaluate on random days before the end of the data, where the kept built-ins would count
lines that did not exist yet.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitseg import Index
from bitseg.index import plan as p
from bitseg.index import planner as planner_module
from bitseg.index.bitmaps import columns
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "query"))
from oracle import Oracle
from test_oracle_properties import Context, draw_tree, examples, worlds_with_segments

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_plan import SCHEMA as SHOP_SCHEMA  # the shop of the plan tests

from bitseg.schema import Schema

VALUES = ("x", "y", "z", "w")
END = dt.date(2026, 3, 31)
SHOP = Schema.from_toml(SHOP_SCHEMA)


def shop_rows(rng: random.Random, customers: int, lines: int) -> tuple[list[dict], list[dict]]:
    """Profiles and lines of the SPEC §2 example fields, over two years up to END, some dimensions NULL."""
    profiles = [{"customer": f"c{i}", "gender": rng.choice(["f", "m", None]), "country": rng.choice(["NL", "BE", "DE"]),
                 "tags": rng.choice([None, ("app_user",), ("vip", "app_user")]), "loyalty_member": rng.random() < .5,
                 "email": rng.choice([None, "x@example.com"]), "birth_date": rng.choice([None, dt.date(1990, 3, 20)]),
                 "input_date": END - dt.timedelta(rng.randint(0, 400))} for i in range(customers)]
    pools = {"brand": ["Levi's", "Nike", None], "department": ["Womenswear", "Shoes", "Menswear", None],
             "season": ["AW24", "SS25", None], "color": ["black", "blue", None],
             "source": ["cpc", "paid_social", "email", None]}
    rows = []
    for _ in range(lines):
        customer = f"c{rng.randrange(customers * 4 // 5)}"
        quantity = rng.choice((1, 1, 2, 3, -1))
        row = {"customer": customer, "day": END - dt.timedelta(rng.randint(0, 730)), "quantity": quantity,
               "amount": Decimal(rng.choice(("19.99", "120", "250.50", "400"))) * (1 if quantity > 0 else -1),
               "order": rng.choice((None, f"{customer}-{rng.randrange(5)}"))}
        row.update({dim: rng.choice(pool) for dim, pool in pools.items()})
        rows.append(row)
    return profiles, rows


def engine_rows(rows: list[dict]) -> list[dict]:
    return [{**{k: v for k, v in row.items() if k != "day"}, "time": row["day"]} for row in rows]


def as_scan(node: p.LineBitmaps) -> p.LineScan:
    return p.LineScan(node.low_day, node.high_day, node.slices, node.filters, node.measures, source=node.source)


def keys(index: Index, found) -> set[str]:
    return set(index.translator.to_keys(columns(found & index.existence)).tolist())


# ── line bitmaps ──────────────────────────────────────────────────────────────────────────────────────────

DIM_PARAMS = st.one_of(
    st.builds(DimCompare, st.sampled_from(("brand", "color")), st.sampled_from(("=", "!=", "<", ">=")),
              st.sampled_from(VALUES)),
    st.builds(DimIn, st.sampled_from(("brand", "color")), st.lists(st.sampled_from(VALUES), min_size=1,
                                                                   max_size=3).map(tuple), st.booleans()),
    st.builds(DimIsNull, st.sampled_from(("brand", "color")), st.booleans()),
)
MEASURE_PARAMS = st.builds(MeasureCompare, st.sampled_from(("count", "days", "sum_amount", "sum_quantity")),
                           st.sampled_from((">", ">=", "<", "=")), st.sampled_from((0, 1, 2, 3, Decimal("10.5"))))
WINDOWS = st.one_of(st.just(()), st.builds(lambda n: (DateCompare(">=", RelativeDay(-n, "d")),), st.integers(0, 60)),
                    st.builds(lambda a, b: (DateBetween(RelativeDay(-a - b, "d"), RelativeDay(-a, "d")),),
                              st.integers(0, 40), st.integers(0, 40)))
LINE_SCHEMA = Schema.from_toml('[profile]\nvip = "bool"\n[purchase]\nbrand = "keyword"\ncolor = "keyword"')


@st.composite
def line_batches(draw) -> list[list[dict]]:
    """Small batches of lines over 60 days before END, out of day order, NULL dimensions often."""
    batches = []
    for _ in range(draw(st.integers(1, 8))):
        batch = []
        for _ in range(draw(st.integers(1, 12))):
            quantity = draw(st.sampled_from((1, 1, 2, -1)))
            customer = f"c{draw(st.integers(0, 7))}"
            batch.append({"customer": customer, "day": END - dt.timedelta(draw(st.integers(0, 60))),
                          "amount": Decimal(draw(st.sampled_from(("5", "10.5", "20")))) * (1 if quantity > 0 else -1),
                          "quantity": quantity, "order": draw(st.sampled_from((None, f"{customer}-1", "shared"))),
                          "brand": draw(st.sampled_from((None, *VALUES))),
                          "color": draw(st.sampled_from((None, None, *VALUES)))})
        batches.append(batch)
    return batches


@examples(80)
@given(st.data())
def test_line_bitmaps_equal_the_scan_and_the_oracle(data) -> None:
    index, oracle = Index(LINE_SCHEMA), Oracle(LINE_SCHEMA)
    for number, batch in enumerate(data.draw(line_batches(), label="batches")):
        index.add_purchases(engine_rows(batch))
        oracle.add_purchases(batch)
        if number % 3 == 2:  # an erasure between batches moves lines inside the runs
            gone = data.draw(st.sets(st.sampled_from([f"c{i}" for i in range(8)]), max_size=2), label="erase")
            index.delete_customers(sorted(gone))
            oracle.delete_customers(gone)
        for _ in range(3):
            params = (*data.draw(st.lists(DIM_PARAMS, min_size=1, max_size=3), label="dims"),
                      *data.draw(WINDOWS, label="window"),
                      *data.draw(st.lists(MEASURE_PARAMS, max_size=2), label="measures"))
            tree = Matches(tuple(params))
            as_of = END - dt.timedelta(data.draw(st.sampled_from((0, 0, 3, 20)), label="back"))
            normal, text = index.compiler.normalized(to_text(tree))
            expected = oracle.members(tree, as_of)
            root = plan(normal, index, as_of, text).root
            if isinstance(root, p.MonthRollup):  # tests/index/test_rollups.py tests those: here the line bitmaps
                root = p.LineScan(root.low_day, root.high_day, tuple(index.lines.window(root.low_day, root.high_day)),
                                  root.filters, root.measures)
            if isinstance(root, p.LineScan) and all(isinstance(f, p.DimCodes) for f in root.filters) and root.filters:
                root = p.LineBitmaps(root.low_day, root.high_day, root.slices,
                                     root.filters, root.measures, 0)  # type: ignore[arg-type]
            if not isinstance(root, p.LineBitmaps):
                continue
            shown = f"{text} on {as_of}"
            assert keys(index, execute(p.Plan(root, as_of), index)) == expected, shown
            assert keys(index, execute(p.Plan(as_scan(root), as_of), index)) == expected, shown


def test_line_bitmaps_are_chosen_and_printed(no_rollups) -> None:
    index = Index.from_toml(SHOP_SCHEMA)
    profiles, rows = shop_rows(random.Random(7), 200, 3000)
    index.upsert_profiles(profiles)
    index.add_purchases(engine_rows(rows))
    text = "purchases MATCHES (department = 'Shoes', color = 'black', date >= -12m, sum_quantity >= 3)"
    found = plan(index.compiler.normalized(text)[0], index, END, text)
    assert isinstance(found.root, p.LineBitmaps)
    assert "line bitmaps: department 1 value ∩ color 1 value ∩ days 2025-03-31 to 2026-03-31, at most" in str(found)


@pytest.fixture
def no_rollups(monkeypatch):
    """Month roll-ups never chosen (tests/index/test_rollups.py covers them), so line bitmaps are."""
    monkeypatch.setattr(planner_module, "ROLLUP_EDGE_SHARE", -1.0)


# ── as of a past day ──────────────────────────────────────────────────────────────────────────────────────

@examples(40)
@given(st.data())
def test_trees_on_days_before_the_end_of_the_data_equal_the_oracle(data) -> None:
    world, ctx = data.draw(worlds_with_segments(), label="world")
    index, oracle = world.build()
    if not world.day_pool:
        return
    for _ in range(4):
        as_of = data.draw(st.sampled_from(world.day_pool), label="as_of") - dt.timedelta(
            data.draw(st.integers(0, 2), label="before"))
        tree = draw_tree(data.draw, Context(as_of, ctx.day_pool, ctx.segments, ctx.lists))
        assert set(index.members(to_text(tree), as_of=as_of)) == oracle.members(tree, as_of), (
            f"{to_text(tree)} on {as_of}")


SPEC_EXAMPLES = (
    "purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)",
    "orders > 10 AND clv >= 1000 AND last_purchase_date < -180d",
    "purchases MATCHES (department = 'Womenswear', season = 'AW24', sum_quantity >= 2) AND purchases NOT MATCHES "
    "(season = 'SS25')",
    "ANNIVERSARY(birth_date) BETWEEN today AND +13d AND loyalty_member = true AND email IS NOT NULL",
    "input_date >= -30d AND orders = 0",
    "orders = 1 AND purchases MATCHES (date BETWEEN -90d AND -60d)",
    "purchases MATCHES (source IN ('cpc', 'paid_social')) AND purchases NOT MATCHES (source NOT IN ('cpc', "
    "'paid_social'))",
    "purchases MATCHES (department = 'Shoes', color = 'black', date >= -12m, sum_quantity >= 3)",
    "(gender IS NULL OR birth_date IS NULL) AND purchases MATCHES (date >= -365d)",
    "(purchases MATCHES (date >= -365d, sum_amount >= 500) OR IN LIST 'gold_manual') AND NOT IN LIST 'tier_blocked'",
    "tags CONTAINS 'app_user' AND NOT country IN ('NL', 'BE')",
    "orders >= 2 AND first_purchase_date >= -1y AND clv < 800",
    "last_purchase_date IS NULL AND first_purchase_date IS NULL",
    "ANNIVERSARY(first_purchase_date) BETWEEN today AND +30d",
)


def test_spec_examples_on_past_days_equal_the_oracle() -> None:
    index, oracle = Index(SHOP), Oracle(SHOP)
    profiles, rows = shop_rows(random.Random(11), 300, 4000)
    index.upsert_profiles(profiles)
    oracle.upsert_profiles(profiles)
    for start in range(0, len(rows), 700):  # batches: several runs
        index.add_purchases(engine_rows(rows[start: start + 700]))
        oracle.add_purchases(rows[start: start + 700])
    for name, members in (("gold_manual", ["c1", "c5", "c250"]), ("tier_blocked", ["c5", "c7"])):
        index.update_list(name, add=members)
        oracle.update_list(name, add=members)
    for back in (0, 1, 30, 200, 500, 800):
        day = END - dt.timedelta(back)
        for text in SPEC_EXAMPLES:
            tree = index.compiler.normalized(text)[0]
            assert set(index.members(text, as_of=day)) == oracle.members(tree, day), f"{text} on {day}"
    day = END - dt.timedelta(30)
    past = str(plan(index.compiler.normalized(SPEC_EXAMPLES[4])[0], index, day, SPEC_EXAMPLES[4]))
    assert f"orders as of {day}, from the" in past
    assert "orders = 0  → range index" in str(plan(index.compiler.normalized(SPEC_EXAMPLES[4])[0], index, END))
