"""The hidden customer world that profiles and purchases share, drawn from seeded random streams."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from bitseg.errors import InvalidInputError
from bitseg.generate.catalogue import (
    BRAND_WEIGHTS,
    FAVOURITE_DEPARTMENT,
    GENDER_NULL,
    GENDERS,
    MONTHS,
    SOURCES,
    WEEKDAYS,
    weights_of,
)
from bitseg.generate.config import TIMEZONE

# The purposes of the random streams; a stream is (seed, purpose) or, for purchase blocks, (seed, purpose, n).
CUSTOMERS_STREAM, PROFILES_STREAM, DAYS_STREAM, BLOCK_STREAM = 1, 2, 3, 4


def random_stream(seed: int, *stream: int) -> np.random.Generator:
    """An independent random stream per (seed, purpose, block): adding a stream never shifts another."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stream])))


def draw(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int) -> np.ndarray:
    """Indexes into ``weights``, drawn in proportion to them (inverse CDF: one pass, any size)."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    return np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right").clip(0, len(cdf) - 1)


@dataclass(frozen=True)
class World:
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
    def make(cls, customers: int, seed: int, end: dt.date | str | None, days: int, lines: int = 0) -> World:
        """The world of these arguments, checked; the same arguments give the same world."""
        _check(customers, lines, seed, days)
        last = _end_day(end)
        start = last - dt.timedelta(days=days - 1)
        rng = random_stream(seed, CUSTOMERS_STREAM)
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
        gender = draw(rng, (*weights_of(GENDERS), GENDER_NULL), n).astype(np.int8)
        department = np.empty(n, np.int8)
        for g, favourites in enumerate(FAVOURITE_DEPARTMENT):
            chosen = gender == g
            department[chosen] = draw(rng, favourites, int(chosen.sum()))
        brand = draw(rng, BRAND_WEIGHTS, n).astype(np.int16)
        source = draw(rng, weights_of(SOURCES), n).astype(np.int8)
        day_weight = _day_weights(start, days, random_stream(seed, DAYS_STREAM))
        return cls(customers, lines, seed, start, last, days, registered, lapsed, weight, gender, department,
                   brand, source, day_weight)

    def day(self, offsets: np.ndarray) -> np.ndarray:
        """Day offsets as ``datetime64[D]``."""
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
