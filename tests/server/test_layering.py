"""The query language and the index know nothing of gRPC: only bitseg.server (and the CLI) import it."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "bitseg"


def test_core_never_imports_grpc() -> None:
    offenders = []
    for path in [*(SRC / "query").rglob("*.py"), *(SRC / "index").rglob("*.py"), SRC / "schema.py", SRC / "errors.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] in ("grpc", "grpc_health", "grpc_reflection", "google")
                   or n.startswith(("bitseg.server", "bitseg.v1")) for n in names):
                offenders.append(f"{path.relative_to(SRC)}: {names}")
    assert not offenders, offenders
