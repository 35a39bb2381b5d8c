"""SPEC §11 operating: info, metrics, health, QueryErrorDetail, config precedence, the token file, verify."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_status import rpc_status

from bitseg import Catalog, Client, QueryError
from bitseg.cli import main
from bitseg.cli.common import UsageError
from bitseg.cli.config import read_file, resolve
from bitseg.cli.parser import build_parser
from bitseg.cli.serve import server_config
from bitseg.errors import PersistenceError
from bitseg.server.app import ServerConfig, start
from bitseg.v1 import segments_pb2 as pb

from .shop import load_shop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def running(tmp_path: Path):  # type: ignore[no-untyped-def]
    server = start(ServerConfig(port=0, data_dir=str(tmp_path / "data"), metrics_port=0))
    yield server
    server.stop(grace=0)


def _sample(text: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))   # the exposition sorts labels
    head = f"{name}{{{wanted}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(head + " "):
            return float(line.split()[-1])
    return None


# ── info, metrics, health ────────────────────────────────────────────────────────────────────────────

def test_metrics_move_with_calls_and_equal_the_index_sizes(running) -> None:  # type: ignore[no-untyped-def]
    import urllib.request

    with Client(f"127.0.0.1:{running.port}") as client:
        load_shop(client._stub)
        for _ in range(3):
            client.count("shop", "vip = true")
        with pytest.raises(QueryError):
            client.count("shop", "vip = ")
        info = client.get_index("shop")
        scraped = urllib.request.urlopen(f"http://127.0.0.1:{running.metrics_port}/metrics").read().decode()
        assert _sample(scraped, "bitseg_rpc_total", method="Count", code="OK") == 3
        assert _sample(scraped, "bitseg_rpc_total", method="Count", code="INVALID_ARGUMENT") == 1
        assert _sample(scraped, "bitseg_rpc_seconds_count", method="Count") == 4
        assert _sample(scraped, "bitseg_customers", index="shop") == info.customers > 0
        assert _sample(scraped, "bitseg_lines", index="shop") == info.lines > 0
        assert (_sample(scraped, "bitseg_wal_bytes") or 0) > 0
        client.count("shop", "vip = true")
        client.create_snapshot()
        scraped = running.monitor.metrics.text()
        assert _sample(scraped, "bitseg_rpc_total", method="Count", code="OK") == 4
        assert _sample(scraped, "bitseg_snapshot_seconds_count") == 1
        assert (_sample(scraped, "bitseg_last_snapshot_timestamp_seconds") or 0) > time.time() - 60

        shown = client.server_info()
        assert shown.serving and shown.version
        assert [(i["name"], i["customers"], i["lines"]) for i in shown.indexes] == [
            ("shop", info.customers, info.lines)]
        assert shown.indexes[0]["memory_bytes"] > 0
        assert shown.last_snapshot is not None and shown.last_snapshot_outcome == "ok"
        assert shown.slowest and shown.slowest[0]["ms"] >= shown.slowest[-1]["ms"]
        assert any(c["method"] == "Count" and c["query"] == "vip = true" for c in shown.slowest)


def test_health_flips_when_the_log_cannot_be_written_and_back(running) -> None:  # type: ignore[no-untyped-def]
    store = running.store
    with Client(f"127.0.0.1:{running.port}") as client:
        assert client.health() == "SERVING"

        def broken(op: str, args: dict) -> int:
            raise PersistenceError("cannot append to the log: No space left on device")

        store.wal.append, original = broken, store.wal.append
        with pytest.raises(Exception, match="No space left"):
            client.create_index("shop", '[profile]\nvip = "bool"')
        assert client.health() == "NOT_SERVING"
        assert main(["ping", "--server", f"127.0.0.1:{running.port}"]) != 0
        store.wal.append = original  # the disk has room again: the store heals by itself (it retries)
        deadline = time.monotonic() + 10
        while not store.writable and time.monotonic() < deadline:
            time.sleep(0.02)
        running.monitor.refresh_health()
        assert client.health() == "SERVING"
        assert main(["ping", "--server", f"127.0.0.1:{running.port}"]) == 0


def test_health_is_not_serving_after_a_failed_daily_snapshot(running) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from bitseg.persistence import snapshot

    with Client(f"127.0.0.1:{running.port}") as client:
        client.create_index("shop", '[profile]\nvip = "bool"\n')
        real = snapshot.write

        def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise OSError(28, "No space left on device")

        snapshot.write = failing
        try:
            running.run_due(dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC))
        finally:
            snapshot.write = real
        assert client.health() == "NOT_SERVING"
        assert client.server_info().last_snapshot_outcome.startswith("failed:")
        client.create_snapshot()   # a snapshot that succeeds brings it back
        assert client.health() == "SERVING"


# ── QueryErrorDetail ─────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("query", ["vip = ", "country = 'NL' AND\n  colour = 'x'", "(vip = true"])
def test_the_details_line_and_column_equal_the_messages(running, query: str) -> None:  # type: ignore[no-untyped-def]
    with Client(f"127.0.0.1:{running.port}") as client:
        load_shop(client._stub)
        with pytest.raises(grpc.RpcError) as caught:
            client._stub.Count(pb.CountRequest(index="shop", query=query))
        status = rpc_status.from_call(caught.value)
        assert status is not None
        detail = pb.QueryErrorDetail()
        assert status.details[0].Unpack(detail)
        message = caught.value.details()
        assert f" at {detail.line}:{detail.column}" in message
        assert detail.message and detail.message.partition("; ")[0] in message
        with pytest.raises(QueryError) as raised:
            client.count("shop", query)
        assert (raised.value.line, raised.value.column, raised.value.offset) == (
            detail.line, detail.column, detail.offset)
        [result] = client._stub.CountBatch(pb.CountBatchRequest(
            index="shop", queries=[pb.Selection(query=query)])).results
        assert (result.query_error.line, result.query_error.column) == (detail.line, detail.column)
        [plain] = client.count_batch("shop", [query])
        assert (plain.line, plain.column) == (detail.line, detail.column)


def test_the_cli_underlines_the_position(running, capsys) -> None:  # type: ignore[no-untyped-def]
    with Client(f"127.0.0.1:{running.port}") as client:
        load_shop(client._stub)
    assert main(["count", "--server", f"127.0.0.1:{running.port}", "--index", "shop", "vip = true AND colour = 1"]) == 1
    err = capsys.readouterr().err
    assert "  vip = true AND colour = 1\n                 ^" in err


# ── configuration ────────────────────────────────────────────────────────────────────────────────────

def test_precedence_file_then_environment_then_flag(tmp_path: Path) -> None:
    config = tmp_path / "bitseg.toml"
    config.write_text('port = 7000\ndata_dir = "/from/file"\nkeep_snapshots = 9\nsnapshot_time = "03:30"\n'
                      'max_query_bytes = 1000\n')
    file = read_file(str(config))
    only_file = resolve(file, {}, {})
    assert (only_file["port"], only_file["data_dir"], only_file["keep_snapshots"]) == (7000, "/from/file", 9)
    env = {"BITSEG_PORT": "7001", "BITSEG_DATA_DIR": "/from/env"}
    with_env = resolve(file, env, {})
    assert (with_env["port"], with_env["data_dir"], with_env["keep_snapshots"]) == (7001, "/from/env", 9)
    with_flag = resolve(file, env, {"port": "7002"})
    assert (with_flag["port"], with_flag["data_dir"]) == (7002, "/from/env")
    assert with_flag.origin["port"] == "flag" and with_flag.origin["data_dir"] == "BITSEG_DATA_DIR"
    assert with_flag.origin["keep_snapshots"] == "config" and with_flag.origin["grace"] == "default"

    args = build_parser().parse_args(["serve", "--config", str(config), "--port", "7003"])
    made = server_config(args, {"BITSEG_MAX_QUERY_BYTES": "2000"})
    assert (made.port, made.data_dir, made.keep, made.daily_at.hour, made.daily_at.minute) == (
        7003, "/from/file", 9, 3, 30)
    assert made.limits.max_query_length == 2000


def test_the_ingest_budget_is_a_flag_a_config_key_and_a_variable(tmp_path: Path) -> None:
    config = tmp_path / "bitseg.toml"
    config.write_text("ingest_budget_bytes = 1000\n")
    from_file = server_config(build_parser().parse_args(["serve", "--config", str(config)]), {})
    assert from_file.ingest_budget_bytes == 1000
    from_env = server_config(build_parser().parse_args(["serve", "--config", str(config)]),
                             {"BITSEG_INGEST_BUDGET_BYTES": "2000"})
    assert from_env.ingest_budget_bytes == 2000
    from_flag = server_config(build_parser().parse_args(["serve", "--ingest-budget-bytes", "3000"]),
                              {"BITSEG_INGEST_BUDGET_BYTES": "2000"})
    assert from_flag.ingest_budget_bytes == 3000
    with pytest.raises(UsageError, match="ingest_budget_bytes must be positive"):
        server_config(build_parser().parse_args(["serve", "--ingest-budget-bytes", "0"]), {})
    running = start(ServerConfig(port=0, ingest_budget_bytes=3000), Catalog())
    try:  # the servicer's budget is the configured one
        assert running.inflight is not None and running.inflight.budget == 3000
    finally:
        running.stop(grace=0)


def test_a_config_file_with_an_unknown_key_is_refused_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "bitseg.toml"
    config.write_text("prot = 7000\n")
    with pytest.raises(ValueError, match="prot"):
        read_file(str(config))
    with pytest.raises(ValueError, match="BITSEG_PORT"):
        resolve({}, {"BITSEG_PORT": "seven"}, {})


def test_the_token_from_a_file_never_appears_in_the_servers_argv(tmp_path: Path) -> None:
    token = "s3cret-token-4711"
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    env = {**os.environ, "BITSEG_TOKEN_FILE": str(token_file)}
    env.pop("BITSEG_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "bitseg.cli", "serve", "--port", "0", "--data-dir",
                             str(tmp_path / "data"), "--host", "127.0.0.1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline() if proc.stderr else ""
            if '"listening"' in line or "listening" in line:
                found = re.search(r"127\.0\.0\.1:(\d+)", line)
                port = int(found.group(1)) if found else None
            elif not line and proc.poll() is not None:
                break
        assert port, "the server did not report its address"
        argv = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert not any(token.encode() in part for part in argv)
        with Client(f"127.0.0.1:{port}") as anonymous:
            with pytest.raises(Exception, match="token"):
                anonymous.list_indexes()
        with Client(f"127.0.0.1:{port}", token=token) as client:
            assert client.list_indexes() == []
    finally:
        proc.terminate()
        proc.communicate(timeout=30)   # also closes the pipe


# ── verify ───────────────────────────────────────────────────────────────────────────────────────────

def test_verify_is_sound_then_names_a_damaged_snapshot_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    server = start(ServerConfig(port=0, data_dir=str(data)))
    try:
        with Client(f"127.0.0.1:{server.port}") as client:
            load_shop(client._stub)
            client.create_snapshot()
            client.create_index("more", '[profile]\nvip = "bool"\n')   # in the log after the snapshot
    finally:
        server.stop(grace=0)
    assert main(["verify", "--data-dir", str(data)]) == 0
    assert "sound" in capsys.readouterr().out

    files = sorted(p for p in (data / "snapshots").rglob("*") if p.is_file() and p.name != "MANIFEST.json"
                   and p.stat().st_size > 16)
    victim = files[len(files) // 2]
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    victim.write_bytes(bytes(raw))
    assert main(["verify", "--data-dir", str(data)]) == 1
    out = capsys.readouterr().out
    assert "DAMAGED" in out and victim.name in out


def test_verify_names_a_log_damaged_in_the_middle(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from bitseg.persistence.wal import WriteAheadLog

    log = WriteAheadLog(tmp_path / "wal")
    list(log.replay())
    for n in range(5):
        log.append("create_index", {"name": f"i{n}", "schema_toml": ""})
    log.close()
    [path] = list((tmp_path / "wal").glob("*.log"))
    raw = bytearray(path.read_bytes())
    raw[30] ^= 0xFF   # inside the first record's payload
    path.write_bytes(bytes(raw))
    assert main(["verify", "--data-dir", str(tmp_path)]) == 1
    assert path.name in capsys.readouterr().out


def test_version_and_the_buf_config_exist(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("bitseg ")
    assert (ROOT / "buf.yaml").exists()
