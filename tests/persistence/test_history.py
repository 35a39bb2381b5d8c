"""Thirty simulated days of daily snapshots: hot segment history and trigger changes against plain Python sets.

A hot or trigger segment records its first row on the day it is saved (its members that day); each daily
evaluation then compares with the evaluation before it, and one of the same day replaces its row.

Every day at 01:30 (Europe/Amsterdam) the previous day's purchases and some profile changes arrive; at 02:00 the
daily snapshot evaluates the segments as of that day. The oracle recomputes each segment's members every day
from the data fed, with sets, and derives the history rows and the changes from them independently.
The month crosses the switch to summer time; the store is closed and reopened once, and killed once.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bitseg import InvalidInputError, NotFoundError
from bitseg.index.tracking import HistoryRow
from bitseg.persistence import SimulatedClock, Store

ZONE = ZoneInfo("Europe/Amsterdam")
SCHEMA = 'timezone = "Europe/Amsterdam"\n[profile]\nvip = "bool"\n[purchase]\nbrand = "keyword"\n'
FIRST = dt.date(2026, 3, 10)
DAYS = 30
CUSTOMERS = [f"c{i:03d}" for i in range(150)]
SEGMENTS = {
    "vips": ("hot", "vip = true"),
    "recent": ("hot", "purchases MATCHES (date >= -7d)"),
    "after_sales": ("trigger", "purchases MATCHES (date = -21d)"),
    "vip_active": ("trigger", "vip = true AND purchases MATCHES (date >= -14d, brand = 'b1')"),
}


class World:
    """What was fed, as plain Python data, and each segment's members by that alone."""

    def __init__(self) -> None:
        self.vip: dict[str, bool] = {}
        self.lines: list[tuple[str, dt.date, str]] = []
        self.customers: set[str] = set()

    def members(self, segment: str, day: dt.date) -> set[str]:
        def bought(low: dt.date, high: dt.date, brand: str | None = None) -> set[str]:
            high = min(high, day)  # as of `day`: no line after it counts (SPEC §2)
            return {c for c, d, b in self.lines if low <= d <= high and (brand is None or b == brand)}

        vips = {c for c in self.customers if self.vip.get(c) is True}
        return {
            "vips": vips,
            "recent": bought(day - dt.timedelta(days=7), dt.date.max),
            "after_sales": bought(day - dt.timedelta(days=21), day - dt.timedelta(days=21)),
            "vip_active": vips & bought(day - dt.timedelta(days=14), dt.date.max, "b1"),
        }[segment]


