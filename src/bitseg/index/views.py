"""Time views: for each dimension value, the customers with a purchase line on each day, month and year.

A window of days is covered by the fewest buckets (FeatureBase's time quantums): two years of days become
two year bitmaps instead of 730 day bitmaps, and `-6m` becomes a few months plus the days at either edge.
The pseudo-dimension "" holds every purchase line; the value code -1 holds lines whose dimension is NULL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
from pyroaring import BitMap

from bitseg.index.bitmaps import from_ids, union
from bitseg.index.values import day_date, day_number

ANY = ""
_DAY_OFFSET = 1 << 19


class TimeView:
    """The customers with a purchase line of one dimension value, by day, month (year*12+month-1) and year."""

    __slots__ = ("days", "months", "years")

    def __init__(self) -> None:
        self.days: dict[int, BitMap] = {}
        self.months: dict[int, BitMap] = {}
        self.years: dict[int, BitMap] = {}

    def buckets(self, low: int, high: int) -> list[BitMap]:
        """The bitmaps covering days [low, high], coarsest first."""
        found = []
        day = low
        while day <= high:
            date = day_date(day)
            month_start = date.day == 1
            if month_start and date.month == 1 and day_number(dt.date(date.year, 12, 31)) <= high:
                bucket, day = self.years.get(date.year), day_number(dt.date(date.year + 1, 1, 1))
            elif month_start and day_number(_next_month(date)) - 1 <= high:
                bucket, day = self.months.get(date.year * 12 + date.month - 1), day_number(_next_month(date))
            else:
                bucket, day = self.days.get(day), day + 1
            if bucket is not None:
                found.append(bucket)
        return found

    def bitmaps(self):
        yield from self.days.values()
        yield from self.months.values()
        yield from self.years.values()


def _next_month(date: dt.date) -> dt.date:
    return dt.date(date.year + (date.month == 12), date.month % 12 + 1, 1)


class TimeViews:
    """All time views of an index, keyed by (dimension, value code)."""

    def __init__(self) -> None:
        self.views: dict[tuple[str, int], TimeView] = {}
        self.first_day: int | None = None
        self.last_day: int | None = None

    def add(self, columns: np.ndarray, days: np.ndarray, codes: dict[str, np.ndarray]) -> None:
        """Record purchase lines (quantity > 0 only): their customers, days and dimension value codes."""
        if len(columns) == 0:
            return
        low, high = int(days.min()), int(days.max())
        self.first_day = low if self.first_day is None else min(self.first_day, low)
        self.last_day = high if self.last_day is None else max(self.last_day, high)
        for dim, dim_codes in {ANY: np.zeros(len(columns), np.int32), **codes}.items():
            self._add_dimension(dim, columns, days, dim_codes)

    def _add_dimension(self, dim: str, columns: np.ndarray, days: np.ndarray, codes: np.ndarray) -> None:
        keys = (codes.astype(np.int64) + 1) << 32 | (days.astype(np.int64) + _DAY_OFFSET)
        order = np.argsort(keys, kind="stable")
        keys, columns = keys[order], columns[order]
        bounds = np.flatnonzero(np.diff(keys)) + 1
        starts = np.concatenate(([0], bounds))
        ends = np.concatenate((bounds, [len(keys)])).tolist()
        group_keys = keys[starts]
        group_codes = ((group_keys >> 32) - 1).tolist()
        group_days = ((group_keys & 0xFFFFFFFF) - _DAY_OFFSET)
        group_months = group_days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
        new_months: dict[tuple[int, int], list[BitMap]] = {}
        for code, day, month, start, end in zip(group_codes, group_days.tolist(), group_months.tolist(),
                                                starts.tolist(), ends):
            view = self.views.get((dim, code))
            if view is None:
                view = self.views[(dim, code)] = TimeView()
            bitmap = BitMap(columns[start:end]) if end - start < 512 else from_ids(columns[start:end])
            known = view.days.get(day)
            if known is None:
                view.days[day] = bitmap
            else:
                known |= bitmap
            new_months.setdefault((code, month), []).append(bitmap)
        new_years: dict[tuple[int, int], list[BitMap]] = {}
        for (code, month), bitmaps in new_months.items():
            view = self.views[(dim, code)]
            known = view.months.get(month)
            merged = union(bitmaps if known is None else [known, *bitmaps])
            view.months[month] = merged
            new_years.setdefault((code, month // 12), []).append(merged)
        for (code, year), bitmaps in new_years.items():
            view = self.views[(dim, code)]
            known = view.years.get(year)
            view.years[year] = union(bitmaps if known is None else [known, *bitmaps])

    def window(self, dim: str, codes: Iterable[int], low: int | None, high: int | None) -> BitMap:
        """Customers with a purchase line whose `dim` has one of `codes`, on a day in [low, high]."""
        if self.first_day is None:
            return BitMap()
        low = self.first_day if low is None else max(low, self.first_day)
        high = self.last_day if high is None else min(high, self.last_day)
        if low > high:
            return BitMap()
        found: list[BitMap] = []
        for code in codes:
            view = self.views.get((dim, code))
            if view is not None:
                found.extend(view.buckets(low, high))
        return union(found)

    def erase(self, gone: BitMap) -> None:
        for view in self.views.values():
            for bitmap in view.bitmaps():
                bitmap -= gone
