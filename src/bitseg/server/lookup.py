"""The Values RPC of the SegmentService (SPEC §4): the values a field or dimension has, with their counts."""

from __future__ import annotations

from typing import Protocol

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
