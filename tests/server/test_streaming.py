"""StreamMembers over a million ids: chunked, complete, in column order, resumable with `after`."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from bitseg.server.app import Server
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

from .conftest import member_order

CUSTOMERS = 1_050_000


@pytest.fixture(scope="module")
def big(server: Server) -> list[str]:
    """An index of 1.05M customers, built in-process through the columnar fast path (the RPCs are not the
    subject here); every third customer is a VIP."""
    ids = [f"k{i:07d}" for i in range(CUSTOMERS)]
    index = server.catalog.create_index("big", '[profile]\nvip = "bool"\n')
    vip = np.array([None, None, "true"], dtype=object)[np.arange(CUSTOMERS) % 3]
    index.upsert_profile_columns({"customer": ids, "vip": vip})
    return ids


def members(stub: pb_grpc.SegmentServiceStub, **kw: object) -> Iterator[list[str]]:
    for chunk in stub.StreamMembers(pb.StreamMembersRequest(index="big", **kw)):
        yield list(chunk.customer_ids)


def test_a_million_ids_in_default_chunks(stub: pb_grpc.SegmentServiceStub, big: list[str]) -> None:
    chunks = list(members(stub, query="ALL"))
    assert [len(c) for c in chunks[:-1]] == [10_000] * (len(chunks) - 1)
    assert [i for chunk in chunks for i in chunk] == member_order(big)


def test_resume_after_the_last_id_received(stub: pb_grpc.SegmentServiceStub, big: list[str]) -> None:
    received: list[str] = []
    # A sender that stops after each 400k ids and resumes where it was: the pieces add up to the whole.
    while True:
        piece = [i for chunk in members(stub, query="vip = true", limit=400_000, chunk_size=65_536,
                                        after=received[-1] if received else "") for i in chunk]
        if not piece:
            break
        received += piece
    assert received == member_order(big[2::3])
    assert len(received) == CUSTOMERS // 3


def test_largest_chunk_and_interrupted_stream(stub: pb_grpc.SegmentServiceStub, big: list[str]) -> None:
    chunks = list(members(stub, query="ALL", chunk_size=1_000_000))
    assert [len(c) for c in chunks] == [1_000_000, CUSTOMERS - 1_000_000]
    # A client that walks away mid-stream: the server stays fine and answers the next call.
    stream = stub.StreamMembers(pb.StreamMembersRequest(index="big", query="ALL", chunk_size=1000))
    next(stream)
    stream.cancel()
    assert stub.Count(pb.CountRequest(index="big", query="vip = true")).count == CUSTOMERS // 3
