"""Persistence round trips against the oracle: what a reopened Store answers equals plain Python sets and rows.

The same random writes (profile upserts, purchase lines, static lists, saved segments, erasures) go to a Store
and to the Oracle (tests/oracle.py); the data folder is then reopened after a clean close (snapshot), a close
without a snapshot (log replay), a snapshot followed by more writes (snapshot + log tail), or a crash (the folder
copied while the Store is open). The reopened index must answer counts and members of random and fixed queries
exactly as the oracle does, never merely as the engine did before the restart. Then more writes arrive, and the
folder is reopened once more in a drawn way: a recovered Store must go on from where it was.

Data and query strategies are those of tests/query/test_oracle_properties.py.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitseg.persistence import SimulatedClock, Store
from bitseg.query.expressions import (
    All,
    And,
    Between,
    Compare,
    InList,
    InSegment,
    IsNull,
    Node,
    Not,
    RelativeDay,
)
from bitseg.query.printer import to_text

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS), str(TESTS / "query")]
from oracle import Oracle  # noqa: E402 (tests/ and tests/query are not packages)
from test_oracle_properties import (  # noqa: E402
    SCHEMA,
    SCHEMA_TOML,
    SPECIAL_DAYS,
    Context,
    apply,
    draw_tree,
    evaluation_days,
    examples,
    profile_row,
    purchase_lines,
)

NAME = "shop"
IDS = tuple(f"c{i}" for i in range(8))
LISTS = ("l1", "l2")
SEGMENTS = ("s0", "s1", "s2")  # a segment refers only to those before it: never a cycle
MODES = ("clean", "log_only", "snapshot_and_tail", "crash")
CLOCK_START = "2026-03-14T03:00:00+00:00"
BASES = st.one_of(st.sampled_from(SPECIAL_DAYS), st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31)))
VERBS = st.sampled_from(("profiles", "profiles", "lines", "lines", "lines", "list", "list_change", "segment",
                         "delete"))


@dataclass
class Known:
    """What the writes so far have created: which segments exist, and days of the data for date literals."""

    base: dt.date
    saved: list[str] = field(default_factory=list)
    day_pool: set[dt.date] = field(default_factory=set)
    lists_made: bool = False

    def context(self, as_of: dt.date, upto: int = len(SEGMENTS)) -> Context:
        segments = tuple(name for name in SEGMENTS[:upto] if name in self.saved)
        return Context(as_of, tuple(sorted(self.day_pool)), segments, LISTS)


def draw_writes(draw: Callable, known: Known, count: int) -> list[tuple[str, object]]:
    """`count` random write calls in the form test_oracle_properties.apply takes (row paths only)."""
    steps: list[tuple[str, object]] = []
    if not known.lists_made:  # queries may name both lists from the start (an unknown list is an error)
        steps += [("list", (name, set(draw(st.lists(st.sampled_from(IDS), max_size=3))))) for name in LISTS]
        known.lists_made = True
    for _ in range(count):
        verb = draw(VERBS, label="write")
        customers = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True), label="customers")
        if verb == "profiles":
            steps.append(("profiles", [draw(profile_row(c, known.base, partial=draw(st.booleans())))
                                       for c in customers]))
        elif verb == "lines":
            lines = [line for c in customers[:2] for line in draw(purchase_lines(c, known.base))]
            known.day_pool.update(line["day"] for line in lines)
            steps.append(("lines", lines))
        elif verb == "list":  # a list may name a customer who exists nowhere else yet
            steps.append(("list", (draw(st.sampled_from(LISTS)), {*customers, "listed-only"})))
        elif verb == "list_change":
            removed = set(draw(st.lists(st.sampled_from(IDS), max_size=2)))
            steps.append(("list_change", (draw(st.sampled_from(LISTS)), set(customers), removed)))
        elif verb == "segment":  # a new segment, or a new definition of one already saved
            position = draw(st.integers(0, min(len(known.saved), len(SEGMENTS) - 1)), label="segment")
            name = SEGMENTS[position]
            tree = draw_tree(draw, known.context(known.base, upto=position), max_leaves=3)
            steps.append(("segment", (name, tree)))
            if name not in known.saved:
                known.saved.append(name)
        else:  # an id that was never a customer is no error
            steps.append(("delete", {*customers, "nobody"}))
    return steps


def fixed_queries(known: Known) -> list[Node]:
    """Built-ins with windows relative to as_of, and every list and saved segment, whatever the random trees hit."""
    return [
        All(),
        Compare("orders", ">=", 2),
        Compare("orders", "=", 0),
        Compare("clv", ">", Decimal(20)),
        Not(Compare("clv", "<=", 0)),
        Compare("first_purchase_date", "<", RelativeDay(-30, "d")),
        Between("last_purchase_date", RelativeDay(-90, "d"), RelativeDay(0, "d")),
        And((IsNull("last_purchase_date"), Not(IsNull("gender")))),
        *(InList(name) for name in LISTS),
        *(InSegment(name) for name in known.saved),
    ]


def assert_agrees(draw: Callable, store: Store, oracle: Oracle, known: Known, where: str,
                  steps: list[tuple[str, object]]) -> None:
    index = store.get(NAME)
    for _ in range(2):
        as_of = draw(evaluation_days(known.base), label="as_of")
        trees = fixed_queries(known) + [draw_tree(draw, known.context(as_of), max_leaves=4) for _ in range(3)]
        for tree in trees:
            text = to_text(tree)
            expected = oracle.members(tree, as_of)
            members = index.members(text, as_of=as_of)
            context = f"\n{where}\nquery: {text}\nas_of: {as_of}\nwrites: {steps!r}"
            assert len(members) == len(set(members)), "members repeated an id" + context
            assert set(members) == expected, (f"extra {sorted(set(members) - expected)} "
                                              f"missing {sorted(expected - set(members))}" + context)
            assert index.count(text, as_of=as_of) == len(expected), "count" + context


def reopen(store: Store, mode: str, folder: Path, write: Callable[[list[tuple[str, object]]], None],
           draw: Callable, known: Known, copies: int) -> Store:
    """Leave the folder the way `mode` says, and open a Store on what is left."""
    clock = store.clock
    if mode == "clean":
        store.close(snapshot=True)
        return Store(folder, clock=clock).open()
    if mode == "log_only":
        store.close(snapshot=False)
        return Store(folder, clock=clock).open()
    if mode == "snapshot_and_tail":
        store.snapshot()
        write(draw_writes(draw, known, draw(st.integers(1, 3), label="tail")))
        store.close(snapshot=False)
        return Store(folder, clock=clock).open()
    # A crash: the folder as the disk holds it right after an acknowledged write, with the Store still open
    # (its lock is not copied). The original is then let go without a snapshot and never used again.
    if draw(st.booleans(), label="snapshot before the crash"):
        store.snapshot()
        write(draw_writes(draw, known, 1))
    copy = folder.parent / f"crash-{copies}"
    shutil.copytree(folder, copy)
    store.close(snapshot=False)
    return Store(copy, clock=clock).open()


@pytest.mark.parametrize("mode", MODES)
@examples(10)
@given(data=st.data())
def test_a_reopened_store_answers_like_the_oracle(mode: str, data) -> None:
    known = Known(base=data.draw(BASES, label="base"))
    oracle = Oracle(SCHEMA)
    steps: list[tuple[str, object]] = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "data"
        store = Store(folder, clock=SimulatedClock(CLOCK_START)).open()
        store.create_index(NAME, SCHEMA_TOML)

        def write(batch: list[tuple[str, object]]) -> None:
            # Through the Store's handle of the moment (looked up per call: the reopened Store's after a restart).
            apply(batch, store.get(NAME), oracle)
            steps.extend(batch)

        write(draw_writes(data.draw, known, data.draw(st.integers(3, 8), label="writes")))
        store = reopen(store, mode, folder, write, data.draw, known, copies=1)
        folder = store.data_dir
        try:
            assert store.problems == [], store.problems
            assert_agrees(data.draw, store, oracle, known, f"after reopening ({mode})", steps)
            # The recovered store goes on: more writes, and a second reopen in a drawn way.
            write(draw_writes(data.draw, known, data.draw(st.integers(1, 4), label="more writes")))
            then = data.draw(st.sampled_from(MODES), label="second reopen")
            store = reopen(store, then, folder, write, data.draw, known, copies=2)
            assert store.problems == [], store.problems
            assert_agrees(data.draw, store, oracle, known, f"after reopening ({mode}, then {then})", steps)
        finally:
            store.close(snapshot=False)
