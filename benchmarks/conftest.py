"""Session fixtures for the benchmarks: one dataset at BITSEG_BENCH_SIZE (default XS) in every peer.

    python -m pytest benchmarks --benchmark-disable -q          # CI smoke: every answer checked, nothing timed
    BITSEG_BENCH_SIZE=S python -m pytest benchmarks             # timed with pytest-benchmark
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `pytest benchmarks` without `python -m`
    sys.path.insert(0, str(ROOT))

from benchmarks.bench import Bench  # noqa: E402 (after the sys.path line above)
from benchmarks.data import size_from_env  # noqa: E402
from benchmarks.peers import QUERIES  # noqa: E402
from benchmarks.rpc import GrpcPeer, ServerProcess, unavailable  # noqa: E402


@pytest.fixture(scope="session")
def bench() -> Bench:
    return Bench.make(size_from_env())


@pytest.fixture(scope="session")
def peers(bench: Bench) -> dict:
    return bench.peers()


@pytest.fixture(scope="session")
def answers(bench: Bench, peers: dict) -> dict:
    """bitseg's member set of every example query: the reference every peer is checked against."""
    return {q.name: peers["bitseg"].members(q, bench.as_of) for q in QUERIES}


@pytest.fixture(scope="session")
def server(bench: Bench):
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    process = ServerProcess(bench.ds.size)
    yield process
    process.stop()


@pytest.fixture(scope="session")
def grpc_peer(server: ServerProcess):
    peer = GrpcPeer(server.address)
    yield peer
    peer.close()
