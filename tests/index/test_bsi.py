"""The bit-sliced index against plain Python comparisons, across random sequences of updates and erasures.

The oracle is a dict column → value (None for NULL) compared with Python's own operators on ints and Decimals;
the engine side is a NumberField (its index, its present bitmap) and a BitSliced built from scratch.
"""

from __future__ import annotations

import math
import operator
from decimal import Decimal
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from bitseg.index.bitmaps import from_mask
from bitseg.index.bsi import BitSliced
from bitseg.index.fields import NumberField
from bitseg.schema import FieldType

COLUMNS = 40
_OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
        ">=": operator.ge}

# stored numbers: small ones (many ties), dates before and after 1970, decimals at 4 places, the int64 edges
numbers = st.one_of(
    st.integers(-40, 40),
    st.integers(-30_000, 30_000),  # day numbers: 1888 to 2052
    st.integers(-10**12, 10**12),  # ten-thousandths of amounts up to 100 million
    st.sampled_from([0, 1, -1, 2**62, -2**62, 2**63 - 1, -2**63, 2**31, -2**31 - 1]),
)
cells = st.one_of(st.none(), numbers)
batch = st.dictionaries(st.integers(0, COLUMNS - 1), cells, max_size=12)
steps = st.lists(st.one_of(st.tuples(st.just("set"), batch),
                           st.tuples(st.just("erase"), st.sets(st.integers(0, COLUMNS - 1), max_size=6))),
                 min_size=1, max_size=8)
# literals: near stored values, fractional (as a decimal field's 5th place or an int field's 1.5), or huge
literals = st.one_of(numbers, st.integers(-2**70, 2**70),
                     st.decimals(-10**13, 10**13, places=1, allow_nan=False, allow_infinity=False),
                     st.sampled_from([Decimal("0.5"), Decimal("-0.5"), Decimal(2**64) * 10_000]))
tests = st.one_of(st.tuples(st.sampled_from(list(_OPS)), literals),
                  st.tuples(st.just("between"), literals, literals),
                  st.tuples(st.just("in"), st.lists(literals, min_size=1, max_size=5)))


def apply(field: NumberField, oracle: dict[int, int | None], steps) -> None:
    for kind, what in steps:
        if kind == "set":
            columns = np.array(sorted(what), dtype=np.uint32)
            numbers = np.array([what[c] or 0 for c in sorted(what)], dtype=np.int64)
            is_set = np.array([what[c] is not None for c in sorted(what)], dtype=bool)
            field.set(columns, (numbers, is_set))
            oracle.update(what)
        else:
            field.erase(BitMap(what))
            oracle.update(dict.fromkeys(what))


def expected(oracle: dict[int, int | None], test) -> set[int]:
    kind = test[0]
    present = {c: v for c, v in oracle.items() if v is not None}
    if kind == "between":
        return {c for c, v in present.items() if test[1] <= v <= test[2]}
    if kind == "in":
        return {c for c, v in present.items() if v in test[1]}
    return {c for c, v in present.items() if _OPS[kind](v, test[1])}


def answer(field: NumberField, test) -> set[int]:
    kind = test[0]
    if kind == "between":
        return set(field.between(test[1], test[2]))
    if kind == "in":
        return set(field.select_in(test[1]))
    return set(field.select(kind, test[1]))


# The modules the engine uses (pytest's importlib mode may load a second copy of a module for its doctests, and
# patching that copy would change nothing): bsi's globals and the rangebins it imports.
BSI = NumberField.select.__globals__["BitSliced"].range.__globals__
BINS = BSI["rangebins"]

# which path a compare takes: (bsi.SCAN_MAX, rangebins.MIN_COLUMNS) — the slice walk, reading the values of the
# columns, range-encoded bins (`test_range_bins_…` below interleaves them with batches)
PATHS = {"walk": (-1, 1 << 62), "scan": (1 << 62, 1 << 62), "bins": (-1, 0)}


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=300, deadline=None)
@given(steps=steps, queries=st.lists(tests, min_size=1, max_size=6))
def test_compares_match_python_across_updates_and_erasures(path, steps, queries) -> None:
    field = NumberField(FieldType.INT)
    oracle: dict[int, int | None] = {}
    scan_max, min_columns = PATHS[path]
    with patch.dict(BSI, SCAN_MAX=scan_max), patch.object(BINS, "MIN_COLUMNS", min_columns):
        _check_compares(field, oracle, steps, queries)


