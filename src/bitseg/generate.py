"""A deterministic synthetic fashion retailer of any size: schema, customer profiles and purchase lines."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import itertools
import math
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import numpy as np

from bitseg.errors import InvalidInputError

__all__ = [
    "FASHION_SCHEMA", "PROFILE_COLUMNS", "PURCHASE_COLUMNS", "SIZES",
    "generate_profiles", "generate_purchases", "size_of", "write_dataset",
]

FASHION_SCHEMA = """\
# A fashion retailer, as written by `bitseg generate`.
timezone = "Europe/Amsterdam"

[profile]
gender = "keyword"
country = "keyword"
tags = "tags"
loyalty_member = "bool"
email = "presence"
birth_date = "date"
input_date = "date"
points = "int"
credit = "decimal"

[purchase]
brand = "keyword"
department = "keyword"
collection = "keyword"
color = "keyword"
season = "keyword"
source = "keyword"
"""

# name: (customers, lines); lines span the window (two years by default), returns included.
SIZES: dict[str, tuple[int, int]] = {
    "XS": (2_000, 40_000),
    "S": (100_000, 2_000_000),
    "M": (1_000_000, 20_000_000),
    "L": (10_000_000, 100_000_000),
}

TIMEZONE = "Europe/Amsterdam"
PROFILE_COLUMNS = ("customer", "gender", "country", "tags", "loyalty_member", "email",
                   "birth_date", "input_date", "points", "credit")
DIMENSIONS = ("brand", "department", "collection", "color", "season", "source")
PURCHASE_COLUMNS = ("customer", "time", "amount", "quantity", "order") + DIMENSIONS

# Purchase lines are made in blocks of consecutive days holding about this many lines, each block from its
# own random stream: the data do not depend on how a caller batches them, and memory stays bounded.
BLOCK_LINES = 1 << 18
RETURN_SHARE = 0.065


# ── vocabularies: (value, weight); weights need not sum to 1 ─────────────────────────────────────────────

GENDERS = (("female", 0.57), ("male", 0.31), ("other", 0.02))
GENDER_NULL = 0.10
COUNTRIES = (("NL", 46), ("BE", 16), ("DE", 13), ("FR", 7), ("GB", 5), ("ES", 3), ("IT", 3), ("AT", 2),
             ("LU", 1), ("DK", 1), ("SE", 1), ("PL", 1), ("IE", 0.5), ("CH", 0.5))
COUNTRY_NULL = 0.01
TAGS = (("newsletter", 0.45), ("app_user", 0.35), ("store_pickup", 0.20), ("sms_optin", 0.15),
        ("student", 0.06), ("gift_card", 0.05), ("employee", 0.004), ("vip", 0.0))   # vip follows spend
DEPARTMENTS = (("Womenswear", 34), ("Menswear", 20), ("Shoes", 13), ("Kids", 10), ("Accessories", 10),
               ("Sports", 7), ("Underwear", 4), ("Home", 2))
# Mean unit price (EUR) and relative return propensity per department, in DEPARTMENTS order.
DEPARTMENT_PRICE = (45.0, 50.0, 85.0, 22.0, 25.0, 40.0, 18.0, 30.0)
DEPARTMENT_RETURNS = (1.5, 1.1, 1.4, 0.6, 0.5, 0.8, 0.3, 0.4)
# A customer's favourite department, by gender (female, male, other, NULL), in DEPARTMENTS order.
FAVOURITE_DEPARTMENT = (
    (62, 3, 12, 10, 8, 3, 1, 1),
    (3, 60, 14, 8, 5, 8, 1, 1),
    (30, 30, 14, 6, 10, 6, 2, 2),
    (34, 20, 13, 10, 10, 7, 4, 2),
)
COLLECTIONS = ("Essentials", "Denim", "Basics", "Casual", "Workwear", "Party", "Premium", "Athleisure",
               "Sustainable", "Tailoring", "Loungewear", "Outdoor", "Knitwear", "Holiday", "Beachwear",
               "Festival")
# Collection weights in spring/summer and in autumn/winter seasons, in COLLECTIONS order.
COLLECTION_SS = (20, 15, 14, 12, 5, 5, 4, 6, 4, 3, 3, 1, 0.5, 0.5, 6, 4)
COLLECTION_AW = (20, 15, 14, 12, 6, 7, 5, 5, 4, 4, 5, 8, 9, 6, 0.2, 0.2)
COLORS = (("black", 20), ("white", 10), ("navy", 9), ("blue", 8), ("grey", 8), ("beige", 6), ("green", 5),
          ("red", 4), ("brown", 4), ("pink", 4), ("multi", 4), ("khaki", 3), ("cream", 3), ("burgundy", 2.5),
          ("yellow", 2), ("orange", 2), ("purple", 1.5), ("silver", 1), ("gold", 1), ("denim", 2))
SOURCES = (("direct", 25), ("organic", 22), ("cpc", 18), ("email", 14), ("paid_social", 10),
           ("affiliate", 6), ("referral", 3), ("display", 2))
# Share of NULL cells per dimension (source is per order, the rest per line).
DIMENSION_NULL = {"brand": 0.005, "department": 0.003, "collection": 0.06, "color": 0.03,
                  "season": 0.02, "source": 0.05}
ORDER_SIZES = (0.45, 0.25, 0.14, 0.08, 0.05, 0.03)      # P(1 line), …, P(6 lines)
QUANTITIES = (0.86, 0.10, 0.03, 0.006, 0.003, 0.001)    # P(1), …, P(6)
# Orders per hour of the local day. None from 02:00 to 03:00: that hour is missing or doubled on DST days.
HOURS = (1.5, 0.8, 0, 0.3, 0.3, 0.5, 1, 2, 3, 4, 5, 5.5, 6, 6, 5.5, 5.5, 5.5, 6, 6.5, 7.5, 8.5, 8, 6, 3.5)
MONTHS = (1.15, 0.8, 0.95, 1.0, 1.0, 1.0, 1.1, 0.9, 0.95, 1.0, 1.35, 1.45)     # Jan sales … Dec gifts
WEEKDAYS = (1.1, 1.0, 1.0, 1.0, 0.95, 0.85, 1.15)                           # Monday … Sunday

_KNOWN_BRANDS = (
    "Levi's", "Nike", "Adidas", "Tommy Hilfiger", "Calvin Klein", "G-Star RAW", "Scotch & Soda", "Vero Moda",
    "Jack & Jones", "Only", "Esprit", "Mango", "Puma", "Vans", "Converse", "Ralph Lauren", "Hugo Boss",
    "Guess", "Lacoste", "New Balance", "Diesel", "Pepe Jeans", "Superdry", "The North Face", "Columbia",
    "Timberland", "Dr. Martens", "Birkenstock", "Asics", "Reebok", "Fila", "Champion", "Carhartt WIP",
    "Napapijri", "Woolrich", "Armani Exchange", "Michael Kors", "Fossil", "Ray-Ban", "Skechers", "UGG",
    "Crocs", "Mexx", "WE Fashion", "Garcia", "America Today", "Fred Perry", "Barbour", "Gant", "Wrangler",
    "Lee", "Replay", "Kings of Indigo", "Marc O'Polo", "s.Oliver", "Tom Tailor", "Vila", "Selected", "Object",
    "Noisy May",
)
_BRAND_HEADS = ("Atelier", "Studio", "Maison", "North", "Urban", "Blue", "Wild", "Silver", "Grey", "Noble",
                "Little", "Nordic", "Velvet", "Copper", "Harbor", "Linen", "Coastal", "Golden", "Indigo",
                "Olive")
_BRAND_TAILS = ("Thread", "Loom", "Lane", "Fox", "Row", "& Co", "Works", "Label", "Denim", "Supply",
                "Collective", "Stitch", "House", "Club", "Tailors", "Project")


def _brands(count: int = 200) -> tuple[str, ...]:
    """Brand names by popularity rank: well-known ones first, then made-up labels."""
    made_up = [f"{head} {tail}" for head in _BRAND_HEADS for tail in _BRAND_TAILS]
    # Stride 7 is coprime with the 320 combinations: every name once, heads well mixed.
    made_up = [made_up[i * 7 % len(made_up)] for i in range(count - len(_KNOWN_BRANDS))]
    return _KNOWN_BRANDS + tuple(made_up)


BRANDS = _brands()
BRAND_WEIGHTS = tuple(1.0 / rank ** 1.05 for rank in range(1, len(BRANDS) + 1))     # Zipf: few big brands


# ── public API ────────────────────────────────────────────────────────────────────────────────────────────

def size_of(name: str) -> tuple[int, int]:
    """The (customers, lines) of a named size.

    >>> size_of("S")
    (100000, 2000000)
    >>> size_of("xl")
    Traceback (most recent call last):
    ...
    bitseg.errors.InvalidInputError: unknown size 'xl'; expected one of XS, S, M, L
    """
    try:
        return SIZES[name.upper()]
    except (KeyError, AttributeError):
        raise InvalidInputError(f"unknown size {name!r}; expected one of {', '.join(SIZES)}") from None


def generate_profiles(customers: int, seed: int = 42, end: dt.date | str | None = None,
                      days: int = 730) -> dict[str, np.ndarray]:
    """Every customer's profile, as columns of equal length (one row per customer, in id order).

    Columns and their NULLs:
      - ``customer``: object array of str, ``C0000001`` … (7 digits, more when needed), never NULL.
      - ``gender``, ``country``, ``email``: object arrays of str or None.
      - ``tags``: object array of ``'|'``-joined str (``'app_user|newsletter'``) or None for no tags.
      - ``loyalty_member``: object array of True, False or None.
      - ``birth_date``, ``input_date``: ``datetime64[D]`` arrays; NaT is NULL.
      - ``points``: object array of int or None; ``credit``: object array of float (2 decimals) or None.

    Args:
        customers: how many customers (at least 1).
        seed: the random seed (>= 0); the same arguments give the same profiles.
        end: the last day of the purchase window (default: today in Europe/Amsterdam).
        days: the length of the purchase window; registrations spread over it and the years before.

    Returns:
        A dict from PROFILE_COLUMNS to numpy arrays.

    >>> p = generate_profiles(3, seed=1, end="2026-03-14")
    >>> list(p["customer"]), p["input_date"].dtype
    (['C0000001', 'C0000002', 'C0000003'], dtype('<M8[D]'))
    """
    world = _World.make(customers, seed, end, days)
    return _profile_columns(world, _profile_codes(world))


def generate_purchases(customers: int, lines: int, seed: int = 42, end: dt.date | str | None = None,
                       days: int = 730, batch_lines: int = 1_000_000) -> Iterator[dict[str, np.ndarray]]:
    """Purchase lines over ``days`` days ending at ``end``, as batches of columns.

    Lines come block by block in day order (each block's returns follow it); the concatenated stream is the
    same whatever ``batch_lines`` is. About 6.5% of the lines are returns: negative quantity and amount, the
    purchased line's customer and dimensions, an order id ``R…`` matching the ``O…`` of the purchase, and a
    later day. ``lines`` is the total, returns included.

    Columns of each batch (all of one length):
      - ``customer``: object array of str; ``order``: object array of str (``O000000001``, ``R000000001``).
      - ``day``: ``datetime64[D]``, the local day (Europe/Amsterdam).
      - ``amount``: float64 with 2 decimals, negative for returns; ``quantity``: int64, negative for returns.
      - one object array per dimension (brand, department, collection, color, season, source): str or None.

    Args:
        customers: how many customers (at least 1); must match the profiles.
        lines: how many lines in all (>= 0).
        seed: the random seed (>= 0).
        end: the last day (default: today in Europe/Amsterdam).
        days: the window length in days.
        batch_lines: the largest batch to yield.

    Yields:
        Dicts from column name to numpy array.

    >>> batch = next(generate_purchases(10, 50, seed=1, end="2026-03-14", batch_lines=20))
    >>> len(batch["customer"]), batch["day"].dtype, sorted(batch)[:3]
    (20, dtype('<M8[D]'), ['amount', 'brand', 'collection'])
    """
    if batch_lines < 1:
        raise InvalidInputError(f"batch_lines must be at least 1, not {batch_lines}")
    world = _World.make(customers, seed, end, days, lines)
    return (_purchase_columns(world, batch) for batch in _rebatch(_blocks(world), batch_lines))


def write_dataset(out_dir: str | Path, customers: int, lines: int, seed: int = 42,
                  end: dt.date | str | None = None, days: int = 730,
                  progress: Callable[[str, int, int], None] | None = None,
                  compress: bool = False) -> dict[str, object]:
    """Write ``schema.toml``, ``profiles.csv`` and ``purchases.csv`` (or ``.csv.gz``) into a folder.

    The CSVs follow `bitseg import`: a header row, empty cell = NULL, tags ``|``-joined, bools true/false,
    dates ``YYYY-MM-DD``, purchase times ``YYYY-MM-DD HH:MM:SS`` in the index time zone, decimals with a
    point. They hold exactly what generate_profiles and generate_purchases return for the same arguments.

    Args:
        out_dir: the folder; created when missing, files in it overwritten.
        customers: how many customers.
        lines: how many purchase lines, returns included.
        seed: the random seed.
        end: the last day of the window (default: today in Europe/Amsterdam).
        days: the window length in days.
        progress: called as ``progress(file, done, total)`` with file ``"profiles"`` or ``"purchases"``.
        compress: gzip the two CSVs (names end in ``.csv.gz``).

    Returns:
        A summary: customers, lines, purchase_lines, return_lines, orders, start, end, files, seconds and
        lines_per_second.
    """
    started = time.perf_counter()
    world = _World.make(customers, seed, end, days, lines)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".csv.gz" if compress else ".csv"
    paths = {"schema": folder / "schema.toml", "profiles": folder / f"profiles{suffix}",
             "purchases": folder / f"purchases{suffix}"}
    paths["schema"].write_text(FASHION_SCHEMA, encoding="utf-8")
    report = progress or (lambda what, done, total: None)
    totals = {"lines": 0, "purchase_lines": 0, "return_lines": 0, "orders": 0}

    def profile_chunks() -> Iterator[bytes]:
        codes = _profile_codes(world)
        for low in range(0, world.customers, BLOCK_LINES):
            yield _profile_csv(world, codes, slice(low, low + BLOCK_LINES))
            report("profiles", min(low + BLOCK_LINES, world.customers), world.customers)

    def purchase_chunks() -> Iterator[bytes]:
        for block in _blocks(world):
            yield _purchase_csv(world, block)
            returns = int(block.returned.sum())
            totals["lines"] += len(block)
            totals["return_lines"] += returns
            totals["purchase_lines"] += len(block) - returns
            totals["orders"] = int(block.order.max(initial=totals["orders"]))    # numbered 1, 2, … in order
            report("purchases", totals["lines"], world.lines)

    _write_csv(paths["profiles"], PROFILE_COLUMNS, profile_chunks())
    _write_csv(paths["purchases"], PURCHASE_COLUMNS, purchase_chunks())
    seconds = time.perf_counter() - started
    return {
        "customers": world.customers, **totals,
        "start": world.start.isoformat(), "end": world.end.isoformat(), "seed": seed,
        "files": {name: str(path) for name, path in paths.items()},
        "seconds": round(seconds, 3), "lines_per_second": round(totals["lines"] / seconds),
    }


def _write_csv(path: Path, header: Sequence[str], chunks: Iterator[bytes]) -> None:
    """Write a header row and then the chunks of rows, gzipped when the name ends in ``.gz``."""
    with _open(path) as out, ThreadPoolExecutor(1) as writer:
        out.write(",".join(header).encode() + b"\n")
        # Each chunk is written (and compressed) in a thread while the next is made: both release the GIL.
        pending: Future[int] | None = None
        for chunk in chunks:
            if pending:
                pending.result()
            pending = writer.submit(out.write, chunk)
        if pending:
            pending.result()


# ── the customer world: hidden traits that profiles and purchases share ────────────────────────────────

def _rng(seed: int, *stream: int) -> np.random.Generator:
    """An independent random stream per (seed, purpose, block): adding a stream never shifts another."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stream])))


_CUSTOMERS, _PROFILES, _DAYS, _BLOCK = 1, 2, 3, 4


@dataclass(frozen=True)
class _World:
    """Everything fixed before the first line is drawn. Days are offsets from ``start`` (day 0)."""

    customers: int
    lines: int
    seed: int
    start: dt.date
    end: dt.date
    days: int
    registered: np.ndarray      # int32 per customer: the day the account exists (negative: before the window)
    lapsed: np.ndarray          # int32 per customer: the day from which they buy no more (days = never)
    weight: np.ndarray          # float64 per customer: relative purchase rate (0 = never buys)
    gender: np.ndarray          # int8 per customer: index in GENDERS, len(GENDERS) for NULL
    department: np.ndarray      # int8 per customer: favourite department
    brand: np.ndarray           # int16 per customer: favourite brand
    source: np.ndarray          # int8 per customer: usual traffic source
    day_weight: np.ndarray      # float64 per window day: seasonal × weekly × holiday × growth × noise

    @classmethod
    def make(cls, customers: int, seed: int, end: dt.date | str | None, days: int, lines: int = 0) -> _World:
        _check(customers, lines, seed, days)
        last = _end_day(end)
        start = last - dt.timedelta(days=days - 1)
        rng = _rng(seed, _CUSTOMERS)
        n = customers
        # Accounts: 60% from the three years before the window, 38% during it (growing), 2% in its last month.
        kind = rng.choice(3, size=n, p=(0.60, 0.38, 0.02))
        recent = min(30, days)
        before = -rng.integers(1, 3 * 365 + 1, size=n)
        during = ((days - recent) * np.sqrt(rng.random(n))).astype(np.int64)
        late = days - 1 - rng.integers(0, recent, size=n)
        registered = np.select([kind == 0, kind == 1], [before, during], late).astype(np.int32)
        # Heavy-tailed purchase rates; 10% never buy, nor do most of those who joined last month.
        weight = rng.lognormal(0.0, 1.3, size=n)
        weight[rng.random(n) < 0.10] = 0.0
        weight[(kind == 2) & (rng.random(n) < 0.6)] = 0.0
        # A quarter of the customers lapse at some day of the window: lost customers, win-back campaigns.
        lapsed = np.where(rng.random(n) < 0.25,
                          rng.integers(np.clip(registered, 0, days - 1), days), days).astype(np.int32)
        # Customer 1 is an early, active account, so every day has someone who can buy.
        registered[0] = min(int(registered[0]), -1)
        weight[0] = max(float(weight[0]), 1.0)
        lapsed[0] = days
        gender = _draw(rng, [w for _, w in GENDERS] + [GENDER_NULL], n).astype(np.int8)
        department = np.empty(n, np.int8)
        for g, weights in enumerate(FAVOURITE_DEPARTMENT):
            chosen = gender == g
            department[chosen] = _draw(rng, weights, int(chosen.sum()))
        brand = _draw(rng, BRAND_WEIGHTS, n).astype(np.int16)
        source = _draw(rng, [w for _, w in SOURCES], n).astype(np.int8)
        day_weight = _day_weights(start, days, _rng(seed, _DAYS))
        return cls(customers, lines, seed, start, last, days, registered, lapsed, weight, gender, department,
                   brand, source, day_weight)

    def day(self, offsets: np.ndarray) -> np.ndarray:
        return np.datetime64(self.start, "D") + offsets.astype("timedelta64[D]")


def _check(customers: int, lines: int, seed: int, days: int) -> None:
    for name, value, least in (("customers", customers, 1), ("lines", lines, 0), ("seed", seed, 0),
                               ("days", days, 1)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
            raise InvalidInputError(f"{name} must be an integer of at least {least}, not {value!r}")


def _end_day(end: dt.date | str | None) -> dt.date:
    if end is None:
        return dt.datetime.now(ZoneInfo(TIMEZONE)).date()
    if isinstance(end, dt.datetime):
        return end.date()
    if isinstance(end, dt.date):
        return end
    try:
        return dt.date.fromisoformat(end)
    except (TypeError, ValueError):
        raise InvalidInputError(f"end must be a day such as 2026-03-14, not {end!r}") from None


def _draw(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int) -> np.ndarray:
    """Indexes into ``weights``, drawn in proportion to them (inverse CDF: one pass, any size)."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    return np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right").clip(0, len(cdf) - 1)


def _day_weights(start: dt.date, days: int, rng: np.random.Generator) -> np.ndarray:
    """How busy each day of the window is."""
    dates = np.datetime64(start, "D") + np.arange(days)
    months = dates.astype("datetime64[M]").astype(np.int64) % 12
    monthday = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    weekday = (dates.astype(np.int64) + 3) % 7                    # 1970-01-01 was a Thursday
    weight = np.asarray(MONTHS)[months] * np.asarray(WEEKDAYS)[weekday]
    # Black Friday is the fourth Friday of November (day 22–28); its weekend and Cyber Monday follow.
    black_friday = (months == 10) & (weekday == 4) & (monthday >= 22) & (monthday <= 28)
    for shift, factor in ((0, 3.0), (1, 1.8), (2, 1.8), (3, 2.2)):
        spike = np.flatnonzero(black_friday) + shift
        weight[spike[spike < days]] *= factor
    december = months == 11
    for day, factor in ((24, 0.6), (25, 0.35), (26, 0.9), (27, 1.4), (28, 1.3)):
        weight[december & (monthday == day)] *= factor
    weight[(months == 6) & (monthday <= 7)] *= 1.4               # summer sale opens
    weight[(months == 0) & (monthday <= 7)] *= 1.2
    growth = 1.12 ** (np.arange(days) / 365.0)
    return weight * growth * np.exp(rng.normal(0.0, 0.08, size=days))


# ── profiles ───────────────────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class _ProfileCodes:
    """Profiles as small integer codes and numbers, the common source of the columns and the CSV."""

    country: np.ndarray     # int8, len(COUNTRIES) = NULL
    tags: np.ndarray        # uint8 bit set over TAGS, 0 = NULL
    loyalty: np.ndarray     # int8: 0 true, 1 false, 2 NULL
    email: np.ndarray       # int8: index in _EMAIL_DOMAINS, -1 = NULL
    birth: np.ndarray       # datetime64[D], NaT = NULL
    joined: np.ndarray      # datetime64[D], NaT = NULL
    points: np.ndarray      # int64, -1 = NULL
    credit: np.ndarray      # int64 cents, -1 = NULL


_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


def _profile_codes(world: _World) -> _ProfileCodes:
    rng = _rng(world.seed, _PROFILES)
    n = world.customers
    country = _draw(rng, [w for _, w in COUNTRIES] + [sum(w for _, w in COUNTRIES) * COUNTRY_NULL], n)
    # Rank by purchase rate: the biggest spenders are the VIPs and most often loyalty members.
    spend_rank = np.empty(n, np.float64)
    spend_rank[np.argsort(world.weight, kind="stable")] = np.arange(n) / max(n - 1, 1)
    tags = np.zeros(n, np.uint8)
    for bit, (_, share) in enumerate(TAGS):
        tags |= ((rng.random(n) < share).astype(np.uint8) << bit)
    vip = (spend_rank >= 0.97) & (rng.random(n) < 0.7)
    tags |= (vip.astype(np.uint8) << [name for name, _ in TAGS].index("vip"))
    loyalty = np.where(rng.random(n) < 0.2 + 0.45 * spend_rank, 0, 1).astype(np.int8)
    loyalty[rng.random(n) < 0.05] = 2
    email = _draw(rng, (70, 20, 10), n).astype(np.int8)
    email[rng.random(n) < 0.30] = -1
    # Ages 16–85 around 36; a few birthdays on Feb 29 so anniversaries meet that case at every size.
    age_days = (np.clip(rng.normal(36.0, 12.0, n), 16.0, 85.0) * 365.25).astype(np.int64)
    birth = np.datetime64(world.end, "D") - age_days.astype("timedelta64[D]")
    leap = rng.choice(n, size=min(n, max(1, n // 1000)), replace=False)
    leap_year = 1960 + 4 * rng.integers(0, 11, size=leap.size)
    birth[leap] = (leap_year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + np.timedelta64(59, "D")
    birth[rng.random(n) < 0.15] = np.datetime64("NaT")
    # Mostly registered before the first purchase; 4% signed up only later, after buying as a guest.
    joined_offset = world.registered.astype(np.int64)
    afterwards = rng.random(n) < 0.04
    joined_offset[afterwards] += rng.integers(1, 200, size=int(afterwards.sum()))
    joined_offset = np.minimum(joined_offset, world.days - 1)
    joined = world.day(joined_offset)
    joined[rng.random(n) < 0.01] = np.datetime64("NaT")
    points = np.minimum(rng.lognormal(5.5, 1.2, n), 99_999).astype(np.int64)
    points[rng.random(n) < 0.05] = 0
    points[loyalty != 0] = -1
    credit = np.round(rng.lognormal(3.0, 0.8, n) * 100).astype(np.int64)
    credit[rng.random(n) < 0.05] = 0
    credit[rng.random(n) >= 0.18] = -1
    return _ProfileCodes(country.astype(np.int8), tags, loyalty, email, birth, joined, points, credit)


def _profile_columns(world: _World, codes: _ProfileCodes) -> dict[str, np.ndarray]:
    everyone = slice(None)
    return {
        "customer": _customer_ids(np.arange(world.customers), world.customers),
        "gender": _objects([g for g, _ in GENDERS], world.gender),
        "country": _objects([c for c, _ in COUNTRIES], codes.country),
        "tags": _objects(_tag_sets(), codes.tags),
        "loyalty_member": _objects([True, False], codes.loyalty),
        "email": _nullable(_as_str_objects(_email_matrix(world, codes, everyone)), codes.email >= 0),
        "birth_date": codes.birth,
        "input_date": codes.joined,
        "points": _nullable(codes.points.astype(object), codes.points >= 0),
        "credit": _nullable((codes.credit / 100).astype(object), codes.credit >= 0),
    }


def _nullable(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """An object array of ``values`` where ``known``, None elsewhere."""
    out = np.full(len(values), None, dtype=object)
    out[known] = values[known]
    return out


@functools.cache
def _tag_sets() -> tuple[str | None, ...]:
    """The text of each tag bit set: index 0 is NULL (no tags), 5 is 'newsletter|store_pickup', …"""
    names = [name for name, _ in TAGS]
    return tuple("|".join(sorted(names[b] for b in range(len(names)) if mask >> b & 1)) or None
                 for mask in range(1 << len(names)))


def _email_matrix(world: _World, codes: _ProfileCodes, rows: slice) -> np.ndarray:
    """``c0000001@example.com`` …, empty rows where NULL."""
    columns = np.arange(world.customers)[rows]
    email = codes.email[rows]
    matrix = _concat([_fixed_ids(b"c", columns + 1, _id_width(world.customers)),
                      np.take(_text_matrix([f"@{d}" for d in _EMAIL_DOMAINS] + [None]), email, axis=0)])
    matrix[email < 0] = 0
    return matrix


def _profile_csv(world: _World, codes: _ProfileCodes, rows: slice) -> bytes:
    columns = np.arange(world.customers)[rows]
    return _csv_rows([
        _fixed_ids(b"C", columns + 1, _id_width(world.customers)),
        np.take(_text_matrix([g for g, _ in GENDERS] + [None]), world.gender[rows], axis=0),
        np.take(_text_matrix([c for c, _ in COUNTRIES] + [None]), codes.country[rows], axis=0),
        np.take(_text_matrix(_tag_sets()), codes.tags[rows], axis=0),
        np.take(_text_matrix(["true", "false", None]), codes.loyalty[rows], axis=0),
        _email_matrix(world, codes, rows),
        _date_text(codes.birth[rows]),
        _date_text(codes.joined[rows]),
        _int_text(codes.points[rows], null=codes.points[rows] < 0),
        _cents_text(codes.credit[rows], null=codes.credit[rows] < 0),
    ])


# ── purchase lines ─────────────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class _Block:
    """Purchase lines of a run of days, purchases first (grouped by order, in time order), then returns."""

    customer: np.ndarray    # int64 column (0-based)
    day: np.ndarray         # int64 day offset
    second: np.ndarray      # int64 second of the local day
    cents: np.ndarray       # int64 amount in cents
    quantity: np.ndarray    # int64
    order: np.ndarray       # int64 order number; returns carry their purchase's number
    returned: np.ndarray    # bool: a return line (its order id reads R… instead of O…)
    dims: dict[str, np.ndarray]     # int16 codes per dimension, len(vocabulary) = NULL

    def __len__(self) -> int:
        return len(self.customer)

    def cut(self, low: int, high: int) -> _Block:
        return replace(self, **{name: getattr(self, name)[low:high] for name in _LINE_ARRAYS},
                       dims={name: codes[low:high] for name, codes in self.dims.items()})

    @staticmethod
    def join(blocks: Sequence[_Block]) -> _Block:
        if len(blocks) == 1:
            return blocks[0]
        return replace(blocks[0],
                       **{name: np.concatenate([getattr(b, name) for b in blocks]) for name in _LINE_ARRAYS},
                       dims={name: np.concatenate([b.dims[name] for b in blocks]) for name in blocks[0].dims})


_LINE_ARRAYS = tuple(f.name for f in fields(_Block) if f.name != "dims")


@functools.cache
def _vocabularies() -> dict[str, tuple[str, ...]]:
    return {
        "brand": BRANDS,
        "department": tuple(d for d, _ in DEPARTMENTS),
        "collection": COLLECTIONS,
        "color": tuple(c for c, _ in COLORS),
        "source": tuple(s for s, _ in SOURCES),
    }


def _seasons(world: _World) -> tuple[tuple[str, ...], np.ndarray]:
    """Season names around the window, and per window day the index of its season.

    Spring/summer SSyy runs February to July, autumn/winter AWyy August to January (of yy + 1).
    """
    dates = world.day(np.arange(world.days))
    month = dates.astype("datetime64[M]").astype(np.int64)           # months since 1970-01
    season = (month - 1) // 6                                       # 0 = SS70, 1 = AW70, …
    first = int(season.min()) - 1                                   # one earlier, for last season's stock
    names = tuple(f"{'SS' if s % 2 == 0 else 'AW'}{(1970 + s // 2) % 100:02d}"
                  for s in range(first, int(season.max()) + 1))
    return names, (season - first).astype(np.int64)


def _blocks(world: _World) -> Iterator[_Block]:
    """The purchase lines, block by block; each block is a pure function of (world, block number)."""
    if world.lines == 0:
        return
    purchases = world.lines - round(world.lines * RETURN_SHARE)
    expected = np.cumsum(world.day_weight) / world.day_weight.sum()
    # Block boundaries and sizes follow the expected lines per day, so they never depend on a draw.
    cuts = np.searchsorted(expected * purchases, np.arange(BLOCK_LINES, purchases, BLOCK_LINES), side="left")
    edges = np.unique(np.concatenate([[0], cuts + 1, [world.days]]))
    edges = edges[edges <= world.days]
    buyers = _Buyers.of(world)
    seasons = _seasons(world)
    done_purchases = done_returns = 0
    order_base = 1
    for number, (low, high) in enumerate(itertools.pairwise(edges)):
        share = expected[high - 1]
        block_purchases = round(purchases * share) - done_purchases
        block_returns = round((world.lines - purchases) * share) - done_returns
        done_purchases += block_purchases
        done_returns += block_returns
        block = _make_block(world, _rng(world.seed, _BLOCK, number), range(low, high), block_purchases,
                            block_returns, order_base, buyers, seasons)
        order_base = int(block.order.max(initial=order_base - 1)) + 1     # orders are numbered 1, 2, …
        yield block


@dataclass(frozen=True)
class _Buyers:
    """Who can buy on a given day: accounts that exist and have not lapsed, in proportion to their rate."""

    by_registration: np.ndarray     # customer columns, earliest account first
    cumulative: np.ndarray          # running sum of their purchase rates
    existing: np.ndarray            # per window day: how many accounts exist by then

    @classmethod
    def of(cls, world: _World) -> _Buyers:
        order = np.argsort(world.registered, kind="stable")
        existing = np.searchsorted(world.registered[order], np.arange(world.days), side="right")
        return cls(order, np.cumsum(world.weight[order]), existing)

    def pick(self, world: _World, rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
        """One customer column per day in ``days``."""
        picked = np.empty(len(days), np.int64)
        todo = np.arange(len(days))
        while todo.size:        # redraw those who lapsed already; customer 1 never does, so this ends
            last = self.existing[days[todo]] - 1
            target = rng.random(todo.size) * self.cumulative[last]
            rank = np.searchsorted(self.cumulative, target, side="right")
            picked[todo] = self.by_registration[np.minimum(rank, last)]
            todo = todo[world.lapsed[picked[todo]] <= days[todo]]
        return picked


def _make_block(world: _World, rng: np.random.Generator, days: range, purchases: int, returns: int,
                order_base: int, buyers: _Buyers, seasons: tuple[tuple[str, ...], np.ndarray]) -> _Block:
    # Orders: a day of the block (as busy as the day is), a time, a customer whose account exists, a source.
    sizes = _order_sizes(rng, purchases)
    orders = len(sizes)
    order_day = days.start + _draw(rng, world.day_weight[days.start:days.stop], orders)
    order_second = _draw(rng, HOURS, orders) * 3600 + rng.integers(0, 3600, size=orders)
    in_time = np.lexsort((order_second, order_day))
    order_day, order_second = order_day[in_time], order_second[in_time]
    order_customer = buyers.pick(world, rng, order_day)
    order_source = np.where(rng.random(orders) < 0.6, world.source[order_customer],
                            _draw(rng, [w for _, w in SOURCES], orders))

    # Lines: the customer's favourite department and brand often, otherwise the shop's mix.
    line_order = np.repeat(np.arange(orders), sizes)
    customer = order_customer[line_order]
    day = order_day[line_order]
    n = purchases
    department = np.where(rng.random(n) < 0.55, world.department[customer],
                          _draw(rng, [w for _, w in DEPARTMENTS], n))
    brand = np.where(rng.random(n) < 0.30, world.brand[customer], _draw(rng, BRAND_WEIGHTS, n))
    season_names, day_season = seasons
    current = day_season[day]
    season = current - (rng.random(n) < 0.08)                       # some of last season's stock
    spring = np.char.startswith(np.asarray(season_names), "SS")[season]
    dims = {
        "brand": brand, "department": department,
        "collection": np.where(spring, _draw(rng, COLLECTION_SS, n), _draw(rng, COLLECTION_AW, n)),
        "color": _draw(rng, [w for _, w in COLORS], n), "season": season, "source": order_source[line_order],
    }
    null_code = {**{k: len(v) for k, v in _vocabularies().items()}, "season": len(season_names)}
    for name, share in DIMENSION_NULL.items():
        dims[name] = np.where(rng.random(n) < share, null_code[name], dims[name]).astype(np.int16)
    quantity = _draw(rng, QUANTITIES, n) + 1
    months = world.day(day).astype("datetime64[M]").astype(np.int64) % 12
    on_sale = (months == 0) | (months == 6) | (season < current)
    cents = _line_cents(rng, department, on_sale) * quantity

    # Returns: some lines come back (all or part of the quantity) a few days later, under the order's R… id.
    chosen = _pick_returns(rng, department, day, world.days, returns)
    delay = np.minimum(1 + rng.geometric(0.12, size=orders), world.days - 1 - order_day)
    return_second = _draw(rng, HOURS, orders) * 3600 + rng.integers(0, 3600, size=orders)
    bought = quantity[chosen]
    partly = (bought > 1) & (rng.random(len(chosen)) < 0.3)
    given_back = np.where(partly, rng.integers(1, np.maximum(bought, 2)), bought)
    return_order = line_order[chosen]

    def both(purchased: np.ndarray, returned: np.ndarray) -> np.ndarray:
        return np.concatenate([purchased, returned])

    return _Block(
        customer=both(customer, customer[chosen]).astype(np.int64),
        day=both(day, order_day[return_order] + delay[return_order]).astype(np.int64),
        second=both(order_second[line_order], return_second[return_order]).astype(np.int64),
        cents=both(cents, -(cents[chosen] // bought) * given_back),
        quantity=both(quantity, -given_back).astype(np.int64),
        order=both(order_base + line_order, order_base + return_order).astype(np.int64),
        returned=both(np.zeros(n, bool), np.ones(len(chosen), bool)),
        dims={name: both(codes, codes[chosen]) for name, codes in dims.items()},
    )


def _order_sizes(rng: np.random.Generator, lines: int) -> np.ndarray:
    """Orders of 1–6 lines whose sizes add up to exactly ``lines``."""
    sizes = np.empty(0, np.int64)
    while sizes.sum() < lines:
        sizes = np.concatenate([sizes, _draw(rng, ORDER_SIZES, int(lines / 2.1) + 16) + 1])
    ends = np.cumsum(sizes)
    orders = int(np.searchsorted(ends, lines)) + 1 if lines else 0
    sizes = sizes[:orders]
    if orders:
        sizes[-1] -= ends[orders - 1] - lines
    return sizes


def _line_cents(rng: np.random.Generator, department: np.ndarray, on_sale: np.ndarray) -> np.ndarray:
    """Unit prices in cents: shelf prices end in .95/.99/.00/.50; half the sale lines go 30–50% off."""
    n = len(department)
    shelf = np.floor(np.maximum(np.asarray(DEPARTMENT_PRICE)[department] * rng.lognormal(0.0, 0.4, n), 3.0))
    shelf += np.asarray([0.95, 0.99, 0.0, 0.5])[rng.integers(0, 4, n)]
    discount = np.where(on_sale & (rng.random(n) < 0.5), rng.choice([0.5, 0.6, 0.7], size=n), 1.0)
    return np.round(shelf * discount * 100).astype(np.int64)


def _pick_returns(rng: np.random.Generator, department: np.ndarray, day: np.ndarray, days: int,
                  returns: int) -> np.ndarray:
    """Which lines come back (sorted positions): clothes and shoes most often, none bought on the last day."""
    propensity = np.where(day < days - 1, np.asarray(DEPARTMENT_RETURNS)[department], 0.0)
    returns = min(returns, int(np.count_nonzero(propensity)))
    if not returns:
        return np.empty(0, np.int64)
    # Weighted sampling without replacement in one pass: the smallest Exp(1) / weight keys win.
    keys = rng.exponential(size=len(day)) / np.where(propensity > 0, propensity, np.nan)
    keys = np.nan_to_num(keys, nan=np.inf)
    return np.sort(np.argpartition(keys, returns - 1)[:returns])


def _purchase_columns(world: _World, block: _Block) -> dict[str, np.ndarray]:
    vocabularies = {**_vocabularies(), "season": _seasons(world)[0]}
    width = _id_width(world.customers)
    return {
        "customer": _shared(lambda c: _fixed_ids(b"C", c + 1, width), block.customer),
        "day": world.day(block.day),
        "amount": block.cents / 100,
        "quantity": block.quantity,
        # Key 2n is order On, 2n + 1 its return Rn.
        "order": _shared(lambda k: _order_matrix(k // 2, k % 2 == 1), block.order * 2 + block.returned),
        **{name: _objects(vocabularies[name], block.dims[name]) for name in DIMENSIONS},
    }


def _purchase_csv(world: _World, block: _Block) -> bytes:
    vocabularies = {**_vocabularies(), "season": _seasons(world)[0]}
    days = np.datetime_as_string(world.day(np.arange(world.days)))
    return _csv_rows([
        _fixed_ids(b"C", block.customer + 1, _id_width(world.customers)),
        _concat([np.take(_text_matrix([f"{d} " for d in days]), block.day, axis=0),
                 np.take(_clock_matrix(), block.second, axis=0)]),
        _cents_text(block.cents),
        _int_text(block.quantity),
        _order_matrix(block.order, block.returned),
        *(np.take(_text_matrix((*vocabularies[name], None)), block.dims[name], axis=0)
          for name in DIMENSIONS),
    ])


def _rebatch(blocks: Iterator[_Block], size: int) -> Iterator[_Block]:
    """Re-cut a stream of blocks into batches of ``size`` lines (the last may be shorter)."""
    pending: list[_Block] = []
    held = 0
    for block in blocks:
        pending.append(block)
        held += len(block)
        while held >= size:
            joined = _Block.join(pending)
            yield joined.cut(0, size)
            held -= size
            pending = [joined.cut(size, size + held)]
    if held:
        yield _Block.join(pending)


# ── text: ids, objects, and CSV rows assembled as byte matrices ────────────────────────────────────────
#
# CSV text is made a column at a time: each cell is a row of a uint8 matrix, padded with zero bytes. Joining
# the matrices side by side with commas and dropping every zero byte leaves the rows, in a few numpy passes
# over the block instead of a Python format call per cell (about 10x faster).

def _id_width(customers: int) -> int:
    return max(7, len(str(customers)))


def _customer_ids(columns: np.ndarray, customers: int) -> np.ndarray:
    """External ids (object array of str) of 0-based customer columns."""
    return _as_str_objects(_fixed_ids(b"C", columns + 1, _id_width(customers)))


def _shared(text: Callable[[np.ndarray], np.ndarray], keys: np.ndarray) -> np.ndarray:
    """An object array of str with one object per distinct key, shared by its rows: fewer, faster objects.

    ``text`` turns the distinct keys into a zero-padded byte matrix.
    """
    if not len(keys):
        return np.empty(0, dtype=object)
    # Keys are dense (customer columns, order numbers): a presence array dedupes them without sorting.
    low = int(keys.min())
    seen = np.zeros(int(keys.max()) - low + 1, bool)
    seen[keys - low] = True
    slot = np.cumsum(seen) - 1
    return _as_str_objects(text(np.flatnonzero(seen) + low))[slot[keys - low]]


def _as_str_objects(matrix: np.ndarray) -> np.ndarray:
    fixed = np.ascontiguousarray(matrix).view(f"S{matrix.shape[1]}").reshape(-1)
    return fixed.astype(f"U{matrix.shape[1]}").astype(object)


def _objects(values: Sequence[object], codes: np.ndarray) -> np.ndarray:
    """An object array of ``values[code]``; the code ``len(values)`` (or -1) is None."""
    table = np.empty(len(values) + 1, dtype=object)
    table[:-1] = list(values)
    return np.take(table, codes.astype(np.int64))


def _order_matrix(numbers: np.ndarray, returned: np.ndarray) -> np.ndarray:
    prefix = np.where(returned, ord("R"), ord("O")).astype(np.uint8)[:, None]
    return _concat([prefix, _digits(numbers, 9)])


@functools.cache
def _four_digits() -> np.ndarray:
    """Row i is the ASCII of i zero-padded to four digits."""
    values = np.arange(10_000)
    digits = np.stack([values // 1000, values // 100 % 10, values // 10 % 10, values % 10], axis=1)
    return digits.astype(np.uint8) + ord("0")


@functools.cache
def _clock_matrix() -> np.ndarray:
    """Row s is ``HH:MM:SS`` of second s of the day."""
    second = np.arange(86_400)
    two = _four_digits()[:, 2:]
    colon = np.full((86_400, 1), ord(":"), np.uint8)
    return _concat([two[second // 3600], colon, two[second // 60 % 60], colon, two[second % 60]])


@functools.cache
def _text_matrix_cached(values: tuple[str | None, ...]) -> np.ndarray:
    encoded = [(v or "").encode() for v in values]
    for text in encoded:
        if any(c in text for c in b',"\n\r\0'):
            raise ValueError(f"generator vocabulary value {text!r} would need CSV quoting")
    matrix = np.zeros((len(encoded), max(1, *map(len, encoded))), np.uint8)
    for row, text in enumerate(encoded):
        matrix[row, :len(text)] = np.frombuffer(text, np.uint8)
    return matrix


def _text_matrix(values: Sequence[str | None]) -> np.ndarray:
    """Row i is the UTF-8 of values[i] padded with zero bytes (None is empty)."""
    return _text_matrix_cached(tuple(values))


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded ASCII digits, one row each."""
    groups = []
    rest = values.astype(np.int64)
    for _ in range(math.ceil(width / 4)):
        groups.append(np.take(_four_digits(), rest % 10_000, axis=0))
        rest = rest // 10_000
    return np.concatenate(groups[::-1], axis=1)[:, -width:]


def _fixed_ids(prefix: bytes, numbers: np.ndarray, width: int) -> np.ndarray:
    head = np.full((len(numbers), len(prefix)), np.frombuffer(prefix, np.uint8), np.uint8)
    return _concat([head, _digits(numbers, width)])


def _int_text(values: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    """Integers as text (``-2``, ``15``) in rows padded with zero bytes; null rows empty."""
    magnitude = np.abs(values)
    width = len(str(int(magnitude.max()))) if len(values) else 1
    digits = _digits(magnitude, width)
    leading = np.logical_and.accumulate(digits == ord("0"), axis=1)
    leading[:, -1] = False
    digits[leading] = 0
    matrix = _concat([np.where(values < 0, ord("-"), 0).astype(np.uint8)[:, None], digits])
    if null is not None:
        matrix[null] = 0
    return matrix


def _cents_text(cents: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    """Amounts in cents as decimal text with two places (``-0.50``, ``59.95``); null rows empty."""
    magnitude = np.abs(cents)
    whole = _int_text(magnitude // 100)
    whole[:, 0] = np.where(cents < 0, ord("-"), 0)                   # so that -0.50 keeps its sign
    point = np.full((len(cents), 1), ord("."), np.uint8)
    matrix = _concat([whole, point, np.take(_four_digits()[:, 2:], magnitude % 100, axis=0)])
    if null is not None:
        matrix[null] = 0
    return matrix


def _date_text(days: np.ndarray) -> np.ndarray:
    """``datetime64[D]`` as ``YYYY-MM-DD`` rows; NaT empty."""
    known = ~np.isnat(days)
    if not known.any():
        return np.zeros((len(days), 1), np.uint8)
    low, high = days[known].min(), days[known].max()
    names = np.datetime_as_string(np.arange(low, high + np.timedelta64(1, "D")))
    table = np.zeros((len(names) + 1, 10), np.uint8)
    table[:-1] = np.frombuffer(names.astype("S10").tobytes(), np.uint8).reshape(-1, 10)
    codes = np.where(known, (days - low).astype(np.int64), len(names))
    return np.take(table, codes, axis=0)


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts, axis=1)


def _csv_rows(cells: list[np.ndarray]) -> bytes:
    """CSV rows from one zero-padded byte matrix per column: the zero bytes vanish, the rest is the text."""
    n = len(cells[0])
    comma = np.full((n, 1), ord(","), np.uint8)
    parts: list[np.ndarray] = []
    for cell in cells:
        parts += [cell, comma]
    parts[-1] = np.full((n, 1), ord("\n"), np.uint8)
    flat = _concat(parts).reshape(-1)
    return flat[flat != 0].tobytes()


def _open(path: Path) -> BinaryIO | gzip.GzipFile:
    if path.suffix == ".gz":
        # Level 1: several times faster than the default, a little larger. mtime 0: reproducible bytes.
        return gzip.GzipFile(filename=path, mode="wb", compresslevel=1, mtime=0)
    return open(path, "wb", buffering=1 << 20)
