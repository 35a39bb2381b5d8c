"""Idempotent imports: the same file content again is refused (naming the day) unless forced, and survives a
restart; a taken or invalid port is a clear error. Each test would have caught the bug the first hour found."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest

import bitseg
from bitseg.errors import AlreadyExistsError
from bitseg.server.app import ServerConfig, start

from .test_cli import bitseg as run_cli

SCHEMA = '[profile]\ncountry = "keyword"\n[purchase]\nbrand = "keyword"\n'
PURCHASES = ("customer,time,amount,order,brand\n"
             "c1,2026-01-05,59.90,o1,Levi's\nc2,2026-01-06,10.00,o2,Nike\nc1,2026-02-01,5.50,o3,Nike\n")


def totals(client: bitseg.Client) -> tuple[int, int, int]:
    info = client.get_index("shop")
    return info.customers, info.lines, client.count("shop", "clv >= 60", as_of=dt.date(2026, 3, 1))


def test_reimporting_the_same_file_changes_nothing(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    path = tmp_path / "purchases.csv"
    path.write_text(PURCHASES, encoding="utf-8")
    server = start(ServerConfig(port=0, data_dir=data_dir))
    try:
        with bitseg.Client(f"127.0.0.1:{server.port}") as client:
            client.create_index("shop", SCHEMA)
            client.import_csv("shop", path, "purchases")
            before = totals(client)
            assert before == (2, 3, 1)
            with pytest.raises(AlreadyExistsError, match=f"on {dt.date.today().isoformat()}"):
                client.import_csv("shop", path, "purchases")
            assert totals(client) == before
            packed = tmp_path / "again.csv.gz"  # the same content, compressed and renamed: still the same file
            packed.write_bytes(gzip.compress(PURCHASES.encode()))
            with pytest.raises(AlreadyExistsError, match="purchases.csv"):
                client.import_csv("shop", packed, "purchases")
            assert totals(client) == before
    finally:
        server.stop(grace=0)

    # The digest is journaled: after a restart the file is still known; --force imports it anyway.
    server = start(ServerConfig(port=0, data_dir=data_dir))
    try:
        address = f"127.0.0.1:{server.port}"
        refused = run_cli("import", "--server", address, "--index", "shop", "--purchases", str(path), check=1)
        assert "was imported into index 'shop' on" in refused.stderr and "--force" in refused.stderr
        with bitseg.Client(address) as client:
            assert totals(client) == before
            run_cli("import", "--server", address, "--index", "shop", "--purchases", str(path), "--force")
            assert totals(client)[1] == 6
    finally:
        server.stop(grace=0)


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    server = start(ServerConfig(port=0, data_dir=str(tmp_path / "a")))
    try:
        done = run_cli("serve", "--port", str(server.port), "--data-dir", str(tmp_path / "b"), check=4)
        assert f"cannot listen on 127.0.0.1:{server.port}: the port is taken" in done.stderr
        assert "Traceback" not in done.stderr
    finally:
        server.stop(grace=0)


def test_an_out_of_range_port_is_refused() -> None:
    done = run_cli("serve", "--port", "99999", check=2)
    assert "port 99999 is out of range" in done.stderr


def test_lines_sent_again_are_skipped_and_reported(tmp_path: Path) -> None:
    """A forced re-import, a feed that overlaps the last one, and rows sent twice: each line id counts once."""
    with_ids = ("customer,time,amount,line,brand\n"
                "c1,2026-01-05,59.90,L1,Levi's\nc2,2026-01-06,10.00,L2,Nike\nc1,2026-01-05,59.90,L1,Levi's\n")
    path = tmp_path / "purchases.csv"
    path.write_text(with_ids, encoding="utf-8")
    server = start(ServerConfig(port=0, data_dir=str(tmp_path / "data")))
    try:
        address = f"127.0.0.1:{server.port}"
        with bitseg.Client(address) as client:
            client.create_index("shop", SCHEMA)
            summary = client.import_csv("shop", path, "purchases")
            assert (summary.rows, summary.accepted, summary.duplicates, summary.lines) == (3, 2, 1, 2)
            before = totals(client)
            done = run_cli("import", "--server", address, "--index", "shop", "--purchases", str(path), "--force")
            assert "0 accepted, 0 rejected, 3 skipped as duplicates" in done.stdout
            overlap = tmp_path / "next.csv"
            overlap.write_text(with_ids.replace("L1,Levi's\n", "L3,Levi's\n", 1), encoding="utf-8")
            done = run_cli("import", "--server", address, "--index", "shop", "--purchases", str(overlap), "--json")
            assert '"duplicates": 2' in done.stdout and totals(client)[1] == 3
            sent = client.add_purchases("shop", [{"customer": "c3", "time": "2026-01-07", "amount": 1, "line": "L2"},
                                                 {"customer": "c3", "time": "2026-01-07", "amount": 1, "line": "L4"}])
            assert (sent.accepted, sent.duplicates, sent.lines) == (1, 1, 4)
            assert before[0] == 2 and totals(client) == (3, 4, 1)
    finally:
        server.stop(grace=0)
