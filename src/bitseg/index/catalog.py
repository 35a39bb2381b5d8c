"""The Catalog: the indexes a server holds, by name; creating and dropping one are journaled writes.

>>> seen = []
>>> catalog = Catalog(journal=lambda index, op, args: seen.append((index, op, sorted(args))))
>>> shop = catalog.create_index("shop", '[profile]\\nvip = "bool"')
>>> shop.upsert_profiles([{"customer": "a", "vip": True}])
1
>>> catalog.drop_index("shop")
>>> seen
[(None, 'create_index', ['name', 'schema_toml']), ('shop', 'upsert_profiles', ['first_row', 'rows']), (None, 'drop_index', ['name'])]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bitseg.errors import AlreadyExistsError, NotFoundError
from bitseg.index.index import Index
from bitseg.index.journal import Journal, Writable, write
from bitseg.index.tracking import TRIGGER_DAYS
from bitseg.names import check_name
from bitseg.query.limits import DEFAULT_LIMITS, Limits
from bitseg.schema import Schema


class Catalog(Writable):
    """The indexes by name; each index it creates or adopts journals through the catalog's journal.

    Args:
        limits: query limits for the indexes.
        journal: called once per change of the catalog or of one of its indexes (see `journal.Journal`).
        trigger_days: how many days of trigger segment members an index keeps for `changes`.
        clock: the time now (aware), given to each index for its "today"; None: the real time.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS, journal: Journal | None = None, *,
                 trigger_days: int = TRIGGER_DAYS, clock: Callable[[], dt.datetime] | None = None) -> None:
        super().__init__(journal)
        self.clock = clock
        self.limits = limits
        self.trigger_days = trigger_days
        self.indexes: dict[str, Index] = {}

    @write
    def create_index(self, name: str, schema_toml: str):
        check_name(name, "index")
        schema = Schema.from_toml(schema_toml)
        if name in self.indexes:
            raise AlreadyExistsError(f"index {name!r} already exists")
        index = Index(schema, name, self.limits, self.journal, trigger_days=self.trigger_days)
        if self.clock is not None:
            index.clock = self.clock
        self.logged(name=name, schema_toml=schema_toml)
        yield
        self.add(index)
        return index

    @write
    def drop_index(self, name: str):
        index = self.get(name)
        self.logged(name=name)
        with index.write_lock:  # a write in progress finishes (and is journaled) first; later ones find it retired
            yield
            index.retired = True
            del self.indexes[name]
            self.changed()

    def add(self, index: Index) -> None:
        """Hold an index built elsewhere (loaded from a snapshot); its writes go to the catalog's journal."""
        index.journal = self.journal
        if self.clock is not None:
            index.clock = self.clock
        self.indexes[index.name] = index
        self.changed()

    def get(self, name: str) -> Index:
        index = self.indexes.get(name)
        if index is None:
            raise NotFoundError(f"unknown index {name!r}")
        return index

    def names(self) -> list[str]:
        return sorted(self.indexes)
