"""The write operations of an index, each one a journaled `@write`: the Index inherits them from `Writes`.

Each method checks its input, applies it to the data, says what to journal (`logged`: plain values it can be
replayed from, materialised) and marks the change (`changed`); `journal.write` does the locking and journaling.
A new write operation is one more method here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from pyroaring import BitMap

from bitseg.index import apply, ingest
from bitseg.index.bitmaps import from_sorted
from bitseg.index.builtins import Builtins
from bitseg.index.fields import Field
from bitseg.index.imports import ImportLog, check_digest
from bitseg.index.journal import Writable, write
from bitseg.index.lines import LineStore
from bitseg.index.segments import Registry, Segment, Tiering
from bitseg.index.tracking import Tracker
from bitseg.index.translate import Translator
from bitseg.index.views import TimeViews
from bitseg.names import SegmentKind, check_name
from bitseg.query.compiler import Compiler
from bitseg.query.expressions import Node
from bitseg.query.printer import to_text
from bitseg.schema import Schema


class Writes(Writable):
    """The write operations over the data an Index holds (declared here, set up by `Index.__init__`)."""

    schema: Schema
    translator: Translator
    existence: BitMap
    fields: dict[str, Field]
    builtins: Builtins
    lines: LineStore
    views: TimeViews
    registry: Registry
    tracker: Tracker
    imports: ImportLog
    compiler: Compiler

    def _applied(self, count: int) -> int:
        if count:
            self.changed()
        return count

    @write
    def upsert_profiles(self, rows: Iterable[Mapping[str, object]], rejects: list | None = None,
                        first_row: int = 1) -> int:
        """Set the fields each row names (None or "" clears one); returns the rows applied."""
        rows = [dict(r) for r in rows]
        self.logged(rows=rows, first_row=first_row)
        columns, size = ingest.rows_to_columns(rows)
        return self._applied(apply.profiles(self, columns, size, rejects, first_row))

    @write
    def upsert_profile_columns(self, columns: Mapping[str, Sequence | np.ndarray], rejects: list | None = None,
                               first_row: int = 1) -> int:
        self.logged(columns=dict(columns), first_row=first_row)
        size = len(columns["customer"]) if "customer" in columns else 0
        return self._applied(apply.profiles(self, columns, size, rejects, first_row))

    @write
    def add_purchases(self, rows: Iterable[Mapping[str, object]], rejects: list | None = None,
                      first_row: int = 1) -> int:
        """Add purchase lines given as rows; returns the lines added."""
        rows = [dict(r) for r in rows]
        self.logged(rows=rows, first_row=first_row)
        columns, _ = ingest.rows_to_columns(rows)
        return self._applied(apply.purchases(self, columns, rejects, first_row))

    @write
    def add_purchase_columns(self, columns: Mapping[str, Sequence | np.ndarray], rejects: list | None = None,
                             first_row: int = 1) -> int:
        """Add purchase lines given as columns (the fast path: numpy arrays); returns the lines added."""
        self.logged(columns=dict(columns), first_row=first_row)
        return self._applied(apply.purchases(self, columns, rejects, first_row))

    @write
    def remember_import(self, sha256: str, kind: str, name: str, day: str) -> None:
        """Note that a file with this content went in (`kind` profiles or purchases, on `day`, index time)."""
        sha256 = check_digest(sha256)
        if self.imports.find(sha256) is not None:
            return  # a forced re-import: the first day is the one to name
        self.logged(sha256=sha256, kind=kind, name=name, day=day)
        self.imports.remember(sha256, kind, name, day)
        self.changed()

    @write
    def delete_customers(self, ids: Iterable[str]) -> int:
        """Erase customers everywhere (privacy erasure); returns how many existed."""
        ids = list(ids)
        self.logged(ids=ids)
        gone = BitMap(self.translator.remove(ids))
        if not gone:
            return 0
        self.existence -= gone
        for field in self.fields.values():
            field.erase(gone)
        self.builtins.erase(gone)
        self.lines.erase(gone)
        self.views.erase(gone)
        self.registry.erase(gone)
        self.tracker.erase(gone)
        self.changed()
        return len(gone)

    @write
    def save_segment(self, name: str, query: str | Node, kind: str | SegmentKind = SegmentKind.STANDARD,
                     description: str = "") -> Segment:
        """Create or replace a saved segment; refuses a definition that makes a reference cycle."""
        check_name(name, "segment")
        kind = SegmentKind.of(kind)
        tree, text = self.compiler.checked(query)
        segment = self.registry.save(name, tree, text, kind, description,
                                     parsed=self.compiler.checked(to_text(tree))[0])
        self.logged(name=name, query=segment.query, kind=segment.kind.value, description=description)
        self.tracker.saved(name, kind)
        self.changed()
        return segment

    @write
    def delete_segment(self, name: str) -> None:
        self.registry.delete(name)
        self.logged(name=name)
        self.tracker.forget(name)
        self.changed()

    @write
    def update_list(self, name: str, add: Iterable[str] = (), remove: Iterable[str] = (),
                    replace: Iterable[str] | None = None) -> int:
        """Change a static list (created when new); unknown customers added are created. Returns its size."""
        check_name(name, "list")
        add, remove = [str(i) for i in add], [str(i) for i in remove]
        replace = None if replace is None else [str(i) for i in replace]
        self.logged(name=name, add=add, remove=remove, replace=replace)
        members = BitMap() if replace is not None else self.registry.lists.get(name, BitMap())
        for ids, adding in ((replace or (), True), (add, True), (remove, False)):
            if not ids:
                continue
            if adding:
                columns = self.translator.to_columns(list(ids))
                apply.admit(self, columns)
                members |= from_sorted(np.unique(columns))
            else:
                found = self.translator.to_columns(list(ids), create=False)
                members -= from_sorted(np.unique(found[found >= 0]).astype(np.uint32))
        self.registry.lists[name] = members
        self.changed()
        return len(members)

    @write
    def save_tiering(self, name: str, tiers: Sequence[tuple[str, str | Node]], default: str) -> Tiering:
        tiering = self.registry.save_tiering(name, tiers, default, lambda query: to_text(self.compiler.checked(query)[0]))
        self.logged(name=name, tiers=[list(tier) for tier in tiering.tiers], default=default)
        self.changed()
        return tiering

    @write
    def record_evaluation(self, evaluation: Mapping[str, Any]) -> None:
        """Record a daily evaluation of the hot and trigger segments (what `daily_evaluation` computed)."""
        self.logged(evaluation=dict(evaluation))
        self.tracker.apply(evaluation)
        self.changed()
