"""A reader never sees half a batch (SPEC §8): batches are staged outside the readers' lock and published whole.

A reader thread counts a handful of queries (built-ins, MATCHES with and without measures, day-edged windows on
a dimension, whose day buckets readers build lazily while batches are staged) back to back, all in one
`count_batch` (one locked read), while a writer adds batches. Every tuple of counts it sees must be the
oracle's (tests/oracle.py) after some number of whole batches, never going back. A write the journal refuses
leaves nothing behind: the batches after it still agree with the oracle.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from bitseg import Index
from bitseg.index import lines
from bitseg.schema import Schema

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from oracle import Oracle

SCHEMA = Schema.from_toml('[profile]\nvip = "bool"\n[purchase]\nbrand = "keyword"\ncolor = "keyword"')
END = dt.date(2026, 3, 31)
QUERIES = [
    "orders >= 2",
    "clv >= 300",
    "last_purchase_date >= -20d",
    "first_purchase_date < -200d",
    "purchases MATCHES (brand = 'x')",
    "purchases MATCHES (brand = 'y', date >= -45d)",
    "purchases MATCHES (color = 'z', date BETWEEN -400d AND -17d, count >= 2)",
    "purchases MATCHES (brand IN ('x', 'w'), color IS NULL, sum_amount >= 40)",
    "ALL",
]


def batches(seed: int, count: int) -> list[list[dict]]:
    """Batches of lines spread over two years (out of day order), old and new customers, shared orders."""
    rng = random.Random(seed)
    out = []
    for number in range(count):
        batch = []
        for _ in range(rng.randint(1, 60)):
            customer = f"c{rng.randrange(12 + 6 * number)}"
            quantity = rng.choice((1, 1, 2, -1))
            batch.append({"customer": customer, "day": END - dt.timedelta(rng.choice((rng.randint(0, 60),
                                                                                      rng.randint(0, 730)))),
                          "amount": Decimal(rng.choice(("5", "10.5", "120"))) * (1 if quantity > 0 else -1),
                          "quantity": quantity, "order": rng.choice((None, f"{customer}-{rng.randrange(3)}")),
                          "brand": rng.choice((None, "x", "y", "w")), "color": rng.choice((None, "x", "z"))})
        out.append(batch)
    return out


def engine_rows(rows: list[dict]) -> list[dict]:
    return [{**{k: v for k, v in row.items() if k != "day"}, "time": row["day"]} for row in rows]


def oracle_states(index: Index, groups: list[list[dict]]) -> list[tuple[int, ...]]:
    """The oracle's counts of QUERIES before any batch and after each."""
    oracle = Oracle(SCHEMA)
    trees = [index.compiler.checked(text)[0] for text in QUERIES]
    states = [tuple(oracle.count(tree, END) for tree in trees)]
    for batch in groups:
        oracle.add_purchases(batch)
        states.append(tuple(oracle.count(tree, END) for tree in trees))
    return states


@pytest.mark.parametrize("seed, fresh", [(1, False), (2, False), (3, True), (4, True)])
def test_a_reader_sees_whole_batches_only(seed: int, fresh: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if fresh:  # every large merge of line runs goes to fresh columns, as millions of lines do
        monkeypatch.setattr(lines, "_FRESH_MERGE", 0)
    groups = batches(seed, 40)
    index = Index(SCHEMA)
    states = oracle_states(index, groups)
    seen: list[tuple[int, ...]] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            found = index.count_batch(QUERIES, as_of=END)
            seen.append(tuple(count for count, _ in found))  # type: ignore[misc]

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so reads land inside every step of the writes
    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for batch in groups:
            index.add_purchases(engine_rows(batch))
    finally:
        done.set()
        thread.join()
        sys.setswitchinterval(old)
    seen.append(tuple(count for count, _ in index.count_batch(QUERIES, as_of=END)))  # type: ignore[misc]
    assert seen[-1] == states[-1]
    at = 0
    for counts in seen:
        later = [k for k in range(at, len(states)) if states[k] == counts]
        assert later, f"a reader saw {counts}, no whole number of batches from {at} on gives that: {states[at:]}"
        at = later[0]
    assert len(seen) > len(groups)  # the reader did run during the writes


def test_a_refused_batch_leaves_nothing_behind() -> None:
    groups = batches(7, 12)
    refused = {3, 4, 8}

    class Refusing:
        calls = 0

        def __call__(self, index_name, op, args) -> None:
            self.calls += 1
            if self.calls - 1 in refused:
                raise OSError("disk full")

    index = Index(SCHEMA, journal=Refusing())
    oracle = Oracle(SCHEMA)
    trees = [index.compiler.checked(text)[0] for text in QUERIES]
    for number, batch in enumerate(groups):
        if number in refused:
            with pytest.raises(OSError):
                index.add_purchases(engine_rows(batch))
        else:
            index.add_purchases(engine_rows(batch))
            oracle.add_purchases(batch)
        assert [index.count(tree, END) for tree in trees] == [oracle.count(tree, END) for tree in trees], number
    assert index.customer_count == len(oracle.customers)
    assert sorted(index.members("ALL", END)) == sorted(oracle.customers)
