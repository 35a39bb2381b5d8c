"""The gRPC side: a benchmark server in a subprocess, and a client peer that asks it the same questions.

`unavailable()` says why gRPC benchmarks must be skipped (the server or the generated stubs are not importable).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.data import numbered
from benchmarks.peers import Query

ROOT = Path(__file__).resolve().parents[1]
INDEX = "bench"


def unavailable() -> str | None:
    """None when the server and its stubs import, else the reason to skip."""
    try:
        import grpc  # noqa: F401
        from grpc_health.v1 import health_pb2  # noqa: F401

        import bitseg.server.app  # noqa: F401
        from bitseg.v1 import segments_pb2, segments_pb2_grpc  # noqa: F401
    except ImportError as err:
        return f"gRPC server not importable yet: {err}"
    return None


class ServerProcess:
    """`python -m benchmarks.serve` for one size; stops when `stop` is called or this process exits."""

    def __init__(self, size: str, timeout: float = 1800.0) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bitseg-bench-"))
        ready = self.folder / "ready.json"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.output = open(self.folder / "stderr.txt", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.serve", "--size", size, "--ready", str(ready),
             "--log", str(self.folder / "server.log")],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=self.output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"benchmark server exited with {self.process.returncode}: "
                                   + (self.folder / "stderr.txt").read_text(errors="replace")[-2000:])
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"benchmark server not ready after {timeout:.0f} s")
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        self.port = info["port"]
        self.build_seconds = info["build_seconds"]
        self.address = f"127.0.0.1:{self.port}"

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.process.pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # type: ignore[union-attr]
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()  # only the process we started, by its handle
                self.process.wait()
        self.output.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def external_to_columns(ids: list[str]) -> np.ndarray:
    """Customer columns of generator ids ('C0000001' is column 0)."""
    if not ids:
        return np.empty(0, dtype=np.uint32)
    _, number = numbered(np.array(ids, dtype=object))
    return (number - 1).astype(np.uint32)


class GrpcPeer:
    """bitseg over gRPC on loopback: Count, CountBatch, StreamMembers and the health check as the empty RPC."""

    name = "bitseg_grpc"

    def __init__(self, address: str, index: str = INDEX) -> None:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        from bitseg.v1 import segments_pb2 as pb
        from bitseg.v1 import segments_pb2_grpc as pb_grpc

        self.pb = pb
        self.index = index
        limit = 256 * 1024 * 1024
        self.channel = grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", limit)])
        grpc.channel_ready_future(self.channel).result(timeout=30)
        self.stub = pb_grpc.SegmentServiceStub(self.channel)
        self.health_stub = health_pb2_grpc.HealthStub(self.channel)
        self.health_request = health_pb2.HealthCheckRequest(service="")

    def close(self) -> None:
        self.channel.close()

    def health(self) -> None:
        self.health_stub.Check(self.health_request)

    def count_text(self, text: str, as_of: dt.date) -> int:
        return self.stub.Count(self.pb.CountRequest(index=self.index, query=text, as_of=as_of.isoformat())).count

    def count(self, q: Query, as_of: dt.date) -> int:
        return self.count_text(q.text, as_of)

    def count_batch(self, texts: list[str], as_of: dt.date) -> list[int]:
        request = self.pb.CountBatchRequest(index=self.index, as_of=as_of.isoformat(),
                                            queries=[self.pb.Selection(query=t) for t in texts])
        results = self.stub.CountBatch(request).results
        errors = [r.error for r in results if r.error]
        if errors:
            raise AssertionError(f"CountBatch errors: {errors[:3]}")
        return [r.count for r in results]

    def stream_ids(self, text: str, as_of: dt.date, chunk_size: int = 0) -> list[str]:
        """Every member id as a Python list, as a campaign sender would hold them."""
        ids: list[str] = []
        request = self.pb.StreamMembersRequest(index=self.index, query=text, as_of=as_of.isoformat(),
                                               chunk_size=chunk_size)
        for chunk in self.stub.StreamMembers(request):
            ids.extend(chunk.customer_ids)
        return ids

    def members(self, q: Query, as_of: dt.date) -> np.ndarray:
        return external_to_columns(self.stream_ids(q.text, as_of))


# 20 queries a segment editor might send at once: the examples and the criteria they are built from.
BATCH_QUERIES: tuple[str, ...] = (
    "loyalty_member = true", "email IS NOT NULL", "tags CONTAINS 'app_user'", "country IN ('NL', 'BE')",
    "gender IS NULL", "orders > 10", "clv >= 1000", "purchases MATCHES (date >= -365d)",
    "purchases MATCHES (brand = 'Levi''s', date >= -6m)",
)


def batch_queries() -> list[str]:
    from benchmarks.peers import QUERIES

    texts = [q.text for q in QUERIES] + list(BATCH_QUERIES)
    assert len(texts) == 20
    return texts
