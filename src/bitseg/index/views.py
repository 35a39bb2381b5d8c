"""Time views: for each dimension value, the customers with a purchase line on each day, month and year.

A window of days is covered by the fewest buckets (FeatureBase's time quantums): two years of days become
two year bitmaps instead of 730 day bitmaps, and `-6m` becomes a few months plus the days at either edge.
The pseudo-dimension "" (ANY) holds every purchase line; the value code -1 holds lines whose dimension is NULL.

Month and year buckets are kept current on every batch. Day buckets of a real dimension are built the first time
a window needs the days of that month (one pass over the line store), and kept current from then on: a bulk
load spread over two years would otherwise build a bitmap per value and day — 100k+ small bitmaps per million
lines, the largest cost of ingest — for days no query ever splits.

Both classes persist themselves: `state()` gives plain values and bitmaps — the live ones, so a snapshot reads
them holding the index lock — and `from_state` builds the object back, adopting the bitmaps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Self

import numpy as np
from pyroaring import BitMap

from bitseg.days import day_date, day_number, month_days, month_of, next_month
from bitseg.index.bitmaps import from_ids, union
from bitseg.index.lines import LineStore

ANY = ""
_OFFSET = 1 << 19  # keeps day and month numbers before 1970 positive in group keys


class TimeView:
    """The customers with a purchase line of one dimension value, by day, month (year*12+month-1) and year."""

    __slots__ = ("days", "months", "years")

    def __init__(self) -> None:
        self.days: dict[int, BitMap] = {}
        self.months: dict[int, BitMap] = {}
        self.years: dict[int, BitMap] = {}

    def bitmaps(self) -> Iterator[BitMap]:
        yield from self.days.values()
        yield from self.months.values()
        yield from self.years.values()

    def state(self) -> dict[str, Any]:
        """`days`, `months` and `years`: each a dict of bucket number → bitmap."""
        return {"days": self.days, "months": self.months, "years": self.years}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        view = cls()
        view.days, view.months, view.years = dict(state["days"]), dict(state["months"]), dict(state["years"])
        return view


def cover(low: int, high: int) -> list[tuple[str, int]]:
    """The fewest buckets covering days [low, high]: ('year', y), ('month', m) or ('day', d).

    >>> [(level, key) for level, key in cover(day_number(dt.date(2024, 12, 30)), day_number(dt.date(2026, 2, 2)))]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('day', 20087), ('day', 20088), ('year', 2025), ('month', 24312), ('day', 20485), ('day', 20486)]
    """
    pieces = []
    day = low
    while day <= high:
        date = day_date(day)
        if date.day == 1 and date.month == 1 and day_number(dt.date(date.year, 12, 31)) <= high:
            pieces.append(("year", date.year))
            day = day_number(dt.date(date.year + 1, 1, 1))
        elif date.day == 1 and day_number(next_month(date)) - 1 <= high:
            pieces.append(("month", date.year * 12 + date.month - 1))
            day = day_number(next_month(date))
        else:
            pieces.append(("day", day))
            day += 1
    return pieces


def _groups(columns: np.ndarray, codes: np.ndarray, buckets: np.ndarray) -> Iterator[tuple[int, int, BitMap]]:
    """(code, bucket, customers) for each distinct (code, bucket) pair of the lines."""
    if len(columns) == 0:
        return
    keys = (codes.astype(np.int64) + 1) << 32 | (buckets.astype(np.int64) + _OFFSET)
    order = np.argsort(keys, kind="stable")
    keys, columns = keys[order], columns[order]
    bounds = np.flatnonzero(np.diff(keys)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(keys)])).tolist()
    firsts = keys[starts]
    group_codes = ((firsts >> 32) - 1).tolist()
    group_buckets = ((firsts & 0xFFFFFFFF) - _OFFSET).tolist()
    for code, bucket, start, end in zip(group_codes, group_buckets, starts.tolist(), ends):
        yield code, bucket, from_ids(columns[start:end])


class TimeViews:
    """All time views of an index, keyed by (dimension, value code)."""

    def __init__(self, lines: LineStore) -> None:
        self.lines = lines
        self.views: dict[tuple[str, int], TimeView] = {}
        self.day_months: set[tuple[str, int]] = set()  # (dimension, month) whose day buckets exist
        self.first_day: int | None = None
        self.last_day: int | None = None

    def _view(self, dim: str, code: int) -> TimeView:
        view = self.views.get((dim, code))
        if view is None:
            view = self.views[(dim, code)] = TimeView()
        return view

    def add(self, columns: np.ndarray, days: np.ndarray, codes: dict[str, np.ndarray]) -> None:
        """Record purchase lines (quantity > 0 only): their customers, days and dimension value codes."""
        self.stage(columns, days, codes).publish()

    def stage(self, columns: np.ndarray, days: np.ndarray, codes: dict[str, np.ndarray]) -> StagedViews:
        """`add` computed without changing what readers see: every bucket the lines touch, as a new bitmap
        (the union of the published one and the batch's), for `StagedViews.publish` to put in place."""
        staged = StagedViews(self, columns, days, codes)
        if len(columns) == 0:
            return staged
        months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
        self._add_days(staged, ANY, columns, days, np.zeros(len(columns), np.int32))
        self._roll_up(staged, ANY, columns, months, np.zeros(len(columns), np.int32))
        for dim, dim_codes in codes.items():
            self._roll_up(staged, dim, columns, months, dim_codes)
            built = [m for d, m in staged.day_months if d == dim]
            if built:
                keep = np.isin(months, built)
                if keep.any():
                    self._add_days(staged, dim, columns[keep], days[keep], dim_codes[keep])
        return staged

    def _bucket(self, staged: StagedViews | None, dim: str, code: int, level: str, bucket: int) -> BitMap | None:
        if staged is not None:
            found = staged.buckets.get((dim, code, level, bucket))
            if found is not None:
                return found
        view = self.views.get((dim, code))
        return None if view is None else getattr(view, level).get(bucket)

    def _add_days(self, staged: StagedViews | None, dim: str, columns: np.ndarray, days: np.ndarray,
                  codes: np.ndarray) -> None:
        """Day buckets: into `staged` as new bitmaps, or (staged None: a reader building them) in place."""
        for code, day, bitmap in _groups(columns, codes, days):
            known = self._bucket(staged, dim, code, "days", day)
            if staged is not None:
                staged.buckets[(dim, code, "days", day)] = bitmap if known is None else known | bitmap
            elif known is None:
                self._view(dim, code).days[day] = bitmap
            else:
                known |= bitmap

    def _roll_up(self, staged: StagedViews, dim: str, columns: np.ndarray, months: np.ndarray,
                 codes: np.ndarray) -> None:
        years: dict[tuple[int, int], list[BitMap]] = {}
        for code, month, bitmap in _groups(columns, codes, months):
            known = self._bucket(staged, dim, code, "months", month)
            staged.buckets[(dim, code, "months", month)] = bitmap if known is None else known | bitmap
            years.setdefault((code, month // 12), []).append(bitmap)
        for (code, year), bitmaps in years.items():
            known = self._bucket(staged, dim, code, "years", year)
            staged.buckets[(dim, code, "years", year)] = union(bitmaps if known is None else [known, *bitmaps])

    def _build_days(self, dim: str, month: int) -> None:
        """Build the day buckets of `dim` in `month` from the line store."""
        first, last = month_days(month)
        lines = self.lines.gather(("column", "day", "quantity", dim), self.lines.window(first, last))
        purchase = lines["quantity"] > 0
        for view in (v for (d, _), v in self.views.items() if d == dim):
            for stale in [d for d in view.days if first <= d <= last]:
                del view.days[stale]
        self._add_days(None, dim, lines["column"][purchase], lines["day"][purchase], lines[dim][purchase])
        self.day_months.add((dim, month))

    def clamp(self, low: int | None, high: int | None) -> tuple[int, int] | None:
        """[low, high] narrowed to the days that have purchase lines (None: unbounded); None when empty."""
        if self.first_day is None or self.last_day is None:
            return None
        low = self.first_day if low is None else max(low, self.first_day)
        high = self.last_day if high is None else min(high, self.last_day)
        return (low, high) if low <= high else None

    def union_of(self, dim: str, codes: Iterable[int], pieces: Iterable[tuple[str, int]]) -> BitMap:
        """Customers in the buckets `pieces` (from `cover`) of the views of `dim` with one of `codes`."""
        pieces = list(pieces)
        if dim != ANY:
            for month in {month_of(key) for level, key in pieces if level == "day"}:
                if (dim, month) not in self.day_months:
                    self._build_days(dim, month)
        found: list[BitMap] = []
        for code in codes:
            view = self.views.get((dim, code))
            if view is not None:
                levels = {"day": view.days, "month": view.months, "year": view.years}
                found.extend(b for b in (levels[level].get(key) for level, key in pieces) if b is not None)
        return union(found)

    def window(self, dim: str, codes: Iterable[int], low: int | None, high: int | None) -> BitMap:
        """Customers with a purchase line whose `dim` has one of `codes`, on a day in [low, high]."""
        days = self.clamp(low, high)
        return BitMap() if days is None else self.union_of(dim, codes, cover(*days))

    def erase(self, gone: BitMap) -> None:
        for view in self.views.values():
            for bitmap in view.bitmaps():
                bitmap -= gone

    def state(self) -> dict[str, Any]:
        """`first_day` and `last_day` with a purchase (None when there is none), `day_months` (the
        [dimension, month] pairs whose day buckets are built) and `views` ([dimension, value code,
        TimeView state] each)."""
        return {"first_day": self.first_day, "last_day": self.last_day, "day_months": sorted(self.day_months),
                "views": [[dim, code, view.state()] for (dim, code), view in self.views.items()]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], lines: LineStore) -> Self:
        """The time views of the purchase lines `lines`, holding what `state()` returned."""
        views = cls(lines)
        views.first_day, views.last_day = state["first_day"], state["last_day"]
        views.day_months = {(dim, month) for dim, month in state["day_months"]}
        views.views = {(dim, code): TimeView.from_state(view) for dim, code, view in state["views"]}
        return views


class StagedViews:
    """A batch's change to the time views (`TimeViews.stage`): the new bitmap of every bucket it touches."""

    def __init__(self, views: TimeViews, columns: np.ndarray, days: np.ndarray, codes: dict[str, np.ndarray]) -> None:
        self.views = views
        self.lines = (columns, days, codes)
        self.day_months = frozenset(views.day_months)  # the day buckets that exist as the batch is staged
        self.buckets: dict[tuple[str, int, str, int], BitMap] = {}

    def publish(self) -> None:
        """Put the new bitmaps in place (assignments only) and the window of days with purchases."""
        views = self.views
        for (dim, code, level, bucket), bitmap in self.buckets.items():
            getattr(views._view(dim, code), level)[bucket] = bitmap
        columns, days, codes = self.lines
        if len(columns) == 0:
            return
        low, high = int(days.min()), int(days.max())
        views.first_day = low if views.first_day is None else min(views.first_day, low)
        views.last_day = high if views.last_day is None else max(views.last_day, high)
        late = views.day_months - self.day_months
        if late:  # a reader built day buckets from the line store meanwhile, without this batch: add it there
            months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
            for dim, month in sorted(late):
                keep = months == month
                if keep.any():
                    views._add_days(None, dim, columns[keep], days[keep], codes[dim][keep])
