"""`--backfill DAYS` (SPEC §3): a hot segment saved with it gets the history of the DAYS days before today, each
row as of its day from the purchase history and marked backfilled; against the oracle's as-of members per day,
then through a restart (the log, then a snapshot), old rows without the mark, and refusals.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitseg import InvalidInputError
from bitseg.index.tracking import MAX_BACKFILL, HistoryRow, Tracker
from bitseg.persistence import SimulatedClock, Store
from bitseg.query.printer import to_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_oracle_properties import draw_tree, examples, worlds_with_segments  # noqa: E402


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)  # the same day in Amsterdam


@examples(40)
@given(st.data())
def test_backfilled_rows_are_the_oracles_as_of_members_per_day(data) -> None:
    world, ctx = data.draw(worlds_with_segments(max_customers=8), label="world")
    index, oracle = world.build()
    today = world.as_of
    index.clock = lambda: noon(today)
    tree = draw_tree(data.draw, ctx, max_leaves=3)
    days = data.draw(st.integers(1, 40), label="days")
    index.save_segment("kpi", to_text(tree), kind="hot", backfill_days=days)

    expected, previous = [], set()
    for back in range(days, -1, -1):
        day = today - dt.timedelta(days=back)
        members = oracle.members(tree, day)
        expected.append(HistoryRow(day, len(members), len(members - previous), len(previous - members),
                                   backfilled=back > 0))
        previous = members
    assert index.history("kpi") == expected, to_text(tree)


SCHEMA = 'timezone = "Europe/Amsterdam"\n[profile]\nvip = "bool"\n[purchase]\nbrand = "keyword"\n'
TODAY = dt.date(2026, 3, 10)


def shop(store: Store) -> None:
    store.create_index("shop", SCHEMA)
    store.get("shop").add_purchases([
        {"customer": "a", "time": "2026-03-05", "amount": "10", "brand": "x"},
        {"customer": "b", "time": "2026-03-07", "amount": "5", "brand": "x"},
        {"customer": "a", "time": "2026-03-08", "amount": "-10", "quantity": -1, "brand": "x"},
    ])


# orders as of each day: a from the 5th (its return is no order), b from the 7th; clv >= 10: a on 5th-7th only
BUYERS = [(3, 0, 0, 0), (4, 0, 0, 0), (5, 1, 1, 0), (6, 1, 0, 0), (7, 2, 1, 0), (8, 2, 0, 0), (9, 2, 0, 0)]
BIG = [(3, 0, 0, 0), (4, 0, 0, 0), (5, 1, 1, 0), (6, 1, 0, 0), (7, 1, 0, 0), (8, 0, 0, 1), (9, 0, 0, 0)]


def rows(worked: list[tuple[int, int, int, int]], today: tuple[int, int, int]) -> list[HistoryRow]:
    return ([HistoryRow(dt.date(2026, 3, d), size, entered, left, True) for d, size, entered, left in worked]
            + [HistoryRow(TODAY, *today)])


def test_fixed_example_survives_a_restart_from_the_log_and_from_a_snapshot(tmp_path: Path) -> None:
    clock = SimulatedClock(noon(TODAY))
    store = Store(tmp_path, clock=clock).open()
    shop(store)
    store.get("shop").save_segment("buyers", "orders >= 1", kind="hot", backfill_days=7)
    store.get("shop").save_segment("big", "clv >= 10", kind="hot", backfill_days=7)
    expected = {"buyers": rows(BUYERS, (2, 0, 0)), "big": rows(BIG, (0, 0, 0))}
    assert {name: store.history("shop", name) for name in expected} == expected
    store.wal.close()  # killed: the rows come back from the log, without evaluating again
    store._release_lock()
    store = Store(tmp_path, clock=clock).open()
    assert {name: store.history("shop", name) for name in expected} == expected
    store.close()  # a clean stop writes a snapshot
    store = Store(tmp_path, clock=clock).open()
    assert {name: store.history("shop", name) for name in expected} == expected
    # saved again with a backfill: the recorded rows stay (today's is the save's), missing days are filled
    store.get("shop").save_segment("buyers", "orders >= 1", kind="hot", backfill_days=9)
    history = store.history("shop", "buyers")
    assert history[2:] == expected["buyers"] and [r.day.day for r in history[:2]] == [1, 2]
    store.close()


def test_rows_written_before_the_mark_read_as_not_backfilled() -> None:
    state = {"last_day": 20522, "tracks": {"kpi": {"kind": "hot", "days": [], "members": [],
                                                    "history": [[20522, 3, 3, 0]]}}}
    assert Tracker.from_state(state).history("kpi", None, None) == [HistoryRow(dt.date(2026, 3, 10), 3, 3, 0,
                                                                              False)]


def test_backfill_refusals_name_the_problem(tmp_path: Path) -> None:
    store = Store(tmp_path, clock=SimulatedClock(noon(TODAY))).open()
    shop(store)
    index = store.get("shop")
    with pytest.raises(InvalidInputError, match="backfill is for hot segments; 't' is saved as a trigger"):
        index.save_segment("t", "orders >= 1", kind="trigger", backfill_days=3)
    with pytest.raises(InvalidInputError, match="backfill is for hot segments"):
        index.save_segment("s", "orders >= 1", backfill_days=3)
    for days in (-1, MAX_BACKFILL + 1):
        with pytest.raises(InvalidInputError, match=f"backfill takes 1 to 1,096 days, not {days}"):
            index.save_segment("h", "orders >= 1", kind="hot", backfill_days=days)
    assert index.segments == {} or "h" not in index.segments  # nothing saved by a refused call
    store.close()
