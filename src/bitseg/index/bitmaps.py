"""Fast crossings between numpy and roaring bitmaps (PERF.md: never build or read a bitmap element by element).

Bitmaps are assembled in the roaring portable format (RoaringFormatSpec, no run containers) and handed to
`BitMap.deserialize`; they leave through `to_array()` wrapped by numpy without a copy.

>>> import numpy as np
>>> list(from_mask(np.array([False, True, True, False])))
[1, 2]
>>> list(from_sorted(np.array([3, 70000, 70001], dtype=np.uint32)))
[3, 70000, 70001]
>>> columns(from_sorted(np.array([5, 9], dtype=np.uint32))).tolist()
[5, 9]
"""

from __future__ import annotations

import array

import numpy as np
from pyroaring import BitMap

_COOKIE_NO_RUN = 12346
_CHUNK = 1 << 16
_ARRAY_MAX = 4096  # a container with more ids is a 8 KiB bitset


def _assemble(keys: list[int], cards: list[int], payloads: list[bytes]) -> BitMap:
    n = len(keys)
    if n == 0:
        return BitMap()
    header = np.empty(2 + n + n, dtype=np.uint32)
    header[0] = _COOKIE_NO_RUN
    header[1] = n
    descriptive = header[2:2 + n].view(np.uint16).reshape(n, 2)
    descriptive[:, 0] = keys
    descriptive[:, 1] = np.asarray(cards, dtype=np.int64) - 1
    sizes = np.fromiter((len(p) for p in payloads), dtype=np.int64, count=n)
    start = header.nbytes
    header[2 + n:] = start + np.concatenate(([0], np.cumsum(sizes)[:-1]))
    return BitMap.deserialize(header.tobytes() + b"".join(payloads))


def from_mask(mask: np.ndarray) -> BitMap:
    """The bitmap of the positions where a boolean mask is true (about 1 ms for 10M positions)."""
    mask = np.asarray(mask, dtype=bool)
    n = len(mask)
    if n == 0:
        return BitMap()
    chunks = -(-n // _CHUNK)
    if n != chunks * _CHUNK:
        padded = np.zeros(chunks * _CHUNK, dtype=bool)
        padded[:n] = mask
        mask = padded
    blocks = mask.reshape(chunks, _CHUNK)
    cards = np.count_nonzero(blocks, axis=1)
    keys, counts, payloads = [], [], []
    for key in np.flatnonzero(cards).tolist():
        card = int(cards[key])
        if card > _ARRAY_MAX:
            payloads.append(np.packbits(blocks[key], bitorder="little").tobytes())
        else:
            payloads.append(np.flatnonzero(blocks[key]).astype(np.uint16).tobytes())
        keys.append(key)
        counts.append(card)
    return _assemble(keys, counts, payloads)


def from_sorted(ids: np.ndarray) -> BitMap:
    """The bitmap of sorted, distinct uint32 ids."""
    ids = np.asarray(ids, dtype=np.uint32)
    if len(ids) == 0:
        return BitMap()
    high = ids >> 16
    bounds = np.flatnonzero(np.diff(high)) + 1
    starts = np.concatenate(([0], bounds)).tolist()
    ends = np.concatenate((bounds, [len(ids)])).tolist()
    low = (ids & 0xFFFF).astype(np.uint16)
    keys, cards, payloads = [], [], []
    for start, end in zip(starts, ends):
        card = end - start
        if card > _ARRAY_MAX:
            block = np.zeros(_CHUNK, dtype=bool)
            block[low[start:end]] = True
            payloads.append(np.packbits(block, bitorder="little").tobytes())
        else:
            payloads.append(low[start:end].tobytes())
        keys.append(int(high[start]))
        cards.append(card)
    return _assemble(keys, cards, payloads)


def from_ids(ids: np.ndarray) -> BitMap:
    """The bitmap of any uint32 ids, unsorted and repeated (pyroaring's fast path takes an array('I'))."""
    ids = np.asarray(ids, dtype=np.uint32)
    if len(ids) < 512:
        return BitMap(ids)
    buffer = array.array("I")
    buffer.frombytes(ids.tobytes())
    return BitMap(buffer)


def columns(bitmap: BitMap) -> np.ndarray:
    """The ids of a bitmap as a sorted uint32 numpy array (no per-element Python work)."""
    return np.frombuffer(bitmap.to_array(), dtype=np.uint32)


def union(bitmaps) -> BitMap:
    """The union of any number of bitmaps (pyroaring's `BitMap.union` needs at least one)."""
    bitmaps = list(bitmaps)
    return BitMap.union(*bitmaps) if bitmaps else BitMap()
