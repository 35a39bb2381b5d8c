"""Scale-out on one machine: Count p50 and throughput, import rate and the cost of one fan-out round, for a server
in one process and split into 1, 2 and 4 shards (SPEC §9, issue 14).

    python -m benchmarks.shards --size S [--shards 0,1,2,4] [--transport ray|local] [--out results/shards-S.json]

Shards 0 is the one-process server (a Store); N > 0 is `bitseg serve --shards N` (the same ServerConfig), whose
coordinator runs in this process and whose shards are Ray actors (or in-process workers with --transport local).
Data goes in as a user's import does, in messages of --message-lines lines through the sharded index's
columnar path (every batch checked by the coordinator, split, sent to the shards, logged and fsynced there).
Counts are gRPC calls on loopback from client threads of this process (the example queries of SPEC §2,
as of the last day); "fan-out" is one round of a no-op call on every shard, "empty RPC" a health check.

On a 2-core machine this shows the cost of sharding, not its gain: every shard competes for the same two cores,
and a Count pays a round of actor calls (serialisation and two hops) on top of its evaluation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc


def _p50(seconds: list[float]) -> float:
    return round(float(np.percentile(np.array(seconds) * 1000, 50)), 3)


def _ray_rss_mib() -> float:
    """RSS of every Ray process on this machine (raylet, GCS, workers, agents), in MiB."""
    out = subprocess.run(["ps", "-eo", "rss,args"], capture_output=True, text=True).stdout.splitlines()[1:]
    kib = sum(int(line.split(None, 1)[0]) for line in out
              if "ray" in line.split(None, 1)[1] and "benchmarks.shards" not in line)
    return round(kib / 1024, 1)


def run_one(shards: int, transport: str, ds: Any, message_lines: int, repeats: int, seconds: float) -> dict:
    from benchmarks.data import slice_batch
    from benchmarks.peers import QUERIES
    from bitseg.generate import FASHION_SCHEMA
    from bitseg.server.app import ServerConfig, start
    from bitseg.v1 import segments_pb2 as pb
    from bitseg.v1 import segments_pb2_grpc as pb_grpc

    result: dict[str, Any] = {"shards": shards}
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        server = start(ServerConfig(port=0, data_dir=folder, shards=shards, shard_transport=transport))
        result["start_seconds"] = round(time.perf_counter() - started, 2)
        if shards and transport == "ray":
            result["ray_rss_mib_empty"] = _ray_rss_mib()
        try:
            index = server.catalog.create_index("bench", FASHION_SCHEMA)
            loaded = time.perf_counter()
            index.upsert_profile_columns(ds.profiles)
            profiled = time.perf_counter()
            for batch in ds.batches:
                size = len(batch["customer"])
                for at in range(0, size, message_lines):
                    index.add_purchase_columns(slice_batch(batch, at, min(size, at + message_lines)))
            done = time.perf_counter()
            for list_name, members in ds.lists.items():
                index.update_list(list_name, add=ds.customer_ids[members].tolist())
            result["profiles_per_second"] = round(ds.customers / (profiled - loaded))
            result["lines_per_second"] = round(ds.lines / (done - profiled))
            if shards and transport == "ray":
                result["ray_rss_mib_loaded"] = _ray_rss_mib()
            with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
                stub = pb_grpc.SegmentServiceStub(channel)
                health = health_pb2_grpc.HealthStub(channel)
                as_of = ds.end.isoformat()
                p50s, counts = {}, {}
                for query in QUERIES:
                    times = []
                    for _ in range(repeats):
                        t = time.perf_counter()
                        counts[query.name] = stub.Count(pb.CountRequest(index="bench", query=query.text,
                                                                        as_of=as_of)).count
                        times.append(time.perf_counter() - t)
                    p50s[query.name] = _p50(times)
                result["count_p50_ms"] = p50s
                result["counts"] = counts
                result["count_p50_ms_median"] = round(float(np.median(list(p50s.values()))), 3)
                times = []
                for _ in range(repeats * 5):
                    t = time.perf_counter()
                    health.Check(health_pb2.HealthCheckRequest())
                    times.append(time.perf_counter() - t)
                result["empty_rpc_p50_ms"] = _p50(times)
                if shards:
                    transport_of = server.catalog.transport  # type: ignore[attr-defined]
                    times = []
                    for _ in range(repeats * 5):
                        t = time.perf_counter()
                        transport_of.all("ping")
                        times.append(time.perf_counter() - t)
                    result["fan_out_round_p50_ms"] = _p50(times)
                result["count_per_second"] = _throughput(stub, as_of, seconds)
        finally:
            server.stop(grace=0)
    return result


def _throughput(stub: Any, as_of: str, seconds: float, threads: int = 4) -> float:
    """Counts per second of a profile-only query from `threads` client threads for `seconds`."""
    from bitseg.v1 import segments_pb2 as pb

    done = [0] * threads
    stop = time.perf_counter() + seconds

    def client(k: int) -> None:
        request = pb.CountRequest(index="bench", query="country = 'NL' AND loyalty_member = true", as_of=as_of)
        while time.perf_counter() < stop:
            stub.Count(request)
            done[k] += 1

    workers = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return round(sum(done) / seconds, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shards")
    parser.add_argument("--size", default="S")
    parser.add_argument("--shards", default="0,1,2,4")
    parser.add_argument("--transport", default="ray", choices=("ray", "local"))
    parser.add_argument("--message-lines", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--out")
    args = parser.parse_args(argv)

    from benchmarks.data import build

    ds = build(args.size)
    runs = [run_one(int(n), args.transport, ds, args.message_lines, args.repeats, args.seconds)
            for n in args.shards.split(",")]
    answers = {json.dumps(run["counts"], sort_keys=True) for run in runs}
    if len(answers) != 1:
        raise AssertionError(f"the shard counts gave different answers: {[run['counts'] for run in runs]}")
    report = {"size": args.size, "customers": ds.customers, "lines": ds.lines, "cores": os.cpu_count(),
              "transport": args.transport, "runs": runs}
    text = json.dumps(report, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
