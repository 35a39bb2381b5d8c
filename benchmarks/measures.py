"""Measure queries in-process: line bitmaps against the window scan, and point-in-time as_of, at one size.

    python -m benchmarks.measures --size S     (M: 1M customers, 20M lines; loads in a few minutes)

Loads the generated retailer as benchmarks/data.py does, then for each SPEC §2 example with a measure or several
dimensions: the chosen plan's access path, the first evaluation (it builds the line bitmaps it needs) and the
median of later ones, the median of the same node by line bitmaps (the path before month roll-ups) and as a scan
of the window (the path before line bitmaps), answers checked equal. Then `orders = 0 AND input_date >= -30d` and friends on past days (built-ins from the
lines up to D) against the last day (the kept built-ins). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import statistics
import time

from benchmarks.data import END, build, load_bitseg
from bitseg.index import plan as p
from bitseg.index import rollups
from bitseg.index.executor import execute
from bitseg.index.planner import plan

EXAMPLES = (
    "purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)",
    "purchases MATCHES (department = 'Womenswear', season = 'AW24', sum_quantity >= 2)",
    "purchases MATCHES (department = 'Shoes', color = 'black', date >= -12m, sum_quantity >= 3)",
    "purchases MATCHES (date >= -365d, sum_amount >= 500)",
    "purchases MATCHES (source IN ('cpc', 'paid_social')) AND purchases NOT MATCHES (source NOT IN ('cpc', "
    "'paid_social'))",
)
AS_OF_QUERIES = ("input_date >= -30d AND orders = 0", "orders > 10 AND clv >= 1000 AND last_purchase_date < -180d",
                 "orders = 1 AND purchases MATCHES (date BETWEEN -90d AND -60d)")


def timed(call, rounds: int = 7) -> tuple[float, object]:
    """(median milliseconds, last result) over `rounds` calls."""
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def as_path(node: p.PlanNode, lines, bitmaps: bool) -> p.PlanNode:
    """The same node answered by line bitmaps (`bitmaps`, the path before month roll-ups, where it applies) or
    by a scan of its window (the path before line bitmaps)."""
    if isinstance(node, p.MonthRollup):
        slices = tuple(lines.window(node.low_day, node.high_day))
        if bitmaps and node.filters:
            return p.LineBitmaps(node.low_day, node.high_day, slices, node.filters, node.measures, 0,
                                 source=node.source)
        return p.LineScan(node.low_day, node.high_day, slices, node.filters, node.measures, source=node.source)
    if isinstance(node, p.LineBitmaps) and not bitmaps:
        return p.LineScan(node.low_day, node.high_day, node.slices, node.filters, node.measures, source=node.source)
    fields = {f.name: getattr(node, f.name) for f in dataclasses.fields(node)}
    for name, value in fields.items():
        if isinstance(value, p.PlanNode):
            fields[name] = as_path(value, lines, bitmaps)
        elif isinstance(value, tuple) and value and all(isinstance(v, p.PlanNode) for v in value):
            fields[name] = tuple(as_path(v, lines, bitmaps) for v in value)
    return type(node)(**fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="S")
    size = parser.parse_args().size.upper()
    started = time.perf_counter()
    index, _ = load_bitseg(build(size))
    print(f"size {size}: {index.customer_count:,} customers, {index.line_count:,} lines, loaded in "
          f"{time.perf_counter() - started:.0f} s, {len(index.lines.runs)} runs\n")
    print("| query | plan | first ms | median ms | line bitmaps median ms | scan median ms |\n|---|---|---|---|---|---|")
    for text in EXAMPLES:
        tree, _ = index.compiler.normalized(text)
        started = time.perf_counter()
        chosen = plan(tree, index, END, text)
        first = execute(chosen, index) & index.existence
        first_ms = (time.perf_counter() - started) * 1000
        median, found = timed(lambda: execute(plan(tree, index, END, text), index) & index.existence, rounds=15)
        by_bitmaps = p.Plan(as_path(chosen.root, index.lines, True), END)
        bitmaps_ms, by_bitmap = timed(lambda: execute(by_bitmaps, index) & index.existence)  # noqa: B023
        scanned = p.Plan(as_path(chosen.root, index.lines, False), END)
        scan_ms, by_scan = timed(lambda: execute(scanned, index) & index.existence, rounds=3)  # noqa: B023
        assert found == by_scan == by_bitmap == first, text
        access = " / ".join(node.access() for _, node in chosen.walk()
                            if isinstance(node, p.LineBitmaps | p.LineScan | p.ViewWindow | p.MonthRollup))
        print(f"| `{text[:60]}` | {access} | {first_ms:.1f} | {median:.1f} | {bitmaps_ms:.1f} | {scan_ms:.1f} |")
    for dims, rollup in rollups.rollups_of(index.lines).built.items():
        entries = sum(len(run["column"]) for run in rollup.runs)
        print(f"\nmonth roll-up of {', '.join(dims) or 'any line'}: {entries:,} entries for {index.line_count:,} "
              f"lines, {rollup.nbytes() / 2**20:.0f} MiB")
    print("\n| query | as_of | plan | median ms | count |\n|---|---|---|---|---|")
    for text in AS_OF_QUERIES:
        for back in (0, 30, 365):
            day = END - dt.timedelta(back)
            tree, _ = index.compiler.normalized(text)
            kinds = sorted({type(n).__name__ for _, n in plan(tree, index, day, text).walk()})
            median, count = timed(lambda: index.count(text, as_of=day), rounds=3)  # noqa: B023
            print(f"| `{text[:50]}` | {day} | {', '.join(kinds)} | {median:.1f} | {count:,} |")


if __name__ == "__main__":
    main()