def feed(store: Store, world: World, rng: random.Random, day: dt.date, lines: int) -> None:
    """One day's purchase lines and a few vip changes, through the store and into the oracle."""
    index = store.get("shop")
    rows = []
    for _ in range(lines):
        customer, brand = rng.choice(CUSTOMERS), rng.choice(["b1", "b2", "b3"])
        rows.append({"customer": customer, "time": f"{day}T{rng.randrange(24):02d}:15:00", "amount": "10",
                     "brand": brand})
        world.lines.append((customer, day, brand))
        world.customers.add(customer)
    index.add_purchases(rows)
    changes = [{"customer": c, "vip": rng.random() < 0.5} for c in rng.sample(CUSTOMERS, 12)]
    index.upsert_profiles(changes)
    world.vip.update({r["customer"]: r["vip"] for r in changes})
    world.customers.update(r["customer"] for r in changes)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def test_thirty_days_of_history_and_changes(tmp_path: Path) -> None:
    rng = random.Random(4)
    clock = SimulatedClock(at(FIRST - dt.timedelta(days=40), 12))
    store = Store(tmp_path, clock=clock).open()
    store.create_index("shop", SCHEMA)
    world = World()
    for back in range(40, 0, -1):  # six weeks of past purchases, so -21d has data from the first day
        feed(store, world, rng, FIRST - dt.timedelta(days=back), 6)
    for name, (kind, query) in SEGMENTS.items():
        store.get("shop").save_segment(name, query, kind=kind)
    store.get("shop").save_segment("plain", "vip = false")

    saved_on = FIRST - dt.timedelta(days=40)  # the clock's day when the segments were saved
    kept: dict[str, dict[dt.date, set[str]]] = {name: {saved_on: world.members(name, saved_on)} for name in SEGMENTS}
    expected_rows: dict[str, list[HistoryRow]] = {
        name: [HistoryRow(saved_on, len(kept[name][saved_on]), len(kept[name][saved_on]), 0)] for name in SEGMENTS}
    for name in SEGMENTS:
        assert store.history("shop", name) == expected_rows[name], name
    for n in range(DAYS):
        day = FIRST + dt.timedelta(days=n)
        clock.now = at(day, 1, 30)
        feed(store, world, rng, day - dt.timedelta(days=1), rng.randrange(3, 12))
        if n == 20:
            gone = sorted(world.customers)[:3]
            store.get("shop").delete_customers(gone)
            world.customers -= set(gone)
            world.vip = {c: v for c, v in world.vip.items() if c not in gone}
            world.lines = [line for line in world.lines if line[0] not in gone]
            for days in kept.values():
                for members in days.values():
                    members -= set(gone)
        assert not store.due()
        clock.now = at(day, 2, 0)
        assert store.due()
        assert store.run_due() is not None
        assert not store.due() and store.run_due() is None
        for name in SEGMENTS:
            members = world.members(name, day)
            previous = kept[name][max(kept[name])]
            expected_rows[name].append(HistoryRow(day, len(members), len(members - previous),
                                                  len(previous - members)))
            kept[name][day] = members
        if n == 12:  # a clean restart: shutdown snapshot, then open
            store.close()
            store = Store(tmp_path, clock=clock).open()
        if n == 17:  # killed: the evaluations since the last snapshot come back from the log
            store.wal.close()
            store._release_lock()
            store = Store(tmp_path, clock=clock).open()
            assert store.problems == []

    last = FIRST + dt.timedelta(days=DAYS - 1)
    for name in SEGMENTS:
        assert store.history("shop", name) == expected_rows[name], name
    assert store.history("shop", "recent", "2026-03-20", "2026-03-22") == expected_rows["recent"][11:14]
    for name in ("after_sales", "vip_active"):
        for since in (saved_on, FIRST - dt.timedelta(days=1), FIRST, FIRST + dt.timedelta(days=9),
                      last - dt.timedelta(days=1), last):
            changed = store.changes("shop", name, since)
            base = max(d for d in kept[name] if d <= since)  # a day between evaluations: the one before it
            assert (changed.since, changed.day) == (base, last)
            assert set(changed.entered) == kept[name][last] - kept[name][base], (name, since)
            assert set(changed.left) == kept[name][base] - kept[name][last], (name, since)
    # the after-sales mail of the last day: who bought exactly three weeks before it and not the day before that
    recipients = store.changes("shop", "after_sales", last - dt.timedelta(days=1)).entered
    three_weeks = {c for c, d, _ in world.lines if d == last - dt.timedelta(days=21)}
    assert set(recipients) == three_weeks - {c for c, d, _ in world.lines if d == last - dt.timedelta(days=22)}
    # a day between evaluations compares with the evaluation before it
    assert store.changes("shop", "after_sales", "2099-01-01").entered == []

    with pytest.raises(InvalidInputError, match="no evaluation of segment 'after_sales' on or before"):
        store.changes("shop", "after_sales", saved_on - dt.timedelta(days=1))
    with pytest.raises(InvalidInputError, match="standard segment"):
        store.history("shop", "plain")
    with pytest.raises(InvalidInputError, match="hot segment: who entered and left is kept for trigger"):
        store.changes("shop", "vips", FIRST)
    with pytest.raises(NotFoundError):
        store.history("shop", "nope")

    store.get("shop").delete_segment("vips")  # its history goes with it, a new one starts on the day of the save
    store.get("shop").save_segment("vips", "vip = true", kind="hot")
    vips = len(world.members("vips", last))
    assert store.history("shop", "vips") == [HistoryRow(last, vips, vips, 0)]
    store.close()
