"""Applying a batch to the data of an index: profile values and purchase lines, once ingest has checked them.

The functions work on any object with the data's parts (the `Data` Protocol), never on the Index itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol, cast

import numpy as np
from pyroaring import BitMap

from bitseg.index import ingest, rollups
from bitseg.index.arrays import distinct, last_rows
from bitseg.index.bitmaps import from_sorted
from bitseg.index.builtins import Builtins
from bitseg.index.fields import Field, NumberField
from bitseg.index.lines import LineStore
from bitseg.index.translate import Translator
from bitseg.index.views import TimeViews
from bitseg.schema import Schema


class Data(Protocol):
    schema: Schema
    translator: Translator
    existence: BitMap
    fields: dict[str, Field]
    builtins: Builtins
    lines: LineStore
    views: TimeViews


def admit(data: Data, columns: np.ndarray) -> None:
    """Make sure `columns` exist as customers (new ones with an empty profile)."""
    arrived = from_sorted(distinct(columns))
    data.existence |= arrived
    data.builtins.admit(arrived, data.translator.size)


def prepare_profiles(data: Data, columns: Mapping, size: int, rejects: list | None,
                     first_row: int) -> Profiles | None:
    """Parse and check a profile batch without changing anything; None when no row is to be applied."""
    if size == 0:
        return None
    batch = ingest.Batch(size, first_row)
    customers, parsed = ingest.profile_columns(columns, data.schema, batch)
    good = batch.settle(rejects)
    keep = np.flatnonzero(good)
    if len(keep) == 0:
        return None
    # kept rows have an id: a row without one was rejected above
    return Profiles(cast(list[str], [customers[i] for i in keep.tolist()]), keep, parsed)


class Profiles(NamedTuple):
    """A checked profile batch: the ids of the kept rows, their positions and the parsed values of every field."""

    ids: list[str]
    keep: np.ndarray
    parsed: dict


def publish_profiles(data: Data, prepared: Profiles) -> int:
    """Set the profile fields of a prepared batch; returns the rows applied."""
    ids, keep, parsed = prepared
    all_columns = data.translator.to_columns(ids)
    admit(data, all_columns)
    for name, (values, given) in parsed.items():
        rows = keep[given[keep]]
        columns_here = all_columns[given[keep]]
        # the last row of a batch wins for a customer named twice
        chosen = last_rows(columns_here)
        field = data.fields[name]
        picked = rows[chosen]
        if isinstance(field, NumberField):
            numbers, is_set = values
            field.set(columns_here[chosen], (numbers[picked], is_set[picked]))
        else:
            field.set(columns_here[chosen], [values[i] for i in picked.tolist()])  # type: ignore[attr-defined]
    return len(keep)


def prepare_purchases(data: Data, columns: Mapping[str, Sequence | np.ndarray], rejects: list | None,
                      first_row: int) -> dict | None:
    """Parse and check a purchase batch; None when no line is to be added.

    Nothing a reader sees changes: new dimension values and order ids get codes in the line store's
    dictionaries, but no line points at them until the batch is published.
    """
    size = len(columns["customer"]) if "customer" in columns else 0
    if size == 0:
        return None
    batch = ingest.Batch(size, first_row)
    parsed = ingest.purchase_columns(columns, data.schema, data.lines, batch)
    good = batch.settle(rejects)
    if not good.all():
        keep = np.flatnonzero(good).tolist()
        customers = parsed["customer"]
        parsed = {
            "customer": (ingest.Coded(customers.codes[good], customers.values)
                         if isinstance(customers, ingest.Coded) else [customers[i] for i in keep]),
            "day": parsed["day"][good],
            "amount": parsed["amount"][good], "quantity": parsed["quantity"][good],
            "order": parsed["order"][good],
            "dimensions": {dim: codes[good] for dim, codes in parsed["dimensions"].items()},
        }
    if len(parsed["customer"]) == 0:
        return None
    return parsed


def publish_purchases(data: Data, parsed: dict) -> int:
    """Add the lines of a prepared batch; returns how many."""
    customers = parsed["customer"]
    if isinstance(customers, ingest.Coded):
        keys: list = list(customers.values)  # a None value is never pointed at: ingest refused its rows
        columns = customers.remap(data.translator.to_columns(keys)).astype(np.uint32)
    else:
        columns = data.translator.to_columns(customers)
    admit(data, columns)
    days = parsed["day"].astype(np.int32)
    codes = parsed["dimensions"]
    orders = data.lines.order_keys(parsed["order"], days)
    lines = {"column": columns, "day": days, "amount": parsed["amount"], "quantity": parsed["quantity"],
             "order": orders, **codes}
    data.lines.append(lines)
    rollups.published(data.lines, lines)
    purchase = parsed["quantity"] > 0
    data.views.add(columns[purchase], days[purchase], {dim: c[purchase] for dim, c in codes.items()})
    data.builtins.add(columns, days, parsed["amount"], purchase, orders, data.translator.size)
    return len(columns)
