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
