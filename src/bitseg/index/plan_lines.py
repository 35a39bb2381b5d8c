"""The plan nodes that read purchase lines: a scan of a window, line bitmaps, month roll-ups (see `plan.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bitseg.index.plannode import PlanNode, counted, day_span, line_count


@dataclass(frozen=True)
class DimCodes:
    """A line filter: the line's `dim` code is in `codes` (-1 for NULL); the dictionary holds `size` values."""

    dim: str
    codes: frozenset[int]
    size: int


@dataclass(frozen=True)
class DayCompare:
    """A line filter kept when a `date != d` leaves no window: `day op value`."""

    op: str
    day: int


@dataclass(frozen=True)
class MeasureTest:
    """A measure over the matching lines against a threshold in stored units."""

    measure: str
    op: str
    threshold: int | Decimal


@dataclass(frozen=True)
class LineScan(PlanNode):
    """One pass over the lines of `slices`: same-line filters, then the measures per customer (if any)."""

    low_day: int | None
    high_day: int | None
    slices: tuple[tuple[int, int], ...]
    filters: tuple[DimCodes | DayCompare, ...]
    measures: tuple[MeasureTest, ...]

    @property
    def lines(self) -> int:
        return line_count(self.slices)

    def access(self) -> str:
        return f"scan of {counted(self.lines, 'line')}, {day_span(self.low_day, self.high_day)}"

    def cost(self) -> int:
        # a pass over the lines per filter and per measure (a measure counting orders or days sorts them)
        return self.lines * (1 + len(self.filters) + 2 * len(self.measures))


@dataclass(frozen=True)
class LineBitmaps(PlanNode):
    """The lines of `slices` whose dimensions pass every filter, found by ANDing per-value line bitmaps
    (`postings.py`); then the measures per customer over those lines only (if any). `estimate` is the fewest
    lines one filter lets through in the window: at most that many are read."""

    low_day: int | None
    high_day: int | None
    slices: tuple[tuple[int, int], ...]
    filters: tuple[DimCodes, ...]
    measures: tuple[MeasureTest, ...]
    estimate: int

    def access(self) -> str:
        what = " ∩ ".join(f"{f.dim} {counted(len(f.codes), 'value')}" for f in self.filters)
        window = line_count(self.slices)
        return (f"line bitmaps: {what} ∩ {day_span(self.low_day, self.high_day)}, "
                f"at most {self.estimate:,} of {counted(window, 'line')}")



@dataclass(frozen=True)
class MonthRollup(PlanNode):
    """The customers whose lines passing `filters` in the window satisfy `measures` (sums only; none: a
    purchase line), from the month roll-ups (`rollups.py`) of `dims` for the months first_month..last_month
    (months since January 1970), which the window covers whole, and from the lines of `edges` (the window's
    days outside those months) by line bitmaps. `codes` holds, per dimension of `dims`, the codes a line needs."""

    low_day: int | None
    high_day: int | None
    dims: tuple[str, ...]
    codes: tuple[frozenset[int], ...]
    first_month: int
    last_month: int
    edges: tuple[tuple[int, int], ...]  # line slices of the edge days
    filters: tuple[DimCodes, ...]
    measures: tuple[MeasureTest, ...]

    def access(self) -> str:
        what = ", ".join(f"{dim} {counted(len(codes), 'value')}" for dim, codes in zip(self.dims, self.codes))
        months = (f"{counted(self.last_month - self.first_month + 1, 'month')} from {_month(self.first_month)}"
                  if self.low_day is not None else f"months up to {_month(self.last_month)}")
        edges = line_count(self.edges)
        lines = f", line bitmaps for the {counted(edges, 'line')} of the edge days" if edges else ""
        return f"month roll-up: {what or 'any line'}, {months}{lines}; {day_span(self.low_day, self.high_day)}"

    def cost(self) -> int:
        return 1 + line_count(self.edges)


def _month(month: int) -> str:
    year, at = divmod(month, 12)
    return f"{1970 + year}-{at + 1:02}"
