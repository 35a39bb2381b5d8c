"""Saved segments (with their reference checks), static lists and tierings of one index, and their state.

The registry holds definitions only: the index checks a query against its schema before it gets here, and
evaluates what it holds.

>>> from bitseg.query.parser import parse
>>> registry = Registry()
>>> registry.save("a", parse("vip = true")).query
'vip = TRUE'
>>> registry.check("b", parse("IN SEGMENT 'a'"), "IN SEGMENT 'a'")
>>> registry.save("b", parse("IN SEGMENT 'a'")).kind
<SegmentKind.STANDARD: 'standard'>
>>> registry.delete("a")
Traceback (most recent call last):
bitseg.errors.InvalidInputError: segment 'a' is used by b; delete those first
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyroaring import BitMap

from bitseg.errors import InvalidInputError, NotFoundError, QueryError
from bitseg.names import SegmentKind, check_name
from bitseg.query.expressions import InSegment, Node, walk
from bitseg.query.printer import to_text
from bitseg.query.rewrite import normalize


@dataclass(frozen=True)
class Segment:
    """A saved segment: its canonical query text and, for callers that need the tree, the checked tree."""

    name: str
    query: str
    kind: SegmentKind = SegmentKind.STANDARD
    description: str = ""
    tree: Node | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Tiering:
    name: str
    tiers: tuple[tuple[str, str], ...]
    default: str


class Registry:
    """Segments by name (with their normalised trees), static lists (bitmaps of columns) and tierings."""

    def __init__(self) -> None:
        self.segments: dict[str, Segment] = {}
        self.trees: dict[str, Node] = {}
        self.lists: dict[str, BitMap] = {}
        self.tierings: dict[str, Tiering] = {}

    # ── segments ──
    def tree(self, name: str) -> Node:
        """The tree of a saved segment, as evaluated."""
        tree = self.trees.get(name)
        if tree is None:
            raise NotFoundError(f"unknown segment {name!r}")
        return tree

    def get(self, name: str) -> Segment:
        self.tree(name)
        return self.segments[name]

    def all(self) -> list[Segment]:
        return sorted(self.segments.values(), key=lambda s: s.name)

    def save(self, name: str, tree: Node, kind: str | SegmentKind = SegmentKind.STANDARD,
             description: str = "") -> Segment:
        """Create or replace a segment from a checked tree that `check` accepted (a write checks in its prepare
        step and saves in its publish step, which must not fail). The Segment keeps the tree for callers that
        want one (it prints as its canonical text).
        """
        kind = SegmentKind.of(kind)
        segment = Segment(name, to_text(tree), kind, description, tree)
        self.segments[name] = segment
        self.trees[name] = normalize(tree)
        return segment

    def check(self, name: str, tree: Node, text: str) -> None:
        """Refuse what `save` would refuse (a bad name, an unknown reference, a cycle), changing nothing."""
        check_name(name, "segment")
        self._check_references(name, tree, text)

    def _check_references(self, name: str, tree: Node, text: str) -> None:
        def visit(node: Node, path: list[str]) -> None:
            for ref in (n for n in walk(node) if isinstance(n, InSegment)):
                if ref.name in path:
                    chain = " → ".join([*path, ref.name])
                    raise QueryError(f"segment reference cycle: {chain}", text=text,
                                     offset=ref.pos if ref.pos >= 0 and node is tree else None)
                target = tree if ref.name == name else self.trees.get(ref.name)
                if target is None:
                    raise NotFoundError(f"unknown segment {ref.name!r}")
                visit(target, [*path, ref.name])
        visit(tree, [name])

    def delete(self, name: str) -> None:
        """Remove a segment no other segment refers to."""
        self.check_delete(name)
        del self.segments[name], self.trees[name]

    def check_delete(self, name: str) -> None:
        """Refuse what `delete` would refuse (an unknown segment, one in use), changing nothing."""
        self.tree(name)
        users = [s for s, tree in self.trees.items()
                 if s != name and any(isinstance(n, InSegment) and n.name == name for n in walk(tree))]
        if users:
            raise InvalidInputError(f"segment {name!r} is used by {', '.join(sorted(users))}; delete those first")

    # ── static lists ──
    def list_members(self, name: str) -> BitMap:
        """The columns of a static list (the live bitmap)."""
        members = self.lists.get(name)
        if members is None:
            raise NotFoundError(f"unknown list {name!r}")
        return members

    def erase(self, gone: BitMap) -> None:
        """Erased customers leave every static list."""
        for members in self.lists.values():
            members -= gone

    # ── tierings ──
    def save_tiering(self, name: str, tiers: Sequence[tuple[str, str | Node]], default: str,
                     canonical: Callable[[str | Node], str]) -> Tiering:
        """Create or replace a tiering; `canonical` checks a tier's query and gives its canonical text."""
        tiering = self.make_tiering(name, tiers, default, canonical)
        self.tierings[name] = tiering
        return tiering

    def make_tiering(self, name: str, tiers: Sequence[tuple[str, str | Node]], default: str,
                     canonical: Callable[[str | Node], str]) -> Tiering:
        """The tiering `save_tiering` would store, checked, without storing it."""
        check_name(name, "tiering")
        names = [tier for tier, _ in tiers] + [default]
        if any(not tier for tier in names) or len(set(names)) != len(names):
            raise InvalidInputError("tier names must be non-empty and distinct (the default tier included)")
        return Tiering(name, tuple((tier, canonical(query)) for tier, query in tiers), default)

    def tiering(self, name: str) -> Tiering:
        tiering = self.tierings.get(name)
        if tiering is None:
            raise NotFoundError(f"unknown tiering {name!r}")
        return tiering

    # ── persistence: the same keys an index state always had ──
    def state(self) -> dict[str, Any]:
        return {
            "segments": [(s.name, s.query, s.kind, s.description) for s in self.segments.values()],
            "lists": self.lists,
            "tierings": [(t.name, [list(tier) for tier in t.tiers], t.default) for t in self.tierings.values()],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], compile: Callable[[str], Node]) -> Registry:
        """The registry `state()` described; `compile` turns saved query text into a checked tree."""
        registry = cls()
        for segment_name, query, kind, description in state["segments"]:
            tree = compile(query)
            registry.segments[segment_name] = Segment(segment_name, query, SegmentKind(kind), description, tree)
            registry.trees[segment_name] = normalize(tree)
        registry.lists = dict(state["lists"])
        registry.tierings = {t: Tiering(t, tuple((tier, query) for tier, query in tiers), default)
                             for t, tiers, default in state["tierings"]}
        return registry
