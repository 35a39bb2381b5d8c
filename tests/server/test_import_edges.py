"""Two import edges the first hour found: an unclosed CSV quote (before: "1 cell, the header has 5" and the rows
after it gone without a word) and an interrupted import (its file digest must not be recorded, so that the
re-run after the interruption is not refused as a re-import)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import bitseg
from bitseg.csvrecords import records
from bitseg.errors import InvalidInputError
from bitseg.server.app import ServerConfig, start

from .test_cli import bitseg as run_cli

SCHEMA = '[profile]\ncountry = "keyword"\n[purchase]\nbrand = "keyword"\n'


@pytest.mark.parametrize(("text", "rows", "named"), [
    # the quote opened on line 3 is never closed: it used to swallow lines 4 and 5
    ('c1,NL\nc2,"BE\nc3,DE\nc4,NL\n', [["c1", "NL"], ["c3", "DE"], ["c4", "NL"]], (3, 5)),
    # closed by a stray quote further down: the record has the right width but holds rows of its own
    ('c1,NL\nc2,"BE\nc3,DE\nc4,N"L\nc5,FR\n', [["c1", "NL"], ["c3", "DE"], ["c4", 'N"L'], ["c5", "FR"]], (3, 5)),
    # the wrong number of cells across lines: the line after the quote is read on its own (here a row)
    ('c1,"NL\nx",y\nc2,BE\n', [['x"', "y"], ["c2", "BE"]], (2, 3)),
])
def test_an_unclosed_quote_names_its_line_and_keeps_the_rows_after_it(text: str, rows: list, named: tuple) -> None:
    rejected: list[tuple[int, str]] = []
    got, numbers = records(text, 2, rejected, width=2)
    assert got == rows
    opened, runs_to = named
    assert rejected[0][0] == opened and f"the quote opened on line {opened} runs to line {runs_to}" in rejected[0][1]
    assert numbers == sorted(numbers) and opened not in numbers


def test_a_quoted_newline_of_the_right_shape_is_one_record() -> None:
    rejected: list[tuple[int, str]] = []
    text = 'c1,"Main St 1\nAmsterdam"\nc2,"a ""b"" c"\n'
    assert records(text, 2, rejected, width=2) == ([["c1", "Main St 1\nAmsterdam"], ["c2", 'a "b" c']], [2, 4])
    assert rejected == []


def test_import_of_a_file_with_an_unclosed_quote(tmp_path: Path) -> None:
    path = tmp_path / "profiles.csv"
    path.write_text('customer,country\nc1,NL\nc2,"BE\nc3,DE\nc4,NL\n', encoding="utf-8")
    server = start(ServerConfig(port=0, data_dir=str(tmp_path / "data")))
    try:
        address = f"127.0.0.1:{server.port}"
        with bitseg.Client(address) as client:
            client.create_index("shop", SCHEMA)
        done = run_cli("import", "--server", address, "--index", "shop", "--profiles", str(path), "--quiet",
                       check=1)  # a rejected row: exit 1
        assert "profiles.csv:3: unclosed quote: the quote opened on line 3 runs to line 5" in done.stderr
        assert "4 rows, 3 accepted, 1 rejected" in done.stdout
        with bitseg.Client(address) as client:
            assert client.get_index("shop").customers == 3  # c1, c3 and c4: nothing after the quote is lost
            assert client.count("shop", "country = 'DE'") == 1
    finally:
        server.stop(grace=0)


PURCHASES = "customer,time,amount,order,brand\n" + "".join(
    f"c{i % 7},2026-01-{1 + i % 28:02d},{10 + i}.00,o{i},b{i % 3}\n" for i in range(300))


def test_an_interrupted_import_records_no_digest_and_its_rerun_is_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "purchases.csv"
    path.write_text(PURCHASES, encoding="utf-8")
    server = start(ServerConfig(port=0, data_dir=str(tmp_path / "data")))
    try:
        with bitseg.Client(f"127.0.0.1:{server.port}") as client:
            client.create_index("shop", SCHEMA)
            sent: list[int] = []

            def interrupt(done: int, total: int, lines: int) -> None:
                sent.append(lines)
                if len(sent) == 2:  # Ctrl-C, a lost connection: the stream stops after two of its chunks
                    raise KeyError("interrupted")

            with pytest.raises(KeyError, match="interrupted"):  # the error that stopped it, not grpc's
                client.import_csv("shop", path, "purchases", chunk_bytes=1024, progress=interrupt)
            assert 0 < sent[-1] < 300
            index = server.catalog.get("shop")
            from bitseg.csvrecords import content_sha256

            assert index.imported(content_sha256(path)) is None
            summary = client.import_csv("shop", path, "purchases", chunk_bytes=1024)  # not refused
            assert summary.accepted == 300
            assert index.imported(content_sha256(path)).day == index.today().isoformat()
            with pytest.raises(bitseg.errors.AlreadyExistsError, match=f"on {dt.date.today().isoformat()}"):
                client.import_csv("shop", path, "purchases")  # the whole file went in: now it is known
    finally:
        server.stop(grace=0)


def test_a_file_error_midway_is_reported_as_such_and_records_no_digest(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, a file that could not be cut into records midway (an unclosed quote running past the record
    limit) was reported as grpc's "Exception iterating requests!"."""
    import bitseg.csvrecords

    monkeypatch.setattr(bitseg.csvrecords, "MAX_RECORD_BYTES", 300)
    path = tmp_path / "profiles.csv"
    path.write_text("customer,country\n" + "".join(f"c{i},NL\n" for i in range(30)) + 'c99,"BE\n'
                    + "".join(f"c{i},DE\n" for i in range(100, 200)), encoding="utf-8")
    server = start(ServerConfig(port=0, data_dir=str(tmp_path / "data")))
    try:
        with bitseg.Client(f"127.0.0.1:{server.port}") as client:
            client.create_index("shop", SCHEMA)
            with pytest.raises(InvalidInputError, match=r"profiles.csv:32: a record longer than .*unclosed quote"):
                client.import_csv("shop", path, "profiles", chunk_bytes=64)
            from bitseg.csvrecords import content_sha256

            assert server.catalog.get("shop").imported(content_sha256(path)) is None
    finally:
        server.stop(grace=0)
