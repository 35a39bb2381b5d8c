"""The one write path: every write operation is journaled once when it changes something, and replays."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pyroaring import BitMap

from bitseg import (
    AlreadyExistsError,
    BitsegError,
    Catalog,
    Index,
    InvalidInputError,
    NotFoundError,
    QueryError,
    SchemaError,
)
from bitseg.days import day_number
from bitseg.index.journal import write_operations
from bitseg.index.tracking import HistoryRow

SCHEMA = '[profile]\nvip = "bool"\npoints = "int"\n[purchase]\nbrand = "keyword"\n'
AS_OF = dt.date(2026, 3, 14)
Record = tuple[str | None, str, dict[str, Any]]


class Recorder:
    """A journal that keeps what it is given and checks the writer holds the write lock, not the readers' lock
    (prepare, log, publish: readers never wait for the log)."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.catalog: Catalog | None = None

    def __call__(self, index_name: str | None, op: str, args: dict[str, Any]) -> None:
        assert self.catalog is not None
        owner = self.catalog if index_name is None else self.catalog.indexes.get(index_name, self.catalog)
        held: list[bool] = []

        def probe() -> None:
            held.append(not owner.write_lock.acquire(timeout=0))
            free = owner.lock.acquire(timeout=0)
            held.append(free)
            if free:
                owner.lock.release()
        thread = threading.Thread(target=probe)
        thread.start()
        thread.join()
        assert held == [True, True], f"{op} journaled without the write lock or holding the readers' lock"
        self.records.append((index_name, op, args))


def journaled_catalog() -> tuple[Catalog, Recorder]:
    recorder = Recorder()
    # saved hot and trigger segments record a row on the clock's day: the day before AS_OF, which the daily
    # evaluations of these tests then replace
    noon = dt.datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12, tzinfo=dt.UTC) - dt.timedelta(days=1)
    catalog = recorder.catalog = Catalog(journal=recorder, clock=lambda: noon)
    return catalog, recorder


def filled(index: Index) -> Index:
    index.upsert_profiles([{"customer": "a", "vip": "true", "points": "5"}, {"customer": "b", "points": "7"}])
    index.add_purchases([{"customer": "a", "time": "2026-03-01", "amount": "10", "brand": "x"}])
    index.save_segment("vips", "vip = true", kind="hot")
    return index


# one call that changes something, per write operation of an Index
CHANGES: dict[str, Callable[[Index], Any]] = {
    "upsert_profiles": lambda i: i.upsert_profiles(iter([{"customer": "c", "vip": "false"}])),
    "upsert_profile_columns": lambda i: i.upsert_profile_columns({"customer": np.array(["d"]),
                                                                  "points": np.array([3])}),
    "add_purchases": lambda i: i.add_purchases([{"customer": "b", "time": "2026-03-02", "amount": "4"}]),
    "add_purchase_columns": lambda i: i.add_purchase_columns({"customer": ["e"], "time": ["2026-03-03"],
                                                              "amount": ["2.5"], "brand": ["y"]}),
    "delete_customers": lambda i: i.delete_customers(["b", "nobody"]),
    "save_segment": lambda i: i.save_segment("big", "points   >  4", kind="trigger", description="d"),
    "delete_segment": lambda i: i.delete_segment("vips"),
    "update_list": lambda i: i.update_list("picked", add=["a", "z"]),
    "save_tiering": lambda i: i.save_tiering("t", [("high", "points > 6")], "low"),
    "record_evaluation": lambda i: i.record_evaluation(i.daily_evaluation(AS_OF)),
    "remember_import": lambda i: i.remember_import("ab" * 32, "purchases", "p.csv", "2026-03-14"),
}

