"""When the daily snapshot is due, and the checks start-up makes of the log against the snapshot it follows.

The daily snapshot of an index is due once its local time has passed `daily_at` on a local day that has no
evaluation yet, or no daily snapshot yet: one interrupted by a crash, or that failed (a full disk), is retried
by the next call of the timer. A clock that jumps forward gives one snapshot for the new day, not one per day
skipped; a clock that jumps back (to before the last evaluated day) still gives one daily snapshot per local
day, without an evaluation: history rows are never written out of order, and evaluations resume once the clock
passes the last evaluated day.

>>> import datetime as dt
>>> from zoneinfo import ZoneInfo
>>> utc, at = ZoneInfo("UTC"), dt.time(2, 0)
>>> now = dt.datetime(2026, 3, 14, 3, 0, tzinfo=utc)
>>> due_days(now, at, None, [("shop", utc, None)])
{'shop': datetime.date(2026, 3, 14)}
>>> due_days(now, at, now, [("shop", utc, dt.date(2026, 3, 14))])  # evaluated and snapshot today
{}
>>> due_days(now, at, now - dt.timedelta(days=1), [("shop", utc, dt.date(2026, 3, 14))])  # snapshot failed
{'shop': None}
>>> due_days(now.replace(hour=1), at, None, [("shop", utc, None)])  # before the daily time
{}
>>> due_days(now, at, now + dt.timedelta(days=365), [("shop", utc, dt.date(2027, 3, 14))])  # clock went back
{'shop': None}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bitseg.errors import PersistenceError
from bitseg.persistence.snapshot import SnapshotInfo
from bitseg.persistence.wal import WriteAheadLog


def due_days(now: dt.datetime, daily_at: dt.time, last_daily: dt.datetime | None,
             indexes: Sequence[tuple[str, ZoneInfo, dt.date | None]]) -> dict[str, dt.date | None]:
    """{index name: the day to evaluate, or None to snapshot without evaluating} for the indexes due.

    `last_daily` is when the newest daily snapshot was taken; `indexes` gives each index's name, time zone and
    last evaluated day.
    """
    due: dict[str, dt.date | None] = {}
    for name, zone, last_evaluated in indexes:
        local = now.astimezone(zone)
        if local.time() < daily_at:
            continue
        today = local.date()
        evaluate = last_evaluated is None or last_evaluated < today
        snapshot_day = last_daily.astimezone(zone).date() if last_daily is not None else None
        if evaluate:
            due[name] = today
        elif snapshot_day != today:
            due[name] = None  # evaluated (or the clock is behind the last evaluation) but no daily snapshot today
    return due


def last_daily(infos: Sequence[SnapshotInfo]) -> dt.datetime | None:
    """When the newest readable daily snapshot was taken (`infos` newest first)."""
    for info in infos:
        if info.daily and info.problem is None and info.created:
            return dt.datetime.fromisoformat(info.created)
    return None


def check_log_continues(wal: WriteAheadLog, manifest: Mapping[str, Any]) -> None:
    """Refuse to start when the log file the snapshot says the log continued in is gone (with nothing after it):
    the changes acknowledged after the snapshot would be lost without a word."""
    continues_at = manifest.get("log_continues_at")
    if continues_at is None:
        return
    segments = wal.segments()
    if not segments or segments[-1][0] < continues_at:
        name = f"{continues_at:020d}.log"
        raise PersistenceError(
            f"the write-ahead log file {wal.directory / name} is missing: snapshot {manifest.get('id')} was taken "
            f"with the log continuing in it, so the changes acknowledged after that snapshot would be lost. "
            f"Restore it from a backup; to start knowingly without those changes, create an empty file of that "
            f"name.")
