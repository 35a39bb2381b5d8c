"""The `bitseg` command: run the server, import CSV through it, ask it questions, generate test data.

Every verb that talks to a server does so through `bitseg.Client` only; `serve` and `generate` run here.
The verbs live by group: query (count, members, stats, breakdown, buyers, check), catalog (indexes, segments,
lists, tiers, delete-customers), history (history, changes, snapshot), imports (import), serve (serve,
generate); parser holds the grammar.

Exit codes, for scripts:
    0  done
    1  bad input: a query or value the server refused, or an import with rejected rows
    2  usage: unknown verb or option (argparse)
    3  not found: unknown index, segment, list, tiering or customer
    4  anything else: server unavailable, wrong token, deadline, not implemented, internal error
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from bitseg.cli.common import (
    EXIT_CODES,
    EXIT_INPUT,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_OTHER,
    EXIT_USAGE,
    InputError,
    UsageError,
)
from bitseg.cli.operate import print_query_error
from bitseg.cli.parser import build_parser
from bitseg.errors import InvalidInputError, NotFoundError

__all__ = ["EXIT_INPUT", "EXIT_NOT_FOUND", "EXIT_OK", "EXIT_OTHER", "EXIT_USAGE", "build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line; returns its exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as err:
        print(f"bitseg {args.verb}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as err:
        _error(args, "INVALID_INPUT", str(err))
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `bitseg members … | head`: the reader left; that is not an error.
        sys.stderr.close()
        return EXIT_OK
    except Exception as err:  # noqa: BLE001 - the server's answers (with a status code) and local errors
        code = getattr(err, "code", None)
        if isinstance(code, str):  # an error the server answered with, raised by bitseg.Client
            message = str(err)
            if code == "UNAVAILABLE":
                message = f"cannot reach the server at {getattr(args, 'server', '?')} ({message})"
            _error(args, code, message)
            if not getattr(args, "json", False):
                print_query_error(err)
            return EXIT_CODES.get(code, EXIT_OTHER)
        _error(args, type(err).__name__, str(err))
        if isinstance(err, InvalidInputError):
            return EXIT_INPUT
        return EXIT_NOT_FOUND if isinstance(err, NotFoundError) else EXIT_OTHER


def _error(args: argparse.Namespace, code: str, message: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps({"error": {"code": code, "message": message}}), file=sys.stderr)
    else:
        print(f"bitseg {args.verb}: {code}: {message}", file=sys.stderr)
