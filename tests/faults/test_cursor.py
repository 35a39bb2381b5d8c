"""Issue 10, finding 5: resuming StreamMembers after the last id received, when that id was erased, or erased
and created again, resumes exactly (with the cursor) or fails clearly (with `after`); it never ends early."""

from __future__ import annotations

import grpc
import pytest

import bitseg
from bitseg.errors import InvalidInputError
from bitseg.persistence import Store
from bitseg.server.app import ServerConfig, start
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

N = 20_000


@pytest.fixture()
def server():
    catalog = bitseg.Catalog()
    index = catalog.create_index("shop", '[profile]\ncountry = "keyword"\n')
    index.upsert_profile_columns({"customer": [f"c{i}" for i in range(N)], "country": ["NL"] * N})
    running = start(ServerConfig(port=0), catalog)
    yield running, index
    running.stop(grace=0)


def first_chunks(address: str, chunks: int) -> tuple[list[str], str]:
    with grpc.insecure_channel(address) as channel:
        stream = pb_grpc.SegmentServiceStub(channel).StreamMembers(
            pb.StreamMembersRequest(index="shop", query="country = 'NL'", chunk_size=1000))
        ids, cursor = [], ""
        for chunk in stream:
            ids += chunk.customer_ids
            cursor = chunk.cursor
            if len(ids) >= chunks * 1000:
                stream.cancel()
                break
    return ids, cursor


def rest(address: str, **resume: str) -> list[str]:
    with grpc.insecure_channel(address) as channel:
        return [i for chunk in pb_grpc.SegmentServiceStub(channel).StreamMembers(
            pb.StreamMembersRequest(index="shop", query="country = 'NL'", **resume)) for i in chunk.customer_ids]


@pytest.mark.parametrize("recreate", [False, True])
def test_erase_the_resume_id_and_resume_exactly(server, recreate: bool) -> None:
    running, index = server
    received, cursor = first_chunks(running.address, 2)
    last = received[-1]
    index.delete_customers([last])
    if recreate:
        index.upsert_profiles([{"customer": last, "country": "NL"}])
    expected = [f"c{i}" for i in range(2000, N)] + ([last] if recreate else [])
    assert rest(running.address, cursor=cursor) == expected
    client = bitseg.Client(running.address)
    if recreate:  # `after` cannot tell which of the two it means: a clear error, not a stream that ends early
        with pytest.raises(InvalidInputError, match="erased and created again"):
            list(client.members("shop", "country = 'NL'", after=last))
    else:  # erased once: its old position is known
        assert list(client.members("shop", "country = 'NL'", after=last)) == expected


def test_a_cursor_not_made_by_the_server_is_invalid(server) -> None:
    running, _ = server
    with pytest.raises(grpc.RpcError) as caught:
        rest(running.address, cursor="not-a-cursor")
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "cursor" in caught.value.details()


@pytest.mark.parametrize("snapshot", [True, False])  # the erasure kept in a snapshot, or replayed from the log
@pytest.mark.parametrize("recreate", [False, True])
def test_resuming_after_an_erased_id_survives_a_restart(tmp_path, snapshot: bool, recreate: bool) -> None:
    store = Store(tmp_path).open()
    index = store.create_index("shop", '[profile]\ncountry = "keyword"\n')
    index.upsert_profile_columns({"customer": [f"c{i}" for i in range(N)], "country": ["NL"] * N})
    store.snapshot()
    index.delete_customers(["c1999"])
    if recreate:
        index.upsert_profiles([{"customer": "c1999", "country": "NL"}])
    if snapshot:
        store.close()  # a shutdown snapshot holds the erasure
    else:
        store.close(snapshot=False)  # a stop without one: the erasure comes back from the log
    reopened = Store(tmp_path).open()
    try:
        running = start(ServerConfig(port=0), reopened)
        try:
            client = bitseg.Client(running.address)
            if recreate:
                with pytest.raises(InvalidInputError, match="erased and created again"):
                    list(client.members("shop", "country = 'NL'", after="c1999"))
            else:
                assert list(client.members("shop", "country = 'NL'", after="c1999")) == [
                    f"c{i}" for i in range(2000, N)]
        finally:
            running.stop(grace=0)
    finally:
        reopened.close(snapshot=False)
