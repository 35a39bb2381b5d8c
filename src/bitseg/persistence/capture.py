"""A captured index: its state turned into the contents of snapshot files, named by the declared layout.

Bitmaps go to one list (written as `bitmaps.bin`), arrays and long lists to the files `layout.file_for` names,
everything else stays in the meta document, where msgpack extension types point at the bitmap, array or file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgpack
import numpy as np
from pyroaring import BitMap

from bitseg.persistence.layout import MSGPACK, NPY, check_part, file_for

BITMAP, ARRAY, OBJECTS, LIST = 1, 2, 3, 4  # msgpack extension codes in meta.msgpack
_SCALARS = {str, int, float, bool, bytes, type(None)}
_OWN_FILE = 1 << 16  # the shortest list given a file of its own
_NARROW = tuple(np.dtype(t) for t in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32))


@dataclass
class Captured:
    """One index's state turned into files' contents: independent of the live index once built."""

    name: str
    schema_toml: str
    seq: int
    meta: Any = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    objects: dict[str, list] = field(default_factory=dict)  # file name → items, written in chunks
    bitmaps: list[bytes] = field(default_factory=list)


def capture(name: str, schema_toml: str, seq: int, state: Mapping[str, Any]) -> Captured:
    """Copy a state (plain values, numpy arrays, bitmaps) into a Captured; call it holding the index write lock.

    Bitmaps are serialized and arrays copied here, so the files can be written after the lock is released.
    An array or long list at a path the layout declares no file for is refused (PersistenceError).
    """
    out = Captured(name, schema_toml, seq)

    def walk(value: Any, path: tuple[str, ...]) -> Any:
        if isinstance(value, BitMap):
            out.bitmaps.append(value.serialize())
            return msgpack.ExtType(BITMAP, (len(out.bitmaps) - 1).to_bytes(4, "little"))
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                file = file_for(path, MSGPACK, out.objects)
                out.objects[file] = value.tolist()
                return msgpack.ExtType(OBJECTS, file.encode())
            file = file_for(path, NPY, out.arrays)
            out.arrays[file] = value.astype(narrowest(value))  # always a copy
            return msgpack.ExtType(ARRAY, msgpack.packb([file, value.dtype.str]))
        if isinstance(value, Mapping):
            return {k: walk(v, (*path, str(k))) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            items = list(value)
            if len(items) >= _OWN_FILE and type(items[0]) in _SCALARS:  # millions of order ids: checked when written
                file = file_for(path, MSGPACK, out.objects)
                out.objects[file] = items
                return msgpack.ExtType(LIST, file.encode())
            if set(map(type, items)) <= _SCALARS:  # names or values
                return items
            return [walk(v, (*path, str(i))) for i, v in enumerate(items)]
        return value

    for part in state:
        check_part(part)
    out.meta = walk(state, ())
    return out


def narrowest(array: np.ndarray) -> np.dtype:
    """The smallest integer type that holds every value of an integer array (its own type otherwise).

    >>> narrowest(np.array([-1, 120], dtype=np.int32)), narrowest(np.array([0, 3_000_000_000], dtype=np.int64))
    (dtype('int8'), dtype('uint32'))
    """
    if array.dtype.kind not in "iu" or array.size == 0:
        return array.dtype
    low, high = int(array.min()), int(array.max())
    for dtype in _NARROW:
        if dtype.itemsize >= array.dtype.itemsize:
            break
        info = np.iinfo(dtype)  # type: ignore[type-var]
        if info.min <= low and high <= info.max:
            return dtype
    return array.dtype
