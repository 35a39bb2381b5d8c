"""The index's parts never import the Index facade (nor the Catalog above it), TYPE_CHECKING imports included."""

from __future__ import annotations

import ast
from pathlib import Path

INDEX = Path(__file__).resolve().parents[2] / "src" / "bitseg" / "index"
FACADE = {"bitseg.index.index", "bitseg.index.catalog", "bitseg"}  # bitseg/__init__.py re-exports the facade
ABOVE_THE_PARTS = {"index.py", "catalog.py"}


def is_module(name: str) -> bool:
    path = INDEX.parents[1].joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it: `from a import b` is a.b when that is a module, else a."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {f"{node.module}.{alias.name}" if is_module(f"{node.module}.{alias.name}") else node.module
                      for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_index_parts_never_import_the_facade() -> None:
    parts = [path for path in INDEX.glob("*.py") if path.name not in ABOVE_THE_PARTS]
    assert len(parts) >= 10
    offenders = {path.name: sorted(FACADE & imports(path)) for path in parts if FACADE & imports(path)}
    assert not offenders, offenders
