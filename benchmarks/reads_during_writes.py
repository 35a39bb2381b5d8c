"""Count latency of a profile-only query while an import runs and while a snapshot is written, against idle.

    python -m benchmarks.reads_during_writes --size S [--message-lines 50000] [--out results/reads_during_writes_S.json]

The index lives in a Store (every batch logged and fsynced, as a server's is). Half the purchase lines are
loaded first; then a reader thread counts `country = 'NL' AND loyalty_member = true` back to back for three
phases: idle, while the other half is added in import-sized messages, and while a snapshot is written. Reader
and writer share one process (and the GIL), so the figures include GIL waits as well as lock waits; the
before/after comparison runs the same script on both versions of the code (PYTHONPATH pointing at each).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

QUERY = "country = 'NL' AND loyalty_member = true"


def _messages(batches: list[dict], lines: int) -> list[dict]:
    from benchmarks.data import slice_batch

    out = []
    for batch in batches:
        size = len(batch["customer"])
        out += [slice_batch(batch, start, min(size, start + lines)) for start in range(0, size, lines)]
    return out


def _stats(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {"count": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3), "max_ms": round(float(ms.max()), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reads_during_writes")
    parser.add_argument("--size", default="S")
    parser.add_argument("--message-lines", type=int, default=50_000)
    parser.add_argument("--idle-seconds", type=float, default=3.0)
    parser.add_argument("--out")
    args = parser.parse_args(argv)

    from benchmarks.data import build
    from bitseg.generate import FASHION_SCHEMA
    from bitseg.persistence import Store

    ds = build(args.size)
    half = len(ds.batches) // 2
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder)).open()
        index = store.create_index("bench", FASHION_SCHEMA)
        index.upsert_profile_columns(ds.profiles)
        for message in _messages(ds.batches[:half], args.message_lines):
            index.add_purchase_columns(message)
        later = _messages(ds.batches[half:], args.message_lines)
        phase = ["idle"]
        latencies: dict[str, list[float]] = {"idle": [], "import": [], "snapshot": []}
        stop = threading.Event()

        def reader() -> None:
            while not stop.is_set():
                started = time.perf_counter()
                index.count(QUERY)
                latencies[phase[0]].append(time.perf_counter() - started)
                time.sleep(0.001)  # a client's think time: the reader does not hog the GIL either

        thread = threading.Thread(target=reader)
        thread.start()
        time.sleep(args.idle_seconds)
        phase[0] = "import"
        started = time.perf_counter()
        for message in later:
            index.add_purchase_columns(message)
        import_seconds = time.perf_counter() - started
        phase[0] = "snapshot"
        started = time.perf_counter()
        info = store.snapshot()
        snapshot_seconds = time.perf_counter() - started
        phase[0] = "idle"
        stop.set()
        thread.join()
        store.close(snapshot=False)
    result = {"size": args.size, "query": QUERY, "lines": ds.lines, "messages": len(later),
              "import_seconds": round(import_seconds, 2),
              "import_lines_per_second": round(sum(len(m["customer"]) for m in later) / import_seconds),
              "snapshot_seconds": round(snapshot_seconds, 2), "snapshot_bytes": info.bytes,
              **{name: _stats(values) for name, values in latencies.items() if values}}
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
