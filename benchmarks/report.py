"""The whole comparison for one size, written as markdown and JSON, with every SPEC §8 goal met or missed.

    python -m benchmarks.report --size S [--out benchmarks/results]

Steps: generate the dataset; load bitseg (ingest lines/s, memory), DuckDB and the raw peer; check every peer's
member sets against bitseg's (at the dataset's end day and at CHECK_DAYS); time the count of every example query
on every peer; profile the slowest engine queries and the ingest; start a server in a subprocess and time Count
(against the health check), CountBatch and StreamMembers; import the generated CSV with `bitseg import`; write a
snapshot and restart from it. A wrong answer is reported and makes the command exit 1.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import functools
import gc
import importlib.metadata
import itertools
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.bench import Bench, measure
from benchmarks.data import SIZES
from benchmarks.peers import CHECK_DAYS, QUERIES
from benchmarks.rpc import GrpcPeer, ServerProcess, batch_queries, unavailable

ROOT = Path(__file__).resolve().parents[1]
PEER_ORDER = ("bitseg", "bitseg_grpc", "duckdb", "duckdb_mat", "raw")
PEER_TITLES = {"bitseg": "bitseg", "bitseg_grpc": "bitseg over gRPC", "duckdb": "DuckDB (view)",
               "duckdb_mat": "DuckDB (mat.)", "raw": "raw pyroaring"}
KIND_GOALS_MS = {"profile": 0.3, "window": 2.0, "measure": 10.0}       # SPEC §8, at M
KIND_TITLES = {"profile": "profile-only", "window": "MATCHES without measures", "measure": "measure"}

_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f} s] {message}", file=sys.stderr, flush=True)


# ── machine ───────────────────────────────────────────────────────────────────────────────────────────

def machine() -> dict:
    def version(package: str) -> str | None:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kb = 0

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    import duckdb

    return {
        "cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
        "ram_gib": round(mem_kb / 2**20, 1), "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {p: version(p) for p in ("pyroaring", "numpy", "duckdb", "grpcio", "protobuf",
                                             "pytest-benchmark")},
        "duckdb_threads": (duckdb.connect().execute("SELECT current_setting('threads')").fetchone() or [None])[0],
        "bitseg_commit": git("rev-parse", "--short", "HEAD"),
        "bitseg_worktree_changed": bool(git("status", "--porcelain", "--", "src")),
        "bitseg_source_sha256": source_digest(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


# ── timing helpers ────────────────────────────────────────────────────────────────────────────────────

def time_call(call, budget: float) -> dict:
    t0 = time.perf_counter()
    call()
    first = time.perf_counter() - t0
    rounds = 3 if first > budget / 3 else 5
    return measure(call, budget=budget, min_rounds=rounds, max_rounds=2000, warmup=0).as_dict()


def paired_p50(first, second, calls: int, budget: float = 15.0) -> tuple[float, float]:
    """p50 of two calls made alternately (drift hits both alike), in seconds: `calls` pairs or `budget` seconds."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(20):
        first(), second()
    stop = time.perf_counter() + budget
    while len(a) < calls and (len(a) < 50 or time.perf_counter() < stop):
        t0 = time.perf_counter()
        first()
        t1 = time.perf_counter()
        second()
        t2 = time.perf_counter()
        a.append(t1 - t0)
        b.append(t2 - t1)
    return statistics.median(a), statistics.median(b)


# ── profiling ─────────────────────────────────────────────────────────────────────────────────────────

