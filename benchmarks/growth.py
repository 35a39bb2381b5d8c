"""How the figures grow from size to size: one table from the reports in results/ (python -m benchmarks.growth).

Reads results/<size>.json for the sizes present and writes results/growth.md. Each size's run names its bitseg
commit: compare sizes only when the commits (and source digests) match.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.peers import QUERIES

SIZES = ("XS", "S", "M", "L")
RESULTS = Path(__file__).resolve().parent / "results"


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def rows(reports: dict[str, dict]) -> list[tuple[str, list[str]]]:
    def get(report: dict, *path: str):
        value = report
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return value

    out: list[tuple[str, list[str]]] = []

    def row(label: str, pick) -> None:
        out.append((label, [_fmt(pick(r)) for r in reports.values()]))

    row("customers", lambda r: r["dataset"]["customers"])
    row("lines", lambda r: r["dataset"]["lines"])
    for q in QUERIES:
        row(f"bitseg ms: {q.name}", lambda r, q=q: get(r, "queries", q.name, "bitseg", "median_ms"))
    for q in QUERIES:
        row(f"DuckDB (view) ms: {q.name}", lambda r, q=q: get(r, "queries", q.name, "duckdb", "median_ms"))
    row("median × vs DuckDB (view)", lambda r: get(r, "speedup", "duckdb", "median"))
    row("median × vs DuckDB (mat.)", lambda r: get(r, "speedup", "duckdb_mat", "median"))
    row("median bitseg / raw", lambda r: None if get(r, "speedup", "raw") is None else
        1 / get(r, "speedup", "raw", "median"))
    row("health check p50 ms", lambda r: get(r, "grpc", "health", "median_ms"))
    row("worst profile-only Count / health p50",
        lambda r: max((x["ratio"] for x in (get(r, "grpc", "round_trip") or {}).values()), default=None))
    row("CountBatch of 20, ms", lambda r: get(r, "grpc", "count_batch", "median_ms"))
    row("StreamMembers ALL, ids/s", lambda r: next(
        (s["ids_per_second"] for k, s in (get(r, "grpc", "stream_members") or {}).items() if "default" in k), None))
    row("ingest, Python API, lines/s", lambda r: get(r, "ingest", "lines_per_second"))
    row("ingest, bitseg import, lines/s", lambda r: get(r, "grpc", "import", "lines_per_second"))
    row("small Coded batches into the full index, lines/s", lambda r: get(r, "small_batches", "coded",
                                                                          "lines_per_second"))
    row("snapshot write s", lambda r: get(r, "snapshot", "snapshot_seconds"))
    row("restart s", lambda r: get(r, "snapshot", "restart_seconds"))
    row("memory B per line (RSS delta)", lambda r: get(r, "memory", "rss_bytes_per_line"))
    row("memory B per customer (RSS delta)", lambda r: get(r, "memory", "rss_bytes_per_customer"))
    row("memory B per line (structural)", lambda r: get(r, "memory", "structural_bytes") / r["dataset"]["lines"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.growth", description=__doc__.split("\n")[0])
    parser.add_argument("--results", default=str(RESULTS))
    args = parser.parse_args(argv)
    folder = Path(args.results)
    reports = {size: json.loads((folder / f"{size}.json").read_text())
               for size in SIZES if (folder / f"{size}.json").exists()}
    if not reports:
        print(f"no reports in {folder}", file=sys.stderr)
        return 1
    lines = ["# bitseg benchmarks: growth with size", "",
             "Runs: " + "; ".join(f"{size} at {r['machine']['bitseg_commit']} ({r['machine'].get('bitseg_source_sha256')}"
                                  f"), {r['machine']['date']}" for size, r in reports.items()) + ".", "",
             "| figure | " + " | ".join(reports) + " |", "|---|" + "---:|" * len(reports)]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows(reports)]
    (folder / "growth.md").write_text("\n".join(lines) + "\n")
    print(folder / "growth.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
