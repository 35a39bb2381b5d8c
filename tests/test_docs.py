"""The documentation stays true: every query in docs/*.md is valid against the demo schema, every error example
fails with the message shown, and the README links only pages the repository has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bitseg.errors import QueryError
from bitseg.generate import FASHION_SCHEMA
from bitseg.query.compiler import Compiler
from bitseg.schema import Schema

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"^```(query|query-error)\n(.*?)^```", re.S | re.M)


def blocks(kind: str) -> list[tuple[str, str]]:
    found = []
    for page in DOCS:
        for block_kind, body in BLOCK.findall(page.read_text(encoding="utf-8")):
            if block_kind == kind:
                found.append((page.name, body))
    return found


QUERIES = [(page, line) for page, body in blocks("query") for line in body.splitlines() if line.strip()]
ERRORS = [(page, query, expected[1:].strip()) for page, body in blocks("query-error")
          for query, expected in zip(body.splitlines()[::2], body.splitlines()[1::2])]


def test_the_pages_exist() -> None:
    names = {page.name for page in DOCS}
    assert {"query-language.md", "cli.md", "grpc.md", "data-model.md"} <= names
    assert len(QUERIES) > 40 and len(ERRORS) > 10


@pytest.mark.parametrize(("page", "query"), QUERIES)
def test_every_documented_query_is_valid(page: str, query: str) -> None:
    Compiler(Schema.from_toml(FASHION_SCHEMA)).checked(query)


@pytest.mark.parametrize(("page", "query", "message"), ERRORS)
def test_every_documented_error_happens(page: str, query: str, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        Compiler(Schema.from_toml(FASHION_SCHEMA)).checked(query)
    assert message in str(raised.value)


def test_the_readme_points_inside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme
    for target in re.findall(r"\]\(([^)#]+)", readme):
        if "://" not in target:
            assert (ROOT / target).exists(), target
    for page in ("docs/query-language.md", "docs/cli.md", "docs/grpc.md", "docs/data-model.md"):
        assert f"]({page})" in readme
