"""Durability: the write-ahead log and snapshots of a Catalog (the history of hot segments lives in the index).

Never imports grpc: the server calls the Store; the Store knows nothing of the server.
"""

from __future__ import annotations

from bitseg.persistence.snapshot import SnapshotInfo
from bitseg.persistence.store import SimulatedClock, Store, utc_now

__all__ = ["SimulatedClock", "SnapshotInfo", "Store", "utc_now"]
