"""The scale-out benchmark runs, and every shard count gives the same answers (in-process shards, size XS)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import shards  # noqa: E402


def test_the_benchmark_runs_and_the_shard_counts_agree(capsys) -> None:  # type: ignore[no-untyped-def]
    assert shards.main(["--size", "XS", "--shards", "0,3", "--transport", "local", "--repeats", "2",
                        "--seconds", "0.2"]) == 0
    assert '"fan_out_round_p50_ms"' in capsys.readouterr().out
