"""msgpack with the types a write call carries: numpy arrays, Coded columns, dates, decimals, tag sets.

Whatever a caller handed to a write method comes back equal after `unpack(pack(...))`, so replaying a logged
call gives the engine exactly the input it accepted the first time.

>>> import datetime as dt, numpy as np
>>> from decimal import Decimal
>>> value = {"day": np.array(["2026-03-14"], dtype="datetime64[D]"), "ids": np.array(["a", None], dtype=object),
...          "when": dt.date(2026, 3, 14), "price": Decimal("9.95"), "tags": frozenset({"vip"})}
>>> back = unpack(pack(value))
>>> back["day"].dtype, back["ids"].tolist(), back["when"], back["price"], back["tags"]
(dtype('<M8[D]'), ['a', None], datetime.date(2026, 3, 14), Decimal('9.95'), frozenset({'vip'}))
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import msgpack
import numpy as np

from bitseg.index.ingest import Coded, TextColumns
from bitseg.index.values import ABSENT

_ARRAY, _OBJECTS, _CODED, _DATE, _DATETIME, _DECIMAL, _SET, _ABSENT, _TEXT = range(1, 10)


def _default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            if value.ndim != 1:
                raise TypeError("only one-dimensional object arrays can be logged")
            return msgpack.ExtType(_OBJECTS, pack(value.tolist()))
        array = np.ascontiguousarray(value)
        return msgpack.ExtType(_ARRAY, pack([array.dtype.str, list(array.shape), array.tobytes()]))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, TextColumns):  # CSV text: one string, not one per cell
        return msgpack.ExtType(_TEXT, pack([value.header, value.text]))
    if isinstance(value, Coded):
        return msgpack.ExtType(_CODED, pack([np.asarray(value.codes), list(value.values)]))
    if isinstance(value, dt.datetime):  # before date: a datetime is a date
        return msgpack.ExtType(_DATETIME, value.isoformat().encode())
    if isinstance(value, dt.date):
        return msgpack.ExtType(_DATE, value.isoformat().encode())
    if isinstance(value, Decimal):
        return msgpack.ExtType(_DECIMAL, str(value).encode())
    if isinstance(value, set | frozenset):
        return msgpack.ExtType(_SET, pack(sorted(value, key=repr)))
    if value is ABSENT:
        return msgpack.ExtType(_ABSENT, b"")
    raise TypeError(f"cannot log a value of type {type(value).__name__}")


def _ext(code: int, data: bytes) -> Any:
    if code == _ARRAY:
        dtype, shape, raw = unpack(data)
        # a bytearray keeps the array writable, as the caller's was
        return np.frombuffer(bytearray(raw), dtype=np.dtype(dtype)).reshape(shape)
    if code == _OBJECTS:
        items = unpack(data)
        array = np.empty(len(items), dtype=object)
        array[:] = items
        return array
    if code == _CODED:
        codes, values = unpack(data)
        return Coded(codes, values)
    if code == _TEXT:
        header, text = unpack(data)
        return TextColumns(header, text)
    if code == _DATETIME:
        return dt.datetime.fromisoformat(data.decode())
    if code == _DATE:
        return dt.date.fromisoformat(data.decode())
    if code == _DECIMAL:
        return Decimal(data.decode())
    if code == _SET:
        return frozenset(unpack(data))
    if code == _ABSENT:
        return ABSENT
    return msgpack.ExtType(code, data)


def pack(value: Any) -> bytes:
    return msgpack.packb(value, default=_default, use_bin_type=True)


def unpack(data: bytes | memoryview) -> Any:
    return msgpack.unpackb(data, ext_hook=_ext, raw=False, strict_map_key=False)
