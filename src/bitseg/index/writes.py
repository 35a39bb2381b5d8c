"""The write operations of an index, each one a journaled `@write`: the Index inherits them from `Writes`.

Each method is a generator in two steps around its one `yield` (see `journal.py`): before it, prepare — check
the input, compute the change without making it visible, and say what to journal (`logged`: plain values it
can be replayed from, materialised); after it, publish — apply the change (short, cannot fail) and mark it
(`changed`). Returning before the `yield` changes nothing. `journal.write` does the locking and journaling
(the change is logged between the two steps). A new write operation is one more method here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from pyroaring import BitMap

from bitseg.days import day_number
from bitseg.errors import InvalidInputError
from bitseg.index import apply, ingest
from bitseg.index.arrays import distinct
from bitseg.index.bitmaps import from_sorted
from bitseg.index.budget import hold
from bitseg.index.builtins import Builtins
from bitseg.index.fields import Field
from bitseg.index.imports import ImportLog, check_digest
from bitseg.index.journal import Writable, write
from bitseg.index.lines import LineStore
from bitseg.index.segments import Registry
from bitseg.index.tracking import TRACKED, Tracker, backfill_rows
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

    def today(self) -> dt.date:
        raise NotImplementedError  # the Index's: today in the index time zone, by its clock

    def _evaluate(self, query: str | Node, as_of: dt.date | str | None) -> BitMap:
        raise NotImplementedError  # the Index's: the members of a query on a day

    def _evaluate_locked(self, query: str | Node, as_of: dt.date) -> BitMap:
        with hold(self.lock):
            return self._evaluate(query, as_of)

    def _published(self, count: int) -> int:
        self.changed()
        return count

    # the steps the row and column forms of a batch share (each form logs its own arguments first)
    def _profiles(self, columns: Mapping, size: int, rejects: list | None, first_row: int):
        prepared = apply.prepare_profiles(self, columns, size, rejects, first_row)
        if prepared is None:
            return 0
        yield
        return self._published(apply.publish_profiles(self, prepared))

    def _purchases(self, columns: Mapping, rejects: list | None, first_row: int):
        prepared = apply.prepare_purchases(self, columns, rejects, first_row)
        if prepared is None:
            return 0
        try:
            yield
        except GeneratorExit:  # refused by the journal: never published
            apply.drop_purchases(self, prepared)
            raise
        return self._published(apply.publish_purchases(self, prepared))

    @write
    def upsert_profiles(self, rows: Iterable[Mapping[str, object]], rejects: list | None = None,
                        first_row: int = 1):
        """Set the fields each row names (None or "" clears one); returns the rows applied."""
        rows = [dict(r) for r in rows]
        self.logged(rows=rows, first_row=first_row)
        columns, size = ingest.rows_to_columns(rows)
        return (yield from self._profiles(columns, size, rejects, first_row))

    @write
    def upsert_profile_columns(self, columns: Mapping[str, Sequence | np.ndarray], rejects: list | None = None,
                               first_row: int = 1):
        self.logged(columns=ingest.loggable(columns), first_row=first_row)
        size = len(columns["customer"]) if "customer" in columns else 0
        return (yield from self._profiles(columns, size, rejects, first_row))

    @write
    def add_purchases(self, rows: Iterable[Mapping[str, object]], rejects: list | None = None,
                      first_row: int = 1):
        """Add purchase lines given as rows; returns the lines added (less rejected rows and lines whose `line`
        id the index already held: those are skipped as duplicates)."""
        rows = [dict(r) for r in rows]
        self.logged(rows=rows, first_row=first_row)
        columns, _ = ingest.rows_to_columns(rows)
        return (yield from self._purchases(columns, rejects, first_row))

    @write
    def add_purchase_columns(self, columns: Mapping[str, Sequence | np.ndarray], rejects: list | None = None,
                             first_row: int = 1):
        """Add purchase lines given as columns (the fast path: numpy arrays); returns the lines added."""
        self.logged(columns=ingest.loggable(columns), first_row=first_row)
        return (yield from self._purchases(columns, rejects, first_row))

    @write
    def remember_import(self, sha256: str, kind: str, name: str, day: str):
        """Note that a file with this content went in (`kind` profiles or purchases, on `day`, index time)."""
        sha256 = check_digest(sha256)
        if self.imports.find(sha256) is not None:
            return None  # a forced re-import: the first day is the one to name
        self.logged(sha256=sha256, kind=kind, name=name, day=day)
        yield
        self.imports.remember(sha256, kind, name, day)
        self.changed()

    @write
    def delete_customers(self, ids: Iterable[str]):
        """Erase customers everywhere (privacy erasure); returns how many existed."""
        ids = list(ids)
        self.logged(ids=ids)
        if all(self.translator.column(key) is None for key in ids):
            return 0
        yield
        gone = BitMap(self.translator.remove(ids))
        self.existence -= gone
        for field in self.fields.values():
            field.erase(gone)
        self.builtins.erase(gone)
        self.lines.erase(gone)
        self.views.erase(gone)
        self.registry.erase(gone)
        self.tracker.erase(gone)
        return self._published(len(gone))

    @write
    def save_segment(self, name: str, query: str | Node, kind: str | SegmentKind = SegmentKind.STANDARD,
                     description: str = "", evaluation: Mapping[str, Any] | None = None, backfill_days: int = 0,
                     backfill: Mapping[str, Any] | None = None):
        """Create or replace a saved segment; refuses a definition that makes a reference cycle.

        A hot or trigger segment is evaluated as of today (index time zone): its members are recorded as that
        day's evaluation of it, so its history starts now. `evaluation` is that record, journaled with the
        save; only a replay passes it (a save journaled before there was one records nothing). A hot segment
        with `backfill_days` also gets the rows of that many days before today, each as of its day, marked
        backfilled, on the days without a row (`tracking.backfill_rows`; `backfill` is their record).
        """
        check_name(name, "segment")
        kind = SegmentKind.of(kind)
        with hold(self.lock):  # the compiler's cache is shared with readers
            tree, text = self.compiler.checked(query)
        self.registry.check(name, tree, text)
        if backfill_days and kind is not SegmentKind.HOT:
            raise InvalidInputError(f"backfill is for hot segments; {name!r} is saved as a {kind.value} segment")
        if evaluation is None and kind in TRACKED and not self._replaying:
            day = self.today()
            members = self._evaluate_locked(tree, day)  # reads the index as readers do
            evaluation = {"day": day_number(day), "segments": [[name, kind.value, members.serialize()]]}
            if backfill_days:  # a day at a time: readers go on in between (no write can, this one holds them)
                backfill = backfill_rows(lambda on: self._evaluate_locked(tree, on), day, backfill_days)
        elif evaluation is not None and (not isinstance(evaluation.get("day"), int)
                                         or [list(s[:2]) for s in evaluation.get("segments", ())] != [[name, kind.value]]):
            raise InvalidInputError(f"the evaluation saved with segment {name!r} must be a day number and that "
                                    f"one {kind.value} segment's members")
        self.logged(name=name, query=to_text(tree), kind=kind.value, description=description,
                    evaluation=evaluation, **({"backfill": backfill} if backfill else {}))
        yield
        segment = self.registry.save(name, tree, kind, description)
        self.tracker.saved(name, kind)
        if backfill:
            self.tracker.backfill(name, kind.value, backfill)
        if evaluation is not None:
            self.tracker.apply(evaluation, daily=False)
        self.changed()
        return segment

    @write
    def delete_segment(self, name: str):
        self.registry.check_delete(name)
        self.logged(name=name)
        yield
        self.registry.delete(name)
        self.tracker.forget(name)
        self.changed()

    @write
    def update_list(self, name: str, add: Iterable[str] = (), remove: Iterable[str] = (),
                    replace: Iterable[str] | None = None):
        """Change a static list (created when new); unknown customers added are created. Returns its size."""
        check_name(name, "list")
        add, remove = [str(i) for i in add], [str(i) for i in remove]
        replace = None if replace is None else [str(i) for i in replace]
        self.logged(name=name, add=add, remove=remove, replace=replace)
        yield
        members = BitMap() if replace is not None else self.registry.lists.get(name, BitMap()).copy()
        for ids, adding in ((replace or (), True), (add, True), (remove, False)):
            if not ids:
                continue
            if adding:
                columns = self.translator.to_columns(list(ids))
                apply.admit(self, columns)
                members |= from_sorted(distinct(columns))
            else:
                found = self.translator.to_columns(list(ids), create=False)
                members -= from_sorted(distinct(found[found >= 0]).astype(np.uint32))
        self.registry.lists[name] = members
        self.changed()
        return len(members)

    @write
    def save_tiering(self, name: str, tiers: Sequence[tuple[str, str | Node]], default: str):
        with hold(self.lock):  # the compiler's cache is shared with readers
            tiering = self.registry.make_tiering(name, tiers, default,
                                                 lambda query: to_text(self.compiler.checked(query)[0]))
        self.logged(name=name, tiers=[list(tier) for tier in tiering.tiers], default=default)
        yield
        self.registry.tierings[name] = tiering
        self.changed()
        return tiering

    @write
    def record_evaluation(self, evaluation: Mapping[str, Any]):
        """Record a daily evaluation of the hot and trigger segments (what `daily_evaluation` computed)."""
        if not isinstance(evaluation.get("day"), int) or not isinstance(evaluation.get("segments"), list):
            raise InvalidInputError("an evaluation needs a day number and a list of segments")
        self.logged(evaluation=dict(evaluation))
        yield
        self.tracker.apply(evaluation)
        self.changed()
