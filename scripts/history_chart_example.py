"""Draws docs/history-chart.png: a hot segment of the generated XS retailer, saved with --backfill 60.

Usage: python scripts/history_chart_example.py [OUT.png]   (needs bitseg[chart]; about 10 s)
The same as `bitseg generate --size XS --end 2026-11-30`, an import, `bitseg segments save --kind hot
--backfill 60 recent "purchases MATCHES (date >= -30d)"` and `bitseg history --chart` on 2026-11-30.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
import tempfile
from pathlib import Path

from bitseg import Index
from bitseg.cli.chart import history_chart
from bitseg.generate.dataset import write_dataset

TODAY = dt.date(2026, 11, 30)


def main(out: str = "docs/history-chart.png") -> None:
    with tempfile.TemporaryDirectory() as folder:
        write_dataset(folder, 2_000, 40_000, seed=42, end=TODAY)
        index = Index.from_toml((Path(folder) / "schema.toml").read_text())
        with open(Path(folder) / "profiles.csv", newline="") as f:
            index.upsert_profiles([{k: v for k, v in row.items() if v != ""} for row in csv.DictReader(f)])
        with open(Path(folder) / "purchases.csv", newline="") as f:
            index.add_purchases([{k: v for k, v in row.items() if v != ""} for row in csv.DictReader(f)])
    index.clock = lambda: dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)
    index.save_segment("recent", "purchases MATCHES (date >= -30d)", kind="hot", backfill_days=60)
    print(history_chart(index.history("recent"), out, title="shop / recent (buyers of the last 30 days)"))


if __name__ == "__main__":
    main(*sys.argv[1:])
