"""A sharded index: the Index's reads answered by every shard at once and combined (SPEC §9).

Every predicate is about one customer's own data, so a shard answers it alone: counts are sums, member lists are
shard 0's members then shard 1's, each in column order, statistics are sums, a breakdown's top N is taken over
the summed counts. A read is one round of calls (every shard asked at once); the evaluation day is fixed here
first, so every shard answers for the same day. A call for one customer goes to that customer's shard only.

Member cursors name the shard and the column there (`s1.<shard>.<column>`); `after` resumes on the shard of
that id, after it.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from bitseg.days import optional_day
from bitseg.errors import InvalidInputError, NotFoundError
from bitseg.index import distinct
from bitseg.index.imports import ImportedFile
from bitseg.index.insight import ChangedDay, CriteriaCounts, Criterion, Overlap, PlanStep, Why
from bitseg.index.segments import Segment
from bitseg.index.stats import GroupStats, Stats, check_top, largest_first
from bitseg.index.tracking import ChangedIds, HistoryRow
from bitseg.index.translate import cursor_of
from bitseg.index.values import DECIMAL_SCALE
from bitseg.query.expressions import Node
from bitseg.query.limits import Limits
from bitseg.schema import Schema
from bitseg.shards.gate import Gate
from bitseg.shards.routing import shard_of
from bitseg.shards.transport import Call, Transport
from bitseg.shards.worker import GroupSums, RemoteError, combine_missing
from bitseg.shards.writes import ShardedWrites

Selection = str | Node
_CURSOR = re.compile(r"s1\.([0-9a-f]{1,8})\.([0-9a-f]{1,8})")


def shard_cursor(shard: int, column: int) -> str:
    """The cursor after `column` of shard `shard`.

    >>> shard_cursor(2, 41), parse_cursor(shard_cursor(2, 41))
    ('s1.2.29', (2, 'm1.29'))
    """
    return f"s1.{shard:x}.{column:x}"


def parse_cursor(cursor: str) -> tuple[int, str]:
    """(shard, that shard's own cursor) of a sharded cursor."""
    found = _CURSOR.fullmatch(cursor)
    if found is None:
        raise InvalidInputError(f"cursor {cursor[:40]!r} is not a cursor this server made: pass the `cursor` of "
                                "a MemberChunk unchanged")
    return int(found.group(1), 16), cursor_of(int(found.group(2), 16))


def _group(sums: Sequence[GroupSums]) -> GroupStats:
    customers = sum(s.customers for s in sums)
    orders = sum(s.orders for s in sums)
    revenue = Decimal(sum(s.clv for s in sums)) / DECIMAL_SCALE
    presence = {name: (sum(s.presence[name] for s in sums) / customers if customers else 0.0)
                for name in sums[0].presence}
    return GroupStats(customers, orders, revenue,
                      (revenue / orders).quantize(Decimal("0.01")) if orders else Decimal(0),
                      (revenue / customers).quantize(Decimal("0.01")) if customers else Decimal(0), presence)


class ShardedIndex(ShardedWrites):
    """One index over the shards of a transport; what the servicer calls on an Index, answered by all shards."""

    def __init__(self, name: str, schema: Schema, limits: Limits, transport: Transport,
                 clock: Callable[[], dt.datetime], segments: Sequence[Segment] = ()) -> None:
        self.name, self.schema, self.limits = name, schema, limits
        self.transport = transport
        self.clock = clock
        self.segment_cache = {s.name: s for s in segments}
        self.gate = Gate()  # write rounds alone, read rounds together
        self.evaluated = threading.Event()  # set by a daily evaluation, for wait_evaluation

    # ── sizes and days ──
    def shard_sizes(self) -> list[tuple[int, int]]:
        """(customers, lines) of each shard."""
        with self.gate.read():
            found = self.transport.all("status")
        return [status["sizes"].get(self.name, (0, 0)) for status in found]

    @property
    def customer_count(self) -> int:
        return sum(c for c, _ in self.shard_sizes())

    @property
    def line_count(self) -> int:
        return sum(n for _, n in self.shard_sizes())

    def memory_bytes(self) -> int:
        """What the shards hold of this index, added up (for the server's `info`)."""
        return sum(self._all("memory"))

    def today(self) -> dt.date:
        return self.clock().astimezone(self.schema.zone).date()

    def as_of(self, as_of: dt.date | str | None) -> dt.date:
        return optional_day(as_of, "as_of") or self.today()

    def _all(self, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        with self.gate.read():
            return self.transport.all(method, self.name, *args, **kwargs)

    def _index_call(self, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        with self.gate.read():
            return self.transport.all("call", self.name, method, args, kwargs)

    # ── counts and members ──
    def count_with_warnings(self, query: Selection, as_of: dt.date | str | None = None) -> tuple[int, list[str]]:
        found = self._all("count", query, self.as_of(as_of))
        return sum(c for c, _ in found), combine_missing([m for _, m in found])

    def count(self, query: Selection, as_of: dt.date | str | None = None) -> int:
        return self.count_with_warnings(query, as_of)[0]

    def count_batch(self, selections: Sequence[Selection | Exception],
                    as_of: dt.date | str | None = None) -> list[tuple[int, list[str]] | Exception]:
        sent = [RemoteError.of(s) if isinstance(s, Exception) else s for s in selections]
        per_shard = self._all("count_batch", sent, self.as_of(as_of))
        out: list[tuple[int, list[str]] | Exception] = []
        for at, given in enumerate(selections):
            answers = [found[at] for found in per_shard]
            failed = next((a for a in answers if isinstance(a, RemoteError)), None)
            if isinstance(given, Exception):
                out.append(given)
            elif failed is not None:
                out.append(failed.rebuild())  # type: ignore[arg-type]
            else:
                out.append((sum(c for c, _ in answers), combine_missing([m for _, m in answers])))
        return out

    def member_pages(self, query: Selection, as_of: dt.date | str | None = None, after: str | None = None,
                     limit: int | None = None, chunk_size: int = 10_000,
                     cursor: str | None = None) -> Iterator[tuple[list[str], str]]:
        """(ids, cursor) per chunk: shard 0's members then shard 1's, each in column order; every shard is
        asked once, at once, before the first chunk."""
        if chunk_size < 1:
            raise InvalidInputError(f"chunk_size must be positive, not {chunk_size}")
        if limit is not None and limit < 0:
            raise InvalidInputError(f"limit must not be negative, not {limit}")
        first, inner = 0, None
        if cursor:
            first, inner = parse_cursor(cursor)
            if first >= self.transport.shards:
                raise InvalidInputError(f"cursor {cursor!r} names shard {first}; this server has "
                                        f"{self.transport.shards}")
        elif after:
            first = shard_of(after, self.transport.shards)
        day = self.as_of(as_of)
        calls: dict[int, Call] = {k: ("members", (self.name, query, day, after if k == first and not cursor else None,
                                 inner if k == first else None, limit), {})
                 for k in range(first, self.transport.shards)}
        with self.gate.read():
            found = self.transport.run(calls)
        keys: list[str] = []
        marks: list[tuple[int, int]] = []  # (shard, column) where each shard's part ends, by position
        for k in sorted(found):
            ids, columns = found[k]
            keys.extend(ids)
            marks.extend((k, int(c)) for c in columns.tolist())
        if limit:
            keys, marks = keys[:limit], marks[:limit]
        return ((keys[i: i + chunk_size], shard_cursor(*marks[min(i + chunk_size, len(keys)) - 1]))
                for i in range(0, len(keys), chunk_size))

    def members(self, query: Selection, as_of: dt.date | str | None = None, after: str | None = None,
                limit: int | None = None) -> list[str]:
        return [key for chunk, _ in self.member_pages(query, as_of, after, limit, 1 << 20) for key in chunk]

    def check_membership(self, customer_id: str, segments: Sequence[str],
                         as_of: dt.date | str | None = None) -> list[bool]:
        for name in segments:
            self.get_segment(name)
        return self.transport.one(shard_of(customer_id, self.transport.shards), "call", self.name,
                                  "check_membership", (customer_id, list(segments), self.as_of(as_of)))

    def customer_segments(self, customer_id: str, as_of: dt.date | str | None = None) -> list[str]:
        return self.transport.one(shard_of(customer_id, self.transport.shards), "call", self.name,
                                  "customer_segments", (customer_id, self.as_of(as_of)))

    # ── definitions: held here, given to every shard ──
    def get_segment(self, name: str) -> Segment:
        found = self.segment_cache.get(name)
        if found is None:
            raise NotFoundError(f"unknown segment {name!r}")
        return found

    def list_segments(self) -> list[Segment]:
        return [self.segment_cache[name] for name in sorted(self.segment_cache)]

    def get_list(self, name: str) -> list[str]:
        return [key for part in self._index_call("get_list", name) for key in part]

    def list_names(self) -> list[str]:
        return self.transport.one(0, "call", self.name, "list_names")

    def imported(self, sha256: str) -> ImportedFile | None:
        return self.transport.one(0, "call", self.name, "imported", (sha256,))

    def count_tiers(self, name: str, as_of: dt.date | str | None = None) -> list[tuple[str, int]]:
        per_shard = self._index_call("count_tiers", name, self.as_of(as_of))
        return [(tier, sum(found[at][1] for found in per_shard)) for at, (tier, _) in enumerate(per_shard[0])]

    # ── statistics ──
    def stats(self, query: Selection, as_of: dt.date | str | None = None) -> Stats:
        found = self._all("stats", query, self.as_of(as_of))
        members, rest = _group([m for m, _ in found]), _group([r for _, r in found])
        return Stats(members.customers, members, rest)

    def breakdown(self, query: Selection, field: str, top: int = 10,
                  as_of: dt.date | str | None = None) -> list[tuple[str | None, int]]:
        check_top(top)
        totals: dict[str | None, int] = {}
        for found in self._all("breakdown", query, field, self.as_of(as_of)):
            for value, count in found.items():
                totals[value] = totals.get(value, 0) + count
        return largest_first(totals.items(), top)

    def purchase_breakdown(self, query: Selection, dimension: str, top: int = 10, as_of: dt.date | str | None = None,
                           start: dt.date | str | None = None,
                           end: dt.date | str | None = None) -> list[tuple[str | None, int, Decimal]]:
        """Per value of a dimension: buyers and net revenue, summed over the shards (customers are disjoint)."""
        check_top(top)
        totals: dict[str | None, list] = {}
        for found in self._index_call("purchase_breakdown", query, dimension, 1 << 62, self.as_of(as_of),
                                      optional_day(start, "start"), optional_day(end, "end")):
            for value, buyers, revenue in found:
                total = totals.setdefault(value, [0, Decimal(0)])
                total[0] += buyers
                total[1] += revenue
        return largest_first([(value, buyers, revenue) for value, (buyers, revenue) in totals.items()], top)

    def values(self, field: str, prefix: str = "", limit: int = 0) -> list[tuple[str, int]]:
        limit = distinct.check_limit(limit)
        totals: dict[str, int] = {}
        for found in self._all("values", field):
            for value, count in found.items():
                totals[value] = totals.get(value, 0) + count
        return distinct.largest_first(totals, prefix, limit)

    def buyers_per_day(self, start: dt.date | str, end: dt.date | str, query: Selection | None = None,
                       as_of: dt.date | str | None = None) -> list[tuple[dt.date, int]]:
        per_shard = self._index_call("buyers_per_day", self.as_of(start), self.as_of(end), query, self.as_of(as_of))
        return [(day, sum(found[at][1] for found in per_shard)) for at, (day, _) in enumerate(per_shard[0])]

    # ── hot history and trigger changes: the shards' rows added up ──
    def history(self, segment: str, start: dt.date | str | None = None,
                end: dt.date | str | None = None) -> list[HistoryRow]:
        rows: dict[dt.date, list[int]] = {}
        backfilled: dict[dt.date, bool] = {}
        for found in self._index_call("history", segment, optional_day(start, "start"), optional_day(end, "end")):
            for row in found:
                total = rows.setdefault(row.day, [0, 0, 0])
                total[0] += row.size
                total[1] += row.entered
                total[2] += row.left
                backfilled[row.day] = backfilled.get(row.day, True) and row.backfilled
        return [HistoryRow(day, rows[day][0], rows[day][1], rows[day][2], backfilled[day]) for day in sorted(rows)]

    def changes(self, segment: str, since: dt.date | str) -> ChangedIds:
        found = self._index_call("changes", segment, optional_day(since, "since"))
        return ChangedIds(found[0].since, found[0].day, [k for c in found for k in c.entered],
                          [k for c in found for k in c.left])

    def changes_by_day(self, segment: str, since: dt.date | None) -> list[ChangedDay]:
        days: dict[dt.date, tuple[list[str], list[str]]] = {}
        for found in self._index_call("changes_by_day", segment, since):
            for changed in found:
                entered, left = days.setdefault(changed.day, ([], []))
                entered.extend(changed.entered)
                left.extend(changed.left)
        return [ChangedDay(day, *days[day]) for day in sorted(days)]

    def wait_evaluation(self, after: dt.date | None, timeout: float, segment: str | None = None) -> bool:
        """Wait up to `timeout` seconds for the next evaluation (a daily one, which the coordinator runs, or a
        hot or trigger segment's save); the caller reads the changes again either way."""
        fired = self.evaluated.wait(timeout)
        self.evaluated.clear()
        return fired

    # ── insight ──
    def explain(self, query: Selection, as_of: dt.date | str | None = None, analyze: bool = False) -> list[PlanStep]:
        """Shard 0's plan (each shard plans for its own data); with analyze, counts summed, the slowest ms."""
        per_shard = self._index_call("explain", query, self.as_of(as_of), analyze)
        if not analyze:
            return per_shard[0]
        out = []
        for at, step in enumerate(per_shard[0]):
            same = [found[at] for found in per_shard if at < len(found) and found[at].text == step.text]
            out.append(PlanStep(step.depth, step.text, step.access, step.minus,
                                sum(s.count or 0 for s in same), max(s.ms or 0.0 for s in same)))
        return out

    def explain_member(self, customer_id: str, query: Selection, as_of: dt.date | str | None = None) -> Why:
        return self.transport.one(shard_of(customer_id, self.transport.shards), "call", self.name,
                                  "explain_member", (customer_id, query, self.as_of(as_of)))

    def count_criteria(self, query: Selection, as_of: dt.date | str | None = None) -> CriteriaCounts:
        per_shard = self._index_call("count_criteria", query, self.as_of(as_of))
        first = per_shard[0]
        criteria = tuple(Criterion(c.text, *(sum(getattr(found.criteria[at], f) for found in per_shard)
                                             for f in ("count", "running", "without")))
                         for at, c in enumerate(first.criteria))
        return CriteriaCounts(first.combinator, sum(found.total for found in per_shard), criteria)

    def overlap(self, selections: Sequence[Selection], as_of: dt.date | str | None = None) -> Overlap:
        per_shard = self._index_call("overlap", list(selections), self.as_of(as_of))
        return Overlap(tuple(map(sum, zip(*(f.sizes for f in per_shard), strict=True))),
                       tuple(map(sum, zip(*(f.matrix for f in per_shard), strict=True))))

