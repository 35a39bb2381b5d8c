"""A bit-sliced index of a number column (O'Neil & Quass; FeatureBase's BSI): compares as bitmap algebra.

Sign and magnitude, as FeatureBase stores them: `sign` holds the columns whose value is negative and
`slices[i]` those whose |value| has bit i set. A NULL column and a column holding 0 are in no bitmap, so which
columns are set is the owner's `present` bitmap, passed to every compare. A compare walks the slices from the
most significant bit down, keeping the columns still equal to the literal so far and collecting those already
above or below it: a few bitmap operations per slice, none per column. A slice that is empty or holds every
present column decides at once, and a walk stops as soon as the literal's remaining bits cannot change the
answer (`>= 1000` stops at the lowest set bit of 1000), so dates spanning a few years walk a dozen slices.

>>> present = BitMap([0, 1, 2, 3, 4])
>>> bsi = BitSliced()
>>> bsi.update(np.array([0, 1, 2, 3, 4], dtype=np.uint32), np.zeros(5, np.int64), np.array([-5, 0, 3, 7, 12]))
>>> sorted(bsi.range(present, 0, 7)), sorted(bsi.range(present, None, -1)), sorted(bsi.range(present, 8, None))
([1, 2, 3], [0], [4])
>>> bsi.depth
4
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pyroaring import BitMap

from bitseg.index import rangebins
from bitseg.index.bitmaps import columns as bitmap_columns
from bitseg.index.bitmaps import from_mask, from_sorted
from bitseg.index.rangebins import RangeBins

_INT64 = (-(1 << 63), (1 << 63) - 1)
SCAN_MAX = 16_384  # a compare among at most this many columns reads their values (cheaper than a walk, measured)


class BitSliced:
    """The sign bitmap and one bitmap per magnitude bit of a column of int64 numbers (0 where NULL)."""

    def __init__(self, sign: BitMap | None = None, slices: Sequence[BitMap] = (),
                 bins: RangeBins | None = None) -> None:
        self.sign = sign if sign is not None else BitMap()
        self.slices: list[BitMap] = list(slices)
        self.bins = bins  # range-encoded bins (`rangebins.py`): built by the first range compare on a big column

    @property
    def depth(self) -> int:
        """How many magnitude bit slices there are (the bit length of the largest |value| ever stored)."""
        return len(self.slices)

    @classmethod
    def build(cls, values: np.ndarray) -> BitSliced:
        """The index of a whole column (column i holds values[i]); about 3 ms per slice at a million columns."""
        values = np.asarray(values, dtype=np.int64)
        magnitude = _magnitude(values)
        depth = int(magnitude.max()).bit_length() if len(values) else 0
        return cls(from_mask(values < 0), [from_mask((magnitude >> np.uint64(i)) & np.uint64(1) == 1)
                                           for i in range(depth)])

    def update(self, columns: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        """Columns (distinct) change from `old` to `new` values: one bitmap XOR per slice where a bit flips."""
        columns = np.asarray(columns, dtype=np.uint32)
        old, new = np.asarray(old, np.int64), np.asarray(new, np.int64)
        changed = old != new
        if not changed.any():
            return
        order = np.argsort(columns[changed], kind="stable")  # from_sorted wants ascending columns
        columns, old, new = columns[changed][order], old[changed][order], new[changed][order]
        if self.bins is not None:
            self.bins.update(columns, old, new)
        flips = (old < 0) != (new < 0)
        # new bitmaps, never changed in place: a copy of the index (`copy`) shares the slices nothing changes
        if flips.any():
            self.sign = self.sign ^ from_sorted(columns[flips])
        new_magnitude = _magnitude(new)
        depth = int(new_magnitude.max()).bit_length()
        while len(self.slices) < depth:
            self.slices.append(BitMap())
        differ = _magnitude(old) ^ new_magnitude
        # one row of flipped bits per slice: unpack the 8 bytes of each xor once, not 64 shifts and masks
        bits = np.unpackbits(differ.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
        bits = np.ascontiguousarray(bits[:, : int(differ.max()).bit_length()].T).view(bool)
        for i, flipped in enumerate(bits):
            if flipped.any():
                self.slices[i] = self.slices[i] ^ from_sorted(columns[flipped])

    def copy(self) -> BitSliced:
        """A copy to update while readers use this one: it shares the bitmaps (`update` replaces, never edits)."""
        return BitSliced(self.sign, self.slices, None if self.bins is None else self.bins.copy())

    def erase(self, gone: BitMap) -> None:
        self.bins = None  # built again by the next range compare
        self.sign -= gone
        for bitmap in self.slices:
            bitmap -= gone

    # ── compares: every one among `present`, the owner's columns that are not NULL ──
    def range(self, present: BitMap, low: int | None, high: int | None, values: np.ndarray | None = None) -> BitMap:
        """Present columns with low <= value <= high (None: unbounded); Python ints of any size. Given the column's
        `values` (column i holds values[i]), a compare among few columns reads their values, and one over a big
        column may answer from range-encoded bins (`rangebins.py`); otherwise it walks the slices."""
        if low is not None and high is not None and low > high:
            return BitMap()
        if values is None:
            return self._walk(present, low, high)
        if (low is not None and low > _INT64[1]) or (high is not None and high < _INT64[0]):
            return BitMap()  # beyond every int64
        low = None if low is None or low <= _INT64[0] else low
        high = None if high is None or high >= _INT64[1] else high
        if len(present) <= SCAN_MAX:
            ids = bitmap_columns(present)
            found, keep = values[ids], np.ones(len(ids), dtype=bool)
            if low is not None:
                keep &= found >= low
            if high is not None:
                keep &= found <= high
            return from_sorted(ids[keep])
        if len(values) >= rangebins.MIN_COLUMNS:
            return self._binned(present, low, high, values)
        return self._walk(present, low, high)

    def _walk(self, present: BitMap, low: int | None, high: int | None) -> BitMap:
        found = BitMap()
        if high is None or high >= 0:  # the non-negative values: magnitude in [max(low, 0), high]
            found = self._magnitudes(present - self.sign, max(low or 0, 0), high)
        if low is None or low < 0:  # the negative values: magnitude in [-min(high, -1), -low]
            top = -1 if high is None else min(high, -1)
            found |= self._magnitudes(present & self.sign, -top, None if low is None else -low)
        return found

    def _binned(self, present: BitMap, low: int | None, high: int | None, values: np.ndarray) -> BitMap:
        """`range` from the bins (built on first use, or again once stale) when they suit both bounds; else the
        walk. Bounds are int64 or None here."""
        bins = self.bins
        if bins is None or bins.stale:
            bins = self.bins = RangeBins.build(values)
        if (low is not None and not bins.suits(low)) or (high is not None and not bins.suits(high + 1)):
            return self._walk(present, low, high)
        found = present.copy() if low is None else bins.at_least(present, values, low)
        return found if high is None else found - bins.at_least(found, values, high + 1)

    def equal(self, present: BitMap, value: int) -> BitMap:
        """Present columns holding `value` (one walk, stopping when nothing is left)."""
        found = (present & self.sign) if value < 0 else (present - self.sign)
        magnitude = abs(value)
        if magnitude.bit_length() > self.depth:
            return BitMap()
        for i in reversed(range(self.depth)):
            if not found:
                break
            if magnitude >> i & 1:
                found &= self.slices[i]
            else:
                found -= self.slices[i]
        return found

    def _magnitudes(self, among: BitMap, low: int, high: int | None) -> BitMap:
        if not among:
            return among
        found = self._at_least(among, low) if low > 0 else among
        return self._at_most(found, high) if high is not None else found

    # The answers gather disjoint pieces and union them once at the end: growing one bitmap piece by piece
    # converts and copies its containers at every step (measured 3× slower at a million columns).
    def _at_least(self, among: BitMap, bound: int) -> BitMap:
        """The columns of `among` whose magnitude is >= bound (> 0)."""
        if bound.bit_length() > self.depth:
            return BitMap()
        top = bound.bit_length()
        # a bit set at or above the bound's length puts a magnitude above it: one union, not a walk of those slices
        above = [among & BitMap.union(*self.slices[top:])] if self.depth > top else []
        equal = among - above[0] if above else among
        lowest = (bound & -bound).bit_length() - 1  # below the lowest set bit, an equal prefix means >=
        for i in range(top - 1, lowest - 1, -1):
            slice_ = self.slices[i]
            if bound >> i & 1:
                equal = equal & slice_
            elif slice_:
                above.append(equal & slice_)
                equal = equal - slice_
            if not equal:
                break
        return BitMap.union(equal, *above)

    def _at_most(self, among: BitMap, bound: int) -> BitMap:
        """The columns of `among` whose magnitude is <= bound (>= 0)."""
        if bound.bit_length() > self.depth:
            return among
        below: list[BitMap] = []
        top = bound.bit_length()
        # a bit set at or above the bound's length puts a magnitude above it: one union removes them all
        equal = among - BitMap.union(*self.slices[top:]) if self.depth > top else among
        lowest = (~bound & (bound + 1)).bit_length() - 1  # below the lowest zero bit, an equal prefix means <=
        for i in range(top - 1, lowest - 1, -1):
            slice_ = self.slices[i]
            if bound >> i & 1:
                if not slice_:
                    break
                below.append(equal - slice_)
                equal = equal & slice_
            elif slice_:
                equal = equal - slice_
            if not equal:
                break
        return BitMap.union(equal, *below)

    def bitmaps(self) -> list[BitMap]:
        return [self.sign, *self.slices]


def _magnitude(values: np.ndarray) -> np.ndarray:
    """|values| as uint64 (exact for -2**63 too: its negation wraps to itself, which is 2**63 unsigned)."""
    return np.where(values < 0, -values, values).view(np.uint64)
