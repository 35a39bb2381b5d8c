"""The CLI talks to a server only through bitseg.Client: no stub, no grpc, no server module in its verbs."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "bitseg"
LOCAL = {"serve.py"}   # `serve` runs the server here, so it may import bitseg.server


def imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append(node.module or "")
    return names


def test_cli_uses_only_the_client() -> None:
    offenders = []
    for path in sorted((SRC / "cli").glob("*.py")):
        for name in imports(path):
            server = name.startswith("bitseg.server") and path.name not in LOCAL
            if name.split(".")[0] == "grpc" or name.startswith("bitseg.v1") or server:
                offenders.append(f"{path.name}: {name}")
    assert not offenders, offenders


def test_client_values_need_no_grpc() -> None:
    for module in ("csvrecords.py", "replies.py", "errors.py"):
        assert not [n for n in imports(SRC / module) if n.split(".")[0] == "grpc" or n.startswith("bitseg.v1")]
