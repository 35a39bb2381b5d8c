"""The history chart of `bitseg history --chart`: a PNG from the client's history rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bitseg.replies import HistoryDay


def test_history_chart(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from bitseg.cli.chart import history_chart

    start = dt.date(2026, 3, 1)
    rows = [HistoryDay(start + dt.timedelta(days=i), 1000 + 15 * i, 40 + i % 7, 25 + i % 5) for i in range(30)]
    path = history_chart(rows, tmp_path / "recent.png", title="recent buyers")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
