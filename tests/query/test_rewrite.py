"""Golden rewrite pairs (fixtures/rewrites.txt), and rewrites never change what a query means."""

from __future__ import annotations

from pathlib import Path

import pytest

from bitseg.query.parser import parse
from bitseg.query.printer import to_text
from bitseg.query.rewrite import normalize

CASES = [line.split("  =>  ") for line in (Path(__file__).parent / "fixtures" / "rewrites.txt").read_text().splitlines()
         if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("query, expected", CASES, ids=[c[0] for c in CASES])
def test_golden(query, expected):
    assert to_text(normalize(parse(query))) == expected


@pytest.mark.parametrize("query, expected", CASES, ids=[c[0] for c in CASES])
def test_normalize_is_idempotent(query, expected):
    once = normalize(parse(query))
    assert normalize(once) == once
