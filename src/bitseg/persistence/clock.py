"""Clocks for the Store: the real one (UTC now) and a simulated one that only moves when told to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SimulatedClock:
    """A clock that only moves when told to, for running thirty days in a second.

    >>> clock = SimulatedClock("2026-03-14T02:00:00+01:00")
    >>> clock.advance(days=1).isoformat()
    '2026-03-15T02:00:00+01:00'
    """

    def __init__(self, start: dt.datetime | str) -> None:
        self.now = dt.datetime.fromisoformat(start) if isinstance(start, str) else start
        if self.now.tzinfo is None:
            raise ValueError("a simulated clock needs an aware time (with a UTC offset)")

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now
