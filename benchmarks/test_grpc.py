"""bitseg over gRPC (server in a subprocess): Count per query against the empty RPC, CountBatch, StreamMembers."""

from __future__ import annotations

import pytest

from benchmarks.peers import QUERIES, Query, compare
from benchmarks.rpc import batch_queries


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_count_over_grpc(benchmark, bench, answers, grpc_peer, query: Query) -> None:
    info = compare(answers[query.name], grpc_peer.members(query, bench.as_of))
    benchmark.group = f"grpc {query.kind}"
    benchmark.extra_info.update(info, query=query.text, kind=query.kind, size=bench.ds.size)
    assert info["correct"], f"StreamMembers disagrees with bitseg on {query.name}: {info}"
    count = benchmark(grpc_peer.count, query, bench.as_of)
    assert count == len(answers[query.name])


def test_empty_rpc(benchmark, grpc_peer) -> None:
    """The transport floor: grpc.health.v1 Health/Check on the same server."""
    benchmark.group = "grpc profile"
    benchmark.extra_info["correct"] = True
    benchmark(grpc_peer.health)


def test_count_batch(benchmark, bench, grpc_peer) -> None:
    texts = batch_queries()
    expected = [bench.index.count(t, bench.as_of) for t in texts]
    correct = grpc_peer.count_batch(texts, bench.as_of) == expected
    benchmark.extra_info.update(correct=correct, queries=len(texts), size=bench.ds.size)
    assert correct
    benchmark(grpc_peer.count_batch, texts, bench.as_of)


@pytest.mark.parametrize("chunk_size", [0, 100_000], ids=["chunk-default", "chunk-100k"])
def test_stream_members(benchmark, bench, grpc_peer, chunk_size: int) -> None:
    ids = grpc_peer.stream_ids("ALL", bench.as_of, chunk_size)
    correct = len(ids) == bench.ds.customers and ids == sorted(ids)     # generator ids sort in column order
    benchmark.extra_info.update(correct=correct, ids=len(ids), size=bench.ds.size)
    assert correct
    benchmark(grpc_peer.stream_ids, "ALL", bench.as_of, chunk_size)