def _check_compares(field: NumberField, oracle: dict[int, int | None], steps, queries) -> None:
    apply(field, oracle, steps)
    for test in queries:
        assert answer(field, test) == expected(oracle, test), test
    # the slices kept batch by batch are the slices built from the values in one go
    built = BitSliced.build(field.values[: field.used])
    kept = field.index
    assert built.sign == kept.sign
    assert built.slices == kept.slices[: built.depth] and not any(kept.slices[built.depth:])
    # the long-IN path (one pass over the column) agrees with the index walks
    for test in queries:
        if test[0] == "in":
            assert set(field.scan_in(test[1], field.used)) == expected(oracle, test)


@settings(max_examples=200, deadline=None)
@given(st.lists(numbers, min_size=1, max_size=60), literals, literals)
def test_built_index_ranges(values, low, high) -> None:
    present = BitMap(range(len(values)))
    bsi = BitSliced.build(np.array(values, dtype=np.int64))
    ceil_low, floor_high = math.ceil(low), math.floor(high)
    assert set(bsi.range(present, ceil_low, floor_high)) == {i for i, v in enumerate(values) if low <= v <= high}
    assert set(bsi.range(present, ceil_low, None)) == {i for i, v in enumerate(values) if v >= low}
    assert set(bsi.range(present, None, floor_high)) == {i for i, v in enumerate(values) if v <= high}
    if low == int(low):
        assert set(bsi.equal(present, int(low))) == {i for i, v in enumerate(values) if v == low}


def test_state_round_trip_and_old_snapshots() -> None:
    field = NumberField(FieldType.DATE)
    field.set(np.array([0, 3, 5], dtype=np.uint32), (np.array([-800, 20_000, 0]), np.array([True, True, False])))
    state = field.state()
    again = NumberField.from_state(state, FieldType.DATE)
    old = NumberField.from_state({k: v for k, v in state.items() if k not in ("sign", "slices")}, FieldType.DATE)
    for f in (again, old):
        assert list(f.select("<", 0)) == [0] and list(f.select(">=", 19_999)) == [3]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(steps, st.lists(tests, max_size=3)), min_size=1, max_size=4), st.integers(1, 6))
def test_range_bins_match_python_across_updates_and_erasures(rounds, bins) -> None:
    """Every column big enough for range-encoded bins (few of them, so edge bins and drift are common): compares
    between batches build the bins, later batches keep them current, erasures drop them."""
    field = NumberField(FieldType.INT)
    oracle: dict[int, int | None] = {}
    with patch.object(BINS, "MIN_COLUMNS", 0), patch.object(BINS, "BINS", bins), patch.dict(BSI, SCAN_MAX=-1):
        for batch_steps, queries in rounds:
            apply(field, oracle, batch_steps)
            for test in queries:
                assert answer(field, test) == expected(oracle, test), test
            kept = field.index.bins
            if kept is not None:  # the bins kept batch by batch hold what their bounds say of the values
                values = field.values
                assert kept.nonzero == from_mask(values != 0)
                assert kept.levels == [from_mask((values != 0) & (values >= b)) for b in kept.bounds.tolist()]


def test_a_compare_beyond_the_bins_marks_them_stale_and_the_next_one_rebuilds() -> None:
    field = NumberField(FieldType.DATE)
    with patch.object(BINS, "MIN_COLUMNS", 0), patch.dict(BSI, SCAN_MAX=-1):
        field.set(np.arange(1000, dtype=np.uint32), (np.arange(1000, dtype=np.int64) + 1, np.ones(1000, bool)))
        assert len(field.select(">=", 990)) == 11
        first = field.index.bins
        # every later date falls above the last bound: its edge bin grows with each day
        field.set(np.arange(1000, 9000, dtype=np.uint32), (np.full(8000, 5000, np.int64), np.ones(8000, bool)))
        assert len(field.select(">=", 4000)) == 8000 and field.index.bins is first and first.stale
        assert len(field.select(">=", 4000)) == 8000 and field.index.bins is not first
