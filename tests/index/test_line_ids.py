"""The `line` id column (SPEC §1): a line whose id the index already holds is skipped, so duplicates never change
an answer.

The index is fed every batch as a feed would send it (ids repeated inside a batch, across batches, whole
batches sent again, lines without an id); the oracle (tests/oracle.py) is fed only the first line of each id,
deduplicated here in plain Python. Every count must agree, and the index must say how many lines it added.
The ids held survive a snapshot and a replay of the log, and a write the log refused holds none of its ids.
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitseg import Index
from bitseg.errors import InvalidInputError
from bitseg.persistence import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "query"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from oracle import Oracle
from test_oracle_properties import examples
from test_publish_atomic import END, QUERIES, SCHEMA, engine_rows

SCHEMA_TOML = '[profile]\nvip = "bool"\n[purchase]\nbrand = "keyword"\ncolor = "keyword"'


@st.composite
def feeds(draw) -> list[list[dict]]:
    """Batches of lines whose ids come from a small pool (so they repeat), some without an id, some sent twice."""
    batches: list[list[dict]] = []
    for _ in range(draw(st.integers(1, 6))):
        if batches and draw(st.booleans()):
            batches.append(draw(st.sampled_from(batches)))  # a retried message
            continue
        batch = []
        for _ in range(draw(st.integers(1, 10))):
            quantity = draw(st.sampled_from((1, 1, 2, -1)))
            customer = f"c{draw(st.integers(0, 6))}"
            batch.append({"customer": customer, "day": END - dt.timedelta(draw(st.integers(0, 400))),
                          "amount": Decimal(draw(st.sampled_from(("5", "120")))) * (1 if quantity > 0 else -1),
                          "quantity": quantity, "order": draw(st.sampled_from((None, f"{customer}-1"))),
                          "line": draw(st.sampled_from((None, "", "L1", "L2", "L3", "L4", "l1", "L1 "))),
                          "brand": draw(st.sampled_from((None, "x", "y"))),
                          "color": draw(st.sampled_from((None, "z")))})
        batches.append(batch)
    return batches


def first_of_each_id(batch: list[dict], held: set[str]) -> list[dict]:
    """The lines a feed means: the first line of each id (lines without one all count)."""
    kept = []
    for line in batch:
        if line["line"]:
            if line["line"] in held:
                continue
            held.add(line["line"])
        kept.append({k: v for k, v in line.items() if k != "line"})
    return kept


@examples(60)
@given(feeds())
def test_duplicate_lines_never_change_an_answer(batches: list[list[dict]]) -> None:
    index, oracle, held = Index(SCHEMA), Oracle(SCHEMA), set()
    trees = [index.compiler.checked(text)[0] for text in QUERIES]
    for batch in batches:
        meant = first_of_each_id(batch, held)
        assert index.add_purchases(engine_rows(batch)) == len(meant)
        oracle.add_purchases(meant)
        assert index.line_count == len(oracle.lines)
        assert [index.count(tree, END) for tree in trees] == [oracle.count(tree, END) for tree in trees]


def test_the_column_path_and_coded_ids_skip_the_same_lines() -> None:
    index = Index(SCHEMA)
    columns = {"customer": ["a", "b", "a"], "time": ["2026-03-01"] * 3, "amount": [10.0, 20.0, 30.0],
               "line": ["x", "y", "x"]}
    assert index.add_purchase_columns(columns) == 2
    assert index.add_purchase_columns({**columns, "line": ["y", None, "z"]}) == 2  # y held; no id; z new
    assert (index.count("clv >= 40", END), index.count("clv > 40", END), index.line_count) == (2, 0, 4)


def test_a_line_id_must_be_text() -> None:
    index = Index(SCHEMA)
    with pytest.raises(InvalidInputError, match="row 2: field 'line': 7 is not a string"):
        index.add_purchases([{"customer": "a", "time": "2026-03-01", "amount": "1", "line": "x"},
                             {"customer": "a", "time": "2026-03-01", "amount": "1", "line": 7}])
    assert index.line_count == 0 and index.add_purchases(
        [{"customer": "a", "time": "2026-03-01", "amount": "1", "line": "x"}]) == 1  # "x" was not held


@pytest.mark.parametrize("reopen", ["snapshot", "log"])
def test_the_ids_held_survive_a_restart(tmp_path: Path, reopen: str) -> None:
    lines = [{"customer": f"c{i % 3}", "time": "2026-03-01", "amount": "10", "line": f"L{i}"} for i in range(50)]
    store = Store(tmp_path).open()
    index = store.create_index("shop", SCHEMA_TOML)
    assert index.add_purchases(lines[:30]) == 30
    store.close(snapshot=reopen == "snapshot")
    store = Store(tmp_path).open()
    index = store.get("shop")
    assert index.add_purchases(lines) == 20  # the first 30 are held
    assert index.line_count == 50 and index.count("clv >= 160", END) == 3
    store.close(snapshot=False)
    index = Store(tmp_path).open().get("shop")  # replayed: the same lines skipped again
    assert index.line_count == 50 and index.count("clv > 170", END) == 0


def test_a_refused_write_holds_none_of_its_ids() -> None:
    refuse = [False]

    def journal(index_name, op, args) -> None:
        if refuse[0]:
            raise OSError("disk full")

    index = Index(SCHEMA, journal=journal)
    line = {"customer": "a", "time": "2026-03-01", "amount": "10"}
    assert index.add_purchases([{**line, "line": "x"}]) == 1
    refuse[0] = True
    with pytest.raises(OSError):
        index.add_purchases([{**line, "line": "y"}, {**line, "line": "z"}])
    refuse[0] = False
    assert index.add_purchases([{**line, "line": "z"}, {**line, "line": "x"}, {**line, "line": "y"}]) == 2
    assert index.line_count == 3
