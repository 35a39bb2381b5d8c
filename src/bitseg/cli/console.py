"""`bitseg console`: the web console (SPEC §12) over a running server, on 127.0.0.1:8080 unless told otherwise.

Needs the optional extra `console` (`pip install 'bitseg[console]'`). The token (--token, --token-file or
$BITSEG_TOKEN) goes to the server with every call and is never shown, neither here nor on a page.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading

from bitseg.cli.common import EXIT_OK, InputError, UsageError, client_of
from bitseg.cli.config import _port, token_of


def add_console(verbs: argparse._SubParsersAction, client: argparse.ArgumentParser) -> None:
    """The `console` verb, with the client options every verb that talks to a server has."""
    p = verbs.add_parser("console", parents=[client], help="serve the web console for a running server",
                         description="A web page over the server: the segment editor with a live count, the saved "
                         "segments with their stats, breakdowns and history charts. Binds 127.0.0.1 (this "
                         "machine only) unless --host says otherwise.")
    p.add_argument("--host", default=os.environ.get("BITSEG_CONSOLE_HOST", "127.0.0.1"),
                   help="address to listen on (default %(default)s: this machine only)")
    # A string default, parsed by _port_option only when `console` runs: a bad $BITSEG_CONSOLE_PORT is this
    # verb's usage error naming --port and the value, not a crash of every verb while the parser is built.
    p.add_argument("--port", type=_port_option, default=os.environ.get("BITSEG_CONSOLE_PORT", "8080"),
                   help="port to listen on (default %(default)s; 0: any free port)")
    p.add_argument("--token-file", default=os.environ.get("BITSEG_TOKEN_FILE"), metavar="FILE",
                   help="the server's bearer token in this file, first line (default $BITSEG_TOKEN_FILE)")
    p.add_argument("--index", help="the index / opens (default: the only one, else a list)")
    p.set_defaults(func=cmd_console)


def _port_option(text: str) -> int:
    """The serve settings' port check as an argparse type: its message in "argument --port: …"."""
    try:
        return _port(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def cmd_console(args: argparse.Namespace) -> int:
    try:
        from bitseg.console import run
    except ImportError as err:
        raise UsageError(f"the console needs the optional extra 'console' ({err.name} is missing): "
                         "pip install 'bitseg[console]'") from None
    try:
        # --token-file wins over --token and $BITSEG_TOKEN (the file keeps a token out of `ps`); the token
        # resolved here is the one client_of sends.
        given = None if args.token_file else args.token
        args.token = token_of({"token": given, "token_file": args.token_file})
    except ValueError as err:
        raise InputError(str(err)) from None
    client = client_of(args)

    def check() -> None:
        if not client.ping():
            print(f"bitseg console: the server at {client.address} does not answer yet; the pages say so until "
                  "it does", file=sys.stderr)

    def ready(url: str) -> None:
        print(f"bitseg console on {url} for the server at {client.address} (Ctrl-C stops it)", file=sys.stderr)
        threading.Thread(target=check, name="bitseg-console-ping", daemon=True).start()  # a slow server: no wait

    try:
        run(client, args.host, args.port, index=args.index, ready=ready)
    except OSError as err:
        raise InputError(str(err.strerror or err)) from None
    finally:
        client.close()
    return EXIT_OK
