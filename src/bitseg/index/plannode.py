"""The base of every plan node (`plan.py`), and the wording shared by their access paths."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bitseg import days
from bitseg.query import expressions as ex
from bitseg.query.printer import to_text


@dataclass(frozen=True)
class PlanNode:
    source: ex.Node | None = field(default=None, compare=False, repr=False, kw_only=True)  # for its text only

    def children(self) -> tuple[PlanNode, ...]:
        """The nodes whose bitmaps this one combines, in the order they run."""
        return ()

    def access(self) -> str:
        """How the bitmap is found, for Explain."""
        raise NotImplementedError

    def text(self) -> str:
        return to_text(self.source) if self.source is not None else ""

    def cost(self) -> int:
        """This node's own estimated work (not its children's), in work units: about one per value read."""
        return 1



def counted(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def line_count(slices: Iterable[tuple[int, int]]) -> int:
    """How many lines the (start, end) position slices hold."""
    return sum(end - start for start, end in slices)


def day_span(low: int | None, high: int | None) -> str:
    if low is None:
        return "all days" if high is None else f"days up to {days.day_date(high)}"
    return f"days from {days.day_date(low)}" if high is None else f"days {days.day_date(low)} to {days.day_date(high)}"
