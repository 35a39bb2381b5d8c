"""Relative days: `-6m` from the evaluation day, calendar months and years clamped to the month's end.

>>> import datetime as dt
>>> resolve(RelativeDay(-1, "m"), dt.date(2026, 3, 31)), resolve(RelativeDay(1, "y"), dt.date(2024, 2, 29))
(datetime.date(2026, 2, 28), datetime.date(2025, 2, 28))
"""

from __future__ import annotations

import calendar
import datetime as dt

from bitseg.query.expressions import RelativeDay


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def resolve(value: dt.date | RelativeDay, as_of: dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if value.unit == "d":
        return as_of + dt.timedelta(days=value.amount)
    if value.unit == "w":
        return as_of + dt.timedelta(weeks=value.amount)
    return add_months(as_of, value.amount * (12 if value.unit == "y" else 1))
