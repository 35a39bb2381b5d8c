"""The write operations of a sharded index: checked in full here, then split by shard (SPEC §9).

A batch is parsed against the schema before any shard sees it: an unknown column or, without `rejects`, a bad
row refuses the whole batch with the one-process error. The good rows go to their shards in one round; the call
returns when every shard that received rows has logged and fsynced them. Definitions (saved segments, tierings,
lists, remembered imports) go to every shard, so each shard answers every predicate on its own.

A shard that dies during a write fails the call with UNAVAILABLE; the shards that had answered keep their rows
(there is no two-phase commit): a client retries, which re-applies profiles harmlessly and sends purchase lines
again (the README says so).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from bitseg.index import ingest
from bitseg.index.lines import LineStore
from bitseg.index.segments import Segment, Tiering
from bitseg.names import SegmentKind, check_name
from bitseg.query.expressions import Node
from bitseg.schema import Schema
from bitseg.shards.gate import Gate
from bitseg.shards.routing import positions_by_shard, shards_of
from bitseg.shards.transport import Call, Transport

Selection = str | Node


def _take(values: Any, positions: np.ndarray) -> Any:
    if isinstance(values, ingest.Coded):
        return ingest.Coded(np.asarray(values.codes)[positions], values.values)
    if isinstance(values, np.ndarray):
        return values[positions]
    return [values[i] for i in positions.tolist()]


def _ids(values: Any, positions: np.ndarray) -> list[str]:
    if isinstance(values, ingest.Coded):
        table = np.asarray(list(values.values), dtype=object)
        return [str(v) for v in table[np.asarray(values.codes)[positions]]]
    return [str(values[i]) for i in positions.tolist()]


class ShardedWrites:
    """Mixed into ShardedIndex: each write checked, split and sent in one round."""

    name: str
    schema: Schema
    transport: Transport
    segment_cache: dict[str, Segment]
    gate: Gate
    evaluated: threading.Event  # set when a hot or trigger segment recorded rows (wait_evaluation)

    def _send(self, calls: dict[int, Any]) -> dict[int, Any]:
        """One write round, alone at the gate: no read sees it on some shards and not on others."""
        with self.gate.write():
            return self.transport.run(calls)

    def _send_all(self, method: str, args: tuple = (), kwargs: dict | None = None) -> list[Any]:
        """The same index write on every shard, answers in shard order."""
        found = self._send({k: ("call", (self.name, method, args, kwargs or {}), {})
                            for k in range(self.transport.shards)})
        return [found[k] for k in range(self.transport.shards)]

    # ── customers' rows ──
    def upsert_profiles(self, rows: Iterable[Mapping[str, object]], rejects: list | None = None,
                        first_row: int = 1) -> int:
        return self._ingest("upsert_profiles", [dict(r) for r in rows], True, False, rejects, first_row)

    def upsert_profile_columns(self, columns: Mapping[str, Any], rejects: list | None = None,
                               first_row: int = 1) -> int:
        return self._ingest("upsert_profile_columns", dict(columns), False, False, rejects, first_row)

    def add_purchases(self, rows: Iterable[Mapping[str, object]], rejects: list | None = None,
                      first_row: int = 1) -> int:
        return self._ingest("add_purchases", [dict(r) for r in rows], True, True, rejects, first_row)

    def add_purchase_columns(self, columns: Mapping[str, Any], rejects: list | None = None,
                             first_row: int = 1) -> int:
        return self._ingest("add_purchase_columns", dict(columns), False, True, rejects, first_row)

    def _ingest(self, method: str, data: Any, is_rows: bool, purchases: bool, rejects: list | None,
                first_row: int) -> int:
        if is_rows:
            columns, size = ingest.rows_to_columns(data)
        else:
            columns, size = data, len(data["customer"]) if "customer" in data else 0
        batch = ingest.Batch(size, first_row)
        if purchases:
            ingest.purchase_columns(columns, self.schema, LineStore(self.schema.dimensions), batch)
        else:
            ingest.profile_columns(columns, self.schema, batch)
        found: list[tuple[int, str]] = []
        good_mask = batch.settle(found if rejects is not None else None)  # raises for a bad row without rejects
        if rejects is not None:
            rejects.extend(found)
        good = np.flatnonzero(good_mask)
        if not len(good):
            return 0
        routed = positions_by_shard(shards_of(_ids(columns["customer"], good), self.transport.shards),
                                    self.transport.shards)
        calls: dict[int, Call] = {}
        for shard, inner in enumerate(routed):
            if len(inner):
                positions = good[inner]
                part = ([data[i] for i in positions.tolist()] if is_rows
                        else {name: _take(values, positions) for name, values in columns.items()})
                calls[shard] = ("ingest", (self.name, method, part), {})
        answers = self._send(calls)
        applied = 0
        for shard, (count, shard_rejects) in answers.items():
            applied += count
            positions = good[routed[shard]]
            if rejects is not None:
                rejects.extend((first_row + int(positions[at]), message) for at, message in shard_rejects)
        return applied

    def delete_customers(self, ids: Iterable[str]) -> int:
        ids = [str(i) for i in ids]
        shard_of_id = shards_of(ids, self.transport.shards)
        calls: dict[int, Call] = {k: ("call", (self.name, "delete_customers", ([ids[i] for i in positions.tolist()],)), {})
                 for k, positions in enumerate(positions_by_shard(shard_of_id, self.transport.shards))
                 if len(positions)}
        return sum(self._send(calls).values()) if calls else 0

    def remember_import(self, sha256: str, kind: str, name: str, day: str) -> None:
        self._send_all("remember_import", (sha256, kind, name, day))

    # ── definitions, given to every shard ──
    def save_segment(self, name: str, query: Selection, kind: str | SegmentKind = SegmentKind.STANDARD,
                     description: str = "", backfill_days: int = 0) -> Segment:
        """Saved on every shard; a hot or trigger one records each shard's first row (and its backfill) there."""
        check_name(name, "segment")
        saved = self._send_all("save_segment", (name, query),
                               {"kind": kind, "description": description, "backfill_days": backfill_days})
        self.segment_cache[name] = saved[0]
        self.evaluated.set()
        return saved[0]

    def delete_segment(self, name: str) -> None:
        self._send_all("delete_segment", (name,))
        self.segment_cache.pop(name, None)

    def save_tiering(self, name: str, tiers: Sequence[tuple[str, Selection]], default: str) -> Tiering:
        return self._send_all("save_tiering", (name, list(tiers), default))[0]

    def update_list(self, name: str, add: Iterable[str] = (), remove: Iterable[str] = (),
                    replace: Iterable[str] | None = None) -> int:
        """Every shard gets the call (the list exists on each), with the ids that live on it."""
        check_name(name, "list")
        n = self.transport.shards
        parts: dict[str, list[list[str]] | None] = {}
        for what, given in (("add", add), ("remove", remove), ("replace", replace)):
            if given is None:
                parts[what] = None
                continue
            ids = [str(i) for i in given]
            routed = positions_by_shard(shards_of(ids, n), n)
            parts[what] = [[ids[i] for i in positions.tolist()] for positions in routed]
        calls: dict[int, Call] = {k: ("call", (self.name, "update_list", (name,),
                              {what: (None if split is None else split[k]) for what, split in parts.items()}), {})
                 for k in range(n)}
        return sum(self._send(calls).values())
