"""Bearer token and TLS: without the right token every call but health is UNAUTHENTICATED."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bitseg.server.app import Server, ServerConfig, start
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

from .conftest import channel_for
from .shop import SCHEMA

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start(ServerConfig(port=0, token=TOKEN, data_dir=str(tmp_path_factory.mktemp("bitseg-data"))))
    yield running
    running.stop(grace=0)


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


@pytest.mark.parametrize("metadata", [(), bearer("wrong"), bearer(""), bearer(TOKEN + "x"),
                                      (("authorization", TOKEN),), (("authorization", f"Basic {TOKEN}"),),
                                      (("x-token", TOKEN),)])
def test_missing_or_wrong_token(secured: Server, metadata: tuple) -> None:
    with channel_for(secured) as channel:
        stub = pb_grpc.SegmentServiceStub(channel)
        calls = [
            lambda: stub.ListIndexes(pb.ListIndexesRequest(), metadata=metadata),
            lambda: stub.CreateIndex(pb.CreateIndexRequest(index="x", schema_toml=SCHEMA), metadata=metadata),
            lambda: stub.AddPurchases(iter([pb.PurchaseBatch(index="x")]), metadata=metadata),
            lambda: list(stub.StreamMembers(pb.StreamMembersRequest(index="x", query="ALL"), metadata=metadata)),
        ]
        for call in calls:
            with pytest.raises(grpc.RpcError) as err:
                call()
            assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED
            assert "Bearer" in err.value.details()
        # Health stays open for probes.
        assert health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest()).status == \
            health_pb2.HealthCheckResponse.SERVING


def test_right_token(secured: Server) -> None:
    with channel_for(secured) as channel:
        stub = pb_grpc.SegmentServiceStub(channel)
        stub.CreateIndex(pb.CreateIndexRequest(index="tok", schema_toml=SCHEMA), metadata=bearer(TOKEN))
        assert stub.Count(pb.CountRequest(index="tok", query="ALL"), metadata=bearer(TOKEN)).count == 0
        assert "tok" in [i.name for i in stub.ListIndexes(pb.ListIndexesRequest(), metadata=bearer(TOKEN)).indexes]


def test_no_token_configured_means_open(stub: pb_grpc.SegmentServiceStub) -> None:
    assert stub.ListIndexes(pb.ListIndexesRequest()).indexes is not None
    assert stub.ListIndexes(pb.ListIndexesRequest(), metadata=bearer("anything")).indexes is not None


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_tls_with_token(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    server = start(ServerConfig(port=0, token=TOKEN, tls_cert=cert.read_bytes(), tls_key=key.read_bytes(),
                                data_dir=str(tmp_path / "data")))
    try:
        credentials = grpc.ssl_channel_credentials(cert.read_bytes())
        with grpc.secure_channel(f"localhost:{server.port}", credentials) as channel:
            stub = pb_grpc.SegmentServiceStub(channel)
            assert list(stub.ListIndexes(pb.ListIndexesRequest(), metadata=bearer(TOKEN)).indexes) == []
        with grpc.insecure_channel(f"localhost:{server.port}") as plain:
            with pytest.raises(grpc.RpcError) as err:
                pb_grpc.SegmentServiceStub(plain).ListIndexes(pb.ListIndexesRequest(), metadata=bearer(TOKEN),
                                                              timeout=5)
            assert err.value.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(grace=0)
