"""The Index facade: one customer universe — its sizes, its queries, its state, and the writes of `writes.py`.

The parts live in their own modules (fields, lines, views, built-ins, segments, tracking, stats); the index owns
them, holds the readers' lock (every public read holds it; a write holds it only to publish a prepared change,
never while it logs, so a reader never sees half a batch and never waits for an fsync) and delegates. Its write
operations are inherited from `writes.Writes`, each a journaled `@write` (`journal.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
from pyroaring import BitMap

from bitseg.days import day_number, optional_day
from bitseg.errors import InvalidInputError, NotFoundError
from bitseg.index import asof, distinct, planner
from bitseg.index import stats as statistics
from bitseg.index.bitmaps import columns as bitmap_columns
from bitseg.index.buckets import Buckets
from bitseg.index.budget import hold
from bitseg.index.builtins import Builtins
from bitseg.index.executor import evaluate
from bitseg.index.fields import Field, make_field
from bitseg.index.footprint import footprint
from bitseg.index.imports import ImportedFile, ImportLog
from bitseg.index.insight import Insight
from bitseg.index.journal import Journal, locked
from bitseg.index.lines import LineStore
from bitseg.index.orderids import OrderIds
from bitseg.index.probe import Probe
from bitseg.index.segments import Registry, Segment, Tiering
from bitseg.index.sharing import sharing
from bitseg.index.stats import Stats
from bitseg.index.tracking import TRACKED, TRIGGER_DAYS, ChangedIds, HistoryRow, Tracker
from bitseg.index.translate import Translator, cursor_of, past
from bitseg.index.views import TimeViews
from bitseg.index.writes import Writes
from bitseg.query.compiler import Compiler
from bitseg.query.expressions import InSegment, Node
from bitseg.query.limits import DEFAULT_LIMITS, Limits
from bitseg.schema import Schema

Selection = str | Node
Day = dt.date | str | None


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Index(Writes, Insight):
    """One customer universe.

    >>> idx = Index.from_toml('[profile]\\ncountry = "keyword"\\n[purchase]\\nbrand = "keyword"')
    >>> idx.upsert_profiles([{"customer": "c1", "country": "NL"}, {"customer": "c2", "country": "BE"}])
    2
    >>> idx.add_purchases([{"customer": "c2", "time": "2026-01-05", "amount": "59.90", "brand": "Levi's"}])
    1
    >>> idx.members("purchases MATCHES (brand = 'Levi''s') OR country = 'NL'", as_of=dt.date(2026, 2, 1))
    ['c1', 'c2']
    """

    name: str

    def __init__(self, schema: Schema, name: str = "default", limits: Limits = DEFAULT_LIMITS,
                 journal: Journal | None = None, *, trigger_days: int = TRIGGER_DAYS) -> None:
        super().__init__(journal)
        self.name = name
        self.schema = schema
        self.limits = limits
        self.translator = Translator()
        self.existence = BitMap()
        self.fields: dict[str, Field] = {name: make_field(kind) for name, kind in schema.profile.items()}
        self.builtins = Builtins()
        self.lines = LineStore(schema.dimensions)
        self.views = TimeViews(self.lines)
        self.registry = Registry()
        self.tracker = Tracker(trigger_days)
        self.clock: Callable[[], dt.datetime] = _utc_now  # the Store gives its own (a simulated one in tests)
        self.imports = ImportLog()
        self._cache: dict[tuple[str, dt.date], BitMap] = {}  # segment bitmaps, valid for one version
        self._cache_version = -1
        self._month_days: dict[str, tuple[int, np.ndarray, np.ndarray]] = {}
        self._buckets = Buckets()  # derived from the external ids: never persisted
        self.compiler = Compiler(schema, limits)  # keeps the normalised tree of each query text it saw

    @classmethod
    def from_toml(cls, text: str, name: str = "default") -> Index:
        return cls(Schema.from_toml(text), name)

    # ── sizes and the data the executor reads ──
    @property
    def customer_count(self) -> int:
        return len(self.existence)

    @property
    def line_count(self) -> int:
        return self.lines.size

    @property
    def column_count(self) -> int:
        return self.translator.size

    @property
    def segments(self) -> dict[str, Segment]:
        return self.registry.segments

    @property
    def lists(self) -> dict[str, BitMap]:
        return self.registry.lists

    @property
    def tierings(self) -> dict[str, Tiering]:
        return self.registry.tierings

    def field(self, name: str) -> Field:
        return self.fields.get(name) or self.builtins[name]

    def month_days(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(columns with a value, month * 32 + day of each) for a date field; kept until the next write."""
        found = self._month_days.get(name)
        if found is None or found[0] != self.version:
            field = self.field(name)
            present = bitmap_columns(field.present)
            month_day = asof.month_days(field.values[present])  # type: ignore[attr-defined]
            found = self._month_days[name] = (self.version, present, month_day)
        return found[1], found[2]

    def bucket_values(self, salt: str) -> np.ndarray:
        """The bucket of every column under `salt` (SPEC §10), computed once per salt, extended as columns come."""
        return self._buckets.values(salt, self.translator.state()["keys"])

    def segment_tree(self, name: str) -> Node:
        return self.registry.tree(name)

    def list_members(self, name: str) -> BitMap:
        """The columns of a static list; NotFoundError when there is none of that name."""
        return self.registry.list_members(name)

    def cached_segment(self, name: str, as_of: dt.date, compute: Callable[[], BitMap]) -> BitMap:
        if self._cache_version != self.version:
            self._cache.clear()
            self._cache_version = self.version
        found = self._cache.get((name, as_of))
        if found is None:
            found = self._cache[(name, as_of)] = compute()
        return found

    def cached_bitmap(self, name: str, as_of: dt.date) -> BitMap | None:
        """The cached members of a saved segment on `as_of`, if this version has them."""
        return self._cache.get((name, as_of)) if self._cache_version == self.version else None

    def today(self) -> dt.date:
        return self.clock().astimezone(self.schema.zone).date()

    @locked
    def imported(self, sha256: str) -> ImportedFile | None:
        """The earlier import of a file with this content (SHA-256), if the index has one."""
        return self.imports.find(sha256)

    def as_of(self, as_of: Day) -> dt.date:
        """The evaluation day: `as_of` as a day, or today in the index zone when not given."""
        return optional_day(as_of, "as_of") or self.today()

    # ── queries: text → checked → normalised tree (the compiler, cached) → plan → bitmap (the executor) ──
    def _evaluate(self, query: str | Node, as_of: Day) -> BitMap:
        return self._members(*self.compiler.normalized(query), as_of)

    def _members(self, tree: Node, text: str, as_of: Day) -> BitMap:
        """The members of a normalised tree (`text`: what error positions point into)."""
        return evaluate(tree, self, self.as_of(as_of), text) & self.existence  # fresh, never a stored bitmap

    def _counted(self, query: str | Node, as_of: Day) -> tuple[int, list[str]]:
        """The count and the warnings of one query, compiled once."""
        tree, text = self.compiler.normalized(query)
        members = self._members(tree, text, as_of)
        return len(members), distinct.warnings(tree, self.fields, self.views, self.lines.dictionaries)

    def _in_segment(self, probe: Probe, name: str, day: dt.date) -> bool:
        """Whether the probe's customer is in a saved segment: from the cache, else decided for that customer
        alone (a write empties the cache; re-evaluating every segment per call would cost seconds)."""
        cached = self.cached_bitmap(name, day)
        if cached is not None:
            return probe.column in cached
        return probe.contains(planner.plan(InSegment(name), self, day, self.segments[name].query).root)

    @locked
    def memory_bytes(self) -> int:
        """An estimate of what the index holds: its arrays, bitmaps and the Python containers around them."""
        with hold(self.lock):
            return footprint(self.state())

    def evaluate(self, query: str | Node, as_of: Day = None) -> BitMap:
        """The columns of the customers matching `query` on day `as_of` (default: today in the index zone)."""
        return self._evaluate(query, as_of)

    @locked
    def count(self, query: str | Node, as_of: Day = None) -> int:
        return len(self._evaluate(query, as_of))

    @locked
    def count_with_warnings(self, query: str | Node, as_of: Day = None) -> tuple[int, list[str]]:
        """The count, and a warning per literal no customer or purchase line has (see `distinct.warnings`)."""
        return self._counted(query, as_of)

    @locked
    def count_batch(self, selections: Sequence[Selection | Exception],
                    as_of: Day = None) -> list[tuple[int, list[str]] | Exception]:
        """Per selection its count and warnings, or its error (an error given is passed through), on one state."""
        with sharing():
            return [statistics.entry(selection, lambda query: self._counted(query, as_of)) for selection in selections]

    def members(self, query: str | Node, as_of: Day = None, after: str | None = None,
                limit: int | None = None) -> list[str]:
        """External ids of the members, in column order, after the id `after`, at most `limit`."""
        return [key for chunk in self.iter_member_chunks(query, as_of, after, limit, 1 << 20) for key in chunk]

    def iter_member_chunks(self, query: str | Node, as_of: Day = None, after: str | None = None,
                           limit: int | None = None, chunk_size: int = 10_000) -> Iterator[list[str]]:
        return (keys for keys, _ in self.member_pages(query, as_of, after, limit, chunk_size))

    def member_pages(self, query: str | Node, as_of: Day = None, after: str | None = None,
                     limit: int | None = None, chunk_size: int = 10_000,
                     cursor: str | None = None) -> Iterator[tuple[list[str], str]]:
        """(ids, cursor) per chunk, in column order: the cursor resumes exactly after the chunk's last id.

        `cursor` (from an earlier chunk) wins over `after`; both are resolved now, before the first chunk.
        """
        if chunk_size < 1:
            raise InvalidInputError(f"chunk_size must be positive, not {chunk_size}")
        if limit is not None and limit < 0:
            raise InvalidInputError(f"limit must not be negative, not {limit}")
        with hold(self.lock):
            start = self.translator.start(after, cursor)
            columns = past(bitmap_columns(self._evaluate(query, as_of)), start, limit)
            keys = self.translator.to_keys(columns)
        return ((keys[i: i + chunk_size].tolist(), cursor_of(int(columns[min(i + chunk_size, len(keys)) - 1])))
                for i in range(0, len(keys), chunk_size))

    # ── saved segments, lists and tierings ──
    @locked
    def get_segment(self, name: str) -> Segment:
        return self.registry.get(name)

    @locked
    def list_segments(self) -> list[Segment]:
        return self.registry.all()

    @locked
    def check_membership(self, customer_id: str, segments: Sequence[str],
                         as_of: Day = None) -> list[bool]:
        for name in segments:
            self.segment_tree(name)
        column = self.translator.column(customer_id)
        if column is None:
            return [False] * len(segments)
        day, probe = self.as_of(as_of), Probe(self, column)
        with sharing():
            return [self._in_segment(probe, name, day) for name in segments]

    @locked
    def customer_segments(self, customer_id: str, as_of: Day = None) -> list[str]:
        column = self.translator.column(customer_id)
        if column is None:
            raise NotFoundError(f"unknown customer {customer_id!r}")
        day, probe = self.as_of(as_of), Probe(self, column)
        with sharing():
            return [name for name in sorted(self.segments) if self._in_segment(probe, name, day)]

    @locked
    def get_list(self, name: str) -> list[str]:
        return self.translator.to_keys(bitmap_columns(self.list_members(name))).tolist()

    @locked
    def list_names(self) -> list[str]:
        return sorted(self.lists)

    @locked
    def count_tiers(self, name: str, as_of: Day = None) -> list[tuple[str, int]]:
        """Customers per tier, each in the first tier it matches; the counts add up to the index size."""
        with sharing():  # tiers over the same lines share their measures: each tier costs a compare
            return statistics.tier_counts(self.registry.tiering(name), self.existence,
                                          lambda query: self._evaluate(query, as_of))

    # ── hot and trigger segments: the daily evaluation, history and changes ──
    @locked
    def daily_evaluation(self, day: dt.date) -> dict[str, Any]:
        """The members of every hot and trigger segment as of `day`, for `record_evaluation` (reads only)."""
        with sharing():
            segments = [[s.name, s.kind.value, self._evaluate(InSegment(s.name), day).serialize()]
                        for s in self.segments.values() if s.kind in TRACKED]
        return {"day": day_number(day), "segments": segments}

    @property
    def last_evaluated(self) -> dt.date | None:
        """The latest day a daily evaluation was recorded for."""
        return self.tracker.last_date

    @locked
    def history(self, segment: str, start: Day = None, end: Day = None) -> list[HistoryRow]:
        """The (day, size, entered, left) rows of a hot (or trigger) segment, by day, within [start, end]."""
        kind = self.registry.get(segment).kind
        return self.tracker.history(segment, optional_day(start, "start"), optional_day(end, "end"), kind)

    @locked
    def changes(self, segment: str, since: dt.date | str) -> ChangedIds:
        """Who entered and who left a trigger segment since the evaluation on `since` (or the last one before)."""
        changed = self.tracker.changes(segment, optional_day(since, "since"), self.registry.get(segment).kind)
        keys = self.translator.to_keys
        return ChangedIds(changed.since, changed.day, keys(bitmap_columns(changed.entered)).tolist(),
                          keys(bitmap_columns(changed.left)).tolist())

    # ── statistics ──
    @locked
    def stats(self, query: str | Node, as_of: Day = None) -> Stats:
        return statistics.stats(self._evaluate(query, as_of), self.existence, self.fields, self.builtins)

    @locked
    def breakdown(self, query: str | Node, field: str, top: int = 10, as_of: Day = None) -> list[tuple[str | None, int]]:
        """Members per value of a keyword, bool or tags field, largest first; None counts the NULLs."""
        found = statistics.breakdown_field(self.fields, field, top)
        return statistics.breakdown(self._evaluate(query, as_of), found, top)

    @locked
    def purchase_breakdown(self, query: str | Node, dimension: str, top: int = 10, as_of: Day = None, start: Day = None,
                           end: Day = None) -> list[tuple[str | None, int, Decimal]]:
        """Per value of a dimension, the members who bought it in [start, end] (never past as_of) and their net
        revenue from it there, largest first (stats.purchase_breakdown)."""
        day, low, high = self.as_of(as_of), optional_day(start, "start"), optional_day(end, "end")
        first = None if low is None else day_number(low)
        return statistics.purchase_breakdown(self.lines, dimension, self._evaluate(query, day), first,
                                             day_number(min(day, high or day)), top)

    @locked
    def values(self, field: str, prefix: str = "", limit: int = 0) -> list[tuple[str, int]]:
        """A profile field's values (customers having each) or a dimension's (customers with a purchase line
        having it), largest first, those starting with `prefix` (case-insensitive); `limit` 0 means 100."""
        limit = distinct.check_limit(limit)
        counts = distinct.field_values(self.fields, self.views, self.lines.dictionaries, field)
        return distinct.largest_first(counts, prefix, limit)

    @locked
    def buyers_per_day(self, start: dt.date | str, end: dt.date | str, query: str | Node | None = None,
                       as_of: Day = None) -> list[tuple[dt.date, int]]:
        """Customers with a purchase line on each day of [start, end], among the members of `query` if given."""
        first, last = day_number(self.as_of(start)), day_number(self.as_of(end))
        statistics.check_day_range(first, last)
        members = self._evaluate(query, as_of) if query is not None else None
        return statistics.buyers_per_day(self.views, first, last, members)

    # ── persistence hooks: the whole index as plain values, numpy arrays and bitmaps ──
    def state(self) -> dict:
        """Everything the index holds, for a snapshot (`from_state` is the inverse): each part's own state,
        under the part names that persistence/layout.py declares.

        The arrays and bitmaps are the live ones, not copies: read them while holding `write_lock` (the state
        does not move; readers go on, they change nothing in it).
        The order ids and line ids sit at the top, not inside `lines`, as parts of their own (index.orderids).
        """
        return {
            "translator": self.translator.state(),
            "existence": self.existence,
            "fields": {name: field.state() for name, field in self.fields.items()},
            "builtins": self.builtins.state(),
            "lines": self.lines.state(),
            "orders": self.lines.orders.state(),
            "line_ids": self.lines.line_ids.state(),
            "views": self.views.state(),
            "registry": self.registry.state(),
            "tracking": self.tracker.state(),
            "imports": self.imports.state(),
        }

    @classmethod
    def from_state(cls, schema: Schema, name: str, state: Mapping, limits: Limits = DEFAULT_LIMITS, *,
                   trigger_days: int = TRIGGER_DAYS) -> Index:
        """An index holding what `state()` returned; its arrays and bitmaps are adopted, not copied, so
        `state` must not be one that a live index still writes to.

        `state["orders"]` may be an older snapshot's order ids by code (a list, or a DeferredDictionary).
        """
        index = cls(schema, name, limits, trigger_days=trigger_days)
        index.translator = Translator.from_state(state["translator"])
        index.existence = state["existence"]
        index.fields = {n: type(f).from_state(state["fields"][n], f.kind) for n, f in index.fields.items()}
        index.builtins = Builtins.from_state(state["builtins"])
        index.lines = LineStore.from_state(state["lines"], schema.dimensions, OrderIds.from_state(state["orders"]))
        index.lines.line_ids = OrderIds.from_state(state.get("line_ids", []))  # none in snapshots before 2026-12
        index.views = TimeViews.from_state(state["views"], index.lines)
        index.registry = Registry.from_state(state["registry"], lambda query: index.compiler.checked(query)[0])
        index.tracker = Tracker.from_state(state["tracking"], trigger_days)
        index.imports = ImportLog.from_state(state.get("imports"))
        return index
