"""Customer profiles: drawn once as small codes, then given out as columns or as CSV rows."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np

from bitseg.generate import text
from bitseg.generate.catalogue import (
    COUNTRIES,
    COUNTRY_NULL,
    EMAIL_DOMAINS,
    EMAIL_NULL,
    GENDERS,
    TAGS,
    values_of,
    weights_of,
)
from bitseg.generate.world import PROFILES_STREAM, World, draw, random_stream


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
    world = World.make(customers, seed, end, days)
    return _profile_columns(world, profile_codes(world))


@dataclass(frozen=True)
class ProfileCodes:
    """Profiles as small integer codes and numbers, the common source of the columns and the CSV."""

    country: np.ndarray     # int8, len(COUNTRIES) = NULL
    tags: np.ndarray        # uint8 bit set over TAGS, 0 = NULL
    loyalty: np.ndarray     # int8: 0 true, 1 false, 2 NULL
    email: np.ndarray       # int8: index in EMAIL_DOMAINS, -1 = NULL
    birth: np.ndarray       # datetime64[D], NaT = NULL
    joined: np.ndarray      # datetime64[D], NaT = NULL
    points: np.ndarray      # int64, -1 = NULL
    credit: np.ndarray      # int64 cents, -1 = NULL


def profile_codes(world: World) -> ProfileCodes:
    """Every customer's profile codes, from the world's profile stream."""
    rng = random_stream(world.seed, PROFILES_STREAM)
    n = world.customers
    country = draw(rng, (*weights_of(COUNTRIES), sum(weights_of(COUNTRIES)) * COUNTRY_NULL), n)
    # Rank by purchase rate: the biggest spenders are the VIPs and most often loyalty members.
    spend_rank = np.empty(n, np.float64)
    spend_rank[np.argsort(world.weight, kind="stable")] = np.arange(n) / max(n - 1, 1)
    tags = np.zeros(n, np.uint8)
    for bit, share in enumerate(weights_of(TAGS)):
        tags |= ((rng.random(n) < share).astype(np.uint8) << bit)
    vip = (spend_rank >= 0.97) & (rng.random(n) < 0.7)
    tags |= (vip.astype(np.uint8) << values_of(TAGS).index("vip"))
    loyalty = np.where(rng.random(n) < 0.2 + 0.45 * spend_rank, 0, 1).astype(np.int8)
    loyalty[rng.random(n) < 0.05] = 2
    email = draw(rng, weights_of(EMAIL_DOMAINS), n).astype(np.int8)
    email[rng.random(n) < EMAIL_NULL] = -1
    # Ages 16–85 around 36; a few birthdays on Feb 29 so anniversaries meet that case at every size.
    # Ages outside 16–85 are reflected back inside, not clipped: clipping put every 4th customer's birthday
    # on one day, 16 years before the end (the demo had thousands of birthdays "today").
    age = rng.normal(36.0, 12.0, n)
    age = np.where(age < 16.0, 32.0 - age, age)
    age = np.clip(np.where(age > 85.0, 170.0 - age, age), 16.0, 85.0)
    age_days = (age * 365.25).astype(np.int64)
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
    return ProfileCodes(country.astype(np.int8), tags, loyalty, email, birth, joined, points, credit)


def profile_csv(world: World, codes: ProfileCodes, rows: slice) -> bytes:
    """The CSV rows (PROFILE_COLUMNS order, no header) of the customers in ``rows``."""
    columns = np.arange(world.customers)[rows]
    return text.csv_rows([
        text.fixed_ids(b"C", columns + 1, text.id_width(world.customers)),
        text.coded([*values_of(GENDERS), None], world.gender[rows]),
        text.coded([*values_of(COUNTRIES), None], codes.country[rows]),
        text.coded(_tag_sets(), codes.tags[rows]),
        text.coded(["true", "false", None], codes.loyalty[rows]),
        _email_matrix(world, codes, rows),
        text.date_text(codes.birth[rows]),
        text.date_text(codes.joined[rows]),
        text.int_text(codes.points[rows], null=codes.points[rows] < 0),
        text.cents_text(codes.credit[rows], null=codes.credit[rows] < 0),
    ])


def _profile_columns(world: World, codes: ProfileCodes) -> dict[str, np.ndarray]:
    everyone = slice(None)
    return {
        "customer": text.customer_ids(np.arange(world.customers), world.customers),
        "gender": text.objects(values_of(GENDERS), world.gender),
        "country": text.objects(values_of(COUNTRIES), codes.country),
        "tags": text.objects(_tag_sets(), codes.tags),
        "loyalty_member": text.objects([True, False], codes.loyalty),
        "email": _nullable(text.as_str_objects(_email_matrix(world, codes, everyone)), codes.email >= 0),
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
    names = values_of(TAGS)
    return tuple("|".join(sorted(names[b] for b in range(len(names)) if mask >> b & 1)) or None
                 for mask in range(1 << len(names)))


def _email_matrix(world: World, codes: ProfileCodes, rows: slice) -> np.ndarray:
    """``c0000001@example.com`` …, empty rows where NULL."""
    columns = np.arange(world.customers)[rows]
    email = codes.email[rows]
    matrix = text.concat([text.fixed_ids(b"c", columns + 1, text.id_width(world.customers)),
                          text.coded([*(f"@{d}" for d in values_of(EMAIL_DOMAINS)), None], email)])
    matrix[email < 0] = 0
    return matrix
