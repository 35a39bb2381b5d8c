"""Writing a dataset folder: schema.toml, profiles.csv and purchases.csv (optionally gzipped)."""

from __future__ import annotations

import datetime as dt
import gzip
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from bitseg.generate.config import BLOCK_LINES, FASHION_SCHEMA, PROFILE_COLUMNS, PURCHASE_COLUMNS
from bitseg.generate.profiles import profile_codes, profile_csv
from bitseg.generate.purchases import purchase_blocks, purchase_csv
from bitseg.generate.world import World


def write_dataset(out_dir: str | Path, customers: int, lines: int, seed: int = 42,
                  end: dt.date | str | None = None, days: int = 730,
                  progress: Callable[[str, int, int], None] | None = None,
                  compress: bool = False) -> dict[str, object]:
    """Write ``schema.toml``, ``profiles.csv`` and ``purchases.csv`` (or ``.csv.gz``) into a folder.

    The CSVs follow `bitseg import`: a header row, empty cell = NULL, tags ``|``-joined, bools true/false,
    dates ``YYYY-MM-DD``, purchase times ``YYYY-MM-DD HH:MM:SS`` in the index time zone, decimals with a
    point. They hold exactly what generate_profiles and generate_purchases return for the same arguments.

    Args:
        out_dir: the folder; created when missing, files in it overwritten.
        customers: how many customers.
        lines: how many purchase lines, returns included.
        seed: the random seed.
        end: the last day of the window (default: today in Europe/Amsterdam).
        days: the window length in days.
        progress: called as ``progress(file, done, total)`` with file ``"profiles"`` or ``"purchases"``.
        compress: gzip the two CSVs (names end in ``.csv.gz``).

    Returns:
        A summary: customers, lines, purchase_lines, return_lines, orders, start, end, files, seconds and
        lines_per_second.
    """
    started = time.perf_counter()
    world = World.make(customers, seed, end, days, lines)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".csv.gz" if compress else ".csv"
    paths = {"schema": folder / "schema.toml", "profiles": folder / f"profiles{suffix}",
             "purchases": folder / f"purchases{suffix}"}
    paths["schema"].write_text(FASHION_SCHEMA, encoding="utf-8")
    report = progress or _no_progress
    totals = {"lines": 0, "purchase_lines": 0, "return_lines": 0, "orders": 0}

    def profile_chunks() -> Iterator[bytes]:
        codes = profile_codes(world)
        for low in range(0, world.customers, BLOCK_LINES):
            yield profile_csv(world, codes, slice(low, low + BLOCK_LINES))
            report("profiles", min(low + BLOCK_LINES, world.customers), world.customers)

    def purchase_chunks() -> Iterator[bytes]:
        for block in purchase_blocks(world):
            yield purchase_csv(world, block)
            returns = int(block.returned.sum())
            totals["lines"] += len(block)
            totals["return_lines"] += returns
            totals["purchase_lines"] += len(block) - returns
            totals["orders"] = int(block.order.max(initial=totals["orders"]))    # numbered 1, 2, … in order
            report("purchases", totals["lines"], world.lines)

    _write_csv(paths["profiles"], PROFILE_COLUMNS, profile_chunks())
    _write_csv(paths["purchases"], PURCHASE_COLUMNS, purchase_chunks())
    seconds = time.perf_counter() - started
    return {
        "customers": world.customers, **totals,
        "start": world.start.isoformat(), "end": world.end.isoformat(), "seed": seed,
        "files": {name: str(path) for name, path in paths.items()},
        "seconds": round(seconds, 3), "lines_per_second": round(totals["lines"] / seconds),
    }


def _no_progress(what: str, done: int, total: int) -> None:
    pass


def _write_csv(path: Path, header: Sequence[str], chunks: Iterator[bytes]) -> None:
    """Write a header row and then the chunks of rows, gzipped when the name ends in ``.gz``."""
    with _open(path) as out, ThreadPoolExecutor(1) as writer:
        out.write(",".join(header).encode() + b"\n")
        # Each chunk is written (and compressed) in a thread while the next is made: both release the GIL.
        pending: Future[int] | None = None
        for chunk in chunks:
            if pending:
                pending.result()
            pending = writer.submit(out.write, chunk)
        if pending:
            pending.result()


def _open(path: Path) -> BinaryIO | gzip.GzipFile:
    if path.suffix == ".gz":
        # Level 1: several times faster than the default, a little larger. mtime 0: reproducible bytes.
        return gzip.GzipFile(filename=path, mode="wb", compresslevel=1, mtime=0)
    return open(path, "wb", buffering=1 << 20)
