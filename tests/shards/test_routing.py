"""The shard of a customer (SPEC §9), computed here from the formula by other means than the engine's."""

from __future__ import annotations

import hashlib

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bitseg.shards.routing import positions_by_shard, shard_of, shards_of


def by_the_spec(external_id: str, n: int) -> int:
    digest = hashlib.new("blake2b", external_id.encode("utf-8"), digest_size=8).hexdigest()
    return int(digest, 16) % n


@given(st.lists(st.text(min_size=1, max_size=12), max_size=40), st.integers(1, 9))
def test_shard_is_blake2b_of_the_id_modulo_n(ids: list[str], n: int) -> None:
    expected = [by_the_spec(key, n) for key in ids]
    assert [shard_of(key, n) for key in ids] == expected
    assert shards_of(ids, n).tolist() == expected


@given(st.lists(st.integers(0, 4), max_size=50))
def test_positions_by_shard_partition_the_rows_in_order(shards: list[int]) -> None:
    parts = positions_by_shard(np.array(shards, dtype=np.int64), 5)
    assert [p.tolist() for p in parts] == [[i for i, s in enumerate(shards) if s == k] for k in range(5)]


def test_known_values_other_programs_can_check() -> None:
    # Pinned: a change of the formula would move every customer of every sharded data directory.
    assert [shard_of(f"c{i}", 3) for i in range(1, 7)] == [2, 0, 2, 0, 1, 2]
    assert shard_of("ünïcode-id", 1000) == by_the_spec("ünïcode-id", 1000)
