"""The index: one customer universe — its fields, purchase lines, time views, segments, lists and tierings.

Every public method holds the index lock, so a reader never sees half a batch.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from pyroaring import BitMap

from bitseg.days import day_date, day_number, optional_day
from bitseg.errors import AlreadyExistsError, InvalidInputError, NotFoundError, QueryError
from bitseg.index import ingest
from bitseg.index.bitmaps import columns as bitmap_columns
from bitseg.index.bitmaps import from_sorted
from bitseg.index.executor import evaluate
from bitseg.index.fields import Field, NumberField, TagsField, ValueField, make_field
from bitseg.index.lines import Dictionary, LineStore
from bitseg.index.translate import Translator
from bitseg.index.values import DECIMAL_SCALE
from bitseg.index.views import ANY, TimeViews
from bitseg.names import SegmentKind, check_name
from bitseg.query.compiler import Compiler
from bitseg.query.expressions import InSegment, Node, walk
from bitseg.query.limits import DEFAULT_LIMITS, Limits
from bitseg.query.printer import to_text
from bitseg.query.rewrite import normalize
from bitseg.schema import FieldType, Schema

_NO_DAY = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Segment:
    name: str
    query: str
    kind: SegmentKind = SegmentKind.STANDARD
    description: str = ""


@dataclass(frozen=True)
class Tiering:
    name: str
    tiers: tuple[tuple[str, str], ...]
    default: str


@dataclass(frozen=True)
class GroupStats:
    customers: int
    orders: int
    revenue: Decimal
    average_order_value: Decimal
    average_clv: Decimal
    presence: dict[str, float]


@dataclass(frozen=True)
class Stats:
    count: int
    members: GroupStats
    rest: GroupStats


def locked(method: Callable) -> Callable:
    @functools.wraps(method)
    def wrapper(self: Index, *args, **kwargs):
        with self.lock:
            return method(self, *args, **kwargs)
    return wrapper


class Index:
    """One customer universe.

    >>> idx = Index.from_toml('[profile]\\ncountry = "keyword"\\n[purchase]\\nbrand = "keyword"')
    >>> idx.upsert_profiles([{"customer": "c1", "country": "NL"}, {"customer": "c2", "country": "BE"}])
    2
    >>> idx.add_purchases([{"customer": "c2", "time": "2026-01-05", "amount": "59.90", "brand": "Levi's"}])
    1
    >>> idx.members("purchases MATCHES (brand = 'Levi''s') OR country = 'NL'", as_of=dt.date(2026, 2, 1))
    ['c1', 'c2']
    """

    def __init__(self, schema: Schema, name: str = "default", limits: Limits = DEFAULT_LIMITS) -> None:
        self.name = name
        self.schema = schema
        self.limits = limits
        self.lock = threading.RLock()
        self.translator = Translator()
        self.existence = BitMap()
        self.fields: dict[str, Field] = {name: make_field(kind) for name, kind in schema.profile.items()}
        self.builtins: dict[str, NumberField] = {
            "orders": NumberField(FieldType.INT), "clv": NumberField(FieldType.DECIMAL),
            "first_purchase_date": NumberField(FieldType.DATE), "last_purchase_date": NumberField(FieldType.DATE),
        }
        self.order_pairs = np.empty(0, dtype=np.int64)  # sorted column << 32 | order key of purchase lines
        self.lines = LineStore(schema.dimensions)
        self.views = TimeViews(self.lines)
        self.segments: dict[str, Segment] = {}
        self._segment_trees: dict[str, Node] = {}
        self.lists: dict[str, BitMap] = {}
        self.tierings: dict[str, Tiering] = {}
        self.version = 0  # counts writes; cached segment bitmaps are valid for one version
        self._cache: dict[tuple[str, dt.date], BitMap] = {}
        self._cache_version = -1
        self._month_days: dict[str, tuple[int, np.ndarray, np.ndarray]] = {}
        self.compiler = Compiler(schema, limits)  # caches the normalised tree of each query text

    @classmethod
    def from_toml(cls, text: str, name: str = "default") -> Index:
        return cls(Schema.from_toml(text), name)

    # ── sizes ──
    @property
    def customer_count(self) -> int:
        return len(self.existence)

    @property
    def line_count(self) -> int:
        return self.lines.size

    @property
    def column_count(self) -> int:
        return self.translator.size

    def field(self, name: str) -> Field:
        return self.fields.get(name) or self.builtins[name]

    def month_days(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(columns with a value, month * 32 + day of each) for a date field; kept until the next write."""
        found = self._month_days.get(name)
        if found is None or found[0] != self.version:
            field = self.field(name)
            present = bitmap_columns(field.present)
            days = field.values[present].astype("datetime64[D]")  # type: ignore[attr-defined]
            months = days.astype("datetime64[M]")
            month_day = (months.astype(np.int64) % 12 + 1) * 32 + (days - months).astype(np.int64) + 1
            found = self._month_days[name] = (self.version, present, month_day)
        return found[1], found[2]

    def today(self) -> dt.date:
        return dt.datetime.now(self.schema.zone).date()

    # ── writes ──
    def _written(self) -> None:
        self.version += 1

    def _admit(self, columns: np.ndarray) -> None:
        """Make sure `columns` exist as customers (new ones with an empty profile)."""
        arrived = from_sorted(np.unique(columns))
        self.existence |= arrived
        for name in ("orders", "clv"):
            self.builtins[name].present |= arrived  # 0, not NULL, for customers who never bought
        for field in self.builtins.values():
            field.reserve(self.translator.size)

    @locked
    def upsert_profiles(self, rows: Iterable[Mapping[str, object]], rejects: list | None = None,
                        first_row: int = 1) -> int:
        """Set the fields each row names (None or "" clears one); returns the rows applied."""
        columns, size = ingest.rows_to_columns(rows)
        return self._upsert(columns, size, rejects, first_row)

    @locked
    def upsert_profile_columns(self, columns: Mapping[str, Sequence | np.ndarray], rejects: list | None = None,
                               first_row: int = 1) -> int:
        size = len(columns["customer"]) if "customer" in columns else 0
        return self._upsert(columns, size, rejects, first_row)

    def _upsert(self, columns: Mapping, size: int, rejects: list | None, first_row: int) -> int:
        if size == 0:
            return 0
        batch = ingest.Batch(size, first_row)
        customers, parsed = ingest.profile_columns(columns, self.schema, batch)
        good = batch.settle(rejects)
        keep = np.flatnonzero(good)
        if len(keep) == 0:
            return 0
        all_columns = self.translator.to_columns([customers[i] for i in keep.tolist()])
        self._admit(all_columns)
        for name, (values, given) in parsed.items():
            rows = keep[given[keep]]
            columns_here = all_columns[given[keep]]
            # the last row of a batch wins for a customer named twice
            _, last = np.unique(columns_here[::-1], return_index=True)
            chosen = np.sort(len(columns_here) - 1 - last)
            field = self.fields[name]
            picked = rows[chosen]
            if isinstance(field, NumberField):
                numbers, is_set = values
                field.set(columns_here[chosen], (numbers[picked], is_set[picked]))
            else:
                field.set(columns_here[chosen], [values[i] for i in picked.tolist()])  # type: ignore[attr-defined]
        self._written()
        return len(keep)

    @locked
    def add_purchases(self, rows: Iterable[Mapping[str, object]], rejects: list | None = None,
                      first_row: int = 1) -> int:
        """Add purchase lines given as rows; returns the lines added."""
        columns, _ = ingest.rows_to_columns(rows)
        return self.add_purchase_columns(columns, rejects, first_row)

    @locked
    def add_purchase_columns(self, columns: Mapping[str, Sequence | np.ndarray], rejects: list | None = None,
                             first_row: int = 1) -> int:
        """Add purchase lines given as columns (the fast path: numpy arrays); returns the lines added."""
        size = len(columns["customer"]) if "customer" in columns else 0
        if size == 0:
            return 0
        batch = ingest.Batch(size, first_row)
        parsed = ingest.purchase_columns(columns, self.schema, self.lines, batch)
        good = batch.settle(rejects)
        if not good.all():
            keep = np.flatnonzero(good).tolist()
            customers = parsed["customer"]
            parsed = {
                "customer": (ingest.Coded(customers.codes[good], customers.values)
                             if isinstance(customers, ingest.Coded) else [customers[i] for i in keep]),
                "day": parsed["day"][good],
                "amount": parsed["amount"][good], "quantity": parsed["quantity"][good],
                "order": parsed["order"][good],
                "dimensions": {dim: codes[good] for dim, codes in parsed["dimensions"].items()},
            }
        if len(parsed["customer"]) == 0:
            return 0
        self._append_lines(parsed)
        self._written()
        return len(parsed["customer"])

    def _append_lines(self, parsed: dict) -> None:
        customers = parsed["customer"]
        if isinstance(customers, ingest.Coded):
            columns = customers.remap(self.translator.to_columns(list(customers.values))).astype(np.uint32)
        else:
            columns = self.translator.to_columns(customers)
        self._admit(columns)
        days = parsed["day"].astype(np.int32)
        codes = parsed["dimensions"]
        orders = self.lines.order_keys(parsed["order"], days)
        self.lines.append({"column": columns, "day": days, "amount": parsed["amount"],
                           "quantity": parsed["quantity"], "order": orders, **codes})
        purchase = parsed["quantity"] > 0
        self.views.add(columns[purchase], days[purchase], {dim: c[purchase] for dim, c in codes.items()})
        self._update_builtins(columns, days, parsed["amount"], purchase, orders)

    def _update_builtins(self, columns: np.ndarray, days: np.ndarray, amounts: np.ndarray, purchase: np.ndarray,
                         orders: np.ndarray) -> None:
        size = self.translator.size
        clv = self.builtins["clv"]
        clv.values[:size] += np.rint(np.bincount(columns, weights=amounts, minlength=size)).astype(np.int64)
        buyers, inverse = np.unique(columns[purchase], return_inverse=True)
        if len(buyers) == 0:
            return
        for name, reduce, start in (("first_purchase_date", np.minimum, _NO_DAY),
                                    ("last_purchase_date", np.maximum, -_NO_DAY)):
            field = self.builtins[name]
            found = np.full(len(buyers), start, dtype=np.int64)
            reduce.at(found, inverse, days[purchase])
            # which buyers had a date before: O(batch), not a mask over every customer
            had = np.isin(buyers, bitmap_columns(field.present & from_sorted(buyers)), assume_unique=True)
            field.values[buyers] = np.where(had, reduce(field.values[buyers], found), found)
            field.present |= from_sorted(buyers)
        pairs = np.unique(columns[purchase].astype(np.int64) << 32 | orders[purchase])
        at = np.searchsorted(self.order_pairs, pairs)
        known = np.zeros(len(pairs), dtype=bool)
        inside = at < len(self.order_pairs)
        known[inside] = self.order_pairs[at[inside]] == pairs[inside]
        fresh = pairs[~known]
        self.builtins["orders"].values[:size] += np.bincount(fresh >> 32, minlength=size)
        self.order_pairs = np.sort(np.concatenate((self.order_pairs, fresh)), kind="stable")

    @locked
    def delete_customers(self, ids: Iterable[str]) -> int:
        """Erase customers everywhere (privacy erasure); returns how many existed."""
        gone = BitMap(self.translator.remove(ids))
        if not gone:
            return 0
        self.existence -= gone
        for field in [*self.fields.values(), *self.builtins.values()]:
            field.erase(gone)
        self.lines.erase(gone)
        self.views.erase(gone)
        for members in self.lists.values():
            members -= gone
        keep = ~np.isin(self.order_pairs >> 32, bitmap_columns(gone))
        self.order_pairs = self.order_pairs[keep]
        self._written()
        return len(gone)

    # ── queries ──
    def as_of(self, as_of: dt.date | str | None) -> dt.date:
        """The evaluation day: `as_of` as a day, or today in the index zone when not given."""
        return optional_day(as_of, "as_of") or self.today()

    def _evaluate(self, query: str | Node, as_of: dt.date | str | None) -> BitMap:
        tree, text = self.compiler.normalized(query)
        result = evaluate(tree, self, self.as_of(as_of), text)
        return result & self.existence  # a fresh bitmap, never a stored one

    @locked
    def evaluate(self, query: str | Node, as_of: dt.date | str | None = None) -> BitMap:
        """The columns of the customers matching `query` on day `as_of` (default: today in the index zone)."""
        return self._evaluate(query, as_of)

    @locked
    def count(self, query: str | Node, as_of: dt.date | str | None = None) -> int:
        return len(self._evaluate(query, as_of))

    def members(self, query: str | Node, as_of: dt.date | str | None = None, after: str | None = None,
                limit: int | None = None) -> list[str]:
        """External ids of the members, in column order, after the id `after`, at most `limit`."""
        return [key for chunk in self.iter_member_chunks(query, as_of, after, limit, 1 << 20) for key in chunk]

    def iter_member_chunks(self, query: str | Node, as_of: dt.date | str | None = None, after: str | None = None,
                           limit: int | None = None, chunk_size: int = 10_000) -> Iterator[list[str]]:
        if chunk_size < 1:
            raise InvalidInputError(f"chunk_size must be positive, not {chunk_size}")
        if limit is not None and limit < 0:
            raise InvalidInputError(f"limit must not be negative, not {limit}")
        with self.lock:
            columns = bitmap_columns(self._evaluate(query, as_of))
            if after:
                column = self.translator.column(after)
                if column is None:
                    raise NotFoundError(f"unknown customer {after!r} given as the resume point (after)")
                columns = columns[np.searchsorted(columns, np.uint32(column), side="right"):]
            if limit:
                columns = columns[:limit]
            keys = self.translator.to_keys(columns)
        return (keys[i: i + chunk_size].tolist() for i in range(0, len(keys), chunk_size))

    # ── saved segments ──
    def segment_tree(self, name: str) -> Node:
        tree = self._segment_trees.get(name)
        if tree is None:
            raise NotFoundError(f"unknown segment {name!r}")
        return tree

    def cached_segment(self, name: str, as_of: dt.date, compute: Callable[[], BitMap]) -> BitMap:
        if self._cache_version != self.version:
            self._cache.clear()
            self._cache_version = self.version
        found = self._cache.get((name, as_of))
        if found is None:
            found = self._cache[(name, as_of)] = compute()
        return found

    @locked
    def save_segment(self, name: str, query: str | Node, kind: str | SegmentKind = SegmentKind.STANDARD,
                     description: str = "") -> Segment:
        """Create or replace a saved segment; refuses a definition that makes a reference cycle."""
        check_name(name, "segment")
        kind = SegmentKind.of(kind)
        tree, text = self.compiler.checked(query)
        self._check_references(name, tree, text)
        segment = Segment(name, to_text(tree), kind, description)
        self.segments[name] = segment
        self._segment_trees[name] = normalize(tree)
        self._written()
        return segment

    def _check_references(self, name: str, tree: Node, text: str) -> None:
        def visit(node: Node, path: list[str]) -> None:
            for ref in (n for n in walk(node) if isinstance(n, InSegment)):
                if ref.name in path:
                    chain = " → ".join([*path, ref.name])
                    raise QueryError(f"segment reference cycle: {chain}", text=text,
                                     offset=ref.pos if ref.pos >= 0 and node is tree else None)
                target = tree if ref.name == name else self._segment_trees.get(ref.name)
                if target is None:
                    raise NotFoundError(f"unknown segment {ref.name!r}")
                visit(target, [*path, ref.name])
        visit(tree, [name])

    @locked
    def get_segment(self, name: str) -> Segment:
        self.segment_tree(name)
        return self.segments[name]

    @locked
    def list_segments(self) -> list[Segment]:
        return sorted(self.segments.values(), key=lambda s: s.name)

    @locked
    def delete_segment(self, name: str) -> None:
        self.segment_tree(name)
        users = [s for s, tree in self._segment_trees.items()
                 if s != name and any(isinstance(n, InSegment) and n.name == name for n in walk(tree))]
        if users:
            raise InvalidInputError(f"segment {name!r} is used by {', '.join(sorted(users))}; delete those first")
        del self.segments[name], self._segment_trees[name]
        self._written()

    @locked
    def check_membership(self, customer_id: str, segments: Sequence[str],
                         as_of: dt.date | str | None = None) -> list[bool]:
        for name in segments:
            self.segment_tree(name)
        column = self.translator.column(customer_id)
        if column is None:
            return [False] * len(segments)
        day = self.as_of(as_of)
        return [column in self._segment_members(name, day) for name in segments]

    def _segment_members(self, name: str, day: dt.date) -> BitMap:
        # a cache hit needs no plan: CustomerSegments asks every segment
        return self.cached_segment(name, day, lambda: evaluate(InSegment(name), self, day, self.segments[name].query))

    @locked
    def customer_segments(self, customer_id: str, as_of: dt.date | str | None = None) -> list[str]:
        column = self.translator.column(customer_id)
        if column is None:
            raise NotFoundError(f"unknown customer {customer_id!r}")
        day = self.as_of(as_of)
        return [name for name in sorted(self.segments) if column in self._segment_members(name, day)]

    # ── static lists ──
    def list_members(self, name: str) -> BitMap:
        found = self.lists.get(name)
        if found is None:
            raise NotFoundError(f"unknown list {name!r}")
        return found

    @locked
    def update_list(self, name: str, add: Iterable[str] = (), remove: Iterable[str] = (),
                    replace: Iterable[str] | None = None) -> int:
        """Change a static list (created when new); unknown customers added are created. Returns its size."""
        check_name(name, "list")
        members = BitMap() if replace is not None else self.lists.get(name, BitMap())
        for ids, adding in ((replace or (), True), (add, True), (remove, False)):
            ids = [str(i) for i in ids]
            if not ids:
                continue
            if adding:
                columns = self.translator.to_columns(ids)
                self._admit(columns)
                members |= from_sorted(np.unique(columns))
            else:
                found = self.translator.to_columns(ids, create=False)
                members -= from_sorted(np.unique(found[found >= 0]).astype(np.uint32))
        self.lists[name] = members
        self._written()
        return len(members)

    @locked
    def get_list(self, name: str) -> list[str]:
        members = self.lists.get(name)
        if members is None:
            raise NotFoundError(f"unknown list {name!r}")
        return self.translator.to_keys(bitmap_columns(members)).tolist()

    @locked
    def list_names(self) -> list[str]:
        return sorted(self.lists)

    # ── tierings ──
    @locked
    def save_tiering(self, name: str, tiers: Sequence[tuple[str, str | Node]], default: str) -> Tiering:
        check_name(name, "tiering")
        names = [tier for tier, _ in tiers] + [default]
        if any(not tier for tier in names) or len(set(names)) != len(names):
            raise InvalidInputError("tier names must be non-empty and distinct (the default tier included)")
        checked = tuple((tier, to_text(self.compiler.checked(query)[0])) for tier, query in tiers)
        tiering = Tiering(name, checked, default)
        self.tierings[name] = tiering
        self._written()
        return tiering

    @locked
    def count_tiers(self, name: str, as_of: dt.date | str | None = None) -> list[tuple[str, int]]:
        """Customers per tier, each in the first tier it matches; the counts add up to the index size."""
        tiering = self.tierings.get(name)
        if tiering is None:
            raise NotFoundError(f"unknown tiering {name!r}")
        remaining = BitMap(self.existence)
        counts = []
        for tier, query in tiering.tiers:
            members = self._evaluate(query, as_of) & remaining
            remaining -= members
            counts.append((tier, len(members)))
        return counts + [(tiering.default, len(remaining))]

    # ── statistics ──
    def _group(self, members: BitMap) -> GroupStats:
        columns = bitmap_columns(members)
        customers = len(columns)
        orders = int(self.builtins["orders"].values[columns].sum())
        revenue = Decimal(int(self.builtins["clv"].values[columns].sum())) / DECIMAL_SCALE
        presence = {name: (field.present.intersection_cardinality(members) / customers if customers else 0.0)
                    for name, field in self.fields.items() if field.kind is FieldType.PRESENCE}
        return GroupStats(customers, orders, revenue,
                          (revenue / orders).quantize(Decimal("0.01")) if orders else Decimal(0),
                          (revenue / customers).quantize(Decimal("0.01")) if customers else Decimal(0), presence)

    @locked
    def stats(self, query: str | Node, as_of: dt.date | str | None = None) -> Stats:
        members = self._evaluate(query, as_of)
        return Stats(len(members), self._group(members), self._group(self.existence - members))

    @locked
    def breakdown(self, query: str | Node, field: str, top: int = 10,
                  as_of: dt.date | str | None = None) -> list[tuple[str | None, int]]:
        """Members per value of a keyword, bool or tags field, largest first; None counts the NULLs."""
        found = self.fields.get(field)
        if not isinstance(found, ValueField | TagsField):
            raise InvalidInputError(f"breakdown needs a keyword, bool or tags field; {field!r} is "
                                    + (f"a {found.kind.value} field" if found else "not a profile field"))
        if top < 1:
            raise InvalidInputError(f"top must be positive, not {top}")
        members = self._evaluate(query, as_of)
        counts: list[tuple[str | None, int]] = [
            (str(value).lower() if isinstance(value, bool) else str(value), row.intersection_cardinality(members))
            for value, row in found.rows.items()]
        counts.append((None, members.difference_cardinality(found.present)))
        counts = [c for c in counts if c[1] > 0]
        counts.sort(key=lambda c: (-c[1], c[0] is None, c[0] or ""))
        return counts[:top]

    @locked
    def buyers_per_day(self, start: dt.date | str, end: dt.date | str, query: str | Node | None = None,
                       as_of: dt.date | str | None = None) -> list[tuple[dt.date, int]]:
        """Customers with a purchase line on each day of [start, end], among the members of `query` if given."""
        first, last = day_number(self.as_of(start)), day_number(self.as_of(end))
        if last < first or last - first > 3660:
            raise InvalidInputError("buyers per day needs start <= end and at most 3661 days")
        members = self._evaluate(query, as_of) if query is not None else None
        view = self.views.views.get((ANY, 0))
        out = []
        for day in range(first, last + 1):
            buyers = view.days.get(day) if view else None
            count = 0 if buyers is None else (
                len(buyers) if members is None else buyers.intersection_cardinality(members))
            out.append((day_date(day), count))
        return out

    # ── persistence hooks: the whole index as plain values, numpy arrays and bitmaps ──
    def state(self) -> dict:
        """Everything the index holds, for a snapshot (`from_state` is the inverse): each part's own state.

        The arrays and bitmaps are the live ones, not copies: read them while holding `lock`.
        The order ids sit at the top, not inside `lines`: start-up may hand them back as a Dictionary that is
        built in the background (persistence.deferred).
        """
        return {
            "translator": self.translator.state(),
            "existence": self.existence,
            "fields": {name: field.state() for name, field in self.fields.items()},
            "builtins": {name: field.state() for name, field in self.builtins.items()},
            "order_pairs": self.order_pairs,
            "lines": self.lines.state(),
            "orders": self.lines.orders.state(),
            "views": self.views.state(),
            "segments": [(s.name, s.query, s.kind, s.description) for s in self.segments.values()],
            "lists": self.lists,
            "tierings": [(t.name, [list(tier) for tier in t.tiers], t.default) for t in self.tierings.values()],
        }

    @classmethod
    def from_state(cls, schema: Schema, name: str, state: Mapping, limits: Limits = DEFAULT_LIMITS) -> Index:
        """An index holding what `state()` returned; its arrays and bitmaps are adopted, not copied, so
        `state` must not be one that a live index still writes to.

        `state["orders"]` may be a Dictionary already (a large index's order ids, built in the background).
        """
        index = cls(schema, name, limits)
        index.translator = Translator.from_state(state["translator"])
        index.existence = state["existence"]
        index.fields = {n: type(f).from_state(state["fields"][n], f.kind) for n, f in index.fields.items()}
        index.builtins = {n: NumberField.from_state(state["builtins"][n], f.kind)
                          for n, f in index.builtins.items()}
        index.order_pairs = np.asarray(state["order_pairs"], dtype=np.int64)
        orders = state["orders"]
        orders = orders if isinstance(orders, Dictionary) else Dictionary.from_state(orders)
        index.lines = LineStore.from_state(state["lines"], schema.dimensions, orders)
        index.views = TimeViews.from_state(state["views"], index.lines)
        for segment_name, query, kind, description in state["segments"]:
            tree, _ = index.compiler.normalized(query)
            index.segments[segment_name] = Segment(segment_name, query, kind, description)
            index._segment_trees[segment_name] = tree
        index.lists = dict(state["lists"])
        index.tierings = {t: Tiering(t, tuple((tier, query) for tier, query in tiers), default)
                          for t, tiers, default in state["tierings"]}
        return index


class Catalog:
    """The indexes a server holds, by name."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.indexes: dict[str, Index] = {}
        self.lock = threading.Lock()

    def create_index(self, name: str, schema_toml: str) -> Index:
        check_name(name, "index")
        schema = Schema.from_toml(schema_toml)
        with self.lock:
            if name in self.indexes:
                raise AlreadyExistsError(f"index {name!r} already exists")
            index = self.indexes[name] = Index(schema, name, self.limits)
        return index

    def drop_index(self, name: str) -> None:
        with self.lock:
            if self.indexes.pop(name, None) is None:
                raise NotFoundError(f"unknown index {name!r}")

    def get(self, name: str) -> Index:
        index = self.indexes.get(name)
        if index is None:
            raise NotFoundError(f"unknown index {name!r}")
        return index

    def names(self) -> list[str]:
        return sorted(self.indexes)
