"""Durability: the write-ahead log, snapshots, and the history of hot segments and changes of trigger segments.

Never imports grpc: the server calls the Store; the Store knows nothing of the server.
"""

from __future__ import annotations

from bitseg.persistence.snapshot import SnapshotInfo
from bitseg.persistence.store import ChangedIds, DurableIndex, SimulatedClock, Store, utc_now
from bitseg.persistence.tracking import HistoryRow

__all__ = [
    "ChangedIds", "DurableIndex", "HistoryRow", "SimulatedClock", "SnapshotInfo", "Store", "utc_now",
]
