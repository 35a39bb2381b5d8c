"""Ingest figures (issue 9): one size loaded three ways, with lines/s, the second half against the first, memory.

- `bitseg import` of the generated CSV into a real server process (`bitseg serve`, its log and fsyncs included):
  the purchases file is cut in two halves imported one after the other, so each half has its own rate;
- the Python API (`Index.add_purchase_columns`) in 1M-line batches;
- the API in many small batches (1,000 lines, like many small AddPurchases calls).

    python -m benchmarks.ingest --size S         # → results/ingest-S.md and results/ingest-S.json
    python -m benchmarks.ingest --size S --skip-import --small-lines 1000

Memory: the structural bytes of the API-loaded index by part (benchmarks.data.index_bytes), per line and per
customer, and the server's RSS after the import.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.data import END, SEED, build, index_bytes, slice_batch
from bitseg import Index
from bitseg.generate import FASHION_SCHEMA, SIZES

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def halves(marks: list[tuple[int, float]], total: int) -> dict:
    """lines/s over the whole load and over each half (by lines), from (lines done, seconds) marks."""
    lines = np.array([0] + [m[0] for m in marks])
    seconds = np.array([0.0] + [m[1] for m in marks])
    middle = int(np.searchsorted(lines, total / 2))
    first = lines[middle] / max(seconds[middle], 1e-9)
    second = (lines[-1] - lines[middle]) / max(seconds[-1] - seconds[middle], 1e-9)
    return {"lines": int(lines[-1]), "seconds": round(float(seconds[-1]), 3),
            "lines_per_second": round(lines[-1] / max(seconds[-1], 1e-9)),
            "first_half_lines_per_second": round(first), "second_half_lines_per_second": round(second),
            "second_over_first": round(second / max(first, 1e-9), 3)}


def api_load(ds, batches: list[dict]) -> tuple[Index, dict]:
    index = Index.from_toml(FASHION_SCHEMA, "ingest")
    index.upsert_profile_columns(ds.profiles)
    marks, done, started = [], 0, time.perf_counter()
    for batch in batches:
        index.add_purchase_columns(batch)
        done += len(batch["customer"])
        marks.append((done, time.perf_counter() - started))
    if index.line_count != ds.lines:
        raise AssertionError(f"loaded {index.line_count} lines of {ds.lines}")
    return index, halves(marks, ds.lines)


def small(batches: list[dict], lines: int) -> list[dict]:
    return [slice_batch(b, s, min(s + lines, len(b["customer"]))) for b in batches
            for s in range(0, len(b["customer"]), lines)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def split_csv(path: Path) -> tuple[Path, Path, int]:
    """Cut a CSV in two halves of whole records (the generator writes one record per line)."""
    with open(path, "rb") as f:
        header = f.readline()
        rows = f.readlines()
    half = len(rows) // 2
    parts = (path.with_name("purchases-1.csv"), path.with_name("purchases-2.csv"))
    for part, chunk in zip(parts, (rows[:half], rows[half:])):
        with open(part, "wb") as out:
            out.write(header)
            out.writelines(chunk)
    return parts[0], parts[1], len(rows)


def csv_import(size: str) -> dict:
    """`bitseg import` into a `bitseg serve` process of its own: profiles, then each half of the purchases."""
    customers, lines = SIZES[size]
    folder = Path(tempfile.mkdtemp(prefix="bitseg-ingest-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = None
    try:
        from bitseg.generate import write_dataset

        log(f"writing the {size} CSV")
        write_dataset(folder, customers, lines, seed=SEED, end=END)
        first, second, rows = split_csv(folder / "purchases.csv")
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "bitseg.cli", "serve", "--data-dir", str(folder / "data"),
                                   "--port", str(port), "--log-level", "warning"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=open(folder / "server.txt", "wb"))  # noqa: SIM115
        address = f"127.0.0.1:{port}"
        files: list[dict] = []
        for args in (["--schema", str(folder / "schema.toml"), "--profiles", str(folder / "profiles.csv"),
                      "--purchases", str(first)], ["--purchases", str(second)]):
            command = [sys.executable, "-m", "bitseg.cli", "import", "--server", address, "--index", "imported",
                       "--timeout", "600", "--json", "--quiet", *args]
            for _ in range(100):  # the server may still be starting
                done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=7200, check=False)
                if done.returncode != 4 or "unavailable" not in done.stderr.lower():
                    break
                time.sleep(0.2)
            if done.returncode != 0:
                return {"error": f"exit {done.returncode}: {done.stderr[-2000:]}"}
            log(f"imported {args[-1]}")
            files += json.loads(done.stdout)["files"]
        purchases = [f for f in files if f["kind"] == "purchases"]
        with open(f"/proc/{server.pid}/statm") as statm:
            rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        one, two = (p["rows"] / p["seconds"] for p in purchases)
        total_seconds = sum(p["seconds"] for p in purchases)
        return {"lines": rows, "profiles_rows_per_second": files[0]["rows_per_second"],
                "lines_per_second": round(rows / total_seconds), "seconds": round(total_seconds, 3),
                "first_half_lines_per_second": round(one), "second_half_lines_per_second": round(two),
                "second_over_first": round(two / one, 3), "server_rss_bytes": rss,
                "rejected": sum(f["rejected"] for f in files)}
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)  # the server we started, by its handle
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def markdown(out: dict) -> str:
    rows = ["| load | lines | lines/s | first half | second half | second / first |", "|---|---|---|---|---|---|"]
    for name, r in out["loads"].items():
        if "error" in r:
            rows.append(f"| {name} | error: {r['error'][:200]} | | | | |")
            continue
        rows.append(f"| {name} | {r['lines']:,} | {r['lines_per_second']:,} | {r['first_half_lines_per_second']:,} | "
                    f"{r['second_half_lines_per_second']:,} | {r['second_over_first']:.2f} |")
    memory = ["| part | bytes | per line | per customer |", "|---|---|---|---|"]
    for part, n in out["memory"]["parts"].items():
        memory.append(f"| {part} | {n:,} | {n / out['lines']:.1f} | {n / out['customers']:.1f} |")
    rss = out["loads"].get("bitseg import", {}).get("server_rss_bytes")
    return "\n".join([f"# Ingest at {out['size']} ({out['customers']:,} customers, {out['lines']:,} lines)", "",
                      f"commit {out['commit']}, `python -m benchmarks.ingest --size {out['size']}`", "", *rows, "",
                      "## Memory of the API-loaded index, by part", "", *memory, "",
                      f"Server RSS after `bitseg import`: {rss / 2**20:,.0f} MiB." if rss else "", ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="S", choices=sorted(SIZES))
    parser.add_argument("--small-lines", type=int, default=1000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-small", action="store_true")
    parser.add_argument("--out", default=None, help="file stem (default results/ingest-SIZE)")
    args = parser.parse_args(argv)
    log(f"building {args.size}")
    ds = build(args.size, batch_lines=1_000_000)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip()
    out: dict = {"size": args.size, "customers": ds.customers, "lines": ds.lines, "commit": commit, "loads": {}}
    index, out["loads"]["API, 1M-line batches"] = api_load(ds, ds.batches)
    log(f"API: {out['loads']['API, 1M-line batches']}")
    out["memory"] = {"parts": index_bytes(index)}
    del index
    if not args.skip_small:
        pieces = small(ds.batches, args.small_lines)
        _, out["loads"][f"API, {args.small_lines:,}-line batches"] = api_load(ds, pieces)
        log(f"small: {out['loads'][f'API, {args.small_lines:,}-line batches']}")
        del pieces
    if not args.skip_import:
        out["loads"]["bitseg import"] = csv_import(args.size)
        log(f"import: {out['loads']['bitseg import']}")
    stem = Path(args.out) if args.out else RESULTS / f"ingest-{args.size}"
    stem.with_suffix(".json").write_text(json.dumps(out, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(out))
    print(markdown(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
