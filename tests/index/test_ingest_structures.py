"""The ingest structures against plain Python: the hash table against a dict, interned order ids against a dict
of str, and the `orders` built-in (a hash set of seen pairs) against sets of order ids per customer, through
random batches with repeats, erasures and restarts from state."""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bitseg import Index
from bitseg.index.hashtable import HashTable
from bitseg.index.orderids import OrderIds

keys = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1).filter(lambda k: k != -1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(keys, max_size=300), max_size=8), st.booleans(), st.data())
def test_hash_table_is_a_dict(batches: list[list[int]], restart: bool, data: st.DataObject) -> None:
    table, oracle = HashTable(), {}
    for i, batch in enumerate(batches):
        probe = np.array(batch, dtype=np.int64)
        assert table.get(probe).tolist() == [oracle.get(k, -1) for k in batch]
        fresh = list(dict.fromkeys(k for k in batch if k not in oracle))
        table.insert(np.array(fresh, dtype=np.int64), np.arange(len(oracle), len(oracle) + len(fresh)))
        oracle.update(zip(fresh, range(len(oracle), len(oracle) + len(fresh))))
        if data.draw(st.booleans()):  # remove the odd keys
            table.remove_where(lambda k: k % 2 == 1)
            oracle = {k: v for k, v in oracle.items() if k % 2 == 0}
        if restart:
            table = HashTable.from_state(copy.deepcopy(table.state()))
        assert len(table) == len(oracle)
    held, values = table.items()
    assert dict(zip(held.tolist(), values.tolist())) == oracle


ids = st.one_of(st.none(), st.just(""), st.text(max_size=4),
                st.text(alphabet="ab\0é", min_size=60, max_size=70))  # wider than the vectorised path


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(ids, max_size=60), max_size=6), st.sampled_from([64, 2, 1]), st.booleans())
def test_order_ids_are_a_dict_of_str(batches: list[list[str | None]], bits: int, restart: bool) -> None:
    """Same id, same code; different ids, different codes; NULL and '' are -1 — even when every first hash
    collides (`bits` narrows it to force that)."""
    interned, oracle = OrderIds(primary_bits=bits), {}
    for batch in batches:
        codes = interned.encode(batch).tolist()
        for value, code in zip(batch, codes):
            if not value:
                assert code == -1
            else:
                assert oracle.setdefault(value, code) == code
        assert len(set(oracle.values())) == len(oracle) == len(interned)
        if restart:
            interned = OrderIds.from_state(copy.deepcopy(interned.state()))
    assert interned.encode(list(oracle)).tolist() == list(oracle.values())
    assert {interned.values[code]: code for code in oracle.values()} == oracle  # the text back by code


def test_order_ids_report_values_that_are_not_strings() -> None:
    bad: list[tuple[int, str]] = []
    assert OrderIds().encode(["a", 3, None, "a"], lambda i, why: bad.append((i, why))).tolist() == [0, -1, -1, 0]
    assert bad == [(1, "3 is not a string")]


line = st.tuples(st.sampled_from("abcdef"), st.integers(0, 5), st.one_of(st.none(), st.sampled_from("pqrst")),
                 st.sampled_from([1, 1, 2, -1]))  # customer, day, order id, quantity


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.lists(line, max_size=25), st.sets(st.sampled_from("abcdef"), max_size=2),
                          st.booleans()), max_size=8))
def test_orders_count_each_order_once(steps: list) -> None:
    """`orders` = the distinct orders with a purchase line; a line without an order id is an order of its
    customer and day. Erased customers start again from nothing; a restart from state changes nothing."""
    index = Index.from_toml('[purchase]\nbrand = "keyword"', "t")
    seen: dict[str, set] = {}
    for lines, erased, restart in steps:
        if lines:
            customers, days, orders, quantities = zip(*lines)
            index.add_purchase_columns({
                "customer": list(customers), "day": [f"2026-01-0{1 + d}" for d in days],
                "amount": ["1"] * len(lines), "quantity": list(quantities), "order": list(orders)})
            for customer, day, order, quantity in lines:
                bucket = seen.setdefault(customer, set())
                if quantity > 0:
                    bucket.add(order if order is not None else ("day", day))
        if erased:
            index.delete_customers(sorted(erased))
            for customer in erased:
                seen.pop(customer, None)
        if restart:
            index = Index.from_state(index.schema, "t", copy.deepcopy(index.state()))
        for n in {len(o) for o in seen.values()}:
            assert index.count(f"orders = {n}") == sum(len(o) == n for o in seen.values())
