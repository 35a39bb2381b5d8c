"""Count of every SPEC §2 example query on every peer, each answer checked against bitseg's before timing."""

from __future__ import annotations

import pytest

from benchmarks.peers import CHECK_DAYS, PEERS, QUERIES, Query, compare


@pytest.mark.parametrize("peer_name", list(PEERS))
@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_count(benchmark, bench, peers, answers, query: Query, peer_name: str) -> None:
    peer = peers[peer_name]
    # bitseg is the reference for the others; bitseg itself is checked against the raw plan
    reference = peers["raw"].members(query, bench.as_of) if peer_name == "bitseg" else answers[query.name]
    info = compare(reference, peer.members(query, bench.as_of))
    benchmark.group = query.name
    benchmark.extra_info.update(info, peer=peer_name, query=query.text, kind=query.kind, size=bench.ds.size)
    assert info["correct"], f"{peer_name} answers {query.name} differently from bitseg: {info}"
    count = benchmark(peer.count, query, bench.as_of)
    assert count == len(answers[query.name])


@pytest.mark.parametrize("day", CHECK_DAYS, ids=str)
def test_answers_on_other_days(bench, peers, day) -> None:
    """The year wrap and leap day of ANNIVERSARY, the clamped months and point in time (no line after the day
    counts), in every peer's plan."""
    wrong = {}
    for query in QUERIES:
        expected = peers["bitseg"].members(query, day)
        for name in ("duckdb", "raw"):
            info = compare(expected, peers[name].members(query, day))
            if not info["correct"]:
                wrong[(query.name, name)] = info
    assert not wrong
