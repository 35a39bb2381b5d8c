"""The Values RPC of the SegmentService (SPEC §4): the values a field or dimension has, with their counts; and
what GetIndex adds on a sharded server (SPEC §9): the shard count and each shard's sizes."""

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


def add_shards(info: pb.IndexInfo, index: Any) -> None:
    """The shards of a sharded index (bitseg.shards.ShardedIndex) with their customers and lines; nothing for an
    index held in one process."""
    shard_sizes = getattr(index, "shard_sizes", None)
    if shard_sizes is None:
        return
    sizes = shard_sizes()
    info.shards = len(sizes)
    info.shard_sizes.extend(pb.ShardSize(shard=k, customers=c, lines=n) for k, (c, n) in enumerate(sizes))
