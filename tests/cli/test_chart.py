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


def test_the_zeros_of_both_axes_are_at_one_height_and_the_legend_is_off_the_plot() -> None:
    """Before, the members axis started at 0 at the bottom while the entered/left axis put its zero higher up,
    and the legend sat in the upper left corner over the line (docs/history-chart-before.png)."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from bitseg.cli.chart import draw

    start = dt.date(2026, 3, 1)
    for spread in ((40, 25), (3, 90), (0, 0), (120, 0)):
        rows = [HistoryDay(start + dt.timedelta(days=i), 1000 + 15 * i, spread[0] + i % 7, spread[1] + i % 5,
                           backfilled=i < 10) for i in range(30)]
        figure = draw(rows, "shop / vips")
        try:
            size_axis, flow_axis = figure.axes
            shares = []
            for axis in (size_axis, flow_axis):
                low, high = axis.get_ylim()
                shares.append(-low / (high - low))
            assert shares[0] == pytest.approx(shares[1]), spread
            assert 0 <= shares[0] <= 0.8
            assert min(size_axis.get_yticks()) >= 0  # no negative member counts
            figure.canvas.draw()
            [legend] = figure.legends
            box, plot = legend.get_window_extent(), size_axis.get_window_extent()
            assert box.y1 <= plot.y0, "the legend overlaps the plot"
            assert [t.get_text() for t in legend.get_texts()] == ["members", "backfilled", "entered", "left"]
        finally:
            plt.close(figure)


def test_an_empty_history_draws_no_1970_axis(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from bitseg.cli.chart import EmptyHistory, history_chart

    with pytest.raises(EmptyHistory, match="no rows in that range: nothing to draw"):
        history_chart([], tmp_path / "empty.png")
    assert not (tmp_path / "empty.png").exists()
    path = history_chart([HistoryDay(dt.date(2026, 12, 1), 1234, 1234, 0)], tmp_path / "one.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from bitseg.cli.chart import draw

    figure = draw([HistoryDay(dt.date(2026, 12, 1), 1234, 1234, 0)])  # day one: a week either side of it
    try:
        low, high = (mdates.num2date(x).date() for x in figure.axes[0].get_xlim())
        assert (low, high) == (dt.date(2026, 11, 24), dt.date(2026, 12, 8))
    finally:
        plt.close(figure)
