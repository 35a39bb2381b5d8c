"""The insight verbs of the `bitseg` command (run in-process against a real server): text and --json."""

from __future__ import annotations

import json

import pytest

from bitseg.cli import main
from bitseg.server.app import Server

from .shop import AS_OF


def run(capsys: pytest.CaptureFixture[str], server: Server, *args: str) -> tuple[int, str]:
    code = main([args[0], "--server", f"127.0.0.1:{server.port}", "--index", "shop", *args[1:]])
    return code, capsys.readouterr().out


def test_insight_verbs(capsys: pytest.CaptureFixture[str], server: Server, shop: str) -> None:
    code, out = run(capsys, server, "explain", "--analyze", "--as-of", AS_OF, "country = 'NL' AND vip = true")
    assert code == 0 and "row bitmap" in out and "customers," in out
    code, out = run(capsys, server, "explain", "--json", "country = 'NL'")
    assert json.loads(out)[0]["access"] == "row bitmap"
    code, out = run(capsys, server, "why", "--customer", "c1", "--as-of", AS_OF, "country = 'NL' AND vip = true")
    assert code == 0 and out.startswith("c1 is a member") and "country = 'NL'" in out
    code, out = run(capsys, server, "why", "--json", "--customer", "c2", "--as-of", AS_OF, "country = 'NL'")
    assert json.loads(out)["is_member"] is False
    assert run(capsys, server, "why", "--customer", "nobody", "ALL")[0] == 3  # not found
    code, out = run(capsys, server, "criteria", "--json", "--as-of", AS_OF, "country = 'NL' OR vip = true")
    found = json.loads(out)
    assert found["combinator"] == "OR" and [c["criterion"] for c in found["criteria"]] == ["country = 'NL'",
                                                                                            "vip = TRUE"]
    code, out = run(capsys, server, "overlap", "--json", "country = 'NL'", "BUCKET('q3') < 5000", "ALL")
    overlap = json.loads(out)
    assert len(overlap["matrix"]) == 3 and overlap["matrix"][2][2] == overlap["sizes"][2]
    code, out = run(capsys, server, "overlap", "ALL", "vip = true")
    assert code == 0 and "[2]" in out
