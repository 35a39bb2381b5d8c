"""The history chart of a hot segment as a PNG: dates along the bottom, the size as a line, entered/left as bars.

Needs matplotlib, the optional extra `chart` (`pip install 'bitseg[chart]'`); everything else in bitseg works
without it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol


class HistoryPoint(Protocol):
    """One day of a history: bitseg.replies.HistoryDay from the client (or the Store's HistoryRow)."""

    @property
    def day(self) -> dt.date: ...
    @property
    def size(self) -> int: ...
    @property
    def entered(self) -> int: ...
    @property
    def left(self) -> int: ...


def history_chart(rows: Sequence[HistoryPoint], path: str | Path, title: str = "") -> Path:
    """Draw `rows` (from Client.history) into a PNG at `path`; returns the path."""
    try:
        import matplotlib
        matplotlib.use("Agg")  # no display: files only
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt
    except ImportError:
        raise ModuleNotFoundError("drawing a chart needs matplotlib: pip install 'bitseg[chart]'") from None
    days = mdates.date2num([dt.datetime.combine(r.day, dt.time()) for r in rows])
    figure, size_axis = plt.subplots(figsize=(10, 4.8), dpi=120)
    try:
        flow_axis = size_axis.twinx()
        flow_axis.bar(days, [r.entered for r in rows], width=0.8, color="#59a14f", alpha=0.55, label="entered")
        flow_axis.bar(days, [-r.left for r in rows], width=0.8, color="#e15759", alpha=0.55, label="left")
        flow_axis.axhline(0, color="#999999", linewidth=0.6)
        flow_axis.set_ylabel("entered (+) / left (−) per day")
        size_axis.plot(days, [r.size for r in rows], color="#4e79a7", linewidth=2.2, marker="o", markersize=3,
                       label="members")
        size_axis.set_ylabel("members")
        size_axis.set_ylim(bottom=0)
        size_axis.set_zorder(flow_axis.get_zorder() + 1)  # the line over the bars
        size_axis.patch.set_visible(False)
        size_axis.grid(axis="y", color="#e0e0e0")
        locator = mdates.AutoDateLocator(maxticks=10)
        size_axis.xaxis.set_major_locator(locator)
        size_axis.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        handles = size_axis.get_legend_handles_labels()[0] + flow_axis.get_legend_handles_labels()[0]
        size_axis.legend(handles, [str(h.get_label()) for h in handles], loc="upper left", frameon=False)
        size_axis.set_title(title or "segment history")
        figure.tight_layout()
        figure.savefig(Path(path), format="png")
    finally:
        plt.close(figure)
    return Path(path)
