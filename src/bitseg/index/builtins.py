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
        # value updates touch only the batch's customers (and so their bit slices): O(batch), not O(customers)
        clv = self.fields["clv"]
        touched, at = distinct_inverse(columns)
        sums = np.rint(np.bincount(at, weights=amounts, minlength=len(touched))).astype(np.int64)
        clv.put(touched, clv.values[touched] + sums)
        buyers, inverse = distinct_inverse(columns[purchase])
        if len(buyers) == 0:
            return
        for name, reduce, start in (("first_purchase_date", np.minimum, _NO_DAY),
                                    ("last_purchase_date", np.maximum, -_NO_DAY)):
            field = self.fields[name]
            found = np.full(len(buyers), start, dtype=np.int64)
            reduce.at(found, inverse, days[purchase])
            # which buyers had a date before: O(batch), not a mask over every customer
            had = np.isin(buyers, bitmap_columns(field.present & from_sorted(buyers)), assume_unique=True)
            field.put(buyers, np.where(had, reduce(field.values[buyers], found), found))
            field.present |= from_sorted(buyers)
        self._count_orders(columns[purchase], orders[purchase])

    def _count_orders(self, columns: np.ndarray, orders: np.ndarray) -> None:
        # O(batch): the pairs of the batch looked up in the hash set of pairs seen, whatever the index holds
        pairs = distinct(columns.astype(np.int64) << 32 | orders)
        fresh = pairs[~self.order_pairs.contains(pairs)]
        self.order_pairs.insert(fresh)
        counted, new_orders = distinct_counts(fresh >> 32)
        self.fields["orders"].put(counted, self.fields["orders"].values[counted] + new_orders)

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
