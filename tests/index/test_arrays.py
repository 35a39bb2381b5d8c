"""The sort-based helpers of bitseg.index.arrays against np.unique (the oracle here): same values, same
index / inverse / count semantics, for every integer dtype the index hands them, and the "last row wins" rule
of a profile batch against a plain dict written row by row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bitseg.index.arrays import distinct, distinct_counts, distinct_first_inverse, distinct_inverse, last_rows

DTYPES = st.sampled_from([np.int64, np.uint32, np.int32, np.uint64])


@st.composite
def arrays(draw) -> np.ndarray:
    dtype = np.dtype(draw(DTYPES))
    # a narrow range of values for many repeats, or the whole range for the extremes
    narrow = draw(st.booleans())
    info = np.iinfo(dtype)
    elements = (st.integers(0, 20) if narrow else st.integers(int(info.min), int(info.max)))
    return draw(hnp.arrays(dtype, st.integers(0, 300), elements=elements))


def same(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype
    assert got.tolist() == want.tolist()


@settings(max_examples=300, deadline=None)
@given(arrays())
def test_distinct_is_np_unique(values):
    same(distinct(values), np.unique(values))


@settings(max_examples=300, deadline=None)
@given(arrays())
def test_distinct_counts_is_np_unique_return_counts(values):
    got, counts = distinct_counts(values)
    want, want_counts = np.unique(values, return_counts=True)
    same(got, want)
    assert counts.tolist() == want_counts.tolist()


@settings(max_examples=300, deadline=None)
@given(arrays())
def test_distinct_inverse_is_np_unique_return_inverse(values):
    got, inverse = distinct_inverse(values)
    want, want_inverse = np.unique(values, return_inverse=True)
    same(got, want)
    assert inverse.tolist() == want_inverse.tolist()
    assert got[inverse].tolist() == values.tolist()


@settings(max_examples=300, deadline=None)
@given(arrays())
def test_distinct_first_inverse_is_np_unique_index_and_inverse(values):
    got, first, inverse = distinct_first_inverse(values)
    want, want_first, want_inverse = np.unique(values, return_index=True, return_inverse=True)
    same(got, want)
    assert first.tolist() == want_first.tolist()  # the first occurrence, as np.unique
    assert inverse.tolist() == want_inverse.tolist()


@settings(max_examples=300, deadline=None)
@given(arrays())
def test_last_rows_is_the_reversed_np_unique_rule(values):
    # the rule apply.publish_profiles used: the first of each value in the reversed batch, back in batch order
    _, last = np.unique(values[::-1], return_index=True)
    assert last_rows(values).tolist() == np.sort(len(values) - 1 - last).tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 15), st.integers()), max_size=80))
def test_last_rows_keeps_the_last_row_of_each_key(rows):
    written: dict[int, int] = {}
    for position, (key, _) in enumerate(rows):
        written[key] = position
    keys = np.array([key for key, _ in rows], dtype=np.uint32)
    assert last_rows(keys).tolist() == sorted(written.values())


def test_empty_and_two_dimensional():
    empty = np.array([], dtype=np.uint32)
    same(distinct(empty), np.unique(empty))
    assert [a.tolist() for a in distinct_first_inverse(empty)] == [[], [], []]
    assert last_rows(empty).tolist() == []
    square = np.array([[3, 1], [3, 2]], dtype=np.int64)
    same(distinct(square), np.unique(square))


def test_the_index_never_calls_np_unique():
    # plain np.unique hashes in numpy 2.4, 8-10x slower than a sort (bitseg/index/arrays.py)
    index = Path(__file__).resolve().parents[2] / "src" / "bitseg" / "index"
    calls = [f"{path.name}:{number}" for path in sorted(index.glob("*.py")) if path.name != "arrays.py"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if "np.unique(" in line or "numpy.unique(" in line]
    assert calls == [], f"np.unique in bitseg/index (use bitseg.index.arrays): {calls}"
