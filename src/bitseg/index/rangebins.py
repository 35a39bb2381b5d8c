"""Range-encoded bins over a number column, with a refinement step: a range compare in a few bitmap operations.

The bit-sliced index (`bsi.py`) answers `clv >= 1000` by walking a dozen slices, two or three operations on a
bitmap of every column each. Range encoding answers it with one: `at_least[k]` holds the columns whose value is
at least `bounds[k]`, so `value >= bounds[k]` is that bitmap, and any other bound falls between two of them:
the columns above the upper one are in, those below the lower one out, and only the edge bin between them is
decided by reading the values of its columns (the refinement, ~1/K of the column). The bounds are the distinct
values when there are at most K of them (every compare is then exact: `orders > 10` is one bitmap), otherwise
quantiles of the values when the bins are built, so every bin holds about as many columns. A bound in the top
bin is left to the slice walk, which ends early there; values that grow past the top bound (dates do) make the
bins stale, and the next compare builds them anew.

A column holding 0 (and so a NULL or erased column, or one never set) is in no bin, as in the bit-sliced index:
`nonzero` holds the others, and 0 is added back when a compare includes it. That keeps the bins right for
columns added later (they hold 0) and for erased ones (their value becomes 0). Bitmaps are replaced, never
changed in place, so a copy (`copy`) shares them with the published index while a batch is prepared.

>>> values = np.array([0, 5, 9, -3, 12, 5, 0, 7], dtype=np.int64)
>>> bins = RangeBins.build(values, bins=3)
>>> present = BitMap(range(8))
>>> sorted(bins.at_least(present, values, 6)), sorted(bins.at_least(present, values, -3))
([2, 4, 7], [0, 1, 2, 3, 4, 5, 6, 7])
>>> bins.update(np.array([2, 6], dtype=np.uint32), values[[2, 6]], np.array([1, 20]))
>>> values[[2, 6]] = [1, 20]
>>> sorted(bins.at_least(present, values, 6))
[4, 6, 7]
"""

from __future__ import annotations

import numpy as np
from pyroaring import BitMap

from bitseg.index.arrays import distinct
from bitseg.index.bitmaps import columns as bitmap_columns
from bitseg.index.bitmaps import from_mask, from_sorted

BINS = 64           # bounds per column: a column with at most this many distinct values gets one per value
MIN_COLUMNS = 1 << 16  # a shorter column always walks its slices (as cheap there): no bins
_STALE = 4          # an edge bin this many times its share is rebuilt (values drifted past the bounds)


class RangeBins:
    """`bounds` (ascending int64) and, per bound, the non-zero columns whose value is at least it."""

    def __init__(self, bounds: np.ndarray, at_least: list[BitMap], nonzero: BitMap) -> None:
        self.bounds = bounds
        self.levels = at_least
        self.nonzero = nonzero
        self.stale = False

    @classmethod
    def build(cls, values: np.ndarray, bins: int | None = None) -> RangeBins:
        """Bins of a whole column (column i holds values[i]): bounded by its distinct non-zero values, or by
        `bins` (default BINS) quantiles of them when there are more."""
        bins = BINS if bins is None else bins
        set_ = values != 0
        numbers = values[set_]
        ordered = np.sort(numbers)
        bounds = distinct(ordered)
        if len(bounds) > bins:  # quantiles: every bin holds about as many columns
            bounds = distinct(ordered[np.arange(bins) * len(ordered) // bins])
        return cls(bounds, [from_mask(set_ & (values >= b)) for b in bounds.tolist()], from_mask(set_))

    def copy(self) -> RangeBins:
        return RangeBins(self.bounds, list(self.levels), self.nonzero)

    def update(self, columns: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        """Distinct ascending `columns` change from `old` to `new` values: one XOR per bin whose membership flips."""
        old_level = np.where(old != 0, np.searchsorted(self.bounds, old, side="right"), 0)
        new_level = np.where(new != 0, np.searchsorted(self.bounds, new, side="right"), 0)
        moved = old_level != new_level
        low, high = np.minimum(old_level, new_level)[moved], np.maximum(old_level, new_level)[moved]
        moved_columns = columns[moved]
        for k in range(int(low.min()) if len(low) else 0, int(high.max()) if len(high) else 0):
            flipped = (low <= k) & (k < high)
            if flipped.any():
                self.levels[k] = self.levels[k] ^ from_sorted(moved_columns[flipped])
        zeroed = (old != 0) != (new != 0)
        if zeroed.any():
            self.nonzero = self.nonzero ^ from_sorted(columns[zeroed])

    def suits(self, low: int) -> bool:
        """Whether the bins answer `value >= low` well: the bound is one of theirs, or its edge bin is not the top
        one (the slice walk ends early on a bound above nearly every value; refining the top bin would not)."""
        k = int(np.searchsorted(self.bounds, low, side="right")) - 1
        if k >= 0 and self.bounds[k] == low:
            return True
        if k + 1 < len(self.levels):
            return True
        if len(self.levels) and len(self.levels[-1]) > _STALE * self._share():
            self.stale = True  # values grew past the top bound (dates do): new bounds at the next compare
        return False

    def _share(self) -> int:
        """How many columns a bin was meant to hold."""
        return max(len(self.nonzero) // max(len(self.levels), 1), MIN_COLUMNS // BINS, 1)

    def at_least(self, among: BitMap, values: np.ndarray, low: int) -> BitMap:
        """The columns of `among` whose value is >= low (`values`: the column the bins were kept with)."""
        k = int(np.searchsorted(self.bounds, low, side="right")) - 1  # the largest bound <= low, or -1
        if k >= 0 and self.bounds[k] == low:
            found = [self.levels[k] & among]
        else:
            upper = self.levels[k + 1] if k + 1 < len(self.levels) else None
            found = [] if upper is None else [upper & among]
            edge = (self.levels[k] if k >= 0 else self.nonzero) & among
            if upper is not None:
                edge -= upper
            if len(edge) > _STALE * self._share():
                self.stale = True
            ids = bitmap_columns(edge)
            found.append(from_sorted(ids[values[ids] >= low]))
        if low <= 0:
            found.append(among - self.nonzero)
        return BitMap.union(*found) if found else BitMap()
