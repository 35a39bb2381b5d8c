"""The plain values bitseg.Client returns: small frozen dataclasses, no protobuf messages and no grpc import.

>>> stats = GroupStats(customers=2, orders=3, revenue=Decimal("30.00"), average_order_value=Decimal("10.00"),
...                    average_clv=Decimal("15.00"), presence_share={"email": 0.5})
>>> stats.revenue + 1
Decimal('31.00')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from bitseg.names import SegmentKind


@dataclass(frozen=True)
class IndexInfo:
    """One index: its schema, sizes and what it holds (segments and lists are filled by get_index only)."""

    name: str
    schema_toml: str
    timezone: str
    customers: int
    lines: int
    fields: dict[str, str]                  # profile fields, then built-ins: name → type
    dimensions: tuple[str, ...]
    segments: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    builtins: tuple[str, ...] = ()           # the names in `fields` that are built-in (orders, clv, …)
    shards: tuple[tuple[int, int], ...] = ()  # get_index on a sharded server: (customers, lines) per shard


@dataclass(frozen=True)
class RejectedRow:
    """A row the server refused: its row number (the line number in a CSV file) and why."""

    row: int
    message: str


@dataclass(frozen=True)
class IngestSummary:
    """What an upsert_profiles / add_purchases / import_csv stream did."""

    rows: int                                # received
    accepted: int
    rejected: int
    rejected_rows: tuple[RejectedRow, ...]   # the first 1,000
    batches: int
    customers: int                           # the index's customers after the stream
    lines: int                               # the index's purchase lines after the stream
    duplicates: int = 0                      # lines skipped: their `line` id was held already


@dataclass(frozen=True)
class Counted:
    """A count with its warnings: one per literal no customer (purchase line) has, naming the nearest values.

    >>> Counted(0, ("no customer has department 'shoes'; nearest: 'Shoes'",)).warnings[0][-7:]
    "'Shoes'"
    """

    count: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldValue:
    """One value of a field or dimension and its customers (for a dimension: those with a purchase line)."""

    value: str
    count: int


@dataclass(frozen=True)
class BreakdownRow:
    """One row of a breakdown: a value (None: customers without one) and its members; for a purchase dimension
    the members who bought it in the window, and `revenue`, their net revenue from it there (else None)."""

    value: str | None
    count: int
    revenue: Decimal | None = None


@dataclass(frozen=True)
class CountResult:
    """One selection's answer in count_batch: a count, or the error (with its status name) that selection got.

    >>> CountResult(count=0, error="unknown field 'colour'", code="INVALID_ARGUMENT").ok
    False
    """

    count: int
    error: str = ""
    code: str = ""
    line: int | None = None      # where in the query text the error is (1-based), when it is a query error
    column: int | None = None
    warnings: tuple[str, ...] = ()  # as in Counted

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class SavedSegment:
    """A saved segment with its canonical query text."""

    name: str
    query: str
    kind: SegmentKind = SegmentKind.STANDARD
    description: str = ""


@dataclass(frozen=True)
class GroupStats:
    """KPIs of one group of customers (SPEC §4); money is Decimal."""

    customers: int
    orders: int
    revenue: Decimal
    average_order_value: Decimal
    average_clv: Decimal
    presence_share: dict[str, float] = field(default_factory=dict)   # presence field → share with it set


@dataclass(frozen=True)
class Stats:
    """The members' KPIs and the rest's."""

    count: int
    members: GroupStats
    rest: GroupStats


@dataclass(frozen=True)
class HistoryDay:
    """One day of a hot segment's history."""

    day: dt.date
    size: int
    entered: int
    left: int
    backfilled: bool = False  # computed from the purchase history when the segment was saved with a backfill


@dataclass(frozen=True)
class Changes:
    """Who entered and left a trigger segment (one streamed chunk of the answer)."""

    entered: tuple[str, ...]
    left: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    """A snapshot on the server's disk; `created` is the server's ISO-8601 time text."""

    id: str
    created: str
    bytes: int
    indexes: tuple[str, ...]


# ── segment insight (SPEC §10) ────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class PlanStep:
    """One node of an explained plan (parents first): depth, canonical text, access path; with analyze, its
    count and milliseconds."""

    depth: int
    text: str
    access: str
    minus: bool = False
    count: int | None = None
    ms: float | None = None


@dataclass(frozen=True)
class PurchaseLine:
    day: dt.date
    amount: Decimal
    quantity: int
    order: str | None
    dimensions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WhyStep:
    """One node of the query for one customer: whether it holds, the values behind it, the lines it selected."""

    depth: int
    text: str
    holds: bool
    minus: bool = False
    values: tuple[str, ...] = ()
    lines: tuple[PurchaseLine, ...] = ()


@dataclass(frozen=True)
class Why:
    is_member: bool
    steps: tuple[WhyStep, ...]


@dataclass(frozen=True)
class Criterion:
    text: str
    count: int       # the criterion alone
    running: int     # criteria 1..i combined
    without: int     # the whole query without this criterion


@dataclass(frozen=True)
class CriteriaCounts:
    combinator: str
    total: int
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Overlap:
    sizes: tuple[int, ...]
    matrix: tuple[tuple[int, ...], ...]   # matrix[i][j]: customers in selections i and j


@dataclass(frozen=True)
class ChangeDay:
    """One evaluated day of a trigger segment (or part of it: `complete` marks its last message)."""

    day: dt.date
    entered: tuple[str, ...]
    left: tuple[str, ...]
    complete: bool = True
@dataclass(frozen=True)
class ServerInfo:
    """What `bitseg info` shows: the server, its indexes (name, customers, lines, memory bytes), its log and
    last snapshot, and the slowest recent calls (method, index, query cut short, ms, code, at)."""

    version: str
    uptime_seconds: float
    serving: bool
    data_dir: str
    indexes: tuple[dict, ...]
    log_bytes: int
    last_snapshot: Snapshot | None
    last_snapshot_outcome: str
    slowest: tuple[dict, ...]
