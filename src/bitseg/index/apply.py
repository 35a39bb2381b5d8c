"""Applying a batch to the data of an index: profile values and purchase lines, once ingest has checked them.

The functions work on any object with the data's parts (the `Data` Protocol), never on the Index itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol, cast

import numpy as np
from pyroaring import BitMap

from bitseg.index import ingest, rollups
from bitseg.index.arrays import distinct, distinct_first_inverse, last_rows
from bitseg.index.bitmaps import from_sorted
from bitseg.index.builtins import Builtins, Staged
from bitseg.index.fields import Field, NumberField
from bitseg.index.lines import LineStore, StagedLines
from bitseg.index.orderids import OrderIds
from bitseg.index.translate import Translator
from bitseg.index.views import StagedViews, TimeViews
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
                      first_row: int) -> Purchases | None:
    """Parse, check and stage a purchase batch; None when no line is to be added.

    Everything the batch changes is computed here, outside the readers' lock, without changing what they see:
    new customers get columns the translator keeps hidden, the lines go past the line store's size, the time
    views, built-ins and existence get new bitmaps and values. `publish_purchases` then installs them (a few
    assignments), so a reader sees the index before or after the batch, never half of it, and never waits
    long. New dimension values and order ids get codes in the line store's dictionaries here, but no line
    points at them until the batch is published.
    """
    size = len(columns["customer"]) if "customer" in columns else 0
    if size == 0:
        return None
    batch = ingest.Batch(size, first_row)
    parsed = ingest.purchase_columns(columns, data.schema, data.lines, batch)
    good = batch.settle(rejects)
    if not good.all():
        parsed = _subset(parsed, good)
    held = len(data.lines.line_ids)
    if parsed["line"] is not None:
        parsed = _subset(parsed, skip_duplicates(data.lines.line_ids, parsed["line"]))
    if len(parsed["customer"]) == 0:
        return None
    return stage_purchases(data, parsed, held)


def skip_duplicates(line_ids: OrderIds, ids: list[str | None]) -> np.ndarray:
    """The mask of lines to add: all but those whose line id the index holds or an earlier line of the batch
    has (SPEC §1); the new ids are interned, so the index holds them from now on (see `drop_purchases`).

    >>> ids = OrderIds()
    >>> skip_duplicates(ids, ["a", None, "b", "a", None]).tolist(), skip_duplicates(ids, ["b", "c"]).tolist()
    ([True, True, True, False, True], [False, True])
    """
    held = len(line_ids)
    codes = line_ids.encode(ids).astype(np.int64)
    given = np.flatnonzero(codes >= 0)
    _, first, inverse = distinct_first_inverse(codes[given])
    keep = np.ones(len(codes), dtype=bool)
    keep[given] = (codes[given] >= held) & (first[inverse] == np.arange(len(given)))
    return keep


def _subset(parsed: dict, keep: np.ndarray) -> dict:
    """The parsed lines where `keep` is true."""
    if keep.all():
        return parsed
    rows = np.flatnonzero(keep).tolist()
    customers, line = parsed["customer"], parsed["line"]
    return {
        "customer": (ingest.Coded(customers.codes[keep], customers.values)
                     if isinstance(customers, ingest.Coded) else [customers[i] for i in rows]),
        "day": parsed["day"][keep],
        "amount": parsed["amount"][keep], "quantity": parsed["quantity"][keep],
        "order": parsed["order"][keep],
        "line": None if line is None else [line[i] for i in rows],
        "dimensions": {dim: codes[keep] for dim, codes in parsed["dimensions"].items()},
    }


class Purchases(NamedTuple):
    """A staged purchase batch: what `publish_purchases` installs."""

    size: int  # lines
    columns: int  # the translator's size once published
    line_ids: int  # how many line ids the index held before the batch
    existence: BitMap
    lines: StagedLines
    views: StagedViews
    builtins: Staged
    appended: dict  # the batch's line columns, for the roll-ups (rollups.published)


def stage_purchases(data: Data, parsed: dict, held: int) -> Purchases:
    customers = parsed["customer"]
    if isinstance(customers, ingest.Coded):
        keys: list = list(customers.values)  # a None value is never pointed at: ingest refused its rows
        value_columns, size = data.translator.reserve(keys)
        columns = customers.remap(value_columns).astype(np.uint32)
    else:
        columns, size = data.translator.reserve(customers)
    arrived = from_sorted(distinct(columns))
    days = parsed["day"].astype(np.int32)
    codes = parsed["dimensions"]
    orders = data.lines.order_keys(parsed["order"], days)
    appended = {"column": columns, "day": days, "amount": parsed["amount"], "quantity": parsed["quantity"],
                "order": orders, **codes}
    lines = data.lines.stage(appended)
    purchase = parsed["quantity"] > 0
    views = data.views.stage(columns[purchase], days[purchase], {dim: c[purchase] for dim, c in codes.items()})
    builtins = data.builtins.stage(arrived, columns, days, parsed["amount"], purchase, orders, size)
    return Purchases(len(columns), size, held, data.existence | arrived, lines, views, builtins, appended)


def publish_purchases(data: Data, staged: Purchases) -> int:
    """Install a staged batch (assignments, and the copy of a merge of line runs); returns the lines added."""
    data.translator.size = staged.columns
    data.existence = staged.existence
    staged.lines.publish()
    rollups.published(data.lines, staged.appended)  # the roll-ups built so far fold the batch in (under the lock)
    staged.views.publish()
    staged.builtins.publish()
    return staged.size


def drop_purchases(data: Data, staged: Purchases) -> None:
    """A staged batch whose write was refused: undo what staging changed outside what readers see."""
    data.translator.unreserve(staged.columns)
    data.lines.line_ids.truncate(staged.line_ids)
    staged.builtins.drop()