# calls that are refused (raise) or change nothing, per write operation
REFUSED: dict[str, list[Callable[[Index], Any]]] = {
    "upsert_profiles": [lambda i: i.upsert_profiles([{"customer": "b", "points": "many"}]),
                        lambda i: i.upsert_profiles([]),
                        lambda i: i.upsert_profiles([{"customer": "b", "points": "many"}], rejects=[])],
    "upsert_profile_columns": [lambda i: i.upsert_profile_columns({"customer": ["x"], "points": ["lots"]}),
                               lambda i: i.upsert_profile_columns({"customer": []})],
    "add_purchases": [lambda i: i.add_purchases([{"customer": "b", "time": "yesterday", "amount": "1"}]),
                      lambda i: i.add_purchases([])],
    "add_purchase_columns": [lambda i: i.add_purchase_columns({"customer": ["b"], "time": ["2026-03-01"],
                                                               "amount": ["1"], "colour": ["red"]}),
                             lambda i: i.add_purchase_columns({})],
    "delete_customers": [lambda i: i.delete_customers(["nobody"]), lambda i: i.delete_customers([])],
    "save_segment": [lambda i: i.save_segment("s", "colour = 'red'"), lambda i: i.save_segment("bad name!", "ALL"),
                     lambda i: i.save_segment("loop", "IN SEGMENT 'loop'"),
                     lambda i: i.save_segment("s", "ALL", kind="lukewarm")],
    "delete_segment": [lambda i: i.delete_segment("nope")],
    "update_list": [lambda i: i.update_list("no good", add=["a"])],
    "save_tiering": [lambda i: i.save_tiering("t", [("x", "vip = 3")], "rest"),
                     lambda i: i.save_tiering("t", [("x", "ALL")], "x")],
    "record_evaluation": [lambda i: i.record_evaluation({"segments": []})],
    "remember_import": [lambda i: i.remember_import("not a digest", "purchases", "p.csv", "2026-03-14")],
}


def test_every_write_operation_is_covered() -> None:
    assert set(CHANGES) == set(REFUSED) == set(write_operations(Index))
    assert write_operations(Catalog) == ["create_index", "drop_index"]


@pytest.mark.parametrize("op", sorted(CHANGES))
def test_a_change_is_journaled_exactly_once(op: str) -> None:
    catalog, recorder = journaled_catalog()
    index = filled(catalog.create_index("shop", SCHEMA))
    before = len(recorder.records)
    CHANGES[op](index)
    assert len(recorder.records) == before + 1
    name, logged_op, args = recorder.records[-1]
    assert (name, logged_op) == ("shop", op)
    assert "rejects" not in args
    for value in args.values():  # materialised: plain lists and dicts, never an iterator
        assert not hasattr(value, "__next__")


@pytest.mark.parametrize("op", sorted(REFUSED))
def test_a_refused_or_empty_call_is_never_journaled(op: str) -> None:
    catalog, recorder = journaled_catalog()
    index = filled(catalog.create_index("shop", SCHEMA))
    before = len(recorder.records)
    for call in REFUSED[op]:
        try:
            call(index)
        except (InvalidInputError, QueryError, NotFoundError, KeyError):
            pass
    assert recorder.records[before:] == []
    catalog.drop_index("shop")
    with pytest.raises(NotFoundError):  # a dropped index refuses every write
        CHANGES[op](index)
    assert [op for _, op, _ in recorder.records[before:]] == ["drop_index"]


def test_catalog_writes_are_journaled_once_and_refusals_never() -> None:
    catalog, recorder = journaled_catalog()
    catalog.create_index("shop", SCHEMA)
    refused = [lambda: catalog.create_index("shop", SCHEMA), lambda: catalog.create_index("bad name!", SCHEMA),
               lambda: catalog.create_index("other", "[profile]\nx = 'nonsense'"),
               lambda: catalog.drop_index("nope")]
    for call in refused:
        with pytest.raises((AlreadyExistsError, InvalidInputError, SchemaError, NotFoundError)):
            call()
    catalog.drop_index("shop")
    assert recorder.records == [(None, "create_index", {"name": "shop", "schema_toml": SCHEMA}),
                                (None, "drop_index", {"name": "shop"})]


def test_a_segment_is_journaled_as_canonical_text() -> None:
    catalog, recorder = journaled_catalog()
    index = filled(catalog.create_index("shop", SCHEMA))
    CHANGES["save_segment"](index)
    logged = dict(recorder.records[-1][2])
    evaluation = logged.pop("evaluation")  # a trigger segment: its members today, journaled with the save
    assert logged == {"name": "big", "query": "points > 4", "kind": "trigger", "description": "d"}
    assert evaluation["day"] == day_number(index.today())
    [[name, kind, members]] = evaluation["segments"]
    ids = index.translator.to_keys(np.array(list(BitMap.deserialize(members)), dtype=np.uint32)).tolist()
    assert (name, kind, sorted(ids)) == ("big", "trigger", ["a", "b"])  # points 5 and 7 (filled)


