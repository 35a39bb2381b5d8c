"""The index's parts never import the Index facade, and no bitseg module imports itself back (TYPE_CHECKING too)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "bitseg"
ABOVE_THE_FACADE = {"index.py", "catalog.py", "__init__.py"}  # the facade itself and the catalog that holds it


def is_module(name: str) -> bool:
    path = SRC.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports(path: Path) -> set[str]:
    """The bitseg modules `path` imports anywhere: `from bitseg.x import y` is bitseg.x.y when that is a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "bitseg":
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if is_module(submodule) else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "bitseg"}
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_index_parts_never_import_the_facade() -> None:
    offenders = [path.name for path in (SRC / "index").glob("*.py")
                 if path.name not in ABOVE_THE_FACADE and {"bitseg.index.index", "bitseg.index.catalog"}
                 & imports(path)]
    assert not offenders, offenders


def test_no_import_cycles() -> None:
    modules = {module_name(p): p for p in SRC.rglob("*.py") if "v1" not in p.parts}
    graph = {name: {m for m in imports(path) if m in modules and m != name} for name, path in modules.items()}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError("import cycle: " + " → ".join([*path[path.index(name):], name]))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
