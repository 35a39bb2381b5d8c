"""Index.values and the unknown-value warnings against the independent oracle, on random worlds (profiles
rewritten, lines with returns, customers deleted): the counts are those of the oracle's plain rows."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bitseg
from bitseg.errors import InvalidInputError, NotFoundError
from bitseg.index.distinct import CLOSE_MATCH_MAX, nearest

sys.path.insert(0, str(Path(__file__).parent.parent / "query"))
from test_oracle_properties import SCHEMA, worlds  # noqa: E402


def quoted(value: str) -> str:
    return value.replace("'", "''")


def ordered(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(((v, n) for v, n in counts.items() if n), key=lambda c: (-c[1], c[0]))


def oracle_profile_counts(oracle, name: str) -> Counter[str]:  # type: ignore[no-untyped-def]
    counts: Counter[str] = Counter()
    for customer in oracle.customers:
        value = oracle.profiles.get(customer, {}).get(name)
        if isinstance(value, frozenset):
            counts.update(value)
        elif isinstance(value, bool):
            counts[str(value).lower()] += 1
        elif value is not None:
            counts[str(value)] += 1
    return counts


def oracle_dimension_counts(oracle, dim: str) -> Counter[str]:  # type: ignore[no-untyped-def]
    buyers: dict[str, set[str]] = {}
    for line in oracle.lines:
        if line.quantity > 0 and line.dims[dim] is not None:
            buyers.setdefault(line.dims[dim], set()).add(line.customer)
    return Counter({value: len(customers) for value, customers in buyers.items()})


@settings(max_examples=40)
@given(worlds())
def test_values_equal_the_oracle_counts(world) -> None:  # type: ignore[no-untyped-def]
    index, oracle = world.build()
    for name in ("gender", "tags", "member"):
        assert index.values(name, limit=100_000) == ordered(oracle_profile_counts(oracle, name)), name
    for dim in SCHEMA.dimensions:
        expected = ordered(oracle_dimension_counts(oracle, dim))
        assert index.values(dim, limit=100_000) == expected, dim
        assert index.values(dim, limit=1) == expected[:1]
        for value, _ in expected:
            assert (value, dict(expected)[value]) in index.values(dim, prefix=value[:2].swapcase())


@settings(max_examples=40)
@given(worlds(), st.data())
def test_a_warning_when_and_only_when_nobody_has_the_value(world, data) -> None:  # type: ignore[no-untyped-def]
    index, oracle = world.build()
    for dim in SCHEMA.dimensions:
        existing = set(oracle_dimension_counts(oracle, dim))
        literal = data.draw(st.sampled_from(sorted(existing | {"zz-none"})), label=dim)
        _, warned = index.count_with_warnings(f"purchases MATCHES ({dim} = '{quoted(literal)}')")
        assert bool(warned) == (literal not in existing), (dim, literal, warned)
    genders = set(oracle_profile_counts(oracle, "gender"))
    literal = data.draw(st.sampled_from(sorted(genders | {"zz-none"})), label="gender")
    _, warned = index.count_with_warnings(f"gender IN ('{quoted(literal)}') OR member = true")
    assert bool(warned) == (literal not in genders)


def test_refusals_name_the_field() -> None:
    index = bitseg.Index(SCHEMA)
    with pytest.raises(NotFoundError, match="'colour'"):
        index.values("colour")
    for name, kind in (("points", "int"), ("birth_date", "date"), ("email", "presence")):
        with pytest.raises(InvalidInputError, match=f"{kind} field"):
            index.values(name)
    with pytest.raises(InvalidInputError, match="limit"):
        index.values("gender", limit=-1)
    assert index.values("brand") == []


def test_nearest_case_first_then_close_matches_and_a_cap() -> None:
    assert nearest("shoes", ["Shoes", "shoe", "Hats"]) == ["Shoes", "shoe"]
    assert nearest("SHOES", ["shoes", "Shoes"]) == ["Shoes", "shoes"]
    assert nearest("xyz", ["Shoes"]) == []
    many = [f"sku{i}" for i in range(CLOSE_MATCH_MAX + 1)]
    assert nearest("SKU7", many) == ["sku7"]  # past the cap only the case-insensitive match is looked for
