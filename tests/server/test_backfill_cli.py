"""`bitseg segments save --kind hot --backfill DAYS` and the backfilled mark of `bitseg history` (text and JSON)
and of bitseg.Client, against a real server on the shared shop (every purchase is before the days filled)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bitseg import Client
from bitseg.cli import main
from bitseg.server.app import Server


def test_backfill_from_the_cli(capsys: pytest.CaptureFixture[str], server: Server, shop: str,
                               tmp_path: Path) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        code = main([args[0], "--server", f"127.0.0.1:{server.port}", "--index", "shop", *args[1:]])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    code, out, _ = run("segments", "save", "--kind", "hot", "buyers", "orders >= 1", "--backfill", "3")
    assert code == 0 and out.strip().endswith("history backfilled for the 3 days before today")
    code, out, _ = run("history", "--json", "buyers")
    rows = json.loads(out)
    today = dt.date.fromisoformat(rows[-1]["day"])
    assert [(r["day"], r["size"], r["entered"], r["left"], r["backfilled"]) for r in rows] == [
        ((today - dt.timedelta(days=3)).isoformat(), 4, 4, 0, True),
        ((today - dt.timedelta(days=2)).isoformat(), 4, 0, 0, True),
        ((today - dt.timedelta(days=1)).isoformat(), 4, 0, 0, True),
        (today.isoformat(), 4, 0, 0, False)]
    code, out, _ = run("history", "buyers")
    assert out.split("\n")[1].split() == [rows[0]["day"], "4", "4", "0", "backfilled"]
    assert out.split("\n")[4].split() == [rows[-1]["day"], "4", "0", "0"]
    code, out, err = run("history", "buyers", "--start", "2001-01-01", "--end", "2001-01-31", "--chart",
                         str(tmp_path / "empty.png"))
    assert code == 1 and "no chart written to" in err and "nothing to draw" in err
    assert not (tmp_path / "empty.png").exists()
    code, _, err = run("segments", "save", "--kind", "trigger", "--backfill", "3", "t", "orders >= 1")
    assert code != 0 and "--backfill is for hot segments" in err
    with Client(f"127.0.0.1:{server.port}") as client:
        history = client.history("shop", "buyers")
        assert [h.backfilled for h in history] == [True, True, True, False]
        client.save_segment("shop", "dutch", "country = 'NL'", kind="hot", backfill_days=2)
        assert [(h.size, h.backfilled) for h in client.history("shop", "dutch")] == [(2, True), (2, True),
                                                                                    (2, False)]
