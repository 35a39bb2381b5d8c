"""The server's settings: `--config FILE` (TOML), then `BITSEG_<KEY>` variables, then flags, each winning over the last.

A key is the long option's name with `_` for `-` (`--data-dir` is `data_dir`, `BITSEG_DATA_DIR`). Every option
of `bitseg serve` below is a key; `resolve` gives the value each one ends up with and where it came from.

>>> settings = resolve({"port": 7000}, {"BITSEG_PORT": "7001"}, {"port": None})
>>> settings["port"], settings.origin["port"]
(7001, 'BITSEG_PORT')
"""

from __future__ import annotations

import argparse
import datetime as dt
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _time(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day HH:MM") from None


def _port(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535: anything else is refused, never turned into another port."""
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"port {text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} is out of range: a port is 1 to 65535 (0 = any free port)")
    return port


def _bool(text: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{text!r} is not true or false")


@dataclass(frozen=True)
class Option:
    key: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    flag: bool = True     # False: a key of the file and the environment only


OPTIONS: tuple[Option, ...] = (
    Option("host", str, "127.0.0.1", "address to listen on (default %(default)s: this machine only)"),
    Option("port", _port, 50051, "gRPC port (default %(default)s)"),
    Option("data_dir", str, "./bitseg-data", "the write-ahead log and snapshots (default %(default)s)"),
    Option("snapshot_time", _time, dt.time(2), "daily snapshot, HH:MM in each index's time zone (default 02:00)"),
    Option("keep_snapshots", int, 7, "daily snapshots kept on disk (default %(default)s, at least 2)"),
    Option("token", str, None, "require this bearer token (visible in ps: prefer --token-file)"),
    Option("token_file", str, None, "require the bearer token in this file (its first line)"),
    Option("tls_cert", str, None, "PEM certificate (with --tls-key: serve TLS)"),
    Option("tls_key", str, None, "PEM private key"),
    Option("max_query_bytes", int, 64 * 1024, "longest query text (default %(default)s)"),
    Option("max_depth", int, 128, "deepest query nesting (default %(default)s)"),
    Option("max_in_values", int, 100_000, "most values in one IN list (default %(default)s)"),
    Option("max_message_bytes", int, 64 * 1024 * 1024, "largest gRPC message, both ways (default %(default)s)"),
    Option("max_workers", int, 32, "request threads; every open stream holds one (default %(default)s)"),
    Option("max_concurrent_rpcs", int, None, "calls at once before RESOURCE_EXHAUSTED (default: max_workers)"),
    Option("max_streams", int, None, "streams open at once, the rest refused (default: max_workers - 8)"),
    Option("stall_seconds", float, 30.0, "end a stream whose peer neither reads nor sends this long (default 30)"),
    Option("max_call_seconds", float, 30.0, "longest a call may run, whatever its deadline (default 30)"),
    Option("max_query_cost", int, 2_000_000_000, "a query's estimated work units, past it refused (default 2e9)"),
    Option("ingest_budget_bytes", int, 128 << 20, "bytes of ingest messages converted at once; more wait "
           "(default %(default)s)"),
    Option("metrics_port", _port, None, "serve Prometheus metrics on this port (needs bitseg[metrics])"),
    Option("shards", int, 0, "split every index into N shards on Ray (needs bitseg[ray]; 0: one process)"),
    Option("ray_address", str, None, "with --shards: join the Ray cluster at ADDR instead of starting one"),
    Option("grace", float, 10.0, "seconds running calls get at shutdown (default %(default)s)"),
    Option("log_level", str, "info", "debug, info, warning or error (default %(default)s)"),
    Option("demo", _bool, False, "create index 'demo' (generated fashion retailer)"),
    Option("demo_size", str, "S", "size of the demo index: XS, S (default), M, L"),
)
BY_KEY = {option.key: option for option in OPTIONS}


class Settings(dict[str, Any]):
    """The resolved value of every key, and `origin[key]`: 'default', 'config', 'BITSEG_…' or 'flag'."""

    def __init__(self) -> None:
        super().__init__()
        self.origin: dict[str, str] = {}


def add_options(parser: argparse.ArgumentParser) -> None:
    """The `serve` flags; each defaults to None so `resolve` can tell "not given" from a value."""
    parser.add_argument("--config", metavar="FILE", help="a TOML file of these keys (flags and BITSEG_<KEY> win)")
    for option in OPTIONS:
        name = "--" + option.key.replace("_", "-")
        if option.parse is _bool:
            parser.add_argument(name, action="store_const", const=True, default=None, help=option.help)
        else:
            parser.add_argument(name, default=None, help=option.help.replace("%(default)s", str(option.default)))


def read_file(path: str) -> dict[str, Any]:
    """The keys of a TOML config file; an unknown key is an error naming it (a typo must not pass silently)."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as err:
        raise ValueError(f"cannot read the config file {path}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"config file {path}: {err}") from None
    unknown = sorted(set(data) - set(BY_KEY))
    if unknown:
        raise ValueError(f"config file {path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(BY_KEY)}")
    return data


def resolve(file: Mapping[str, Any], environ: Mapping[str, str], flags: Mapping[str, Any]) -> Settings:
    """Each key from the flag if given, else `BITSEG_<KEY>`, else the file, else its default; values checked."""
    settings = Settings()
    for option in OPTIONS:
        variable = "BITSEG_" + option.key.upper()
        for origin, value in (("flag", flags.get(option.key)), (variable, environ.get(variable)),
                              ("config", file.get(option.key))):
            if value is not None:
                break
        else:
            origin, value = "default", option.default
        if value is not None and origin != "default" and not isinstance(value, dt.time | bool):
            try:
                value = option.parse(value if isinstance(value, str) else str(value))
            except ValueError as err:
                raise ValueError(f"{option.key} (from {origin}): {err}") from None
        settings[option.key] = value
        settings.origin[option.key] = origin
    return settings


def token_of(settings: Mapping[str, Any]) -> str | None:
    """The bearer token: from `token_file` (first line, so it stays out of `ps`) or `token`; not both."""
    if settings["token"] and settings["token_file"]:
        raise ValueError("give token or token_file, not both")
    if settings["token_file"]:
        try:
            lines = Path(settings["token_file"]).read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise ValueError(f"cannot read the token file {settings['token_file']}: {err.strerror}") from None
        token = lines[0].strip() if lines else ""
        if not token:
            raise ValueError(f"the token file {settings['token_file']} is empty")
        return token
    return settings["token"] or None
