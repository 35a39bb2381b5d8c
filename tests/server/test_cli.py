"""The `bitseg` command end to end: generate → serve (a subprocess) → import → count → members → stats."""

from __future__ import annotations

import csv
import gzip
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
       "BITSEG_SERVER": "", "BITSEG_TOKEN": ""}


def bitseg(*args: str, check: int | None = 0, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "bitseg.cli", *args], env=ENV, capture_output=True, text=True,
                          input=stdin, timeout=120, check=False)
    if check is not None:
        assert done.returncode == check, (args, done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    return done


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("data") / "shop"
    done = bitseg("generate", "--customers", "3000", "--lines", "60000", "--seed", "7", "--end", "2026-03-14",
                  "--out", str(out), "--json")
    assert json.loads(done.stdout)["lines"] == 60000
    return out


def start_serving(*args: str) -> tuple[subprocess.Popen[str], str, list[dict]]:
    """`bitseg serve --port 0 …` in a subprocess; its address once it listens, and the log lines until then."""
    process = subprocess.Popen([sys.executable, "-m", "bitseg.cli", "serve", "--port", "0", *args],
                               env=ENV, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    entries = []
    for line in process.stderr:  # structured logs: wait for the "listening" line and read the port from it
        entries.append(json.loads(line))
        if entries[-1]["msg"] == "listening":
            return process, entries[-1]["address"], entries
    process.wait(timeout=30)
    raise AssertionError(f"the server did not start: {entries}")


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("bitseg-data")
    process = subprocess.Popen([sys.executable, "-m", "bitseg.cli", "serve", "--port", "0", "--token", "t0ken",
                                "--data-dir", str(data_dir)], env=ENV, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    address = None
    for line in process.stderr:  # structured logs: wait for the "listening" line and read the port from it
        entry = json.loads(line)
        if entry["msg"] == "listening":
            address = entry["address"]
            break
    assert address, "the server did not start"
    logs: list[str] = []
    drain = threading.Thread(target=lambda: logs.extend(process.stderr), daemon=True)  # a full pipe would block it
    drain.start()
    yield address
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    drain.join(timeout=10)
    process.stderr.close()
    entries = [json.loads(line) for line in logs]
    assert entries[-1]["msg"] == "stopped"
    assert {"method", "code", "ms", "peer"} <= set(next(e for e in entries if e["msg"] == "rpc"))


def client(address: str, *args: str, check: int | None = 0, stdin: str | None = None) -> subprocess.CompletedProcess:
    verb, *rest = args
    return bitseg(verb, "--server", address, "--token", "t0ken", *rest, check=check, stdin=stdin)


def profiles(dataset: Path) -> list[dict[str, str]]:
    with open(dataset / "profiles.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_end_to_end(dataset: Path, serving: str, tmp_path: Path) -> None:
    done = client(serving, "import", "--index", "shop", "--schema", str(dataset / "schema.toml"),
                  "--profiles", str(dataset / "profiles.csv"), "--purchases", str(dataset / "purchases.csv"),
                  "--json")
    report = json.loads(done.stdout)
    assert [f["rows"] for f in report["files"]] == [3000, 60000] and report["rejected"] == 0

    # count prints the number alone; checked against the CSV itself.
    dutch = sorted(row["customer"] for row in profiles(dataset) if row["country"] == "NL")
    assert client(serving, "count", "--index", "shop", "country = 'NL'").stdout == f"{len(dutch)}\n"
    assert client(serving, "count", "--index", "shop", "-", stdin="ALL").stdout == "3000\n"

    # members prints one id per line, in column order (the profiles file's order here).
    members = client(serving, "members", "--index", "shop", "--chunk-size", "100", "country = 'NL'").stdout
    assert members.splitlines() == dutch
    tail = client(serving, "members", "--index", "shop", "--after", dutch[9], "--limit", "5", "country = 'NL'")
    assert tail.stdout.splitlines() == dutch[10:15]
    assert json.loads(client(serving, "members", "--index", "shop", "--json", "country = 'NL'").stdout) == dutch

    stats = json.loads(client(serving, "stats", "--index", "shop", "--json", "--as-of", "2026-03-14",
                              "purchases MATCHES (date >= -90d)").stdout)
    assert stats["members"]["customers"] + stats["rest"]["customers"] == 3000
    assert stats["count"] == stats["members"]["customers"] > 0
    assert "email" in stats["members"]["presence_share"]
    assert "customers" in client(serving, "stats", "--index", "shop", "ALL").stdout

    breakdown = json.loads(client(serving, "breakdown", "--index", "shop", "--field", "country", "--top", "1",
                                  "--json", "ALL").stdout)
    assert breakdown == [{"value": "NL", "count": len(dutch)}]

    client(serving, "segments", "--index", "shop", "save", "dutch", "country = 'NL'", "--kind", "hot")
    assert client(serving, "count", "--index", "shop", "--segment", "dutch").stdout == f"{len(dutch)}\n"
    listed = json.loads(client(serving, "segments", "--index", "shop", "list", "--json").stdout)
    assert listed == [{"name": "dutch", "query": "country = 'NL'", "kind": "hot", "description": ""}]
    assert client(serving, "check", "--index", "shop", "--customer", dutch[0], "dutch").stdout == "dutch\ttrue\n"
    client(serving, "lists", "--index", "shop", "add", "vip", dutch[0], dutch[1])
    assert client(serving, "lists", "--index", "shop", "show", "vip").stdout.split() == dutch[:2]
    client(serving, "tiers", "--index", "shop", "save", "loyalty", "--tier", "Gold=clv >= 1000", "--default", "Rest")
    tiers = json.loads(client(serving, "tiers", "--index", "shop", "count", "loyalty", "--json").stdout)
    assert sum(tiers.values()) == 3000
    assert "shop" in client(serving, "indexes").stdout


def test_rejected_rows_and_exit_codes(serving: str, tmp_path: Path, dataset: Path) -> None:
    bad = tmp_path / "bad.csv.gz"
    with gzip.open(bad, "wt", encoding="utf-8") as handle:
        handle.write("customer,time,amount\nx1,2026-01-01,1\nx2,2026-02-30,2\nx3,2026-01-01\nx4,2026-01-01,3\n")
    done = client(serving, "import", "--index", "rejects", "--schema", str(dataset / "schema.toml"),
                  "--purchases", str(bad), check=1)
    assert f"{bad}:3: field 'time'" in done.stderr and f"{bad}:4: 2 cells" in done.stderr
    assert "2 accepted, 2 rejected" in done.stdout

    assert client(serving, "count", "--index", "nowhere", "ALL", check=3).stderr.startswith("bitseg count: NOT_FOUND")
    assert "unknown field" in client(serving, "count", "--index", "shop", "colour = 'x'", check=1).stderr
    client(serving, "count", "--index", "shop", check=2)                      # no query
    bitseg("count", "--bogus", check=2)                                         # usage
    assert "UNAUTHENTICATED" in bitseg("count", "--server", serving, "--index", "shop", "ALL", check=4).stderr
    assert "cannot reach" in bitseg("count", "--server", "127.0.0.1:9", "--index", "x", "ALL", check=4).stderr
    assert "written" in client(serving, "snapshot").stdout
    assert client(serving, "history", "--index", "shop", "nowhere", check=3).stderr.startswith(
        "bitseg history: NOT_FOUND")
    assert "--since" in client(serving, "changes", "--index", "shop", "x", check=2).stderr
    assert client(serving, "import", "--index", "new", "--purchases", str(bad), check=1).stderr.count("--schema") == 1
    error = json.loads(client(serving, "count", "--index", "nowhere", "--json", "ALL", check=3).stderr)
    assert error["error"]["code"] == "NOT_FOUND"


def test_serve_demo(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    process, address, entries = start_serving("--demo", "--demo-size", "XS", "--data-dir", data_dir)
    try:
        loaded = next((e for e in entries if e["msg"] == "demo index loaded"), None)
        assert loaded and loaded["customers"] == 2000
        assert bitseg("count", "--server", address, "--index", "demo", "ALL").stdout == "2000\n"
        assert len(json.loads(bitseg("snapshot", "--server", address, "--list", "--json").stdout)) == 1
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        process.stderr.close()

    # A restart on the same folder loads the snapshot: the demo index is there, not generated again.
    process, address, entries = start_serving("--demo", "--demo-size", "XS", "--data-dir", data_dir)
    try:
        assert not any(e["msg"] == "demo index loaded" for e in entries)
        assert bitseg("count", "--server", address, "--index", "demo", "ALL").stdout == "2000\n"
        # A second server on a folder in use refuses to start, with the reason.
        refused = bitseg("serve", "--port", "0", "--data-dir", data_dir, check=4)
        assert "in use by another bitseg process" in refused.stderr
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        process.stderr.close()
