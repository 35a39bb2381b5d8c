"""The built-in aggregates of every customer: orders, clv, first and last purchase date, kept per purchase batch.

>>> builtins = Builtins()
>>> columns = np.array([0, 1, 1], dtype=np.uint32)
>>> builtins.admit(BitMap([0, 1]), size=2)
>>> builtins.add(columns, np.array([10, 12, 11], dtype=np.int32), np.array([500, 250, 250]),
...              np.ones(3, dtype=bool), np.array([1, 2, 2]), size=2)
>>> builtins["orders"].values[:2].tolist(), builtins["clv"].values[:2].tolist()
([1, 1], [500, 500])
>>> builtins["first_purchase_date"].values[1].item(), builtins["last_purchase_date"].values[1].item()
(11, 12)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from pyroaring import BitMap

from bitseg.index.arrays import distinct, distinct_counts, distinct_inverse
from bitseg.index.bitmaps import columns as bitmap_columns
from bitseg.index.bitmaps import from_sorted
from bitseg.index.fields import NumberField
from bitseg.index.hashtable import HashTable
from bitseg.schema import FieldType

_NO_DAY = np.iinfo(np.int64).max


class Builtins:
    """The built-in number fields by name, and the (column, order) pairs that make `orders` count orders once."""

    def __init__(self) -> None:
        self.fields: dict[str, NumberField] = {
            "orders": NumberField(FieldType.INT), "clv": NumberField(FieldType.DECIMAL),
            "first_purchase_date": NumberField(FieldType.DATE), "last_purchase_date": NumberField(FieldType.DATE),
        }
        self.order_pairs = HashTable(values=False)  # column << 32 | order key of purchase lines seen

    def __getitem__(self, name: str) -> NumberField:
        return self.fields[name]

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def __iter__(self) -> Iterator[str]:
        return iter(self.fields)

    def values(self) -> list[NumberField]:
        return list(self.fields.values())

    def admit(self, arrived: BitMap, size: int) -> None:
        """New customers: 0 orders and 0 clv (not NULL) for those who never bought; room for `size` columns."""
        for name in ("orders", "clv"):
            self.fields[name].present |= arrived
        for field in self.fields.values():
            field.reserve(size)

    def add(self, columns: np.ndarray, days: np.ndarray, amounts: np.ndarray, purchase: np.ndarray,
            orders: np.ndarray, size: int) -> None:
        """Fold a batch of purchase lines in (`purchase`: the lines with a positive quantity)."""
        self.stage(BitMap(), columns, days, amounts, purchase, orders, size).publish()

    def stage(self, arrived: BitMap, columns: np.ndarray, days: np.ndarray, amounts: np.ndarray,
              purchase: np.ndarray, orders: np.ndarray, size: int) -> Staged:
        """`admit(arrived, size)` and `add(...)` computed without changing what readers see: the new values,
        bit slices and present bitmaps, for `Staged.publish` to install (a few assignments). O(batch).

        The (customer, order) pairs of the batch go into `order_pairs` now (readers never read them);
        `Staged.drop` takes them out again when the write is refused.
        """
        drafts = {name: _Draft(field, size) for name, field in self.fields.items()}
        for name in ("orders", "clv"):
            drafts[name].present = drafts[name].present | arrived
        staged = Staged(self, drafts)
        if len(columns) == 0:
            return staged
        # value updates touch only the batch's customers (and so their bit slices): O(batch), not O(customers)
        clv = drafts["clv"]
        touched, at = distinct_inverse(columns)
        sums = np.rint(np.bincount(at, weights=amounts, minlength=len(touched))).astype(np.int64)
        clv.put(touched, clv.values[touched] + sums)
        buyers, inverse = distinct_inverse(columns[purchase])
        if len(buyers) == 0:
            return staged
        for name, reduce, start in (("first_purchase_date", np.minimum, _NO_DAY),
                                    ("last_purchase_date", np.maximum, -_NO_DAY)):
            draft = drafts[name]
            found = np.full(len(buyers), start, dtype=np.int64)
            reduce.at(found, inverse, days[purchase])
            # which buyers had a date before: O(batch), not a mask over every customer
            had = np.isin(buyers, bitmap_columns(draft.present & from_sorted(buyers)), assume_unique=True)
            draft.put(buyers, np.where(had, reduce(draft.values[buyers], found), found))
            draft.present = draft.present | from_sorted(buyers)
        # O(batch): the pairs of the batch looked up in the hash set of pairs seen, whatever the index holds
        pairs = distinct(columns[purchase].astype(np.int64) << 32 | orders[purchase])
        staged.pairs = fresh = pairs[~self.order_pairs.contains(pairs)]
        self.order_pairs.insert(fresh)
        counted, new_orders = distinct_counts(fresh >> 32)
        drafts["orders"].put(counted, drafts["orders"].values[counted] + new_orders)
        return staged

    def erase(self, gone: BitMap) -> None:
        """Erased customers leave every aggregate and the order pairs."""
        for field in self.fields.values():
            field.erase(gone)
        erased = bitmap_columns(gone)
        self.order_pairs.remove_where(lambda pairs: np.isin(pairs >> 32, erased))

    # ── persistence ──
    def state(self) -> dict[str, Any]:
        """The aggregates' own states and the order pairs (live arrays: read them holding the index lock)."""
        return {"fields": {name: field.state() for name, field in self.fields.items()},
                "order_pairs": self.order_pairs.state()}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Builtins:
        builtins = cls()
        builtins.fields = {name: NumberField.from_state(state["fields"][name], field.kind)
                           for name, field in builtins.fields.items()}
        pairs = state["order_pairs"]
        if isinstance(pairs, Mapping):
            builtins.order_pairs = HashTable.from_state(pairs)
        else:  # an older snapshot: the pairs as a sorted array
            builtins.order_pairs.insert(np.asarray(pairs, dtype=np.int64))
        return builtins


