"""What every verb of the command line shares: exit codes, local errors, output, the client and the selection.

>>> print(table([["name", "customers"], ["shop", number(12000)]]))
name  customers
shop  12,000
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bitseg.client import Client

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_OTHER = 0, 1, 2, 3, 4
# Status codes (as the Client's errors name them) → exit codes; any other code is EXIT_OTHER.
EXIT_CODES = {"INVALID_ARGUMENT": EXIT_INPUT, "ALREADY_EXISTS": EXIT_INPUT, "FAILED_PRECONDITION": EXIT_INPUT,
              "OUT_OF_RANGE": EXIT_INPUT, "NOT_FOUND": EXIT_NOT_FOUND}
DEFAULT_SERVER = "127.0.0.1:50051"


class UsageError(Exception):
    """A command line that cannot work (exit 2)."""


class InputError(Exception):
    """A local file or argument that is wrong (exit 1)."""


def client_of(args: argparse.Namespace) -> Client:
    """The Client the client options of a verb describe."""
    from bitseg.client import Client

    return Client(args.server, args.token, args.tls_ca, timeout=args.timeout, tls_server_name=args.tls_server_name)


# ── output ───────────────────────────────────────────────────────────────────────────────────────────

def emit(args: argparse.Namespace, data: Any, text: Callable[[], str] | str | None = None) -> None:
    """Print `data` as JSON with --json, else the human form."""
    if args.json:
        print(json.dumps(data, indent=None if isinstance(data, int | str) else 2, default=str))
    else:
        shown = text() if callable(text) else text
        if shown is None:
            shown = str(data)
        if shown:
            print(shown)


def table(rows: Sequence[Sequence[object]]) -> str:
    """Rows as left-aligned columns two spaces apart."""
    if not rows:
        return ""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in rows)


def number(value: int) -> str:
    return f"{value:,}"


def plural(count: int, word: str, words: str | None = None) -> str:
    """`count` with thousands separators and the word in the right number.

    >>> plural(1, "customer"), plural(12000, "customer"), plural(0, "line")
    ('1 customer', '12,000 customers', '0 lines')
    """
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def money(value: object) -> str:
    """An amount with thousands separators and two decimals (the index keeps no currency).

    >>> money(Decimal("1234567.8912")), money(Decimal("-5")), money(None)
    ('1,234,567.89', '-5.00', '')
    """
    if value is None or value == "":
        return ""
    return f"{Decimal(str(value)):,.2f}"


# ── arguments ────────────────────────────────────────────────────────────────────────────────────────

def add_selection(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("query", nargs="?", help="a segment query (SPEC §2); '-' reads it from stdin")
    parser.add_argument("--segment", help="a saved segment instead of a query")
    parser.add_argument("--as-of", default="", metavar="DAY", help="evaluation day YYYY-MM-DD (default today)")
    parser.set_defaults(selection_required=required)


def selection(args: argparse.Namespace) -> dict[str, Any]:
    """The `query=` or `segment=` keyword for a Client method, from QUERY ('-': stdin) or --segment."""
    if args.query is not None and args.segment:
        raise UsageError("give a query or --segment, not both")
    if args.segment:
        return {"segment": args.segment}
    if args.query is None:
        if args.selection_required:
            raise UsageError("give a query (or '-' to read it from stdin) or --segment NAME")
        return {}
    return {"query": sys.stdin.read() if args.query == "-" else args.query}


def as_of(args: argparse.Namespace) -> str | None:
    return args.as_of or None


def need(value: str | None, what: str) -> str:
    if not value:
        raise UsageError(f"this needs {what}")
    return value


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(f"{path}: {err.strerror}") from None


def ids(args: argparse.Namespace) -> list[str]:
    """Customer ids from the positional IDS and from --file (one per line, '-' = stdin)."""
    found = list(args.ids)
    if args.file:
        handle = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")  # noqa: SIM115
        with handle:
            found += [line.strip() for line in handle if line.strip()]
    return found
