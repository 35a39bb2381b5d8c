"""Measure durability costs on a generated retailer (not a test; run by hand):

    python tests/persistence/measure.py [--customers 1000000] [--lines 20000000] [--dir DIR]

Prints: the cost of logging + fsync per acknowledged import batch (large and small batches), snapshot write
time and size, and restart time (Store.open to the first answered count).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=20_000_000)
    parser.add_argument("--batch", type=int, default=1_000_000)
    parser.add_argument("--dir", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the data folder (for --reopen)")
    parser.add_argument("--reopen", action="store_true", help="only measure a restart of an existing --dir")
    options = parser.parse_args()

    from bitseg.generate import FASHION_SCHEMA, generate_profiles, generate_purchases
    from bitseg.persistence import Store
    from bitseg.persistence import wal as wal_module

    data_dir = Path(options.dir or tempfile.mkdtemp(prefix="bitseg-measure-"))
    if options.reopen:
        restart(data_dir, None)
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    spent = {"append": 0.0, "sync": 0.0, "records": 0, "bytes": 0}
    append, sync = wal_module.WriteAheadLog.append, wal_module._sync

    def timed_append(self, op, args):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        seq = append(self, op, args)
        spent["append"] += time.perf_counter() - started
        spent["records"] += 1
        return seq

    def timed_sync(fd):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        sync(fd)
        spent["sync"] += time.perf_counter() - started

    wal_module.WriteAheadLog.append = timed_append  # type: ignore[method-assign]
    wal_module._sync = timed_sync

    store = Store(data_dir).open()
    index = store.create_index("m", FASHION_SCHEMA)
    started = time.perf_counter()
    index.upsert_profile_columns(generate_profiles(options.customers, seed=1, end="2026-03-14"))
    print(f"profiles: {time.perf_counter() - started:.1f} s")
    batches = generate_purchases(options.customers, options.lines, seed=1, end="2026-03-14",
                                 batch_lines=options.batch)
    ingest = 0.0
    spent.update(append=0.0, sync=0.0, records=0)
    for batch in batches:
        started = time.perf_counter()
        index.add_purchase_columns(batch)
        ingest += time.perf_counter() - started
    records = spent["records"]
    print(f"purchases: {options.lines:,} lines in {records} batches of {options.batch:,}: {ingest:.1f} s; "
          f"logging {spent['append']:.1f} s ({100 * spent['append'] / ingest:.0f}%), "
          f"per batch {1000 * spent['append'] / records:.0f} ms of which fsync {1000 * spent['sync'] / records:.1f} ms")
    log_bytes = sum(p.stat().st_size for _, p in store.wal.segments())
    print(f"log size: {log_bytes / 1e6:.0f} MB ({log_bytes / options.lines:.0f} bytes per line)")

    small = list(generate_purchases(options.customers, 200_000, seed=2, end="2026-03-14", batch_lines=10_000))
    spent.update(append=0.0, sync=0.0, records=0)
    started = time.perf_counter()
    for batch in small:
        index.add_purchase_columns(batch)
    took = time.perf_counter() - started
    print(f"small batches: {len(small)} × 10,000 lines: {1000 * took / len(small):.1f} ms per call, logging "
          f"{1000 * spent['append'] / len(small):.1f} ms of it, fsync {1000 * spent['sync'] / len(small):.1f} ms")
    expected = index.count(COUNT_QUERY, as_of="2026-03-14")

    for round_ in (1, 2):
        started = time.perf_counter()
        info = store.snapshot()
        print(f"snapshot {round_}: {time.perf_counter() - started:.1f} s, {info.bytes / 1e6:.0f} MB "
              f"({info.bytes / (options.lines + 200_000):.1f} bytes per line)")
    store.close(snapshot=False)
    del store, index

    restart(data_dir, expected)
    if not options.keep:
        shutil.rmtree(data_dir, ignore_errors=True)


COUNT_QUERY = "purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)"


def restart(data_dir: Path, expected: int | None) -> None:
    from bitseg.persistence import Store

    started = time.perf_counter()
    store = Store(data_dir).open()
    opened = time.perf_counter() - started
    index = store.get("m")
    count = index.count(COUNT_QUERY, as_of="2026-03-14")
    serving = time.perf_counter() - started
    assert expected is None or count == expected, (count, expected)
    simple = time.perf_counter()
    index.count("country = 'NL' AND loyalty_member = true")
    simple = time.perf_counter() - simple
    wait = getattr(index.lines.orders, "wait", lambda: None)
    wait()
    ready = time.perf_counter() - started
    print(f"restart: open {opened:.1f} s, first count (a measure query) answered after {serving:.1f} s "
          f"(count {count:,}), a profile count then took {1000 * simple:.0f} ms; order ids rebuilt in the "
          f"background by {ready:.1f} s")
    store.close(snapshot=False)


if __name__ == "__main__":
    main()
