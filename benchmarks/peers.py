"""The questions and the peers that answer them: every SPEC §2 example as bitseg text, DuckDB SQL and a raw plan.

`QUERIES` is the one table of questions; `PEERS` the one table of answerers. A peer answers `count(query, as_of)`
and `members(query, as_of)` (sorted uint32 customer columns). Before any timing, `check` compares every peer's
member set with bitseg's; a mismatch is a failed benchmark, never a figure.

SQL notes, from SPEC §2 (each is a place where plain SQL habits give a different answer):
- `x NOT IN (…)`, `x != v` and `NOT x IN (…)` include rows where x is NULL: written `x IS NULL OR x NOT IN (…)`.
- `PURCHASES MATCHES` without a measure needs a purchase line (quantity > 0); sums run over all matching
  lines, returns included; `count` is distinct orders with a matching purchase line.
- `PURCHASES NOT MATCHES (…)` is every customer without such a purchase line (EXCEPT).
- `-6m` / `-12m` are calendar months with the day clamped (DuckDB's `date - INTERVAL n MONTH` clamps the same way).
- ANNIVERSARY: the (month, day) of every day in the range; Feb 29 counts as Feb 28 in years without one.
- The built-ins (orders, clv, first/last purchase date) come from the view `customer_facts` (computed per query)
  or, for the `duckdb_mat` peer, from the same view materialised as a table.
- As of a day before the last day of data (the correctness check's `CHECK_DAYS`), answers are point in time: the
  SQL reads `{lines}` as only the lines up to that day and derives the built-ins from them; the raw peer builds
  its structures again from those lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from pyroaring import BitMap

from benchmarks.data import day_number, facts_sql
from benchmarks.raw import RawIndex, add_months, bitmap_of_mask


@dataclass(frozen=True)
class Query:
    name: str
    text: str                                       # bitseg DSL
    kind: str                                       # SPEC §8 class: profile | window | measure
    sql: str                                        # DuckDB, with {as_of} (a DATE literal) and {facts}
    raw: Callable[[RawIndex, dt.date], BitMap]      # hand-written pyroaring plan


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _sums(r: RawIndex, lines: slice, hit: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.bincount(r.l_cid[lines][hit], weights=weights[lines][hit], minlength=r.n)


def _code(r: RawIndex, dim: str, value: str) -> int:
    return r.vocab[dim].get(value, -2)          # -2: a value the data never has


def raw_levis(r: RawIndex, as_of: dt.date) -> BitMap:
    lines = r.since(day_number(add_months(as_of, -6)))
    hit = r.l_dims["brand"][lines] == _code(r, "brand", "Levi's")
    return bitmap_of_mask(_sums(r, lines, hit, r.l_cents) > 300_00)


def raw_lapsed(r: RawIndex, as_of: dt.date) -> BitMap:
    never = np.iinfo(np.int64).min
    mask = (r.orders > 10) & (r.clv >= 1000_00) & (r.last_day != never) & (r.last_day < day_number(as_of) - 180)
    return bitmap_of_mask(mask)


def raw_womenswear(r: RawIndex, as_of: dt.date) -> BitMap:
    lines = slice(0, len(r.l_day))
    hit = (r.l_dims["department"] == _code(r, "department", "Womenswear")) & (
        r.l_dims["season"] == _code(r, "season", "AW24"))
    bought = bitmap_of_mask(_sums(r, lines, hit, r.l_qty) >= 2)
    return bought - r.ever["season"].get(_code(r, "season", "SS25"), BitMap())


def raw_birthday(r: RawIndex, as_of: dt.date) -> BitMap:
    wanted = np.zeros(13 * 32, dtype=bool)
    for offset in range(14):
        day = as_of + dt.timedelta(days=offset)
        wanted[day.month * 32 + day.day] = True
        if day.month == 2 and day.day == 28 and not _leap(day.year):
            wanted[2 * 32 + 29] = True
    wanted[0] = False                           # NULL birth dates
    return bitmap_of_mask(wanted[r.birth_md]) & r.loyal & r.email


def raw_new_no_order(r: RawIndex, as_of: dt.date) -> BitMap:
    return bitmap_of_mask((r.joined >= day_number(as_of) - 30) & (r.orders == 0))


def raw_one_order_60_90(r: RawIndex, as_of: dt.date) -> BitMap:
    today = day_number(as_of)
    return r.window(today - 90, today - 60) & bitmap_of_mask(r.orders == 1)


def raw_paid_only(r: RawIndex, as_of: dt.date) -> BitMap:
    by_source = r.ever["source"]
    paid = {_code(r, "source", "cpc"), _code(r, "source", "paid_social")}
    inside = [b for code, b in by_source.items() if code in paid]
    outside = [b for code, b in by_source.items() if code not in paid]      # NULL source (-1) included
    return BitMap.union(BitMap(), *inside) - BitMap.union(BitMap(), *outside)


def raw_black_shoes(r: RawIndex, as_of: dt.date) -> BitMap:
    lines = r.since(day_number(add_months(as_of, -12)))
    hit = (r.l_dims["department"][lines] == _code(r, "department", "Shoes")) & (
        r.l_dims["color"][lines] == _code(r, "color", "black"))
    return bitmap_of_mask(_sums(r, lines, hit, r.l_qty) >= 3)


def raw_incomplete(r: RawIndex, as_of: dt.date) -> BitMap:
    return (r.gender_null | r.birth_null) & r.window(day_number(as_of) - 365, r.last)


def raw_gold(r: RawIndex, as_of: dt.date) -> BitMap:
    lines = r.since(day_number(as_of) - 365)
    spent = bitmap_of_mask(_sums(r, lines, np.ones(lines.stop - lines.start, dtype=bool), r.l_cents) >= 500_00)
    return (spent | r.lists["gold_manual"]) - r.lists["tier_blocked"]


def raw_app_abroad(r: RawIndex, as_of: dt.date) -> BitMap:
    benelux = [r.country[c] for c in (_code(r, "country", "NL"), _code(r, "country", "BE")) if c in r.country]
    return r.tags.get("app_user", BitMap()) - BitMap.union(BitMap(), *benelux)


QUERIES: tuple[Query, ...] = (
    Query("levis_6m_spend", "purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)", "measure", """
        SELECT cid FROM {lines}
        WHERE brand = 'Levi''s' AND day >= CAST({as_of} - INTERVAL 6 MONTH AS DATE)
        GROUP BY cid HAVING sum(amount) > 300""", raw_levis),
    Query("lapsed_big_spenders", "orders > 10 AND clv >= 1000 AND last_purchase_date < -180d", "profile", """
        SELECT cid FROM {facts}
        WHERE orders > 10 AND clv >= 1000 AND last_purchase_date < {as_of} - 180""", raw_lapsed),
    Query("womenswear_aw24_not_ss25",
          "purchases MATCHES (department = 'Womenswear', season = 'AW24', sum_quantity >= 2) "
          "AND purchases NOT MATCHES (season = 'SS25')", "measure", """
        SELECT cid FROM {lines} WHERE department = 'Womenswear' AND season = 'AW24'
        GROUP BY cid HAVING sum(quantity) >= 2
        EXCEPT
        SELECT cid FROM {lines} WHERE season = 'SS25' AND quantity > 0""", raw_womenswear),
    Query("birthday_fortnight",
          "ANNIVERSARY(birth_date) BETWEEN today AND +13d AND loyalty_member = true AND email IS NOT NULL",
          "profile", """
        WITH days AS (
            SELECT d::DATE AS d FROM generate_series({as_of}, {as_of} + 13, INTERVAL 1 DAY) AS t(d)
        ), wanted AS (
            SELECT month(d) * 100 + day(d) AS md FROM days
            UNION
            SELECT 229 FROM days                            -- Feb 29 counts as Feb 28 in years without one
            WHERE month(d) = 2 AND day(d) = 28
              AND NOT (year(d) % 4 = 0 AND (year(d) % 100 <> 0 OR year(d) % 400 = 0))
        )
        SELECT cid FROM customers
        WHERE month(birth_date) * 100 + day(birth_date) IN (SELECT md FROM wanted)
          AND loyalty_member = true AND email IS NOT NULL""", raw_birthday),
    Query("new_without_order", "input_date >= -30d AND orders = 0", "profile", """
        SELECT cid FROM {facts} WHERE input_date >= {as_of} - 30 AND orders = 0""", raw_new_no_order),
    Query("one_order_60_90d", "orders = 1 AND purchases MATCHES (date BETWEEN -90d AND -60d)", "window", """
        SELECT cid FROM {facts}
        WHERE orders = 1 AND cid IN (
            SELECT cid FROM {lines} WHERE quantity > 0 AND day BETWEEN {as_of} - 90 AND {as_of} - 60)""",
          raw_one_order_60_90),
    Query("paid_channels_only",
          "purchases MATCHES (source IN ('cpc', 'paid_social')) "
          "AND purchases NOT MATCHES (source NOT IN ('cpc', 'paid_social'))", "window", """
        SELECT cid FROM {lines} WHERE quantity > 0 AND source IN ('cpc', 'paid_social')
        EXCEPT
        SELECT cid FROM {lines}
        WHERE quantity > 0 AND (source IS NULL OR source NOT IN ('cpc', 'paid_social'))""", raw_paid_only),
    Query("black_shoes_12m",
          "purchases MATCHES (department = 'Shoes', color = 'black', date >= -12m, sum_quantity >= 3)",
          "measure", """
        SELECT cid FROM {lines}
        WHERE department = 'Shoes' AND color = 'black' AND day >= CAST({as_of} - INTERVAL 12 MONTH AS DATE)
        GROUP BY cid HAVING sum(quantity) >= 3""", raw_black_shoes),
    Query("incomplete_profile_buyers",
          "(gender IS NULL OR birth_date IS NULL) AND purchases MATCHES (date >= -365d)", "window", """
        SELECT cid FROM customers
        WHERE (gender IS NULL OR birth_date IS NULL)
          AND cid IN (SELECT cid FROM {lines} WHERE quantity > 0 AND day >= {as_of} - 365)""", raw_incomplete),
    Query("gold_or_listed",
          "(purchases MATCHES (date >= -365d, sum_amount >= 500) OR IN LIST 'gold_manual') "
          "AND NOT IN LIST 'tier_blocked'", "measure", """
        (SELECT cid FROM {lines} WHERE day >= {as_of} - 365 GROUP BY cid HAVING sum(amount) >= 500
         UNION
         SELECT cid FROM list_members WHERE list = 'gold_manual')
        EXCEPT
        SELECT cid FROM list_members WHERE list = 'tier_blocked'""", raw_gold),
    Query("app_users_outside_benelux", "tags CONTAINS 'app_user' AND NOT country IN ('NL', 'BE')", "profile", """
        SELECT cid FROM customers
        WHERE list_contains(tags, 'app_user') AND (country IS NULL OR country NOT IN ('NL', 'BE'))""",
          raw_app_abroad),
)
BY_NAME = {q.name: q for q in QUERIES}

# Extra as_of days for the correctness check: a year wrap and a leap day in ANNIVERSARY, clamped months.
CHECK_DAYS = (dt.date(2025, 12, 25), dt.date(2025, 8, 31), dt.date(2024, 2, 20), dt.date(2025, 3, 31))


class Peer(Protocol):
    name: str

    def count(self, q: Query, as_of: dt.date) -> int: ...

    def members(self, q: Query, as_of: dt.date) -> np.ndarray: ...


# ── peers ────────────────────────────────────────────────────────────────────────────────────────────

def columns_of(bitmap: BitMap) -> np.ndarray:
    return np.frombuffer(bitmap.to_array(), dtype=np.uint32)


class EnginePeer:
    """bitseg in-process: `Index.count` / `Index.evaluate` on the query text (parse and plan included)."""

    name = "bitseg"

    def __init__(self, index) -> None:
        self.index = index

    def count(self, q: Query, as_of: dt.date) -> int:
        return self.index.count(q.text, as_of)

    def members(self, q: Query, as_of: dt.date) -> np.ndarray:
        return columns_of(self.index.evaluate(q.text, as_of))


class DuckPeer:
    """DuckDB in-process: `SELECT count(*)` over the hand-written SQL."""

    def __init__(self, con, facts: str = "customer_facts", name: str = "duckdb") -> None:
        self.con = con
        self.facts = facts
        self.name = name
        self.last_day = con.execute("SELECT max(day) FROM lines").fetchone()[0]

    def sql(self, q: Query, as_of: dt.date) -> str:
        """The query's SQL as of `as_of`. Before the last day of data, point in time (SPEC §2): only the lines up
        to that day, and the built-ins derived from them (a materialised table cannot go back in time)."""
        day = f"DATE '{as_of.isoformat()}'"
        if as_of >= self.last_day:
            return q.sql.format(as_of=day, facts=self.facts, lines="lines")
        lines = f"(SELECT * FROM lines WHERE day <= {day}) AS lines"
        return q.sql.format(as_of=day, facts=f"({facts_sql(lines)}) AS facts", lines=lines)

    def count(self, q: Query, as_of: dt.date) -> int:
        return self.con.execute(f"SELECT count(*) FROM ({self.sql(q, as_of)}) AS segment").fetchone()[0]

    def members(self, q: Query, as_of: dt.date) -> np.ndarray:
        found = self.con.execute(f"SELECT cid FROM ({self.sql(q, as_of)}) AS segment ORDER BY cid").fetchnumpy()
        return np.asarray(found["cid"], dtype=np.uint32)


class RawPeer:
    """The raw pyroaring plan of each query."""

    name = "raw"

    def __init__(self, raw: RawIndex) -> None:
        self.raw = raw
        self.past: dict[dt.date, RawIndex] = {}

    def of(self, as_of: dt.date) -> RawIndex:
        """The structures as of `as_of`: before the last day of data, built again from the lines up to that day
        (point in time, SPEC §2; only the correctness check asks for past days)."""
        if day_number(as_of) >= self.raw.last:
            return self.raw
        if as_of not in self.past:
            self.past[as_of] = RawIndex(self.raw.ds.until(day_number(as_of)))
        return self.past[as_of]

    def count(self, q: Query, as_of: dt.date) -> int:
        return len(q.raw(self.of(as_of), as_of))

    def members(self, q: Query, as_of: dt.date) -> np.ndarray:
        return columns_of(q.raw(self.of(as_of), as_of))


# name → how to make the peer from a Bench (see bench.py); the reference peer (bitseg) first.
PEERS: dict[str, Callable[..., Peer]] = {
    "bitseg": lambda bench: EnginePeer(bench.index),
    "duckdb": lambda bench: DuckPeer(bench.duck, "customer_facts", "duckdb"),
    "duckdb_mat": lambda bench: DuckPeer(bench.duck, "customer_facts_mat", "duckdb_mat"),
    "raw": lambda bench: RawPeer(bench.raw),
}


def compare(expected: np.ndarray, got: np.ndarray) -> dict:
    """extra_info for one answer: correct, sizes, and a few ids on each side of a difference."""
    same = len(expected) == len(got) and np.array_equal(expected, got)
    info: dict = {"correct": bool(same), "expected": len(expected), "got": len(got)}
    if not same:
        info["missing"] = np.setdiff1d(expected, got)[:5].tolist()
        info["extra"] = np.setdiff1d(got, expected)[:5].tolist()
        info["duplicates"] = int(len(got) - len(np.unique(got)))
    return info
