"""BUCKET('salt'): each customer's bucket 0..9999 under a salt (SPEC §10), one cached array per salt.

A bucket depends only on the salt and the external id, so it is the same after a restart, a re-import or on
another shard, and any program can compute it:

>>> bucket("q3", "c1") == int.from_bytes(hashlib.sha256(b"q3:c1").digest()[:8], "big") % 10000
True

Hashing takes about a microsecond a customer, so each salt's array is computed once and then only extended by the
columns assigned since (columns are never reused; erased columns keep a stale entry that `existence` masks out).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

BUCKETS = 10_000
MAX_SALTS = 64  # cached arrays (2 bytes a customer each); the least recently used goes first


def bucket(salt: str, external_id: str) -> int:
    """The bucket of one customer: sha256(f"{salt}:{external_id}")[:8] as a big-endian integer, mod 10000."""
    return int.from_bytes(hashlib.sha256(f"{salt}:{external_id}".encode()).digest()[:8], "big") % BUCKETS


class Buckets:
    """The bucket of every column under each salt asked for; an index keeps one (derived, never persisted)."""

    def __init__(self) -> None:
        self._arrays: OrderedDict[str, np.ndarray] = OrderedDict()

    def values(self, salt: str, keys: np.ndarray) -> np.ndarray:
        """The bucket of each column (uint16), given the external id of every column ever assigned (None: erased).

        >>> Buckets().values("s", np.array(["c1", None], dtype=object)).tolist() == [bucket("s", "c1"), 0]
        True
        """
        found = self._arrays.pop(salt, None)
        if found is None:
            found = np.zeros(0, dtype=np.uint16)
        if len(found) < len(keys):
            fresh = np.fromiter((0 if key is None else bucket(salt, key) for key in keys[len(found):]),
                                dtype=np.uint16, count=len(keys) - len(found))
            found = np.concatenate([found, fresh])
        self._arrays[salt] = found
        while len(self._arrays) > MAX_SALTS:
            self._arrays.popitem(last=False)
        return found
