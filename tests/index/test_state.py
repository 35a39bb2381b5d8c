"""Each part of an index persists itself: state() then from_state() gives back the same answers and data."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import numpy as np
import pytest
from pyroaring import BitMap

from bitseg import Index
from bitseg.days import day_number
from bitseg.index.fields import Field, NumberField, PresenceField, TagsField, ValueField, make_field
from bitseg.index.lines import Dictionary, LineStore
from bitseg.index.orderids import OrderIds
from bitseg.index.translate import Translator
from bitseg.index.views import ANY, TimeViews
from bitseg.persistence.deferred import DeferredDictionary
from bitseg.schema import FieldType

_PLAIN = (str, int, float, bool, type(None))


def plain(value: Any, path: str = "state") -> None:
    """A state holds plain values, numpy arrays and bitmaps only."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, _PLAIN), path
            plain(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            plain(item, f"{path}[{i}]")
    else:
        assert isinstance(value, (*_PLAIN, np.ndarray, BitMap)), f"{path}: {type(value).__name__}"


def same(a: Any, b: Any, path: str = "state") -> None:
    """Deep equality: arrays by type and content, bitmaps by members, tuples equal to lists."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.tolist() == b.tolist(), path
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for key in a:
            same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


def copied(state: Any) -> Any:
    """A state no live object shares: from_state may adopt its arrays, which the original would write to."""
    return copy.deepcopy(state)


def test_translator() -> None:
    translator = Translator()
    translator.to_columns([f"c{i}" for i in range(2000)])
    translator.remove(["c5", "c1999"])
    plain(translator.state())
    back = Translator.from_state(translator.state())
    same(translator.state(), back.state())
    assert back.size == 2000 and back.column("c5") is None and back.column("c6") == 6
    keys = ["c5", "c7", "new"]
    assert back.to_columns(keys).tolist() == translator.to_columns(keys).tolist()
    assert back.items()[0].tolist() == translator.items()[0].tolist()


def filled(kind: FieldType) -> Field:
    field = make_field(kind)
    columns = np.array([0, 3, 7, 1500], dtype=np.uint32)
    if isinstance(field, NumberField):
        field.set(columns, (np.array([5, -2, 9, 40]), np.array([True, True, False, True])))
    elif isinstance(field, TagsField):
        field.set(columns, [frozenset({"a", "b"}), frozenset({"b"}), None, frozenset({"c"})])
    elif isinstance(field, ValueField):
        field.set(columns, [True, False, None, True] if kind is FieldType.BOOL else ["NL", "BE", None, "NL"])
    else:
        assert isinstance(field, PresenceField)
        field.set(columns, ["x", "y", None, "z"])
    field.erase(BitMap([3]))
    return field


def answers(field: Field) -> list:
    found: list = [field.present]
    if isinstance(field, ValueField):
        found += [field.select("=", v) for v in field.names] + [field.value_of(c) for c in (0, 3, 1500, 9999)]
        found.append(field.select(">=", field.names[0]))
    elif isinstance(field, TagsField):
        found += [field.contains(t) for t in ("a", "b", "c", "zz")]
    elif isinstance(field, NumberField):
        found += [field.select(">", 0), field.between(-5, 10), field.select_in([5, 40]), field.index.bitmaps()]
    return found


@pytest.mark.parametrize("kind", [FieldType.KEYWORD, FieldType.BOOL, FieldType.TAGS, FieldType.PRESENCE,
                                  FieldType.INT, FieldType.DECIMAL, FieldType.DATE])
def test_fields(kind: FieldType) -> None:
    field = filled(kind)
    state = field.state()
    plain(state)
    back = type(field).from_state(copied(state), kind)
    assert type(back) is type(field) and back.kind is kind
    same(field.state(), back.state())
    assert answers(back) == answers(field)
    # a restored field keeps taking writes, growing past what it was restored with
    for f in (field, back):
        if isinstance(f, NumberField):
            f.set(np.array([2, 4000], dtype=np.uint32), (np.array([1, 2]), np.array([True, True])))
        elif isinstance(f, TagsField):
            f.set(np.array([2, 4000], dtype=np.uint32), [frozenset({"a"}), frozenset({"d"})])
        elif isinstance(f, PresenceField):
            f.set(np.array([2, 4000], dtype=np.uint32), ["x", "y"])
        else:
            assert isinstance(f, ValueField)
            f.set(np.array([2, 4000], dtype=np.uint32), [f.names[0], f.names[-1]])
    same(field.state(), back.state())
    assert answers(back) == answers(field)


def test_number_field_state_is_only_the_used_columns() -> None:
    field = NumberField(FieldType.INT)
    field.set(np.array([0, 2], dtype=np.uint32), (np.array([4, 5]), np.array([True, True])))
    assert len(field.values) == 1024 and field.state()["values"].tolist() == [4, 0, 5]
    field.reserve(10)
    assert len(field.state()["values"]) == 10


def lines_of(store: LineStore, seed: int, n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"column": rng.integers(0, 50, n).astype(np.uint32), "day": rng.integers(20000, 20400, n),
            "amount": rng.integers(-100, 10000, n), "quantity": rng.integers(-1, 4, n),
            "order": store.order_keys(store.orders.encode([f"o{i % 97}" for i in range(n)]),
                                      rng.integers(20000, 20400, n)),
            "brand": store.dictionaries["brand"].encode([f"b{i % 7}" if i % 5 else None for i in range(n)])}


def test_dictionary() -> None:
    dictionary = Dictionary()
    dictionary.encode(["x", None, "y", ""])
    assert dictionary.state() == ["x", "y"]
    back = Dictionary.from_state(dictionary.state())
    assert back.encode(["y", "x", "z", None]).tolist() == dictionary.encode(["y", "x", "z", None]).tolist()


def test_line_store() -> None:
    store = LineStore(["brand"])
    for seed, n in ((1, 300), (2, 200), (3, 50)):
        store.append(lines_of(store, seed, n))
    plain(store.state())
    back = LineStore.from_state(copied(store.state()), ["brand"], OrderIds.from_state(copied(store.orders.state())))
    same(store.state(), back.state())
    assert back.window(20100, 20200) == store.window(20100, 20200)
    for s in (store, back):
        s.append(lines_of(s, 4, 120))
        s.erase(BitMap([3, 4]))
    same(store.state(), back.state())
    same(back.orders.state(), store.orders.state())
    window = store.window(20050, 20300)
    names = ["column", "brand", "amount"]
    same(back.gather(names, window), store.gather(names, window))


def test_order_ids_of_an_older_snapshot_keep_their_codes() -> None:
    """A FORMAT 2 snapshot holds the order ids by code (a list, deferred at start-up): the codes stay."""
    ids = [f"o{i}" for i in (5, 1, 9, 3, 7)]
    for older in (ids, DeferredDictionary(iter([ids[:2], ids[2:]]))):
        orders = OrderIds.from_state(older)
        assert orders.encode([*ids, "new"]).tolist() == [0, 1, 2, 3, 4, 5]


def test_time_views() -> None:
    lines = LineStore(["brand"])
    views = TimeViews(lines)
    for seed in (1, 2):
        batch = lines_of(lines, seed, 400)
        lines.append(batch)
        buy = batch["quantity"] > 0
        views.add(batch["column"][buy], batch["day"][buy], {"brand": batch["brand"][buy]})
    low, high = day_number(dt.date(2024, 10, 3)), day_number(dt.date(2024, 12, 20))

    def answers(views: TimeViews) -> list[BitMap]:
        by_brand = [views.window("brand", [c], low, high) for c in range(-1, 8)]
        return [*by_brand, views.window(ANY, [0], None, None)]

    expected = answers(views)
    assert views.day_months  # the window built day buckets of a dimension
    plain(views.state())
    back = TimeViews.from_state(copied(views.state()), lines)
    same(views.state(), back.state())
    assert back.lines is lines and back.day_months == views.day_months
    assert answers(back) == expected
    assert TimeViews.from_state(TimeViews(lines).state(), lines).window(ANY, [0], None, None) == BitMap()


def test_index_state_is_the_parts_states() -> None:
    index = Index.from_toml('[profile]\ncountry = "keyword"\ntags = "tags"\npoints = "int"\n'
                            '[purchase]\nbrand = "keyword"')
    index.upsert_profiles([{"customer": f"c{i}", "country": "NL" if i % 2 else "BE",
                            "tags": ["vip"] * (i % 3 == 0), "points": i} for i in range(40)])
    index.add_purchases([{"customer": f"c{i % 30}", "time": f"2026-01-{1 + i % 28:02d}", "amount": "10",
                          "brand": f"b{i % 4}", "order": f"o{i // 2}", "line": f"l{i % 90}"} for i in range(100)])
    index.update_list("gold", add=["c1", "c2"])
    index.save_segment("nl", "country = 'NL'")
    index.delete_customers(["c2"])
    index.remember_import("ab" * 32, "purchases", "purchases.csv", "2026-01-30")
    index.count("purchases MATCHES (brand = 'b1', date >= -25d)", as_of="2026-02-01")  # builds day buckets
    assert index.views.day_months
    state = index.state()
    plain(state)
    assert list(state) == ["translator", "existence", "fields", "builtins", "lines", "orders", "line_ids", "views",
                           "registry", "tracking", "imports"]
    same(state["translator"], index.translator.state())
    same(state["lines"], index.lines.state())
    back = Index.from_state(index.schema, "back", copied(state))
    same(index.state(), back.state())
    assert back.add_purchases([{"customer": "c1", "time": "2026-01-02", "amount": "1", "line": "l5"}]) == 0
    assert back.imported("ab" * 32) == index.imported("AB" * 32) and back.imported("cd" * 32) is None
    for query in ("country = 'NL'", "tags CONTAINS 'vip'", "points > 10", "IN SEGMENT 'nl'", "IN LIST 'gold'",
                  "orders >= 2", "purchases MATCHES (brand = 'b1', date >= -30d)"):
        assert back.members(query, as_of="2026-01-20") == index.members(query, as_of="2026-01-20"), query
