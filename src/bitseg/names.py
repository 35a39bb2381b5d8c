"""What the catalog names: the name rule for indexes, segments, lists and tierings, and the segment kinds.

>>> check_name("gold_2026", "segment"), SegmentKind("hot").tracked, SegmentKind.STANDARD.tracked
('gold_2026', True, False)
"""

from __future__ import annotations

import re
from enum import StrEnum

from bitseg.errors import InvalidInputError

NAME = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


def check_name(name: object, what: str) -> str:
    """`name` when it follows the rule, else InvalidInputError saying what is named and the rule."""
    if not isinstance(name, str) or not NAME.match(name):
        shown = name if not isinstance(name, str) or len(name) <= 80 else name[:80] + "…"
        raise InvalidInputError(f"{what} name {shown!r} is not valid: use 1 to 64 of A-Z a-z 0-9 _ -")
    return name


class SegmentKind(StrEnum):
    """standard: campaigns; trigger: who entered or left since a day; hot: a daily size history (SPEC §3)."""

    STANDARD = "standard"
    TRIGGER = "trigger"
    HOT = "hot"

    @property
    def tracked(self) -> bool:
        """Evaluated at every daily snapshot (a history row, kept members)."""
        return self is not SegmentKind.STANDARD

    @classmethod
    def of(cls, kind: str | SegmentKind) -> SegmentKind:
        """The kind named `kind`, or InvalidInputError listing the kinds."""
        try:
            return cls(kind)
        except ValueError:
            raise InvalidInputError(f"segment kind {kind!r} must be one of "
                                    f"{', '.join(k.value for k in cls)}") from None
