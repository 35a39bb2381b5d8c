"""Which shard a customer lives on (SPEC §9), and a batch's rows split by shard.

A customer lives on shard `blake2b(external_id as UTF-8, digest_size=8)` read as a big-endian unsigned integer,
modulo N: stable across restarts and machines, and computable by any other program from the id alone.

>>> shard_of("c1", 3), shard_of("c1", 1)
(2, 0)
>>> shards_of(["c1", "c2", "c3"], 3).tolist() == [shard_of(c, 3) for c in ["c1", "c2", "c3"]]
True
>>> [p.tolist() for p in positions_by_shard(shards_of(["c1", "c2", "c3", "c4"], 2), 2)]
[[0, 2, 3], [1]]
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import blake2b

import numpy as np


def shard_of(external_id: str, shards: int) -> int:
    """The shard of one customer."""
    return int.from_bytes(blake2b(external_id.encode(), digest_size=8).digest(), "big") % shards


def shards_of(external_ids: Iterable[str], shards: int) -> np.ndarray:
    """The shard of each id (int64 array): one hash per id (repeats too), the modulo over the whole array."""
    ids = list(external_ids)
    if shards == 1:
        return np.zeros(len(ids), dtype=np.int64)
    digests = b"".join(blake2b(key.encode(), digest_size=8).digest() for key in ids)
    hashes = np.frombuffer(digests, dtype=">u8")
    return (hashes % np.uint64(shards)).astype(np.int64)


def positions_by_shard(shard_ids: np.ndarray, shards: int) -> list[np.ndarray]:
    """For each shard, the positions (ascending) of the rows that go to it."""
    order = np.argsort(shard_ids, kind="stable")
    bounds = np.searchsorted(shard_ids[order], np.arange(shards + 1))
    return [order[bounds[k]:bounds[k + 1]] for k in range(shards)]
