"""The history chart of a hot segment as a PNG: dates along the bottom, the size as a line, entered/left as bars
(their zeros at one height), backfilled days as hollow points, the legend under the plot; no rows, no chart.

Needs matplotlib, the optional extra `chart` (`pip install 'bitseg[chart]'`); everything else in bitseg works
without it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol


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


class EmptyHistory(ValueError):
    """A history without rows: there is nothing to draw (a chart of nothing would show a 1970 axis)."""


def zero_aligned_limits(sizes: Sequence[int], entered: Sequence[int],
                        left: Sequence[int]) -> tuple[tuple[float, float], tuple[float, float]]:
    """The y ranges of the members axis and of the entered/left axis with their zeros at the same height.

    The bars go below zero (left) and above it (entered), so zero sits at the share of the height that the largest
    `left` takes; the members axis is stretched below zero by the same share (its negative ticks are not labelled).

    >>> (size_low, size_high), (flow_low, flow_high) = zero_aligned_limits([100], [30], [10])
    >>> round(size_low, 2), round(size_high, 2), flow_low, flow_high
    (-36.67, 110.0, -11.0, 33.0)
    """
    top = max(max(sizes, default=0), 1) * 1.1
    down = max(left, default=0)
    up = max(max(entered, default=0), down / 4, 1)  # zero no higher than 80% of the height
    share = down / (up + down)
    return (-top * share / (1 - share), top), (-down * 1.1, up * 1.1)


def draw(rows: Sequence[HistoryPoint], title: str = "") -> Any:
    """The chart of `rows` as a matplotlib Figure (the caller closes it): the members line over entered (+) and
    left (−) bars, both zeros at one height, backfilled days as hollow points, the legend under the plot."""
    if not rows:
        raise EmptyHistory("the history has no rows in that range: nothing to draw (a hot segment's first row is "
                           "recorded when it is saved; --backfill DAYS adds the days before)")
    try:
        import matplotlib
        matplotlib.use("Agg")  # no display: files only
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, MaxNLocator
    except ImportError:
        raise ModuleNotFoundError("drawing a chart needs matplotlib: pip install 'bitseg[chart]'") from None
    days = mdates.date2num([dt.datetime.combine(r.day, dt.time()) for r in rows])
    sizes, entered, left = [r.size for r in rows], [r.entered for r in rows], [r.left for r in rows]
    if entered[0] == sizes[0] and not left[0]:  # the first evaluation (every member entered): no bar of a day's flow
        entered[0] = 0
    figure, size_axis = plt.subplots(figsize=(10, 4.8), dpi=120)
    flow_axis = size_axis.twinx()
    flow_axis.bar(days, entered, width=0.8, color="#59a14f", alpha=0.55, label="entered")
    flow_axis.bar(days, [-n for n in left], width=0.8, color="#e15759", alpha=0.55, label="left")
    flow_axis.set_ylabel("entered (+) / left (−) per day")
    size_axis.plot(days, sizes, color="#4e79a7", linewidth=2.2, marker="o", markersize=3, label="members")
    filled = [i for i, r in enumerate(rows) if getattr(r, "backfilled", False)]
    if filled:
        size_axis.plot([days[i] for i in filled], [sizes[i] for i in filled], linestyle="none", marker="o",
                       markersize=5, markerfacecolor="white", color="#4e79a7", label="backfilled")
    size_axis.axhline(0, color="#999999", linewidth=0.6)  # the one zero of both axes
    (size_low, size_high), (flow_low, flow_high) = zero_aligned_limits(sizes, entered, left)
    size_axis.set_ylim(size_low, size_high)
    flow_axis.set_ylim(flow_low, flow_high)
    for axis in (size_axis, flow_axis):  # whole customers
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    size_axis.set_yticks([y for y in size_axis.get_yticks() if 0 <= y <= size_high])  # none below zero
    size_axis.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:,.0f}"))
    flow_axis.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{abs(y):,.0f}"))
    size_axis.set_ylabel("members")
    size_axis.set_zorder(flow_axis.get_zorder() + 1)  # the line over the bars
    size_axis.patch.set_visible(False)
    size_axis.grid(axis="y", color="#e0e0e0")
    if len(rows) == 1:  # one day: a week either side, not a range of hours
        size_axis.set_xlim(days[0] - 7, days[0] + 7)
    locator = mdates.AutoDateLocator(maxticks=10)
    size_axis.xaxis.set_major_locator(locator)
    size_axis.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    handles = size_axis.get_legend_handles_labels()[0] + flow_axis.get_legend_handles_labels()[0]
    figure.legend(handles, [str(h.get_label()) for h in handles], loc="lower center", ncol=len(handles),
                  frameon=False)  # under the plot, never over the line
    size_axis.set_title(title or "segment history")
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    return figure


def history_chart(rows: Sequence[HistoryPoint], path: str | Path, title: str = "") -> Path:
    """Draw `rows` (from Client.history) into a PNG at `path`; returns the path. EmptyHistory without rows."""
    figure = draw(rows, title)
    import matplotlib.pyplot as plt

    try:
        figure.savefig(Path(path), format="png")
    finally:
        plt.close(figure)
    return Path(path)
