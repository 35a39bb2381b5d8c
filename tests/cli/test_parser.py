"""The command line's grammar: options stand before, between or after positional arguments (SPEC §7).

Plain argparse gave "unrecognized arguments" for `segments save --index shop --kind hot NAME QUERY`, the
README's own command; each shape below would have caught it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bitseg.cli import main
from bitseg.cli.config import resolve
from bitseg.cli.parser import build_parser
from bitseg.wire import with_port


def parse(*argv: str) -> dict[str, object]:
    args = vars(build_parser().parse_args(list(argv)))
    args.pop("func")
    return args


@pytest.mark.parametrize("argv", [
    ("segments", "save", "--index", "shop", "--kind", "hot", "big_spenders", "clv >= 1000"),
    ("segments", "--index", "shop", "save", "big_spenders", "clv >= 1000", "--kind", "hot"),
    ("segments", "save", "big_spenders", "--kind", "hot", "clv >= 1000", "--index", "shop"),
])
def test_segments_save_in_any_order(argv: tuple[str, ...]) -> None:
    args = parse(*argv)
    assert (args["action"], args["name"], args["query"], args["kind"], args["index"]) == (
        "save", "big_spenders", "clv >= 1000", "hot", "shop")


@pytest.mark.parametrize("action", ["get", "delete"])
def test_segments_get_and_delete(action: str) -> None:
    args = parse("segments", action, "--index", "shop", "--json", "big_spenders")
    assert (args["action"], args["name"], args["json"]) == (action, "big_spenders", True)


def test_lists_add_and_show() -> None:
    args = parse("lists", "add", "--index", "shop", "vip", "C1", "C2", "--file", "more.txt")
    assert (args["action"], args["name"], args["ids"], args["file"]) == ("add", "vip", ["C1", "C2"], "more.txt")
    args = parse("lists", "show", "--index", "shop", "--json", "vip")
    assert (args["action"], args["name"], args["json"]) == ("show", "vip", True)


def test_indexes_show_json_name() -> None:
    args = parse("indexes", "show", "--json", "shop")
    assert (args["action"], args["name"], args["json"]) == ("show", "shop", True)


@pytest.mark.parametrize("argv", [
    ("count", "--index", "shop", "purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)"),
    ("count", "purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)", "--index", "shop"),
])
def test_query_verbs(argv: tuple[str, ...]) -> None:
    assert parse(*argv)["query"] == "purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)"


def test_the_readme_shapes() -> None:
    assert parse("members", "--index", "shop", "--as-of", "2026-03-01", "orders = 0 AND input_date >= -30d")[
        "as_of"] == "2026-03-01"
    assert parse("breakdown", "--index", "shop", "--field", "country", "orders > 3")["field"] == "country"
    args = parse("history", "--index", "shop", "big_spenders", "--chart", "big_spenders.png")
    assert (args["segment_name"], args["chart"]) == ("big_spenders", "big_spenders.png")
    args = parse("changes", "--index", "shop", "after_sales", "--since", "2026-03-01")
    assert (args["segment_name"], args["since"]) == ("after_sales", "2026-03-01")
    args = parse("tiers", "save", "--index", "shop", "loyalty", "--tier", "Gold=clv >= 1000", "--default", "Rest")
    assert (args["name"], args["tier"]) == ("loyalty", ["Gold=clv >= 1000"])
    assert parse("count", "--index", "shop", "-")["query"] == "-"  # '-' reads stdin, not an option


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_bad_port_is_a_usage_error(port: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", port, "--data-dir", str(tmp_path)]) == 2  # refused before anything starts
    assert "port" in capsys.readouterr().err


def test_a_good_port() -> None:
    for text, port in (("0", 0), ("65535", 65535)):
        assert resolve({}, {}, {"port": text})["port"] == port
    assert resolve({"port": 7000}, {}, {})["port"] == 7000


def test_server_without_a_port_means_50051() -> None:
    assert with_port("db1") == "db1:50051" and with_port("db1:7000") == "db1:7000"
    assert with_port("[::1]") == "[::1]:50051" and with_port("[::1]:7") == "[::1]:7"
    assert isinstance(build_parser(), argparse.ArgumentParser)


def test_a_bad_console_port_variable_fails_only_the_console(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """$BITSEG_CONSOLE_PORT is read while the parser is built: a bad one used to crash every verb."""
    monkeypatch.setenv("BITSEG_CONSOLE_PORT", "http")
    assert parse("count", "--index", "shop", "orders > 3")["query"] == "orders > 3"
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["--help"])
    assert exit_.value.code == 0 and "console" in capsys.readouterr().out
    for argv, named in ((["console"], "port 'http' is not a number"), (["console", "--port", "99999"],
                                                                       "port 99999 is out of range")):
        with pytest.raises(SystemExit) as exit_:
            main(argv)  # argparse's usage error, before anything starts
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and f"bitseg console: error: argument --port: {named}" in err, err
    monkeypatch.setenv("BITSEG_CONSOLE_PORT", "9000")
    assert parse("console")["port"] == 9000
    assert parse("console", "--port", "0")["port"] == 0  # the flag wins over the variable
