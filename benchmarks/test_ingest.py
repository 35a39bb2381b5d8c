"""Ingest through the Python API (columnar fast path) and the memory the index takes."""

from __future__ import annotations

from benchmarks.data import index_bytes, load_bitseg, settled_rss
from benchmarks.peers import QUERIES


def test_ingest_lines(benchmark, bench) -> None:
    """A fresh index takes the profiles (not timed) and then every purchase line batch (timed)."""
    from bitseg import Index
    from bitseg.generate import FASHION_SCHEMA

    ds = bench.ds

    def setup():
        index = Index.from_toml(FASHION_SCHEMA, "ingest")
        index.upsert_profile_columns(ds.profiles)
        return (index,), {}

    def ingest(index) -> None:
        for batch in ds.batches:
            index.add_purchase_columns(batch)
        last.append(index)

    last: list = []
    benchmark.pedantic(ingest, setup=setup, rounds=1 if ds.size in ("M", "L") else 3)
    index = last[-1]
    for name, cids in ds.lists.items():
        index.update_list(name, add=ds.customer_ids[cids].tolist())
    wrong = [q.name for q in QUERIES if index.count(q.text, bench.as_of) != bench.index.count(q.text, bench.as_of)]
    benchmark.extra_info.update(correct=not wrong, lines=ds.lines, size=ds.size)
    assert not wrong, f"a second load answers differently: {wrong}"


def test_memory_per_customer_and_line(bench) -> None:
    """RSS delta of a load (after gc) and the structural size; recorded in the report, checked for sanity here."""
    before = settled_rss()
    index, _ = load_bitseg(bench.ds, name="memory")
    after = settled_rss()
    parts = index_bytes(index)
    assert after >= before - (64 << 20)     # other frees may shrink RSS a little, never by much
    assert sum(parts.values()) > bench.ds.lines * 8     # at least the line columns
