"""Named edge cases of the query semantics, each pinned three ways: a hand-written expected set, the oracle, the engine.

The data is tiny and written out so that a reader can check every expected set by hand against SPEC §1–§3.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import pytest

import bitseg
from bitseg.errors import QueryError
from bitseg.generate import FASHION_SCHEMA
from bitseg.query.parser import parse
from bitseg.schema import Schema

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from oracle import Oracle

FASHION_TOML = FASHION_SCHEMA  # the SPEC §1 schema
FASHION = Schema.from_toml(FASHION_TOML)
D = dt.date(2026, 3, 31)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


class World:
    """An engine index and the oracle, changed together; `check` asks both and a hand-written answer."""

    def __init__(self, schema: Schema = FASHION) -> None:
        self.index = bitseg.Index(schema)
        self.oracle = Oracle(schema)

    def profiles(self, *rows: dict) -> World:
        self.index.upsert_profiles(rows)
        self.oracle.upsert_profiles(rows)
        return self

    def lines(self, *rows: dict) -> World:
        # Oracle lines carry a `day`; the engine takes it as `time` (a date is a local calendar day).
        self.index.add_purchases([{**{k: v for k, v in row.items() if k != "day"}, "time": row["day"]}
                                  for row in rows])
        self.oracle.add_purchases([{**row, "amount": Decimal(str(row["amount"]))} for row in rows])
        return self

    def list(self, name: str, members: Iterable[str]) -> World:
        self.index.update_list(name, replace=sorted(members))
        self.oracle.update_list(name, replace=set(members))
        return self

    def segment(self, name: str, text: str) -> World:
        self.index.save_segment(name, text)
        self.oracle.save_segment(name, parse(text))
        return self

    def delete(self, *ids: str) -> World:
        self.index.delete_customers(ids)
        self.oracle.delete_customers(ids)
        return self

    def check(self, text: str, as_of: dt.date, expected: set[str]) -> None:
        by_oracle = self.oracle.members(parse(text), as_of)
        by_engine = self.index.members(text, as_of=as_of)
        assert by_oracle == expected, f"oracle disagrees with the hand-written answer for {text!r} on {as_of}"
        assert len(by_engine) == len(set(by_engine))
        assert set(by_engine) == expected, (f"engine: {text!r} on {as_of}: extra {sorted(set(by_engine) - expected)}"
                                            f" missing {sorted(expected - set(by_engine))}")
        assert self.index.count(text, as_of=as_of) == len(expected)


def line(customer: str, when: str, amount: str | int = "10", quantity: int = 1, order: str | None = None,
         **dims: str | None) -> dict:
    return {"customer": customer, "day": day(when), "amount": amount, "quantity": quantity, "order": order, **dims}


# ── relative days ─────────────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("as_of", "query", "expected"), [
    # D = 2026-03-31: -1m is 2026-02-28 (clamped), not 2026-03-03 or 2026-03-01.
    (D, "input_date >= -1m", {"feb28", "mar01", "mar03", "mar17", "mar30", "mar31"}),
    (D, "input_date = -1m", {"feb28"}),
    (D, "input_date BETWEEN -1m AND -1m", {"feb28"}),
    (D, "input_date < -1m AND input_date > -3m", {"feb27", "jan31"}),
    (D, "input_date = -2m", {"jan31"}),
    (D, "input_date = -13m", {"y2025feb28"}),
    (D, "input_date = -1y", {"y2025mar31"}),
    (D, "input_date >= -30d AND input_date <= -4w", {"mar01", "mar03"}),
    (D, "input_date = +0m", {"mar31"}),
    (D, "input_date = today", {"mar31"}),
    (D, "input_date = yesterday", {"mar30"}),
    (D, "input_date = -2w", {"mar17"}),
    (D, "input_date BETWEEN -3w AND -1w", {"mar17"}),
    # Leap years: from 2024-03-31, -1m is 2024-02-29; from 2024-02-29, -1y is 2023-02-28 and +1m is 2024-03-29.
    (day("2024-03-31"), "input_date = -1m", {"leap29"}),
    (day("2024-02-29"), "input_date = -1y", {"y2023feb28"}),
    (day("2024-02-29"), "input_date = +1m", {"y2024mar29"}),
    (day("2026-01-31"), "input_date = +1m", {"feb28"}),
])
def test_relative_days_clamp_to_the_month_end(as_of: dt.date, query: str, expected: set[str]) -> None:
    world = World().profiles(*({"customer": name, "input_date": day(when)} for name, when in {
        "jan31": "2026-01-31", "feb27": "2026-02-27", "feb28": "2026-02-28", "mar01": "2026-03-01",
        "mar03": "2026-03-03", "mar17": "2026-03-17", "mar30": "2026-03-30", "mar31": "2026-03-31", "y2025feb28": "2025-02-28",
        "y2025mar31": "2025-03-31", "leap29": "2024-02-29", "y2023feb28": "2023-02-28",
        "y2024mar29": "2024-03-29"}.items()))
    world.check(query, as_of, expected)


def test_line_date_windows_clamp_and_are_inclusive() -> None:
    world = World().lines(line("feb27", "2026-02-27"), line("feb28", "2026-02-28"), line("mar31", "2026-03-31"),
                          line("apr01", "2026-04-01"))
    # as of D, a line dated after D does not exist yet: no window reaches past D (SPEC §2)
    world.check("purchases MATCHES (date >= -1m)", D, {"feb28", "mar31"})
    world.check("purchases MATCHES (date BETWEEN -1m AND today)", D, {"feb28", "mar31"})
    world.check("purchases MATCHES (date > -1m, date < today)", D, set())
    world.check("purchases MATCHES (date != today)", D, {"feb27", "feb28"})
    world.check("purchases MATCHES (date = +1d)", D, set())
    world.check("purchases MATCHES (date = today)", day("2026-04-01"), {"apr01"})


# ── anniversaries ─────────────────────────────────────────────────────────────────────────────────────────

BIRTHDAYS = {"leapling": "2000-02-29", "feb28": "1990-02-28", "mar01": "1990-03-01", "dec24": "1999-12-24",
             "dec25": "1999-12-25", "dec28": "1980-12-28", "dec31": "1985-12-31", "jan01": "1985-01-01",
             "jan05": "2001-01-05", "jan06": "2001-01-06", "jan10": "1977-01-10", "jan11": "1977-01-11",
             "jun15": "1970-06-15"}


@pytest.fixture(scope="module")
def birthdays() -> World:
    return World().profiles(*({"customer": name, "birth_date": day(when)} for name, when in BIRTHDAYS.items()),
                            {"customer": "unborn"})


@pytest.mark.parametrize(("as_of", "query", "expected"), [
    # Feb 29 counts as Feb 28 in years without one...
    (day("2026-02-28"), "ANNIVERSARY(birth_date) BETWEEN today AND today", {"leapling", "feb28"}),
    (day("2026-03-01"), "ANNIVERSARY(birth_date) BETWEEN today AND today", {"mar01"}),
    (day("2027-02-20"), "ANNIVERSARY(birth_date) BETWEEN 2027-02-27 AND 2027-02-28", {"leapling", "feb28"}),
    # ...and as itself in leap years, where Feb 28 is only Feb 28.
    (day("2028-02-28"), "ANNIVERSARY(birth_date) BETWEEN today AND today", {"feb28"}),
    (day("2028-02-29"), "ANNIVERSARY(birth_date) BETWEEN today AND today", {"leapling"}),
    (day("2028-03-01"), "ANNIVERSARY(birth_date) BETWEEN yesterday AND today", {"leapling", "mar01"}),
    (day("2028-02-28"), "ANNIVERSARY(birth_date) BETWEEN today AND +1d", {"feb28", "leapling"}),
    # The window wraps the year end.
    (D, "ANNIVERSARY(birth_date) BETWEEN 2026-12-25 AND 2027-01-05", {"dec25", "dec28", "dec31", "jan01", "jan05"}),
    (day("2026-12-28"), "ANNIVERSARY(birth_date) BETWEEN today AND +13d",
     {"dec28", "dec31", "jan01", "jan05", "jan06", "jan10"}),
    (day("2026-12-28"), "ANNIVERSARY(birth_date) BETWEEN -3d AND +13d",
     {"dec25", "dec28", "dec31", "jan01", "jan05", "jan06", "jan10"}),
    (day("2027-01-02"), "ANNIVERSARY(birth_date) BETWEEN -1w AND today", {"dec28", "dec31", "jan01"}),
    # A long window (a year minus a day) skips just one day.
    (day("2026-06-16"), "ANNIVERSARY(birth_date) BETWEEN today AND +363d", set(BIRTHDAYS) - {"jun15"}),
    # A whole year (365 days) holds every birthday; NOT leaves only the NULL.
    (day("2026-06-15"), "NOT ANNIVERSARY(birth_date) BETWEEN +1d AND +1y", {"unborn"}),
])
def test_anniversaries(birthdays: World, as_of: dt.date, query: str, expected: set[str]) -> None:
    birthdays.check(query, as_of, expected)


@pytest.mark.parametrize(("as_of", "query"), [
    (day("2027-03-01"), "ANNIVERSARY(birth_date) BETWEEN today AND +1y"),  # 2027-03-01 .. 2028-03-01: 367 days
    (day("2026-03-01"), "ANNIVERSARY(birth_date) BETWEEN today AND +366d"),
    (day("2026-03-01"), "ANNIVERSARY(birth_date) BETWEEN +1d AND today"),  # ends before it starts
    (day("2026-03-01"), "ANNIVERSARY(birth_date) BETWEEN 2026-03-01 AND 2027-03-02"),
])
def test_anniversary_window_past_366_days_or_reversed_is_a_query_error(birthdays: World, as_of: dt.date,
                                                                        query: str) -> None:
    with pytest.raises(QueryError):
        birthdays.index.count(query, as_of=as_of)


def test_anniversary_window_of_exactly_366_days(birthdays: World) -> None:
    # 2027-03-01 .. 2028-02-29 is 366 days: the longest window allowed, holding every birthday.
    birthdays.check("ANNIVERSARY(birth_date) BETWEEN today AND 2028-02-29", day("2027-03-01"), set(BIRTHDAYS))
    # 2026-03-01 .. 2027-03-01 is 366 days too (+1y from a day after February in a common year).
    birthdays.check("ANNIVERSARY(birth_date) BETWEEN today AND +1y", day("2026-03-01"), set(BIRTHDAYS))


# ── NULL and negation ─────────────────────────────────────────────────────────────────────────────────────

@pytest.fixture(scope="module")
def nullables() -> World:
    world = World().profiles(
        {"customer": "f", "gender": "F", "points": 3, "tags": ("vip",), "loyalty_member": True,
         "credit": Decimal("1.5")},
        {"customer": "m", "gender": "M", "points": 7, "tags": ("app_user",), "loyalty_member": False},
        {"customer": "null", "gender": None, "tags": ()},
    )
    world.lines(line("black", "2026-03-01", color="black"), line("nocolor", "2026-03-01"),
                line("red", "2026-03-01", color="red"), line("both", "2026-03-01", color="black"),
                line("both", "2026-03-02", color=None), line("red_return", "2026-03-01", "-5", -1, color="red"),
                line("red_return", "2026-03-01", "5", 1, color="black"))
    return world


LINE_ONLY = {"black", "nocolor", "red", "both", "red_return"}


@pytest.mark.parametrize(("query", "expected"), [
    ("gender = 'F'", {"f"}),
    ("gender != 'F'", {"m", "null"} | LINE_ONLY),
    ("gender NOT IN ('F', 'M')", {"null"} | LINE_ONLY),
    ("NOT gender IN ('F')", {"m", "null"} | LINE_ONLY),
    ("gender > 'A'", {"f", "m"}),
    ("gender < 'a'", {"f", "m"}),  # keywords compare as strings: 'F' and 'M' sort before 'a'
    ("points NOT BETWEEN 1 AND 5", {"m", "null"} | LINE_ONLY),
    ("points != 3", {"m", "null"} | LINE_ONLY),
    ("tags NOT CONTAINS 'vip'", {"m", "null"} | LINE_ONLY),
    ("tags IS NULL", {"null"} | LINE_ONLY),
    ("loyalty_member != true", {"m", "null"} | LINE_ONLY),
    ("loyalty_member = false", {"m"}),
    ("credit IS NOT NULL", {"f"}),
    ("credit != 1.50", {"m", "null"} | LINE_ONLY),
    # Inside MATCHES each parameter is about one line; != and NOT IN match lines whose dimension is NULL.
    ("purchases MATCHES (color != 'black')", {"nocolor", "red", "both"}),
    ("purchases MATCHES (color NOT IN ('black', 'red'))", {"nocolor", "both"}),
    ("purchases MATCHES (color IS NULL)", {"nocolor", "both"}),
    ("purchases MATCHES (color IS NOT NULL)", {"black", "red", "both", "red_return"}),
    ("purchases MATCHES (color = 'red')", {"red"}),  # red_return's red line is a return
    ("purchases MATCHES (color >= 'c')", {"red"}),
    ("purchases MATCHES (color < 'z')", {"black", "red", "both", "red_return"}),  # a NULL is not < anything
    ("gender <= 'z'", {"f", "m"}),
    ("purchases NOT MATCHES (color != 'black')", {"f", "m", "null", "black", "red_return"}),
])
def test_negations_include_null(nullables: World, query: str, expected: set[str]) -> None:
    nullables.check(query, D, expected)


# ── returns ───────────────────────────────────────────────────────────────────────────────────────────────

@pytest.fixture(scope="module")
def returns() -> World:
    return World().lines(
        line("net60", "2026-03-01", "100", 2, order="o1"), line("net60", "2026-03-05", "-40", -1, order="o1"),
        line("return_only", "2026-03-02", "-30", -1),
        line("full_return", "2026-03-01", "50", 1), line("full_return", "2026-03-10", "-50", -1),
        line("split_order", "2026-03-01", "10", 1, order="A"), line("split_order", "2026-03-02", "10", 1, order="A"),
        line("split_order", "2026-03-02", "10", 1), line("split_order", "2026-03-02", "5", 2),
        line("same_day", "2026-03-03", "10", 1, order="A"), line("same_day", "2026-03-03", "10", 1, order="B"),
    ).profiles({"customer": "profile_only", "gender": "F"})


@pytest.mark.parametrize(("query", "expected"), [
    ("purchases MATCHES (sum_amount = 60)", {"net60"}),
    ("purchases MATCHES (sum_quantity = 1, count = 1, days = 1)", {"net60"}),
    ("purchases MATCHES ()", {"net60", "full_return", "split_order", "same_day"}),  # a return alone is no buyer
    ("purchases MATCHES (sum_amount > 0)", {"net60", "split_order", "same_day"}),
    ("purchases MATCHES (sum_amount < 0)", {"return_only"}),
    ("purchases MATCHES (sum_amount = 0)", {"full_return", "profile_only"}),
    ("purchases MATCHES (sum_amount < 100)",
     {"net60", "return_only", "full_return", "split_order", "same_day", "profile_only"}),
    ("purchases MATCHES (sum_amount > 0, sum_amount < 100)", {"net60", "split_order", "same_day"}),
    ("purchases MATCHES (count = 0)", {"return_only", "profile_only"}),
    ("purchases MATCHES (count = 2, days = 2, sum_quantity = 5)", {"split_order"}),  # order A + (customer, 03-02)
    ("purchases MATCHES (count = 2, days = 1)", {"same_day"}),  # two orders on one day
    ("purchases MATCHES (count >= 2)", {"split_order", "same_day"}),
    ("purchases MATCHES (date >= 2026-03-05)", set()),  # only returns from 03-05 on
    ("purchases MATCHES (date >= 2026-03-05, sum_amount < 0)", {"net60", "full_return"}),
    ("orders = 0", {"return_only", "profile_only"}),
    ("orders = 1", {"net60", "full_return"}),
    ("orders = 2", {"split_order", "same_day"}),
    ("clv = 60", {"net60"}),
    ("clv < 0", {"return_only"}),
    ("clv = 0", {"full_return", "profile_only"}),
    ("first_purchase_date IS NULL", {"return_only", "profile_only"}),
    ("last_purchase_date = 2026-03-01", {"net60", "full_return"}),
    ("last_purchase_date = 2026-03-02", {"split_order"}),
    ("orders IS NULL OR clv IS NULL", set()),
])
def test_returns_lower_sums_but_never_make_or_erase_a_buyer(returns: World, query: str, expected: set[str]) -> None:
    returns.check(query, D, expected)


def test_customer_with_only_profile_data() -> None:
    world = World().profiles({"customer": "p", "gender": "F", "email": "p@example.com"})
    world.check("ALL", D, {"p"})
    world.check("orders = 0 AND clv = 0 AND first_purchase_date IS NULL AND last_purchase_date IS NULL", D, {"p"})
    world.check("purchases MATCHES ()", D, set())
    world.check("purchases NOT MATCHES ()", D, {"p"})
    world.check("purchases MATCHES (count = 0, days = 0, sum_amount = 0, sum_quantity = 0)", D, {"p"})
    world.check("purchases MATCHES (count >= 0, date >= -1y)", D, {"p"})
    world.check("last_purchase_date < today", D, set())
    world.check("NOT last_purchase_date >= today", D, {"p"})


# ── an empty index ────────────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("query", [
    "ALL", "NOT ALL", "NOT gender = 'F'", "gender IS NULL", "purchases MATCHES (sum_amount < 100)",
    "purchases NOT MATCHES ()", "orders = 0", "NOT (ALL AND NOT ALL)", "IN LIST 'empty'", "NOT IN LIST 'empty'",
    "ANNIVERSARY(birth_date) BETWEEN today AND +13d",
])
def test_empty_index_counts_zero_for_everything(query: str) -> None:
    world = World().list("empty", [])
    world.check(query, D, set())
    assert world.index.customer_count == 0
    stats = world.index.stats(query, as_of=D)
    assert stats.count == 0 and stats.members.customers == 0 and stats.rest.customers == 0
    assert all(n == 0 for _, n in world.index.buyers_per_day(D - dt.timedelta(3), D))
    world.index.save_tiering("t", [("gold", "orders > 1")], default="none")
    assert world.index.count_tiers("t", as_of=D) == [("gold", 0), ("none", 0)]


# ── deletion ──────────────────────────────────────────────────────────────────────────────────────────────

def deletion_world() -> World:
    world = World().profiles(
        {"customer": "gone", "gender": "F", "email": "x@example.com", "tags": ("vip",), "birth_date": day("1990-04-01")},
        {"customer": "stay", "gender": "F"},
    ).lines(line("gone", "2026-03-01", "100", order="g1", brand="Levi's"), line("stay", "2026-03-02", "5"))
    world.list("gold_manual", ["gone", "stay"])
    world.segment("women", "gender = 'F'").segment("via_segment", "IN SEGMENT 'women'")
    world.index.save_tiering("t", [("buyers", "purchases MATCHES ()")], default="rest")
    # Warm whatever the engine caches before the erasure.
    assert world.index.count("IN SEGMENT 'via_segment'", as_of=D) == 2
    return world


DELETION_QUERIES = [
    "ALL", "gender = 'F'", "email IS NOT NULL", "tags CONTAINS 'vip'", "tags NOT CONTAINS 'vip'",
    "purchases MATCHES (brand = 'Levi''s')", "purchases MATCHES (sum_amount < 1000)", "purchases MATCHES ()",
    "orders >= 0", "clv >= 0", "first_purchase_date IS NULL", "IN LIST 'gold_manual'", "NOT IN LIST 'gold_manual'",
    "IN SEGMENT 'women'", "IN SEGMENT 'via_segment'", "NOT IN SEGMENT 'via_segment'",
    "ANNIVERSARY(birth_date) BETWEEN today AND +7d", "NOT ANNIVERSARY(birth_date) BETWEEN today AND +7d",
]


@pytest.mark.parametrize("query", DELETION_QUERIES)
def test_deleted_customer_is_gone_from_every_result(query: str) -> None:
    world = deletion_world().delete("gone")
    expected = world.oracle.members(parse(query), D)
    assert "gone" not in expected
    world.check(query, D, expected)


def test_deleted_customer_is_gone_from_lists_stats_tiers_and_lookups() -> None:
    world = deletion_world().delete("gone")
    index = world.index
    assert index.customer_count == 1
    assert index.get_list("gold_manual") == ["stay"]
    assert index.count_tiers("t", as_of=D) == [("buyers", 1), ("rest", 0)]
    stats = index.stats("ALL", as_of=D)
    assert (stats.count, stats.members.orders, stats.members.revenue) == (1, 1, Decimal(5))
    assert stats.members.presence["email"] == 0
    assert dict(index.breakdown("ALL", "gender", as_of=D)) == {"F": 1}
    assert dict(index.buyers_per_day(day("2026-03-01"), day("2026-03-02"))) == {
        day("2026-03-01"): 0, day("2026-03-02"): 1}
    assert index.check_membership("gone", ["women"], as_of=D) == [False]
    assert "gone" not in index.members("ALL", as_of=D)


def test_deleted_id_comes_back_as_a_new_customer() -> None:
    world = deletion_world().delete("gone")
    world.profiles({"customer": "gone", "country": "NL"})
    world.check("ALL", D, {"gone", "stay"})
    world.check("gender = 'F'", D, {"stay"})  # the old profile does not come back
    world.check("orders = 0 AND clv = 0", D, {"gone"})  # nor do the old lines
    world.check("purchases MATCHES (brand = 'Levi''s')", D, set())
    world.check("IN LIST 'gold_manual'", D, {"stay"})
    world.check("email IS NULL", D, {"gone", "stay"})
    world.lines(line("gone", "2026-03-03", "7", brand="Levi's"))
    world.check("purchases MATCHES (brand = 'Levi''s', sum_amount = 7)", D, {"gone"})
    world.check("orders = 1", D, {"gone", "stay"})
    world.delete("gone", "never_existed")
    world.check("ALL", D, {"stay"})


# ── segments ──────────────────────────────────────────────────────────────────────────────────────────────

def test_segment_reference_cycle_is_a_query_error() -> None:
    world = World().profiles({"customer": "a", "points": 3}, {"customer": "b", "points": 1})
    world.segment("base", "points > 1").segment("derived", "IN SEGMENT 'base' OR points = 1")
    with pytest.raises(QueryError):
        world.index.save_segment("base", "IN SEGMENT 'derived'")
    with pytest.raises(QueryError):
        world.index.save_segment("self", "IN SEGMENT 'self'")
    with pytest.raises(QueryError):
        world.index.save_segment("base", "points > 2 AND NOT IN SEGMENT 'base'")
    # The refused definitions changed nothing.
    assert world.index.get_segment("base").query == "points > 1"
    world.check("IN SEGMENT 'derived'", D, {"a", "b"})
    world.check("IN SEGMENT 'base'", D, {"a"})


def test_segments_follow_changes_and_the_evaluation_day() -> None:
    world = World().profiles({"customer": "a", "points": 3}).lines(line("b", "2026-03-01"))
    world.segment("recent", "purchases MATCHES (date >= -30d)").segment("outer", "IN SEGMENT 'recent' OR points > 5")
    world.check("IN SEGMENT 'outer'", D, {"b"})
    world.check("IN SEGMENT 'outer'", day("2026-04-01"), set())  # same segment, later day: the window moved
    world.lines(line("a", "2026-03-30"))
    world.check("IN SEGMENT 'outer'", D, {"a", "b"})
    world.profiles({"customer": "c", "points": 9})
    world.check("IN SEGMENT 'outer'", D, {"a", "b", "c"})
    world.segment("recent", "purchases MATCHES (date >= -1d)")  # redefinition reaches the segments that use it
    world.check("IN SEGMENT 'outer'", D, {"a", "c"})
    world.delete("c")
    world.check("IN SEGMENT 'outer'", D, {"a"})
    assert world.index.customer_segments("a", as_of=D) == ["outer", "recent"]
    assert world.index.check_membership("b", ["recent", "outer"], as_of=D) == [False, False]


# ── the SPEC §2 examples on a hand-made fashion retailer ──────────────────────────────────────────────────

def fashion_world() -> World:
    """Customers made to sit just inside or just outside the SPEC examples, on D = 2026-03-31."""
    defaults = {"gender": "F", "country": "NL", "tags": ("newsletter",), "loyalty_member": False,
                "birth_date": day("1980-06-15"), "input_date": day("2020-01-01"), "points": 10}
    dims = {"brand": "Acme", "department": "Home", "collection": "C1", "color": "white", "season": "AW23",
            "source": "email"}
    names = ["levi_big", "levi_old", "levi_edge", "levi_return", "diesel", "loyal_lapsed", "loyal_recent",
             "few_orders", "ww_aw24", "ww_aw24_split", "ww_mixed_line", "ww_aw24_ss25", "ww_aw24_return",
             "ww_aw24_ss25_return", "bday_ok", "bday_today", "bday_late", "bday_noemail", "bday_notmember",
             "bday_nullmember", "new_noorder", "new_returnonly", "new_buyer", "old_noorder", "one_in_window",
             "one_window_start", "one_outside", "two_orders", "one_order_two_days", "paid_only", "paid_and_organic",
             "paid_and_null", "paid_organic_return", "shoes_3", "shoes_2_red", "shoes_old", "shoes_edge",
             "nogender_recent", "nobirth_recent", "nogender_old", "nogender_return", "big_spender", "big_blocked",
             "gold_listed", "gold_blocked", "big_old", "app_de", "app_nullcountry", "app_nl", "web_de"]
    profiles = {name: {"customer": name, **defaults} for name in names}
    for name, changes in {
        "bday_ok": {"birth_date": day("1990-04-13"), "loyalty_member": True, "email": "a@x"},
        "bday_today": {"birth_date": day("1985-03-31"), "loyalty_member": True, "email": "a@x"},
        "bday_late": {"birth_date": day("1990-04-14"), "loyalty_member": True, "email": "a@x"},
        "bday_noemail": {"birth_date": day("1990-04-01"), "loyalty_member": True},
        "bday_notmember": {"birth_date": day("1990-04-01"), "email": "a@x"},
        "bday_nullmember": {"birth_date": day("1990-04-01"), "loyalty_member": None, "email": "a@x"},
        "new_noorder": {"input_date": day("2026-03-01")}, "new_returnonly": {"input_date": day("2026-03-15")},
        "new_buyer": {"input_date": day("2026-03-10")}, "old_noorder": {"input_date": day("2026-02-28")},
        "nogender_recent": {"gender": None}, "nobirth_recent": {"birth_date": None},
        "nogender_old": {"gender": None}, "nogender_return": {"gender": None},
        "app_de": {"tags": ("app_user", "vip"), "country": "DE"},
        "app_nullcountry": {"tags": ("app_user",), "country": None},
        "app_nl": {"tags": ("app_user",)}, "web_de": {"country": "DE"},
    }.items():
        profiles[name].update(changes)

    lines: list[dict] = []

    def buy(customer: str, when: str, amount: str | int = "20", quantity: int = 1, order: str | None = None,
            **changes: str | None) -> None:
        lines.append(line(customer, when, amount, quantity, order, **{**dims, **changes}))

    # purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300): -6m = 2025-09-30
    buy("levi_big", "2025-10-01", 200, brand="Levi's"), buy("levi_big", "2026-01-10", 150, brand="Levi's")
    buy("levi_old", "2025-09-29", 400, brand="Levi's"), buy("levi_old", "2026-01-01", 100, brand="Levi's")
    buy("levi_edge", "2025-09-30", "300.01", brand="Levi's")
    buy("levi_return", "2025-12-01", 400, 2, brand="Levi's"), buy("levi_return", "2026-01-01", -150, -1, brand="Levi's")
    buy("diesel", "2026-02-15", 500, brand="Diesel")
    # orders > 10 AND clv >= 1000 AND last_purchase_date < -180d: -180d = 2025-10-02
    for month in range(11):
        buy("loyal_lapsed", f"{2024 + (4 + month) // 12}-{(4 + month) % 12 + 1:02d}-01", 91)  # 2024-05 .. 2025-03
        buy("loyal_recent", f"{2025 + (4 + month) // 12}-{(4 + month) % 12 + 1:02d}-01", 100)  # 2025-05 .. 2026-03
    for month in range(10):
        buy("few_orders", f"2024-{month + 3:02d}-01", 200)
    # purchases MATCHES (department = 'Womenswear', season = 'AW24', sum_quantity >= 2)
    #   AND purchases NOT MATCHES (season = 'SS25')
    ww = {"department": "Womenswear", "season": "AW24"}
    buy("ww_aw24", "2025-11-01", 80, 2, **ww)
    buy("ww_aw24_split", "2025-11-01", 40, **ww), buy("ww_aw24_split", "2025-11-20", 40, **ww)
    buy("ww_mixed_line", "2025-11-01", 40, department="Womenswear", season="SS24")
    buy("ww_mixed_line", "2025-11-01", 40, department="Menswear", season="AW24")
    buy("ww_aw24_ss25", "2025-11-01", 120, 3, **ww), buy("ww_aw24_ss25", "2026-03-01", 30, season="SS25")
    buy("ww_aw24_return", "2025-11-01", 80, 2, **ww), buy("ww_aw24_return", "2025-11-09", -40, -1, **ww)
    buy("ww_aw24_ss25_return", "2025-11-01", 80, 2, **ww)
    buy("ww_aw24_ss25_return", "2026-03-02", -30, -1, season="SS25")
    # input_date >= -30d AND orders = 0
    buy("new_returnonly", "2026-03-16", -20, -1), buy("new_buyer", "2026-03-12", 20)
    # orders = 1 AND purchases MATCHES (date BETWEEN -90d AND -60d): 2025-12-31 .. 2026-01-30
    buy("one_in_window", "2026-01-30"), buy("one_window_start", "2025-12-31"), buy("one_outside", "2026-01-31")
    buy("two_orders", "2026-01-15"), buy("two_orders", "2026-03-01")
    buy("one_order_two_days", "2026-01-10", order="X1"), buy("one_order_two_days", "2026-02-20", order="X1")
    # purchases MATCHES (source IN ('cpc', 'paid_social'))
    #   AND purchases NOT MATCHES (source NOT IN ('cpc', 'paid_social'))
    buy("paid_only", "2026-02-01", source="cpc"), buy("paid_only", "2026-02-02", source="paid_social")
    buy("paid_and_organic", "2026-02-01", source="cpc"), buy("paid_and_organic", "2026-02-03", source="organic")
    buy("paid_and_null", "2026-02-01", source="cpc"), buy("paid_and_null", "2026-02-03", source=None)
    buy("paid_organic_return", "2026-02-01", source="cpc")
    buy("paid_organic_return", "2026-02-05", -20, -1, source="organic")
    # purchases MATCHES (department = 'Shoes', color = 'black', date >= -12m, sum_quantity >= 3): -12m = 2025-03-31
    shoes = {"department": "Shoes", "color": "black"}
    for when in ("2025-06-01", "2025-09-01", "2026-03-31"):
        buy("shoes_3", when, 50, **shoes)
    buy("shoes_2_red", "2025-06-01", 100, 2, **shoes), buy("shoes_2_red", "2025-06-01", 50, department="Shoes",
                                                            color="red")
    buy("shoes_old", "2025-03-30", 100, 2, **shoes), buy("shoes_old", "2025-03-31", 50, **shoes)
    buy("shoes_edge", "2025-03-31", 150, 3, **shoes)
    # (gender IS NULL OR birth_date IS NULL) AND purchases MATCHES (date >= -365d): -365d = 2025-03-31
    buy("nogender_recent", "2026-02-01"), buy("nobirth_recent", "2025-03-31"), buy("nogender_old", "2025-03-30")
    buy("nogender_return", "2026-01-01", -20, -1)
    # (purchases MATCHES (date >= -365d, sum_amount >= 500) OR IN LIST 'gold_manual') AND NOT IN LIST 'tier_blocked'
    buy("big_spender", "2025-06-01", 600), buy("big_blocked", "2026-02-01", 600), buy("big_old", "2025-03-30", 600)

    world = World().profiles(*profiles.values()).lines(*lines)
    world.list("gold_manual", ["gold_listed", "gold_blocked"])
    world.list("tier_blocked", ["big_blocked", "gold_blocked"])
    return world


SPEC_EXAMPLES = [
    ("purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)", {"levi_big", "levi_edge"}),
    ("orders > 10 AND clv >= 1000 AND last_purchase_date < -180d", {"loyal_lapsed"}),
    (("purchases MATCHES (department = 'Womenswear', season = 'AW24', sum_quantity >= 2) "
      "AND purchases NOT MATCHES (season = 'SS25')"), {"ww_aw24", "ww_aw24_split", "ww_aw24_ss25_return"}),
    ("ANNIVERSARY(birth_date) BETWEEN today AND +13d AND loyalty_member = true AND email IS NOT NULL",
     {"bday_ok", "bday_today"}),
    ("input_date >= -30d AND orders = 0", {"new_noorder", "new_returnonly"}),
    ("orders = 1 AND purchases MATCHES (date BETWEEN -90d AND -60d)",
     {"one_in_window", "one_window_start", "one_order_two_days"}),
    (("purchases MATCHES (source IN ('cpc', 'paid_social')) "
      "AND purchases NOT MATCHES (source NOT IN ('cpc', 'paid_social'))"), {"paid_only", "paid_organic_return"}),
    ("purchases MATCHES (department = 'Shoes', color = 'black', date >= -12m, sum_quantity >= 3)",
     {"shoes_3", "shoes_edge"}),
    ("(gender IS NULL OR birth_date IS NULL) AND purchases MATCHES (date >= -365d)",
     {"nogender_recent", "nobirth_recent"}),
    ("(purchases MATCHES (date >= -365d, sum_amount >= 500) OR IN LIST 'gold_manual') AND NOT IN LIST 'tier_blocked'",
     {"big_spender", "loyal_recent", "diesel", "levi_old", "gold_listed"}),
    ("tags CONTAINS 'app_user' AND NOT country IN ('NL', 'BE')", {"app_de", "app_nullcountry"}),
]


@pytest.fixture(scope="module")
def fashion() -> World:
    return fashion_world()


@pytest.mark.parametrize(("query", "expected"), SPEC_EXAMPLES)
def test_spec_examples_on_hand_made_data(fashion: World, query: str, expected: set[str]) -> None:
    fashion.check(query, D, expected)


def random_fashion_world(seed: int, customers: int = 600, lines: int = 2500) -> World:
    """A seeded random retailer: every example query has members and non-members."""
    rng = random.Random(seed)
    ids = [f"u{i:04d}" for i in range(customers)]
    pick = rng.choice

    def maybe(values: list, null: float = 0.15):
        return None if rng.random() < null else pick(values)

    profiles = []
    for customer in ids[: customers * 9 // 10]:  # the last tenth only ever bought
        profiles.append({
            "customer": customer, "gender": maybe(["F", "M", "X"]), "country": maybe(["NL", "BE", "DE", "FR"]),
            "tags": tuple(t for t in ("app_user", "vip", "newsletter") if rng.random() < 0.4),
            "loyalty_member": maybe([True, False]), "email": maybe(["e@x"], 0.3),
            "birth_date": maybe([D - dt.timedelta(rng.randint(18 * 365, 70 * 365)), day("2000-02-29")]),
            "input_date": maybe([D - dt.timedelta(rng.randint(0, pick([60, 900])))]),
            "points": maybe(list(range(100))),
            "credit": maybe([Decimal(rng.randint(0, 50000)) / 100]),
        })
    rows = []
    buyers = ids[customers // 3:]  # the first third never bought; a few heavy buyers, many with one order
    lapsed = set(buyers[1:60:4])  # some of them, heavy ones too, stopped buying half a year ago
    for _ in range(lines):
        customer = buyers[min(int(rng.expovariate(1 / 20)), len(buyers) - 1)] if rng.random() < 0.5 else pick(buyers)
        quantity = pick([1, 1, 1, 2, 3, -1])
        rows.append(line(
            customer, (D - dt.timedelta(rng.randint(181 if customer in lapsed else -5, 730))).isoformat(),
            str(Decimal(rng.randint(100, 40000)) / 100 * (1 if quantity > 0 else -1)), quantity,
            maybe([f"{customer}-{n}" for n in range(5)], 0.3),
            brand=maybe(["Levi's", "Diesel", "Acme", "Zara"]), department=maybe(["Womenswear", "Menswear", "Shoes"]),
            collection=maybe(["C1", "C2"]), color=maybe(["black", "white", "red"]),
            season=maybe(["AW24", "SS25", "AW23"]), source=maybe(["cpc", "paid_social", "organic", "email"])))
    world = World().profiles(*profiles).lines(*rows)
    world.list("gold_manual", rng.sample(ids, 30))
    world.list("tier_blocked", rng.sample(ids, 30))
    return world


@pytest.fixture(scope="module")
def random_fashion() -> World:
    return random_fashion_world(seed=20260331)


@pytest.mark.parametrize("as_of", [D, day("2026-02-28"), day("2025-12-31"), day("2024-02-29")])
@pytest.mark.parametrize("query", [query for query, _ in SPEC_EXAMPLES])
def test_spec_examples_on_random_data(random_fashion: World, query: str, as_of: dt.date) -> None:
    expected = random_fashion.oracle.members(parse(query), as_of)
    random_fashion.check(query, as_of, expected)


def test_random_data_is_not_trivial(random_fashion: World) -> None:
    """Most examples have both members and non-members on D, so the comparison above means something."""
    sizes = [len(random_fashion.oracle.members(parse(query), D)) for query, _ in SPEC_EXAMPLES]
    everyone = len(random_fashion.oracle.customers)
    assert sum(0 < size < everyone for size in sizes) >= 9, sizes
