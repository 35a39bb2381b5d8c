"""The verbs an operator runs: `--version`, `ping`, `info` (through the server) and `verify` (offline).

>>> print(caret("country = 'NL' AND ordrs > 3", 1, 20))
  country = 'NL' AND ordrs > 3
                     ^
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from bitseg.cli.common import EXIT_INPUT, EXIT_OK, EXIT_OTHER, client_of, emit, number, table


def version_text() -> str:
    from importlib import metadata

    try:
        return f"bitseg {metadata.version('bitseg')}"
    except metadata.PackageNotFoundError:
        return "bitseg (not installed)"


def cmd_ping(args: argparse.Namespace) -> int:
    """Exit 0 when the server's health is SERVING, 4 when it is not (or cannot be reached)."""
    with client_of(args) as client:
        try:
            status = client.health()
        except Exception as err:  # noqa: BLE001 - unreachable is an answer here, not a crash
            emit(args, {"status": "UNREACHABLE", "error": str(err)}, f"UNREACHABLE: {err}")
            return EXIT_OTHER
    emit(args, {"status": status}, status)
    return EXIT_OK if status == "SERVING" else EXIT_OTHER


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


def cmd_info(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    with client_of(args) as client:
        info = client.server_info()

    def text() -> str:
        uptime = dt.timedelta(seconds=round(info.uptime_seconds))
        out = [f"bitseg {info.version}, up {uptime}, {'SERVING' if info.serving else 'NOT_SERVING'}",
               f"data dir {info.data_dir or '(none: in memory)'}, log {_mib(info.log_bytes)}"]
        snap = info.last_snapshot
        out.append(f"last snapshot {snap.id} at {snap.created}, {_mib(snap.bytes)}" if snap else "no snapshot")
        if info.last_snapshot_outcome:
            out[-1] += f" (last attempt: {info.last_snapshot_outcome})"
        out += ["", table([["index", "customers", "lines", "memory"]]
                          + [[i["name"], number(i["customers"]), number(i["lines"]), _mib(i["memory_bytes"])]
                             for i in info.indexes])]
        if info.slowest:
            out += ["", "slowest recent calls:",
                    table([["ms", "method", "index", "code", "query"]]
                          + [[f"{c['ms']:.1f}", c["method"], c["index"], c["code"], c["query"]]
                             for c in info.slowest])]
        return "\n".join(out)

    emit(args, asdict(info), text)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0 when every snapshot and the log are sound, 1 naming what is damaged."""
    from bitseg.persistence.verify import verify

    report = verify(args.data_dir)
    data = {"sound": report.sound, "damaged": report.damaged, "checked": report.checked, "notes": report.notes}
    lines = [f"ok: {item}" for item in report.checked] + [f"note: {item}" for item in report.notes]
    lines += [f"DAMAGED: {item}" for item in report.damaged]
    lines.append(f"{args.data_dir}: sound" if report.sound else
                 f"{args.data_dir}: {len(report.damaged)} damaged")
    emit(args, data, "\n".join(lines))
    return EXIT_OK if report.sound else EXIT_INPUT


def caret(text: str, line: int, column: int) -> str:
    """The query's line `line` with a caret under `column` (DuckDB's error style), indented two spaces."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return ""
    shown = lines[line - 1]
    return f"  {shown}\n  {' ' * (column - 1)}^"


def print_query_error(err: BaseException) -> None:
    """Under a query error's message, the query with a caret under the position, when the text is known."""
    text, line, column = getattr(err, "text", ""), getattr(err, "line", None), getattr(err, "column", None)
    if text and line and column:
        shown = caret(text, line, column)
        if shown:
            print(shown, file=sys.stderr)
