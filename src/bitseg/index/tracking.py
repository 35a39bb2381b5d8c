"""Hot and trigger segments of one index: members at each daily evaluation, and the history that follows from them.

At each daily snapshot every hot and trigger segment is evaluated as of that day; a segment saved as hot or
trigger is also evaluated as of the day it is saved, so its history starts that day (the daily evaluation of
the same day replaces that row). For each one a history row
(day, size, entered, left) is kept, where entered and left compare with the evaluation before it (at the first
evaluation every member has entered). The members themselves are kept as bitmaps: for a trigger segment the
last `trigger_days` days of them, so that `changes` can say who entered and who left since a given day; for a
hot segment only the last two, which is what its next row needs.

The index computes an evaluation (reads only) and records it with `apply` (a journaled write): replaying the
journaled record gives the same history without evaluating again.

>>> tracker = Tracker()
>>> def evaluation(day: str, members: list[int]) -> dict:
...     return {"day": day_number(dt.date.fromisoformat(day)), "segments": [["vips", "hot", BitMap(members).serialize()]]}
>>> tracker.apply(evaluation("2026-03-01", [0]))
>>> tracker.apply(evaluation("2026-03-02", [0, 1]))
>>> tracker.history("vips", None, None)
[HistoryRow(day=datetime.date(2026, 3, 1), size=1, entered=1, left=0, backfilled=False), HistoryRow(day=datetime.date(2026, 3, 2), size=2, entered=1, left=0, backfilled=False)]
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pyroaring import BitMap

from bitseg.days import day_date, day_number
from bitseg.errors import InvalidInputError, NotFoundError
from bitseg.names import SegmentKind

TRACKED = tuple(kind for kind in SegmentKind if kind.tracked)
TRIGGER_DAYS = 90


MAX_BACKFILL = 1096  # days a hot segment's history can be backfilled with (three years)


class HistoryRow(NamedTuple):
    day: dt.date
    size: int
    entered: int
    left: int
    backfilled: bool = False  # computed from the purchase history when the segment was saved (--backfill)


@dataclass
class Track:
    kind: str
    members: dict[int, BitMap] = field(default_factory=dict)  # day number → members that day
    history: list[list[int]] = field(default_factory=list)    # [day, size, entered, left, backfilled 0/1], by day


@dataclass(frozen=True)
class Changes:
    """Who entered and who left a trigger segment between the evaluations on `since` and on `day` (columns)."""

    since: dt.date
    day: dt.date
    entered: BitMap
    left: BitMap


@dataclass(frozen=True)
class ChangedIds:
    """External ids that entered and left a trigger segment between the evaluations on `since` and `day`."""

    since: dt.date
    day: dt.date
    entered: list[str]
    left: list[str]


class Tracker:
    """The kept members and history rows of the hot and trigger segments of one index."""

    def __init__(self, trigger_days: int = TRIGGER_DAYS) -> None:
        self.trigger_days = trigger_days
        self.tracks: dict[str, Track] = {}
        self.last_day: int | None = None  # the latest day evaluated
        self.recorded = threading.Condition()  # notified after each evaluation is applied (WatchChanges waits)
        self.newest: dict[str, int] = {}  # per segment, the latest day of a row recorded since start-up

    @property
    def last_date(self) -> dt.date | None:
        """The latest day evaluated."""
        return None if self.last_day is None else day_date(self.last_day)

    # ── recording an evaluation ──
    def apply(self, evaluation: Mapping[str, Any], daily: bool = True) -> None:
        """Record the members of each hot and trigger segment on one day: {"day": n, "segments": [[name, kind,
        serialized members], ...]}. A daily evaluation (`daily`) moves `last_day`; the one recorded when a
        segment is saved does not (the day's daily evaluation is still due, and replaces its row)."""
        day = evaluation["day"]
        for name, kind, members in evaluation["segments"]:
            track = self.tracks.get(name)
            if track is None or track.kind != kind:
                track = self.tracks[name] = Track(kind, track.members if track else {},
                                                  track.history if track else [])
            current = BitMap.deserialize(members)
            earlier = [d for d in track.members if d < day]
            previous = track.members[max(earlier)] if earlier else BitMap()
            row = [day, len(current), current.difference_cardinality(previous),
                   previous.difference_cardinality(current), 0]
            at = bisect.bisect_left([r[0] for r in track.history], day)
            if at < len(track.history) and track.history[at][0] == day:
                track.history[at] = row  # evaluated again the same day: the later evaluation counts
            else:
                track.history.insert(at, row)
            track.members[day] = current
            self._prune(track, day)
        with self.recorded:  # a save's row wakes the watchers of its segment too
            for name, _, _ in evaluation["segments"]:
                self.newest[name] = max(day, self.newest.get(name, day))
            if daily:
                self.last_day = day if self.last_day is None else max(self.last_day, day)
            self.recorded.notify_all()

    def wait(self, after: int | None, timeout: float, segment: str | None = None) -> bool:
        """Wait up to `timeout` seconds for a daily evaluation of a day after `after` (with `segment`: for any
        row of that segment recorded since start-up of a day after `after`, its save's row included)."""
        def newer() -> bool:
            day = self.last_day if segment is None else self.newest.get(segment)
            return day is not None and (after is None or day > after)
        with self.recorded:
            return self.recorded.wait_for(newer, timeout)

    def _prune(self, track: Track, day: int) -> None:
        days = sorted(track.members)
        keep = (set(days[-2:]) if track.kind == "hot"
                else {d for d in days if d > day - self.trigger_days} | {max(days)})
        for stale in set(days) - keep:
            del track.members[stale]

    # ── changes to the index that concern kept members ──
    def saved(self, segment: str, kind: str) -> None:
        """A segment was saved: a standard one keeps nothing; a changed kind keeps its history."""
        if kind not in TRACKED:
            self.tracks.pop(segment, None)
        elif segment in self.tracks:
            self.tracks[segment].kind = kind

    def backfill(self, segment: str, kind: str, filled: Mapping[str, Any]) -> None:
        """Add the rows of `backfill_rows` on the days that have none (a recorded row is never replaced), marked
        backfilled, and the members of their last day when none are kept for it: today's row compares with them."""
        track = self.tracks.setdefault(segment, Track(kind))
        have = {row[0] for row in track.history}
        track.history = sorted(track.history + [[*row[:4], 1] for row in filled["rows"] if row[0] not in have])
        last = filled["rows"][-1][0]
        if last not in track.members:
            track.members[last] = BitMap.deserialize(filled["last"])
            self._prune(track, max(track.members))

    def forget(self, segment: str) -> None:
        self.tracks.pop(segment, None)

    def erase(self, gone: BitMap) -> None:
        """Erased customers leave every kept member bitmap (their counts in past rows stay)."""
        for track in self.tracks.values():
            for members in track.members.values():
                members -= gone

    # ── answers ──
    @staticmethod
    def check_kind(segment: str, kind: str, kinds: tuple[str, ...], what: str) -> None:
        if kind not in kinds:
            raise InvalidInputError(f"segment {segment!r} is a {kind} segment: {what} is kept for "
                                    f"{' and '.join(kinds)} segments")

    def history(self, segment: str, start: dt.date | None, end: dt.date | None,
                kind: str | None = None) -> list[HistoryRow]:
        """The rows of a segment within [start, end]; `kind`, when given, must be a tracked one."""
        if kind is not None:
            self.check_kind(segment, kind, TRACKED, "history")
        track = self.tracks.get(segment)
        if track is None:
            return []
        low = day_number(start) if start else -(1 << 40)
        high = day_number(end) if end else 1 << 40
        # a row written before rows were marked has four items: not backfilled
        return [HistoryRow(day_date(d), size, entered, left, bool(flag and flag[0]))
                for d, size, entered, left, *flag in track.history if low <= d <= high]

    def changes(self, segment: str, since: dt.date | None, kind: str | None = None) -> Changes:
        """Who entered and left since the evaluation on `since`; `kind`, when given, must be trigger."""
        if kind is not None:
            self.check_kind(segment, kind, (SegmentKind.TRIGGER,), "who entered and left")
        if since is None:
            raise InvalidInputError("changes need a day to compare with (since, YYYY-MM-DD)")
        track = self.tracks.get(segment)
        if track is None or not track.members:
            raise NotFoundError(f"segment {segment!r} has not been evaluated yet: changes start on the day it "
                                "was saved as a trigger segment")
        days = sorted(track.members)
        wanted = day_number(since)
        base = [d for d in days if d <= wanted]
        if not base:
            raise InvalidInputError(f"no evaluation of segment {segment!r} on or before {since}; the oldest kept "
                                    f"is {day_date(days[0])} ({self.trigger_days} days are kept)")
        before, after = track.members[base[-1]], track.members[days[-1]]
        return Changes(day_date(base[-1]), day_date(days[-1]), after - before, before - after)

    def days_after(self, segment: str, since: int | None, kind: str | None = None) -> list[Changes]:
        """Per evaluated day after `since` (None: every kept day), who entered and left against the evaluation
        before it; empty before the first evaluation. `since` must not be older than the kept days."""
        if kind is not None:
            self.check_kind(segment, kind, (SegmentKind.TRIGGER,), "who entered and left")
        track = self.tracks.get(segment)
        if track is None or not track.members:
            return []
        days = sorted(track.members)
        first_ever = track.history[0][0] if track.history else days[0]
        if since is not None and since < days[0] and days[0] != first_ever:
            raise InvalidInputError(f"no evaluation of segment {segment!r} on or before {day_date(since)} is "
                                    f"kept; the oldest kept is {day_date(days[0])} ({self.trigger_days} days "
                                    "are kept)")
        out = []
        for at, day in enumerate(days):
            if since is None or day > since:
                before = track.members[days[at - 1]] if at else BitMap()
                after = track.members[day]
                out.append(Changes(day_date(days[at - 1]) if at else day_date(day), day_date(day),
                                   after - before, before - after))
        return out

    # ── persistence ──
    def state(self) -> dict[str, Any]:
        return {"last_day": self.last_day,
                "tracks": {name: {"kind": t.kind, "days": sorted(t.members),
                                  "members": [t.members[d] for d in sorted(t.members)],
                                  "history": [list(r) for r in t.history]}
                           for name, t in self.tracks.items()}}

    @classmethod
    def from_state(cls, state: dict[str, Any], trigger_days: int = TRIGGER_DAYS) -> Tracker:
        tracker = cls(trigger_days)
        tracker.last_day = state["last_day"]
        for name, t in state["tracks"].items():
            tracker.tracks[name] = Track(t["kind"], dict(zip(t["days"], t["members"])),
                                         [list(r) for r in t["history"]])
        return tracker


def backfill_rows(evaluate: Callable[[dt.date], BitMap], today: dt.date, days: int) -> dict[str, Any]:
    """The history rows of the `days` days before `today`, each from the members as of that day (`evaluate`):
    {"rows": [[day, size, entered, left], ...] by day, "last": the members of the last day, serialized}. The
    first day's members have all entered, as at any first evaluation.

    >>> members = {1: BitMap([0]), 2: BitMap([0, 1]), 3: BitMap([1])}
    >>> backfill_rows(lambda day: members[day.day], dt.date(2026, 1, 4), 3)["rows"]
    [[20454, 1, 1, 0], [20455, 2, 1, 0], [20456, 1, 0, 1]]
    """
    if not 0 < days <= MAX_BACKFILL:
        raise InvalidInputError(f"backfill takes 1 to {MAX_BACKFILL:,} days, not {days}")
    rows, previous = [], BitMap()
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        members = evaluate(day)
        rows.append([day_number(day), len(members), members.difference_cardinality(previous),
                     previous.difference_cardinality(members)])
        previous = members
    return {"rows": rows, "last": previous.serialize()}