class _Draft:
    """The next version of one built-in field: its values array (a grown copy when the columns outgrow it), the
    columns to set in it, its bit-sliced index and present bitmap (new objects; the field's own stay untouched)."""

    def __init__(self, field: NumberField, size: int) -> None:
        self.field = field
        self.values = field.values
        if size > len(self.values):
            self.values = np.zeros(max(size, 2 * len(self.values)), dtype=np.int64)
            self.values[: len(field.values)] = field.values
        self.used = max(field.used, size)
        self.present = field.present
        self.index = field.index
        self.columns: np.ndarray | None = None
        self.numbers: np.ndarray | None = None

    def put(self, columns: np.ndarray, numbers: np.ndarray) -> None:
        """Distinct `columns` get `numbers` (once per draft: `values` still holds the published numbers)."""
        self.index = self.index.copy()
        self.index.update(columns, self.values[columns], numbers)
        self.columns, self.numbers = columns, numbers

    def publish(self) -> None:
        field = self.field
        if self.columns is not None and self.numbers is not None:
            self.values[self.columns] = self.numbers
        field.values, field.used, field.present, field.index = self.values, self.used, self.present, self.index


class Staged:
    """A batch's change to the built-ins, computed by `Builtins.stage`: `publish` installs it, `drop` forgets it."""

    def __init__(self, builtins: Builtins, drafts: dict[str, _Draft]) -> None:
        self.builtins = builtins
        self.drafts = drafts
        self.pairs = np.zeros(0, dtype=np.int64)

    def publish(self) -> None:
        for draft in self.drafts.values():
            draft.publish()

    def drop(self) -> None:
        """The write was refused: the pairs it put in `order_pairs` come out again (a rebuild: rare)."""
        if len(self.pairs):
            pairs = self.pairs
            self.builtins.order_pairs.remove_where(lambda held: np.isin(held, pairs))
