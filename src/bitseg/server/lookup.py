"""The Values RPC of the SegmentService (SPEC §4): the values a field or dimension has, with their counts; an
index's sizes, and what GetIndex adds on a sharded server (SPEC §9): the shard count and each one's sizes."""

from __future__ import annotations

from typing import Any, Protocol

import grpc

from bitseg.index.index import Index
from bitseg.v1 import segments_pb2 as pb


class _Service(Protocol):
    def _index(self, name: str, context: grpc.ServicerContext) -> Index: ...


class LookupRpcs:
    """Values (mixed into SegmentService): converts, makes one core call, converts back."""

    def Values(self: _Service, request: pb.ValuesRequest, context: grpc.ServicerContext) -> pb.ValuesResponse:
        index = self._index(request.index, context)
        found = index.values(request.field, prefix=request.prefix, limit=request.limit)
        return pb.ValuesResponse(values=[pb.ValueCount(value=value, count=count) for value, count in found])


def sizes_of(index: Any) -> tuple[int, int, list[tuple[int, int]] | None]:
    """(customers, lines, each shard's (customers, lines) or None for an index held in one process).

    A sharded index (bitseg.shards.ShardedIndex) sends a status round to every shard for its customer_count
    and another for its line_count: here one round gives both, and the shards' sizes too."""
    shard_sizes = getattr(index, "shard_sizes", None)
    if shard_sizes is None:
        return index.customer_count, index.line_count, None
    sizes: list[tuple[int, int]] = shard_sizes()
    return sum(c for c, _ in sizes), sum(n for _, n in sizes), sizes


def add_sizes(info: pb.IndexInfo, index: Any, shards: bool) -> None:
    """The index's customers and lines; with `shards`, a sharded index's shard count and each one's sizes."""
    info.customer_count, info.line_count, sizes = sizes_of(index)
    if shards and sizes is not None:
        info.shards = len(sizes)
        info.shard_sizes.extend(pb.ShardSize(shard=k, customers=c, lines=n) for k, (c, n) in enumerate(sizes))
