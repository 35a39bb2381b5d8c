"""What an index holds in memory, estimated from its state: arrays, bitmap containers and the containers around them.

One home for the estimate that `bitseg info` reports (server.monitor) and that a shard reports of itself.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from pyroaring import BitMap


def footprint(state: Any) -> int:
    """Bytes of the arrays, bitmap containers and Python containers reachable from `state`, each counted once."""
    total, seen, stack = 0, set(), [state]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, np.ndarray):
            total += item.nbytes
        elif isinstance(item, BitMap):
            total += bitmap_bytes(item)
        elif isinstance(item, dict):
            total += sys.getsizeof(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += sys.getsizeof(item)
            stack.extend(item)
        else:
            total += sys.getsizeof(item)
    return total


def bitmap_bytes(bitmap: BitMap) -> int:
    """The bytes of a bitmap's containers."""
    stats = bitmap.get_statistics()
    return stats["n_bytes_array_containers"] + stats["n_bytes_run_containers"] + stats["n_bytes_bitset_containers"]
