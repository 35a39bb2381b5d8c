"""A `Bench`: one dataset loaded into every peer, with the time and memory each load took; and a small timer."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.data import Dataset, build, index_bytes, load_bitseg, load_duckdb, settled_rss
from benchmarks.peers import PEERS, QUERIES, Peer, Query, compare
from benchmarks.raw import RawIndex
from bitseg import Index


@dataclass
class Bench:
    ds: Dataset
    index: Index
    duck: Any                   # a duckdb connection, None once closed
    raw: RawIndex | None
    figures: dict = field(default_factory=dict)

    @property
    def as_of(self) -> dt.date:
        return self.ds.end

    @classmethod
    def make(cls, size: str, peers: bool = True, log: Callable[[str], None] = lambda m: None) -> Bench:
        log(f"generating size {size}")
        ds = build(size)
        log(f"generated {ds.customers:,} customers, {ds.lines:,} lines in {ds.seconds['build']:.1f} s")
        before = settled_rss()
        index, ingest = load_bitseg(ds)
        after = settled_rss()
        log(f"bitseg loaded: {ingest['lines_per_second']:,.0f} lines/s")
        parts = index_bytes(index)
        structural = sum(parts.values())
        memory = {"method": "RSS delta around the bitseg load (after gc), and the structural size by part "
                            "(numpy nbytes, roaring container bytes, sys.getsizeof of ids and dictionaries)",
                  "rss_delta_bytes": after - before, "structural_bytes": structural,
                  "rss_bytes_per_customer": (after - before) / ds.customers,
                  "rss_bytes_per_line": (after - before) / max(ds.lines, 1),
                  "structural_parts": parts}
        duck = raw = None
        duck_seconds = None
        if peers:
            duck, duck_seconds = load_duckdb(ds)
            log(f"duckdb loaded in {duck_seconds['load']:.1f} s")
            raw = RawIndex(ds)
            log(f"raw peer built in {raw.seconds:.1f} s")
        bench = cls(ds, index, duck, raw)
        bench.figures.update(ingest=ingest, memory=memory,
                             loads={"duckdb": duck_seconds,
                                    "raw": raw.seconds if raw else None})
        return bench

    def peers(self, names: tuple[str, ...] | None = None) -> dict[str, Peer]:
        return {name: make(self) for name, make in PEERS.items() if names is None or name in names}

    def check(self, peers: dict[str, Peer], queries: tuple[Query, ...] = QUERIES,
              days: tuple[dt.date, ...] | None = None) -> dict[tuple[str, str, str], dict]:
        """Every peer's member set against bitseg's, per query and day: {(query, peer, day): compare info}."""
        engine = peers["bitseg"]
        results = {}
        for day in days or (self.as_of,):
            for q in queries:
                expected = engine.members(q, day)
                for name, peer in peers.items():
                    if name == "bitseg":
                        continue
                    results[(q.name, name, day.isoformat())] = compare(expected, peer.members(q, day))
        return results


@dataclass(frozen=True)
class Timing:
    median: float               # seconds
    p90: float
    minimum: float
    rounds: int

    def as_dict(self) -> dict:
        return {"median_ms": self.median * 1e3, "p90_ms": self.p90 * 1e3, "min_ms": self.minimum * 1e3,
                "rounds": self.rounds}


def measure(call: Callable[[], object], budget: float = 2.0, min_rounds: int = 5, max_rounds: int = 1000,
            warmup: int = 1) -> Timing:
    """Time `call` repeatedly: at least `min_rounds`, then until `budget` seconds or `max_rounds`."""
    for _ in range(warmup):
        call()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < min_rounds or (len(times) < max_rounds and time.perf_counter() - started < budget):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    times_array = np.array(times)
    return Timing(statistics.median(times), float(np.percentile(times_array, 90)), min(times), len(times))
