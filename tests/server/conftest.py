"""Fixtures for server tests: real servers on port 0, real channels, small indexes built through the API."""

from __future__ import annotations

import os
from collections.abc import Iterator

import grpc
import pytest

from bitseg.server.app import Server, ServerConfig, start
from bitseg.v1 import segments_pb2_grpc as pb_grpc

from .shop import load_shop

# BITSEG_TEST_SHARDS=N runs every test on the shared `server` fixture against a server split into N shards (SPEC §9),
# in this process (BITSEG_TEST_SHARD_TRANSPORT=local, the default) or on a local Ray runtime (=ray).
SHARDS = int(os.environ.get("BITSEG_TEST_SHARDS", "0"))
SHARD_TRANSPORT = os.environ.get("BITSEG_TEST_SHARD_TRANSPORT", "local")


def server_config(**options: object) -> ServerConfig:
    """A ServerConfig for a test server: sharded when BITSEG_TEST_SHARDS says so."""
    return ServerConfig(shards=SHARDS, shard_transport=SHARD_TRANSPORT, **options)  # type: ignore[arg-type]


def member_order(ids: list[str]) -> list[str]:
    """Ids in the order a member stream gives them: column order, or on a sharded server shard 0's first, ..."""
    if not SHARDS:
        return ids
    from bitseg.shards.routing import shard_of
    return sorted(ids, key=lambda key: shard_of(key, SHARDS))


def channel_for(server: Server) -> grpc.Channel:
    return grpc.insecure_channel(f"127.0.0.1:{server.port}",
                                 options=[("grpc.max_receive_message_length", 64 << 20),
                                          ("grpc.max_send_message_length", 64 << 20)])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start(server_config(port=0, data_dir=str(tmp_path_factory.mktemp("bitseg-data"))))
    yield running
    running.stop(grace=0)


@pytest.fixture(scope="module")
def channel(server: Server) -> Iterator[grpc.Channel]:
    with channel_for(server) as ch:
        yield ch


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> pb_grpc.SegmentServiceStub:
    return pb_grpc.SegmentServiceStub(channel)


@pytest.fixture(scope="module")
def shop(stub: pb_grpc.SegmentServiceStub) -> str:
    load_shop(stub)
    return "shop"
