"""The calendar: day numbers, reading days and times, relative days and month arithmetic — one home for all of it.

A stored day is an int, the days since 1970-01-01; a month is `year * 12 + month - 1`.

>>> day_number(dt.date(1970, 1, 2)), day_date(20526)
(1, datetime.date(2026, 3, 14))
>>> add_months(dt.date(2026, 3, 31), -1), shift(dt.date(2024, 2, 29), 1, "y")
(datetime.date(2026, 2, 28), datetime.date(2025, 2, 28))
>>> parse_day("2026-03-14"), optional_day("", "as_of")
(datetime.date(2026, 3, 14), None)
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Protocol
from zoneinfo import ZoneInfo

from bitseg.errors import InvalidInputError

EPOCH = dt.date(1970, 1, 1)
EPOCH_ORDINAL = EPOCH.toordinal()
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


class Relative(Protocol):
    """A day relative to the evaluation day (`-6m`): the query tree's RelativeDay."""

    amount: int
    unit: str  # d, w, m or y


# ── day numbers ──
def day_number(day: dt.date) -> int:
    return day.toordinal() - EPOCH_ORDINAL


def day_date(number: int) -> dt.date:
    return dt.date.fromordinal(int(number) + EPOCH_ORDINAL)


def month_of(day: int) -> int:
    date = day_date(day)
    return date.year * 12 + date.month - 1


def month_days(month: int) -> tuple[int, int]:
    """The first and last day numbers of a month."""
    year, index = divmod(month, 12)
    start = dt.date(year, index + 1, 1)
    return day_number(start), day_number(next_month(start)) - 1


def next_month(date: dt.date) -> dt.date:
    """The first day of the month after `date`'s."""
    return dt.date(date.year + (date.month == 12), date.month % 12 + 1, 1)


def is_leap(year: int) -> bool:
    return calendar.isleap(year)


# ── relative days ──
def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later (earlier when negative), the day clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def shift(day: dt.date, amount: int, unit: str) -> dt.date:
    """`day` moved by `amount` days (d), weeks (w), calendar months (m) or years (y)."""
    if unit == "d":
        return day + dt.timedelta(days=amount)
    if unit == "w":
        return day + dt.timedelta(weeks=amount)
    return add_months(day, amount * (12 if unit == "y" else 1))


def resolve(value: dt.date | Relative, as_of: dt.date) -> dt.date:
    """A query's date literal on evaluation day `as_of`."""
    if isinstance(value, dt.date):
        return value
    return shift(as_of, value.amount, value.unit)


# ── reading days and times ──
def parse_date(value: object) -> dt.date:
    """A date from a date, a datetime or ISO text (a cell of a date field); ValueError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")


def parse_day(value: object, what: str = "day") -> dt.date:
    """A day given to an API (`as_of`, `since`, a range bound): a date or text written YYYY-MM-DD."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DAY.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    shown = value[:40] if isinstance(value, str) else value
    raise InvalidInputError(f"{what} {shown!r} is not a day; write YYYY-MM-DD")


def optional_day(value: object, what: str = "day") -> dt.date | None:
    """parse_day, with None or empty text meaning "not given"."""
    return None if value is None or value == "" else parse_day(value, what)


def local_day(value: object, zone: ZoneInfo) -> dt.date:
    """The calendar day in `zone` of a date or time (a naive time is already local); ValueError otherwise."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO-8601 date or time") from None
    if isinstance(value, dt.datetime):
        return value.astimezone(zone).date() if value.tzinfo is not None else value.date()
    if isinstance(value, dt.date):
        return value
    raise ValueError(f"{value!r} is not a date or time")
