"""The raw pyroaring peer: bitmaps and numpy arrays built straight from the dataset, for hand-written plans.

This is the floor: what a careful programmer gets with no query language, no planner, no generality. Every
structure is built once, outside timing:

- a bitmap per value of each keyword/tags/bool profile field, and per NULL where a query needs it;
- numpy columns of the built-ins (orders, clv, last purchase day) and of the dates;
- the purchase lines sorted by day, so a time window is one slice (`since`);
- customers with a purchase line per day and per month (`window` covers a range with months plus edge days);
- customers with a purchase line per value of `season` and `source`, over all time.

It is written independently of bitseg (its own mask → bitmap conversion), so it can check bitseg's answers.
"""

from __future__ import annotations

import array
import datetime as dt
import time

import numpy as np
from pyroaring import BitMap

from benchmarks.data import Dataset, day_number

_CHUNK = 1 << 16


def bitmap_of_mask(mask: np.ndarray) -> BitMap:
    """The positions where `mask` is true, assembled in the roaring portable format (no per-id Python work)."""
    n = len(mask)
    chunks = -(-n // _CHUNK)
    if n == 0:
        return BitMap()
    if n != chunks * _CHUNK:
        mask = np.concatenate([mask, np.zeros(chunks * _CHUNK - n, dtype=bool)])
    blocks = mask.reshape(chunks, _CHUNK)
    cards = np.count_nonzero(blocks, axis=1)
    keys = np.flatnonzero(cards)
    payloads = [np.packbits(blocks[k], bitorder="little").tobytes() if cards[k] > 4096
                else np.flatnonzero(blocks[k]).astype(np.uint16).tobytes() for k in keys.tolist()]
    header = np.empty(2 + 2 * len(keys), dtype=np.uint32)
    header[0], header[1] = 12346, len(keys)
    pairs = header[2:2 + len(keys)].view(np.uint16).reshape(-1, 2)
    pairs[:, 0], pairs[:, 1] = keys, cards[keys] - 1
    sizes = np.array([len(p) for p in payloads], dtype=np.int64)
    header[2 + len(keys):] = header.nbytes + np.concatenate(([0], np.cumsum(sizes)[:-1]))
    return BitMap.deserialize(header.tobytes() + b"".join(payloads)) if len(keys) else BitMap()


def bitmap_of_ids(ids: np.ndarray) -> BitMap:
    """The bitmap of any ids (pyroaring's fast path for array('I'))."""
    return BitMap(array.array("I", np.unique(ids).astype(np.uint32).tobytes()))


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months from `day`, the day clamped to the month's end (2026-03-31 - 1m = 2026-02-28)."""
    import calendar

    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _groups(keys: np.ndarray, ids: np.ndarray) -> dict[int, BitMap]:
    """key → bitmap of the ids with that key."""
    order = np.lexsort((ids, keys))
    keys, ids = keys[order], ids[order]
    bounds = np.flatnonzero(np.diff(keys)) + 1
    starts = np.concatenate(([0], bounds)).tolist()
    ends = np.concatenate((bounds, [len(keys)])).tolist()
    return {int(keys[s]): bitmap_of_ids(ids[s:e]) for s, e in zip(starts, ends)} if len(keys) else {}


class RawIndex:
    def __init__(self, ds: Dataset) -> None:
        started = time.perf_counter()
        self.ds = ds
        n = self.n = ds.customers
        self.everyone = bitmap_of_mask(np.ones(n, dtype=bool))
        self.vocab = {name: {v: i for i, v in enumerate(values)} for name, values in ds.vocab.items()}
        self.gender_null = bitmap_of_mask(ds.gender < 0)
        self.birth_null = bitmap_of_mask(~ds.birth_known)
        self.country = _groups(ds.country.astype(np.int64), np.arange(n))
        self.country_null = bitmap_of_mask(ds.country < 0)
        self.tags: dict[str, BitMap] = {}
        for code, text in enumerate(ds.vocab["tags"]):
            for tag in text.split("|"):
                self.tags[tag] = self.tags.get(tag, BitMap()) | bitmap_of_mask(ds.tags == code)
        self.loyal = bitmap_of_mask(ds.loyalty == 1)
        self.email = bitmap_of_mask(ds.email)
        # birth month*32 + day, -1 for NULL; a lookup table over it answers ANNIVERSARY
        birth = ds.birth.astype("datetime64[D]")
        months = birth.astype("datetime64[M]")
        month_day = (months.astype(np.int64) % 12 + 1) * 32 + (birth - months).astype(np.int64) + 1
        self.birth_md = np.where(ds.birth_known, month_day, 0).astype(np.int16)
        self.joined = np.where(ds.joined_known, ds.joined, np.iinfo(np.int64).min)
        # built-ins
        buying = ds.quantity > 0
        pairs = np.unique(ds.cid[buying].astype(np.int64) << 40 | ds.order[buying])
        self.orders = np.bincount(pairs >> 40, minlength=n)
        self.clv = np.bincount(ds.cid, weights=ds.cents, minlength=n).round().astype(np.int64)
        last = np.full(n, np.iinfo(np.int64).min)
        np.maximum.at(last, ds.cid[buying], ds.day[buying].astype(np.int64))
        self.last_day = last                                   # int64 min: never bought (NULL)
        # lines by day
        order = np.argsort(ds.day, kind="stable")
        self.l_day = ds.day[order]
        self.l_cid = ds.cid[order]
        self.l_cents = ds.cents[order]
        self.l_qty = ds.quantity[order]
        self.l_dims = {dim: ds.dims[dim][order] for dim in ("brand", "department", "color", "season")}
        buy = self.l_qty > 0
        self.days = _groups(self.l_day[buy].astype(np.int64), self.l_cid[buy])
        self.last = int(self.l_day.max()) if len(self.l_day) else 0
        month_of = self.l_day[buy].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        self.months = _groups(month_of, self.l_cid[buy])
        self.ever = {dim: _groups(ds.dims[dim][buying].astype(np.int64), ds.cid[buying])
                     for dim in ("season", "source")}
        self.lists = {name: bitmap_of_ids(cids) for name, cids in ds.lists.items()}
        self.seconds = time.perf_counter() - started

    def code(self, dim: str, value: str) -> int:
        return self.vocab[dim][value]

    def since(self, first_day: int) -> slice:
        """The day-sorted lines on `first_day` or later.

        The key has the column's dtype: with a Python int, numpy casts all 20M days first (~15 ms at size M).
        """
        key = self.l_day.dtype.type(first_day)
        return slice(int(np.searchsorted(self.l_day, key, side="left")), len(self.l_day))

    def window(self, low: int, high: int) -> BitMap:
        """Customers with a purchase line on a day in [low, high]: whole months as month bitmaps, edges as days."""
        pieces = []
        day = low
        while day <= high:
            date = dt.date(1970, 1, 1) + dt.timedelta(days=day)
            first_of_next = dt.date(date.year + date.month // 12, date.month % 12 + 1, 1)
            month_end = day_number(first_of_next) - 1
            if date.day == 1 and month_end <= high:
                pieces.append(self.months.get((date.year - 1970) * 12 + date.month - 1))
                day = month_end + 1
            else:
                pieces.append(self.days.get(day))
                day += 1
        found = [p for p in pieces if p is not None]
        return BitMap.union(*found) if found else BitMap()