def profile(call, calls: int, top: int = 10) -> list[dict]:
    """The functions that take the time of `call`, per call: by own time, with their cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (file, line, name), (_, ncalls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = file.replace(str(ROOT) + "/", "")
        frozen = os.environ.get("BITSEG_BENCH_FROZEN")
        if frozen:
            where = where.replace(frozen + "/", "src/")
        if "site-packages" in where:
            where = where.split("site-packages/", 1)[1]
        rows.append({"function": f"{name} ({where}:{line})" if line else name, "calls": ncalls / calls,
                     "own_ms": tottime * 1e3 / calls, "cumulative_ms": cumtime * 1e3 / calls})
    rows.sort(key=lambda r: -r["own_ms"])
    return rows[:top]


# ── the steps ─────────────────────────────────────────────────────────────────────────────────────────

def correctness(bench: Bench, peers: dict) -> dict:
    log("checking member sets")
    at_end = bench.check(peers)
    days = bench.check({k: v for k, v in peers.items() if k in ("bitseg", "duckdb", "raw")}, days=CHECK_DAYS)
    return {f"{q}|{peer}|{day}": info for (q, peer, day), info in {**at_end, **days}.items()}


def query_timings(bench: Bench, peers: dict, budget: float) -> dict:
    out: dict = {}
    for q in QUERIES:
        out[q.name] = {"count": bench.index.count(q.text, bench.as_of)}
        for name, peer in peers.items():
            out[q.name][name] = time_call(lambda peer=peer, q=q: peer.count(q, bench.as_of), budget)
        log(f"timed {q.name}: " + ", ".join(f"{n} {t['median_ms']:.2f} ms" for n, t in out[q.name].items()
                                            if isinstance(t, dict)))
    return out


def hot_spots(bench: Bench, timings: dict, how_many: int = 4) -> dict:
    slowest = sorted(QUERIES, key=lambda q: -timings[q.name]["bitseg"]["median_ms"])[:how_many]
    out = {}
    for q in slowest:
        median_s = timings[q.name]["bitseg"]["median_ms"] / 1e3
        calls = max(3, min(30, int(2.0 / max(median_s, 1e-4))))
        out[q.name] = {"median_ms": median_s * 1e3, "profiled_calls": calls,
                       "functions": profile(lambda q=q: bench.index.count(q.text, bench.as_of), calls)}
        log(f"profiled {q.name}")
    return out


def ingest_profile(bench: Bench, batches: int = 3) -> dict:
    from bitseg import Index
    from bitseg.generate import FASHION_SCHEMA

    index = Index.from_toml(FASHION_SCHEMA, "profiled")
    index.upsert_profile_columns(bench.ds.profiles)
    chosen = bench.ds.batches[:batches]
    lines = sum(len(b["customer"]) for b in chosen)
    t0 = time.perf_counter()
    functions = profile(lambda: [index.add_purchase_columns(b) for b in chosen], 1, top=12)
    seconds = time.perf_counter() - t0
    for row in functions:
        row["own_ms_per_million_lines"] = row.pop("own_ms") * 1e6 / lines
        row["cumulative_ms_per_million_lines"] = row.pop("cumulative_ms") * 1e6 / lines
    return {"lines": lines, "profiled_seconds": seconds, "functions": functions}


def grpc_figures(bench: Bench, size: str, budget: float, calls: int, import_size: str | None) -> dict:
    reason = unavailable()
    if reason:
        log(f"skipping gRPC: {reason}")
        return {"skipped": reason}
    log("starting the benchmark server (it builds its own copy of the data)")
    server = ServerProcess(size)
    out: dict = {"server_build_seconds": server.build_seconds, "client_and_server": "separate processes, loopback"}
    peer = GrpcPeer(server.address)
    try:
        as_of = bench.as_of
        engine_counts = {q.name: bench.index.count(q.text, as_of) for q in QUERIES}
        checks = {}
        for q in QUERIES:
            counted = peer.count(q, as_of)
            members = peer.members(q, as_of)
            expected = np.frombuffer(bench.index.evaluate(q.text, as_of).to_array(), np.uint32)
            checks[q.name] = {"correct": bool(counted == engine_counts[q.name] and np.array_equal(members, expected)),
                              "count": counted, "members": len(members)}
        out["checks"] = checks
        out["count"] = {q.name: time_call(lambda q=q: peer.count(q, as_of), budget) for q in QUERIES}
        log("timed Count over gRPC")
        rtt = {}
        for q in (q for q in QUERIES if q.kind == "profile"):
            count_p50, health_p50 = paired_p50(lambda q=q: peer.count(q, as_of), peer.health, calls)
            rtt[q.name] = {"count_p50_ms": count_p50 * 1e3, "health_p50_ms": health_p50 * 1e3,
                           "ratio": count_p50 / health_p50}
        out["round_trip"] = rtt
        out["health"] = measure(peer.health, budget=budget, min_rounds=200, max_rounds=5000).as_dict()
        log("timed Count round trips against the health check")
        texts = batch_queries()
        expected_batch = [bench.index.count(t, as_of) for t in texts]
        got_batch = peer.count_batch(texts, as_of)
        engine_sum = 0.0
        for text in texts:
            engine_sum += measure(functools.partial(bench.index.count, text, as_of), budget=0.3, min_rounds=3).median
        out["count_batch"] = {"queries": len(texts), "correct": got_batch == expected_batch,
                              **time_call(lambda: peer.count_batch(texts, as_of), budget),
                              "engine_sum_of_medians_ms": engine_sum * 1e3}
        log("timed CountBatch")
        streams = {}
        for text, chunk in (("ALL", 0), ("ALL", 100_000), ("purchases MATCHES (date >= -365d)", 0)):
            ids = peer.stream_ids(text, as_of, chunk)
            expected_n = bench.index.count(text, as_of)
            timing = time_call(lambda text=text, chunk=chunk: peer.stream_ids(text, as_of, chunk), budget)
            streams[f"{text} | chunk {chunk or 'default (10,000)'}"] = {
                "ids": len(ids), "correct": len(ids) == expected_n and len(set(ids)) == len(ids),
                **timing, "ids_per_second": len(ids) / (timing["median_ms"] / 1e3)}
        out["stream_members"] = streams
        log("timed StreamMembers")
        out["server_rss_bytes"] = server.rss_bytes()
        if import_size:
            out["import"] = csv_import(server, import_size, bench if import_size == size else None, budget)
    finally:
        peer.close()
        server.stop()
    return out


def csv_import(server: ServerProcess, size: str, bench: Bench | None, budget: float) -> dict:
    """`bitseg import` of the generated CSV into a new index on the benchmark server; with `bench` (same size),
    its counts compared with bitseg's and timed over gRPC: the first Count of each query after the import (it
    may build a month roll-up) and the median after it."""
    from benchmarks.data import END, SEED
    from bitseg.generate import write_dataset

    folder = Path(tempfile.mkdtemp(prefix="bitseg-import-"))
    try:
        customers, lines = SIZES[size]
        log(f"writing the {size} CSV for bitseg import")
        written = write_dataset(folder, customers, lines, seed=SEED, end=END)
        command = [sys.executable, "-m", "bitseg.cli", "import", "--server", server.address, "--index", "imported",
                   "--schema", str(folder / "schema.toml"), "--profiles", str(folder / "profiles.csv"),
                   "--purchases", str(folder / "purchases.csv"), "--json", "--quiet"]
        log("running bitseg import")
        t0 = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            return {"error": f"exit {done.returncode}: {done.stderr[-1000:]}"}
        summary = json.loads(done.stdout)
        from bitseg.csvrecords import CsvSource

        source = CsvSource(str(folder / "purchases.csv"))
        try:
            CSV_CHUNKS[:] = [(list(source.header), data, line) for data, line in itertools.islice(source.chunks(), 40)]
        finally:
            source.close()
        files = {f["kind"]: f for f in summary["files"]}
        out = {"size": size, "lines": written["lines"], "csv_bytes": (folder / "purchases.csv").stat().st_size,
               "wall_seconds": wall, "profiles_rows_per_second": files["profiles"]["rows_per_second"],
               "lines_per_second": files["purchases"]["rows_per_second"],
               "purchases_seconds": files["purchases"]["seconds"], "rejected": summary["rejected"]}
        if bench is not None:
            peer = GrpcPeer(server.address, index="imported")
            try:
                for name, cids in bench.ds.lists.items():     # static lists are not part of the CSV
                    peer.stub.UpdateList(peer.pb.UpdateListRequest(
                        index="imported", name=name, add=bench.ds.customer_ids[cids].tolist()))
                same, first = True, {}
                for q in QUERIES:
                    t0 = time.perf_counter()
                    counted = peer.count(q, bench.as_of)
                    first[q.name] = (time.perf_counter() - t0) * 1e3
                    same &= counted == bench.index.count(q.text, bench.as_of)
                out["same_counts_as_bitseg"], out["first_count_ms"] = same, first
                out["count"] = {q.name: time_call(lambda q=q: peer.count(q, bench.as_of), budget) for q in QUERIES}
                log("timed Count over gRPC on the imported index")
                peer.stub.DropIndex(peer.pb.DropIndexRequest(index="imported"))
            finally:
                peer.close()
        return out
    finally:
        shutil.rmtree(folder, ignore_errors=True)


CSV_CHUNKS: list[tuple[list[str], bytes, int]] = []     # (header, data, first line) kept by csv_import


def small_batches(bench: Bench, lines: int = 10_000, batches: int = 20) -> dict:
    """Per-batch costs on the full index, as `bitseg import` meets them: timed, then profiled on other lines.

    Adds lines to `bench.index`: run it last.
    """
    from benchmarks.data import slice_batch

    out: dict = {}
    first = bench.ds.batches[0]
    lines = max(1, min(lines, len(first["day"]) // (2 * batches)))
    pieces = [slice_batch(first, i * lines, (i + 1) * lines) for i in range(2 * batches)]
    runs: dict = {"coded": [[lambda b=b: bench.index.add_purchase_columns(b)] for b in pieces]}
    if len(CSV_CHUNKS) >= 2:
        from bitseg.server.batches import Columns, read_batch
        from bitseg.v1 import segments_pb2 as pb

        def csv_call(header: list[str], data: bytes, line: int):
            def call() -> None:
                message = pb.PurchaseBatch(csv=pb.CsvChunk(header=header, data=data, first_line=line))
                for part in read_batch(message, line).parts:
                    assert isinstance(part, Columns)
                    bench.index.add_purchase_columns(part.columns, rejects=[], first_row=0)
            return [call]
        runs["csv"] = [csv_call(*chunk) for chunk in CSV_CHUNKS[: 2 * batches]]
    for kind, calls in runs.items():
        batches = len(calls) // 2
        counted = (lines * batches if kind == "coded"
                   else sum(chunk[1].count(b"\n") for chunk in CSV_CHUNKS[batches: 2 * batches]))
        t0 = time.perf_counter()
        for (call,) in calls[:batches]:
            call()
        seconds = time.perf_counter() - t0
        functions = profile(lambda calls=calls, batches=batches: [call() for (call,) in calls[batches:]], 1, top=12)
        for row in functions:
            row["own_ms_per_million_lines"] = row.pop("own_ms") * 1e6 / counted
            row["cumulative_ms_per_million_lines"] = row.pop("cumulative_ms") * 1e6 / counted
        out[kind] = {"batches": batches, "lines_per_batch": counted // batches,
                     "lines_per_second": counted / seconds, "functions": functions}
        log(f"small {kind} batches into the full index: {counted / seconds:,.0f} lines/s")
    return out


def snapshot_figures(bench: Bench) -> dict:
    """Durable ingest through a Store, then the snapshot write and a restart from it."""
    try:
        from bitseg.persistence.store import Store
    except ImportError as err:
        return {"skipped": f"persistence not importable: {err}"}
    from bitseg.generate import FASHION_SCHEMA

    folder = Path(tempfile.mkdtemp(prefix="bitseg-snapshot-"))
    try:
        store = Store(folder).open()
        durable = store.create_index("bench", FASHION_SCHEMA)  # its writes are logged and fsynced
        t0 = time.perf_counter()
        durable.upsert_profile_columns(bench.ds.profiles)
        t1 = time.perf_counter()
        for batch in bench.ds.batches:
            durable.add_purchase_columns(batch)
        lines_done = time.perf_counter()
        for name, cids in bench.ds.lists.items():
            durable.update_list(name, add=bench.ds.customer_ids[cids].tolist())
        log("durable ingest done; writing a snapshot")
        t2 = time.perf_counter()
        info = store.snapshot()
        t3 = time.perf_counter()
        store.close(snapshot=False)
        del store, durable
        gc.collect()
        log("restarting from the snapshot")
        t4 = time.perf_counter()
        restarted = Store(folder).open()
        t5 = time.perf_counter()
        index = restarted.catalog.get("bench")
        same = all(index.count(q.text, bench.as_of) == bench.index.count(q.text, bench.as_of) for q in QUERIES)
        restarted.close(snapshot=False)
        return {"durable_lines_per_second": bench.ds.lines / (lines_done - t1), "durable_profile_seconds": t1 - t0,
                "snapshot_seconds": t3 - t2, "snapshot_bytes": info.bytes, "restart_seconds": t5 - t4,
                "same_counts_after_restart": same}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ── goals ─────────────────────────────────────────────────────────────────────────────────────────────

def _goal(goal: str, target: float, measured: float | None, unit: str, lower_is_better: bool, note: str = "") -> dict:
    if measured is None:
        return {"goal": goal, "target": target, "measured": None, "unit": unit, "met": None,
                "margin": "not measured", "note": note}
    met = measured < target if lower_is_better else measured >= target
    if lower_is_better:
        factor = target / measured if measured else float("inf")
        margin = f"{factor:.3g}× under the limit" if met else f"{1 / factor:.3g}× over: needs {1 / factor:.3g}× less"
    else:
        factor = measured / target
        margin = f"{factor:.3g}× the target" if met else f"{factor:.3g}× the target: needs {1 / factor:.3g}× more"
    return {"goal": goal, "target": target, "measured": measured, "unit": unit, "met": met, "margin": margin,
            "note": note}


def goals(results: dict) -> list[dict]:
    timings = results["queries"]
    by_kind: dict[str, list[tuple[float, str]]] = {}
    for q in QUERIES:
        by_kind.setdefault(q.kind, []).append((timings[q.name]["bitseg"]["median_ms"], q.name))
    out = []
    for kind, limit in KIND_GOALS_MS.items():
        worst, name = max(by_kind[kind])
        out.append(_goal(f"Count, server side, {KIND_TITLES[kind]} queries < {limit:g} ms", limit, worst, "ms",
                         True, f"slowest: {name}"))
    rpc = results.get("grpc", {})
    if "round_trip" in rpc:
        worst_ratio, name = max((r["ratio"], n) for n, r in rpc["round_trip"].items())
        out.append(_goal("gRPC Count p50 within 1.5× of an empty RPC (health check), profile-only", 1.5,
                         worst_ratio, "×", True, f"worst: {name}"))
    else:
        out.append(_goal("gRPC Count p50 within 1.5× of an empty RPC", 1.5, None, "×", True))
    mat = results["speedup"]["duckdb_mat"]
    out.append(_goal("≥ 20× faster than DuckDB (built-ins materialised) on the median example", 20.0, mat["median"],
                     "×", False, f"against DuckDB deriving the built-ins per query: "
                     f"{results['speedup']['duckdb']['median']:.1f}×"))
    slowest, name = min((ratio, n) for n, ratio in mat["per_query"].items())
    out.append(_goal("no example slower than DuckDB (built-ins materialised)", 1.0, slowest, "×", False,
                     f"smallest speed-up: {name}"))
    batch = rpc.get("count_batch")
    out.append(_goal("CountBatch of 20 criteria < 30 ms", 30.0, batch["median_ms"] if batch else None, "ms", True,
                     "timed by the client: the server side is less"))
    streams = rpc.get("stream_members", {})
    default_stream = next((s for k, s in streams.items() if k.startswith("ALL | chunk default")), None)
    out.append(_goal("StreamMembers ≥ 5M ids/s to a Python client", 5e6,
                     default_stream["ids_per_second"] if default_stream else None, "ids/s", False))
    out.append(_goal("Ingest ≥ 1M lines/s through the Python API", 1e6,
                     results["ingest"]["lines_per_second"], "lines/s", False,
                     "add_purchase_columns with Coded text columns, 1M-line batches"))
    imported = rpc.get("import", {})
    out.append(_goal("Ingest ≥ 250k lines/s through bitseg import", 2.5e5, imported.get("lines_per_second"),
                     "lines/s", False, f"CSV of size {imported.get('size')}" if imported else ""))
    out.append(_goal("second half of an import ≥ 80% of the first half's rate", 0.8, None, "", False,
                     "`python -m benchmarks.ingest --size SIZE`"))
    out.append(_goal("Count p99 < 10 ms (profile-only) while an import runs and while a snapshot is written", 10.0,
                     None, "ms", True, "`python -m benchmarks.reads_during_writes --size SIZE`"))
    snap = results.get("snapshot", {})
    out.append(_goal("Snapshot write < 5 s", 5.0, snap.get("snapshot_seconds"), "s", True))
    out.append(_goal("Restart from the snapshot < 5 s", 5.0, snap.get("restart_seconds"), "s", True))
    rss = rpc.get("server_rss_bytes")
    out.append(_goal("server RSS ≤ 2 GiB", 2.0, rss / 2**30 if rss else None, "GiB", True,
                     "the benchmark server after its load and the timed calls (M is the size the goal names)"))
    return out


# ── output ────────────────────────────────────────────────────────────────────────────────────────────

def ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def speedups(timings: dict) -> dict:
    out = {}
    for peer in ("duckdb", "duckdb_mat", "raw", "bitseg_grpc"):
        ratios = {name: t[peer]["median_ms"] / t["bitseg"]["median_ms"] for name, t in timings.items() if peer in t}
        if ratios:
            values = list(ratios.values())
            out[peer] = {"per_query": ratios, "median": statistics.median(values),
                         "geometric_mean": float(np.exp(np.mean(np.log(values))))}
    return out


def markdown(results: dict) -> str:
    m, d = results["machine"], results["dataset"]
    lines = [f"# bitseg benchmarks — size {results['size']}", "",
             (f"{d['customers']:,} customers, {d['lines']:,} purchase lines over two years ending {d['end']} "
             f"(generator seed {d['seed']}); every query evaluated as of {d['end']}."), "",
             f"Machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), {m['ram_gib']} GiB RAM; "
             f"Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
             + f"; DuckDB threads {m['duckdb_threads']}. bitseg {m['bitseg_commit']}"
             + (" + uncommitted changes in src/" if m["bitseg_worktree_changed"] else "")
             + f" (sources sha256 {m['bitseg_source_sha256']}, frozen for the whole run); run {m['date']}, "
             f"{m['wall_seconds'] / 60:.0f} min.", "",
             (f"Load average (1/5/15 min) at the start {'/'.join(map(str, m['load_average_start']))}, at the end "
             f"{'/'.join(map(str, m['load_average_end']))}: above 1 means other processes shared the "
             f"{m['usable_cores']} cores, which inflates absolute times; the peers of one query are timed within "
             f"the same minute, so their ratios suffer less."), ""]
    bad = [k for k, v in results["correctness"].items() if not v["correct"]]
    grpc_bad = [k for k, v in results.get("grpc", {}).get("checks", {}).items() if not v["correct"]]
    lines += ["## Answers checked before timing", "",
              f"Member sets of every peer compared with bitseg's for all {len(QUERIES)} queries as of {d['end']} "
              f"and, for DuckDB (view) and raw, also as of {', '.join(x.isoformat() for x in CHECK_DAYS)} "
              f"(year wrap, leap day, clamped months; point in time: only the lines up to the day count): "
              f"**{'all equal' if not bad else f'{len(bad)} MISMATCHES'}**"
              + (f" ({', '.join(bad[:10])})" if bad else "") + ".",
              "" if "checks" not in results.get("grpc", {}) else
              f"Over gRPC, Count and StreamMembers members equal bitseg in-process for every query: "
              f"**{'yes' if not grpc_bad else 'NO: ' + ', '.join(grpc_bad)}**.", ""]
    timings = results["queries"]
    peers = [p for p in PEER_ORDER if p in next(iter(timings.values()))]
    lines += ["## Count per example query (median ms; lower is better)", "",
              "| query | kind | count | " + " | ".join(PEER_TITLES[p] for p in peers)
              + " | × vs DuckDB (view) | × vs DuckDB (mat.) | bitseg / raw |",
              "|---|---|---:|" + "---:|" * len(peers) + "---:|---:|---:|"]
    for q in QUERIES:
        t = timings[q.name]
        cells = [ms(t[p]["median_ms"]) for p in peers]
        b = t["bitseg"]["median_ms"]
        lines.append(f"| `{q.text}` | {q.kind} | {t['count']:,} | " + " | ".join(cells)
                     + f" | {t['duckdb']['median_ms'] / b:,.1f} | {t['duckdb_mat']['median_ms'] / b:,.1f}"
                     + f" | {b / t['raw']['median_ms']:,.1f} |")
    s = results["speedup"]
    lines += ["", (f"Speed-up over DuckDB: median **{s['duckdb']['median']:.1f}×** (geometric mean "
              f"{s['duckdb']['geometric_mean']:.1f}×) against the view of built-ins; median "
              f"{s['duckdb_mat']['median']:.1f}× (geometric mean {s['duckdb_mat']['geometric_mean']:.1f}×) against "
              f"DuckDB with the built-ins materialised. bitseg / raw pyroaring: median "
              f"{statistics.median(1 / v for v in s['raw']['per_query'].values()):.1f}×."), "",
              ("bitseg over gRPC is a separate client process calling `Count` on a server process on loopback; "
              "DuckDB runs `SELECT count(*)` over the hand-written SQL in `benchmarks/peers.py`; raw pyroaring runs "
              "the hand-written plan there on prebuilt bitmaps and day-sorted line arrays."), ""]
    rpc = results.get("grpc", {})
    if "skipped" in rpc:
        lines += ["## gRPC", "", f"Skipped: {rpc['skipped']}", ""]
    elif rpc:
        lines += ["## gRPC (client and server in separate processes, loopback)", "",
                  f"Empty RPC (grpc.health.v1 Health/Check): p50 {ms(rpc['health']['median_ms'])} ms.", "",
                  "| profile-only query | bitseg in-process ms | Count p50 ms | health p50 ms (interleaved) | ratio |",
                  "|---|---:|---:|---:|---:|"]
        for name, r in rpc["round_trip"].items():
            lines.append(f"| {name} | {ms(timings[name]['bitseg']['median_ms'])} | {ms(r['count_p50_ms'])} | "
                         f"{ms(r['health_p50_ms'])} | {r['ratio']:.2f} |")
        cb = rpc["count_batch"]
        lines += ["", (f"CountBatch of {cb['queries']} queries (the 11 examples and 9 criteria): median "
                  f"{ms(cb['median_ms'])} ms ({ms(cb['median_ms'] / cb['queries'])} ms per query; the same counts "
                  f"in-process sum to {ms(cb['engine_sum_of_medians_ms'])} ms); answers "
                  f"{'equal' if cb['correct'] else 'DIFFERENT'}."), "",
                  "| StreamMembers | ids | median ms | ids/s |", "|---|---:|---:|---:|"]
        for name, st in rpc["stream_members"].items():
            lines.append(f"| `{name}` | {st['ids']:,} | {ms(st['median_ms'])} | {st['ids_per_second']:,.0f} |")
        lines.append("")
    ing, mem = results["ingest"], results["memory"]
    lines += ["## Ingest and memory", "",
              (f"- Python API, columnar (`add_purchase_columns`, `Coded` text columns, 1M-line batches): "
              f"**{ing['lines_per_second']:,.0f} lines/s** ({ing['line_seconds']:.1f} s); profiles "
              f"{ing['profiles_per_second']:,.0f} rows/s.")]
    imported = rpc.get("import") if isinstance(rpc, dict) else None
    if imported and "error" not in imported:
        lines.append(f"- `bitseg import` of the {imported['size']} CSV ({imported['lines']:,} lines, "
                     f"{imported['csv_bytes'] / 2**20:,.0f} MiB) through the server: **{imported['lines_per_second']:,} "
                     f"lines/s** (profiles {imported['profiles_rows_per_second']:,} rows/s; {imported['wall_seconds']:.1f} s "
                     f"wall" + (f"; counts equal to bitseg's: {imported['same_counts_as_bitseg']}"
                                if "same_counts_as_bitseg" in imported else "") + ").")
    elif imported:
        lines.append(f"- `bitseg import`: failed: {imported['error']}")
    imported_counts = imported.get("count") if imported else None
    snap = results.get("snapshot", {})
    if "snapshot_seconds" in snap:
        lines.append(f"- Durable ingest through the Store (log fsynced per batch): "
                     f"{snap['durable_lines_per_second']:,.0f} lines/s. Snapshot write **{snap['snapshot_seconds']:.2f} s** "
                     f"({snap['snapshot_bytes'] / 2**20:,.0f} MiB); restart **{snap['restart_seconds']:.2f} s**; counts "
                     f"after restart equal: {snap['same_counts_after_restart']}.")
    elif snap:
        lines.append(f"- Snapshot: {snap.get('skipped') or snap.get('error')}")
    lines += [f"- Memory ({mem['method']}): RSS delta **{mem['rss_bytes_per_customer']:,.0f} B per customer** or "
              f"**{mem['rss_bytes_per_line']:,.1f} B per line** (all of it charged to one or the other); structural "
              f"total {mem['structural_bytes'] / 2**20:,.0f} MiB = {mem['structural_bytes'] / d['lines']:,.1f} B per "
              f"line. The RSS delta does not count the id strings the index shares with its input; the structural "
              f"size does." + (f" Server process RSS: {rpc['server_rss_bytes'] / 2**20:,.0f} MiB."
                               if rpc.get("server_rss_bytes") else ""), "",
              "| part | MiB | B per line | B per customer |", "|---|---:|---:|---:|"]
    for part, size in mem["structural_parts"].items():
        lines.append(f"| {part} | {size / 2**20:,.1f} | {size / d['lines']:,.1f} | {size / d['customers']:,.0f} |")
    if imported_counts:
        lines += ["", "## Count on the imported index (the one users have)", "",
                  "The same server, the index filled by `bitseg import` (CSV chunks) instead of 1M-line API batches. "
                  "The first Count of each query after the import may build a month roll-up (once per set of "
                  "dimensions).", "",
                  "| query | first Count after the import ms | Count median ms (imported) | Count median ms (API-loaded) |",
                  "|---|---:|---:|---:|"]
        for q in QUERIES:
            api = timings[q.name].get("bitseg_grpc", {}).get("median_ms")
            lines.append(f"| {q.name} | {ms(imported['first_count_ms'][q.name])} | "
                         f"{ms(imported_counts[q.name]['median_ms'])} | {ms(api)} |")
    lines += ["", "## SPEC §8 goals", "",
              "" if results["size"] == "M" else
              f"The goals are set for size M; at size {results['size']} they are indicative only.", "",
              "| goal | measured | met | margin | note |", "|---|---:|:---:|---|---|"]
    for g in results["goals"]:
        measured = "–" if g["measured"] is None else (
            f"{g['measured']:,.0f} {g['unit']}" if g["measured"] >= 1000 else f"{g['measured']:.3g} {g['unit']}")
        met = "–" if g["met"] is None else ("met" if g["met"] else "**MISSED**")
        lines.append(f"| {g['goal']} | {measured} | {met} | {g['margin']} | {g['note']} |")
    if results.get("hot_spots"):
        lines += ["", "## Where the engine's time goes (cProfile, per call)", ""]
        for name, spot in results["hot_spots"].items():
            lines += [f"### {name}: median {ms(spot['median_ms'])} ms", "",
                      "| function | calls | own ms | cumulative ms |", "|---|---:|---:|---:|"]
            for f in spot["functions"]:
                lines.append(f"| `{f['function']}` | {f['calls']:g} | {ms(f['own_ms'])} | {ms(f['cumulative_ms'])} |")
            lines.append("")
    if results.get("ingest_profile"):
        ip = results["ingest_profile"]
        lines += [f"### Ingest: {ip['lines']:,} lines ({ip['profiled_seconds']:.2f} s under the profiler)", "",
                  "| function | calls | own ms per 1M lines | cumulative ms per 1M lines |", "|---|---:|---:|---:|"]
        for f in ip["functions"]:
            lines.append(f"| `{f['function']}` | {f['calls']:g} | {ms(f['own_ms_per_million_lines'])} | "
                         f"{ms(f['cumulative_ms_per_million_lines'])} |")
        lines.append("")
    for kind, sb in results.get("small_batches", {}).items():
        title = ("`Coded` columns (the Python API)" if kind == "coded"
                 else "CSV chunks parsed as the server parses them (`read_batch`), then added")
        lines += [f"### Small batches into the full index: {sb['batches']} × {sb['lines_per_batch']:,} lines, {title}",
                  "", f"Timed without the profiler: **{sb['lines_per_second']:,.0f} lines/s**.", "",
                  "| function | calls | own ms per 1M lines | cumulative ms per 1M lines |", "|---|---:|---:|---:|"]
        for f in sb["functions"]:
            lines.append(f"| `{f['function']}` | {f['calls']:g} | {ms(f['own_ms_per_million_lines'])} | "
                         f"{ms(f['cumulative_ms_per_million_lines'])} |")
        lines.append("")
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


def freeze_source() -> None:
    """Re-run this command on a copy of src/bitseg taken now (the server and import subprocesses inherit it).

    A run at M takes a quarter of an hour; edits to the engine meanwhile must not give the in-process and
    the gRPC figures two different engines, nor load half of a package from each.
    """
    if os.environ.get("BITSEG_BENCH_FROZEN"):
        return
    folder = Path(tempfile.mkdtemp(prefix="bitseg-frozen-"))
    shutil.copytree(ROOT / "src" / "bitseg", folder / "bitseg", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "BITSEG_BENCH_FROZEN": str(folder),
           "PYTHONPATH": os.pathsep.join(p for p in (str(folder), str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks.report", *sys.argv[1:]], env)


def source_digest() -> str:
    """sha256 (12 hex digits) of the bitseg sources this process runs."""
    import hashlib

    import bitseg

    package = Path(bitseg.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__.split("\n")[0])
    parser.add_argument("--size", required=True, choices=list(SIZES))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--budget", type=float, default=2.0, help="seconds of timing per query and peer")
    parser.add_argument("--rpc-calls", type=int, default=2000, help="Count/health pairs per round-trip figure")
    parser.add_argument("--import-size", default="same", help="size of the CSV for bitseg import (none: skip)")
    parser.add_argument("--no-grpc", action="store_true")
    parser.add_argument("--no-snapshot", action="store_true")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args(argv)
    import_size = None if args.import_size.lower() == "none" else (
        args.size if args.import_size == "same" else args.import_size.upper())

    results: dict = {"size": args.size, "machine": machine()}
    bench = Bench.make(args.size, log=log)
    ds = bench.ds
    results["dataset"] = {"customers": ds.customers, "lines": ds.lines, "end": ds.end.isoformat(), "seed": ds.seed,
                          "generate_and_encode_seconds": ds.seconds["build"]}
    results.update(bench.figures)
    peers = bench.peers()
    results["correctness"] = correctness(bench, peers)
    results["queries"] = query_timings(bench, peers, args.budget)
    if not args.no_profile:
        results["hot_spots"] = hot_spots(bench, results["queries"])
        results["ingest_profile"] = ingest_profile(bench)
    if not args.no_grpc:
        results["grpc"] = grpc_figures(bench, args.size, args.budget, args.rpc_calls, import_size)
        for name, timing in results["grpc"].get("count", {}).items():
            results["queries"][name]["bitseg_grpc"] = timing
    results["speedup"] = speedups(results["queries"])
    if not args.no_snapshot:
        bench.duck.close()
        bench.duck = bench.raw = None
        gc.collect()
        log("durable ingest, snapshot and restart")
        results["snapshot"] = snapshot_figures(bench)
    if not args.no_profile:
        results["small_batches"] = small_batches(bench)
    results["goals"] = goals(results)
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["machine"]["wall_seconds"] = round(time.perf_counter() - _started, 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.size}.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (out / f"{args.size}.md").write_text(markdown(results))
    log(f"wrote {out / args.size}.md and .json")
    wrong = [k for k, v in results["correctness"].items() if not v["correct"]]
    wrong += [k for k, v in results.get("grpc", {}).get("checks", {}).items() if not v["correct"]]
    if wrong:
        log(f"WRONG ANSWERS: {wrong}")
        return 1
    return 0


if __name__ == "__main__":
    freeze_source()
    try:
        sys.exit(main())
    finally:
        frozen = os.environ.get("BITSEG_BENCH_FROZEN")
        if frozen and Path(frozen).name.startswith("bitseg-frozen-"):
            shutil.rmtree(frozen, ignore_errors=True)
