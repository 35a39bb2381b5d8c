"""CustomerSegments latency with 50 saved segments and one write a second: per-customer probes (now) against
evaluating every segment in full after each write (before). Usage: python scripts/membership_latency.py [N] [LINES]
"""

from __future__ import annotations

import statistics
import sys
import threading
import time

import numpy as np

from bitseg import Index
from bitseg.query.expressions import InSegment


def main(customers: int, lines: int) -> None:
    index = Index.from_toml('[profile]\ncountry = "keyword"\npoints = "int"\n[purchase]\nbrand = "keyword"\n')
    ids = np.array([f"c{i}" for i in range(customers)], dtype=object)
    rng = np.random.default_rng(1)
    index.upsert_profile_columns({"customer": ids, "country": np.array(["NL", "BE", "DE"], dtype=object)[
        rng.integers(0, 3, customers)], "points": rng.integers(0, 1000, customers)})
    days = np.datetime64("2025-01-01") + rng.integers(0, 365, lines).astype("timedelta64[D]")
    index.add_purchase_columns({"customer": ids[rng.integers(0, customers, lines)], "time": days,
                                "amount": rng.integers(100, 20000, lines) / 100,
                                "brand": np.array(["a", "b", "c", "d"], dtype=object)[rng.integers(0, 4, lines)]})
    index.save_segment("heavy", "purchases MATCHES (sum_amount > 500, count >= 3)")
    for i in range(49):
        index.save_segment(f"s{i}", f"points > {i * 20} AND country = 'NL' OR purchases MATCHES (brand = 'a', "
                                    f"date >= -{i + 1}m)")
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.wait(1.0):
            index.upsert_profiles([{"customer": f"c{n}", "points": n % 1000}])
            n += 1
    thread = threading.Thread(target=writer, daemon=True)
    thread.start()

    def before(customer: str) -> list[str]:  # what CustomerSegments did: every segment in full, per write
        column = index.translator.column(customer)
        with index.lock:
            return [n for n in sorted(index.segments) if column in index._evaluate(InSegment(n), None)]

    for label, call in (("per-customer (now)", lambda c: index.customer_segments(c)), ("full (before)", before)):
        times = []
        until = time.monotonic() + 12
        while time.monotonic() < until:
            customer = f"c{rng.integers(0, customers)}"
            started = time.perf_counter()
            call(customer)
            times.append(time.perf_counter() - started)
            time.sleep(0.05)
        times.sort()
        print(f"{label}: {len(times)} calls, median {statistics.median(times) * 1000:.1f} ms, "
              f"p99 {times[int(len(times) * 0.99) - 1] * 1000:.1f} ms")
    stop.set()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000, int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000)