def test_a_journal_that_fails_refuses_the_call_and_a_check_refuses_before_preparing() -> None:
    class Broken:
        refuse = False

        def check(self) -> None:
            if self.refuse:
                raise BitsegError("refused")

        def __call__(self, index_name: str | None, op: str, args: dict[str, Any]) -> None:
            if index_name is not None:
                raise BitsegError("the log is full")

    journal = Broken()
    index = Catalog(journal=journal).create_index("shop", SCHEMA)
    with pytest.raises(BitsegError, match="full"):
        index.upsert_profiles([{"customer": "a"}])
    journal.refuse = True
    with pytest.raises(BitsegError, match="refused"):
        index.upsert_profiles([{"customer": "b"}])
    assert index.members("ALL") == []  # neither the batch the log refused nor the refused one is visible
    assert index.version == 0 and index.column_count == 0


def test_replaying_the_journal_gives_the_data_written() -> None:
    catalog, recorder = journaled_catalog()
    catalog.create_index("gone", SCHEMA)
    catalog.drop_index("gone")
    index = catalog.create_index("shop", SCHEMA)
    rejects: list = []
    index.upsert_profiles([{"customer": f"c{i}", "vip": str(i % 3 == 0).lower(), "points": str(i)} for i in range(12)]
                          + [{"customer": "bad", "points": "many"}], rejects=rejects)
    assert len(rejects) == 1
    index.upsert_profile_columns({"customer": np.array(["c1", "c2"]), "vip": np.array([True, True])})
    index.add_purchases([{"customer": "c4", "time": "2026-03-01", "amount": "30", "brand": "x", "order": "o1"},
                         {"customer": "c4", "time": "2026-03-01", "amount": "20", "brand": "y", "order": "o1"},
                         {"customer": "c5", "time": "2026-03-10", "amount": "oops"}], rejects=rejects)
    index.add_purchase_columns({"customer": ["c5", "new"], "time": ["2026-03-10", "2026-03-12"],
                                "amount": ["7", "8"], "brand": ["x", "z"]})
    index.save_segment("vips", "vip = true", kind="hot")
    index.save_segment("buyers", "orders > 0", kind="trigger")
    index.save_segment("rich_vips", "IN SEGMENT 'vips' AND points > 5")
    index.save_segment("tmp", "ALL")
    index.delete_segment("tmp")
    index.update_list("picked", add=["c1", "c2", "c3", "stranger"])
    index.update_list("picked", remove=["c2"])
    index.save_tiering("by_points", [("high", "points >= 9"), ("mid", "points >= 5")], "low")
    index.record_evaluation(index.daily_evaluation(AS_OF - dt.timedelta(days=1)))
    index.delete_customers(["c0", "c9"])
    index.record_evaluation(index.daily_evaluation(AS_OF))

    fresh_recorder = Recorder()
    fresh = fresh_recorder.catalog = Catalog(journal=fresh_recorder)  # the real clock: replay uses what was logged
    for name, op, args in recorder.records:
        (fresh if name is None else fresh.get(name)).replay(op, args)
    assert fresh_recorder.records == []  # replay is not journaled again
    again = fresh.get("shop")

    # the data written, stated plainly: c0..c11, "new" and "stranger" (c0 and c9 erased)
    vips = ["c1", "c2", "c3", "c6"]  # i % 3 == 0 (c0 and c9 erased), and c1, c2 made vips
    assert fresh.names() == ["shop"]
    assert again.customer_count == 12 and again.line_count == 4
    assert again.members("vip = true", as_of=AS_OF) == vips
    assert again.members("IN SEGMENT 'rich_vips'", as_of=AS_OF) == ["c6"]
    assert again.members("purchases MATCHES (brand = 'x')", as_of=AS_OF) == ["c4", "c5"]
    assert again.count("orders = 1 AND clv = 50", as_of=AS_OF) == 1  # c4: one order of two lines
    assert again.get_list("picked") == ["c1", "c3", "stranger"]
    assert again.count_tiers("by_points", as_of=AS_OF) == [("high", 2), ("mid", 4), ("low", 6)]
    assert [s.name for s in again.list_segments()] == ["buyers", "rich_vips", "vips"]
    assert again.get_segment("vips").kind == "hot"
    assert again.history("vips") == [HistoryRow(AS_OF - dt.timedelta(days=1), 6, 6, 0),
                                     HistoryRow(AS_OF, 4, 0, 0)]  # c0 erased: left the kept members
    changes = again.changes("buyers", AS_OF - dt.timedelta(days=1))
    assert (changes.entered, changes.left) == ([], [])
    assert again.last_evaluated == AS_OF
