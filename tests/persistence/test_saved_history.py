"""A hot or trigger segment records its first history row when it is saved (SPEC §3), against plain Python sets.

The row is that day's evaluation of that one segment, journaled with the save: a restart (from the log or from
a snapshot) keeps it, the daily evaluation of the same day replaces it, the next day's row compares with it.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pyroaring import BitMap

from bitseg import InvalidInputError
from bitseg.index.catalog import Catalog
from bitseg.index.tracking import HistoryRow
from bitseg.persistence import SimulatedClock, Store

ZONE = ZoneInfo("Europe/Amsterdam")
SCHEMA = 'timezone = "Europe/Amsterdam"\n[profile]\nvip = "bool"\n'
DAY = dt.date(2026, 3, 28)  # the night after it, summer time starts: the next day's 02:00 is still one run
CUSTOMERS = [f"c{i:03d}" for i in range(80)]


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


class Vips:
    """The vip flags fed, as a plain dict: the members of "vip = true" by that alone."""

    def __init__(self, store: Store, rng: random.Random) -> None:
        self.store, self.rng, self.vip = store, rng, {}

    def change(self, count: int) -> None:
        rows = [{"customer": c, "vip": self.rng.random() < 0.5} for c in self.rng.sample(CUSTOMERS, count)]
        self.store.get("shop").upsert_profiles(rows)
        self.vip.update({r["customer"]: r["vip"] for r in rows})

    def members(self) -> set[str]:
        return {c for c, v in self.vip.items() if v}


def open_store(path: Path, clock: SimulatedClock) -> Store:
    store = Store(path, clock=clock).open()
    assert store.problems == []
    return store


def test_saved_segments_start_their_history_on_the_day_they_are_saved(tmp_path: Path) -> None:
    clock = SimulatedClock(at(DAY, 0, 30))  # before the day's 02:00 run
    store = open_store(tmp_path, clock)
    store.create_index("shop", SCHEMA)
    world = Vips(store, random.Random(7))
    world.change(50)
    store.get("shop").save_segment("vips", "vip = true", kind="hot")
    store.get("shop").save_segment("mail", "vip = true", kind="trigger")
    store.get("shop").save_segment("later", "vip = true")  # standard: nothing kept
    saved = world.members()
    first = [HistoryRow(DAY, len(saved), len(saved), 0)]
    for name in ("vips", "mail"):
        assert store.history("shop", name) == first, name
    changed = store.changes("shop", "mail", DAY)  # answers on day one: nobody entered or left yet
    assert (changed.since, changed.day, changed.entered, changed.left) == (DAY, DAY, [], [])
    assert store.get("shop").last_evaluated is None  # the day's daily evaluation is still due

    store.get("shop").save_segment("later", "vip = true", kind="trigger")  # a kind that starts tracking
    assert store.history("shop", "later") == first

    # killed: the rows come back from the log
    store.wal.close()
    store._release_lock()
    store = open_store(tmp_path, clock)
    world.store = store
    assert [store.history("shop", n) for n in ("vips", "mail", "later")] == [first] * 3
    # a clean restart: the rows come back from the snapshot
    store.close()
    store = open_store(tmp_path, clock)
    world.store = store
    assert [store.history("shop", n) for n in ("vips", "mail", "later")] == [first] * 3

    # the day's 02:00 run replaces the row (the members changed since the save), it adds none
    world.change(15)
    clock.now = at(DAY, 2, 0)
    assert store.due() and store.run_due() is not None
    today = world.members()
    for name in ("vips", "mail", "later"):
        assert store.history("shop", name) == [HistoryRow(DAY, len(today), len(today), 0)], name

    # the next day's row compares with it
    world.change(15)
    next_day = DAY + dt.timedelta(days=1)
    clock.now = at(next_day, 2, 0)
    assert store.due() and store.run_due() is not None
    tomorrow = world.members()
    row = HistoryRow(next_day, len(tomorrow), len(tomorrow - today), len(today - tomorrow))
    assert store.history("shop", "vips") == [HistoryRow(DAY, len(today), len(today), 0), row]
    changed = store.changes("shop", "mail", DAY)
    assert (set(changed.entered), set(changed.left)) == (tomorrow - today, today - tomorrow)

    # saved again later that day (a new query): the day's row is replaced, compared with the day before
    clock.now = at(next_day, 15, 0)
    store.get("shop").save_segment("vips", "vip = false", kind="hot")
    others = {c for c, v in world.vip.items() if not v}
    assert store.history("shop", "vips")[-1] == HistoryRow(next_day, len(others), len(others - today),
                                                           len(today - others))
    assert not store.due()
    store.get("shop").save_segment("mail", "vip = true")  # standard again: its history goes
    store.close()
    store = open_store(tmp_path, clock)
    assert store.history("shop", "vips")[-1] == HistoryRow(next_day, len(others), len(others - today),
                                                           len(today - others))
    assert store.get("shop").tracker.tracks.get("mail") is None
    store.close()


def test_an_evaluation_given_with_a_save_must_be_that_segment_s() -> None:
    index = Catalog().create_index("shop", SCHEMA)
    wrong = {"day": 20000, "segments": [["other", "hot", BitMap([1]).serialize()]]}
    with pytest.raises(InvalidInputError, match="evaluation saved with segment 'vips'"):
        index.save_segment("vips", "vip = true", kind="hot", evaluation=wrong)
    assert index.list_segments() == []
