"""The verbs that run here, not through a server: `serve` (with the demo index) and `generate`."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

from bitseg.cli.common import EXIT_OK, EXIT_OTHER, UsageError, emit, number


def cmd_generate(args: argparse.Namespace) -> int:
    from bitseg.generate import size_of, write_dataset

    if args.size and (args.customers or args.lines):
        raise UsageError("give --size or --customers/--lines, not both")
    if args.size:
        customers, lines = size_of(args.size)
    else:
        if not (args.customers and args.lines is not None):
            raise UsageError("give --size XS|S|M|L or both --customers and --lines")
        customers, lines = args.customers, args.lines

    shown = {"at": 0.0}

    def progress(what: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if sys.stderr.isatty() and (now - shown["at"] > 0.2 or done == total):
            shown["at"] = now
            sys.stderr.write(f"\r{what:<10} {done:>13,} / {total:,}" + ("\n" if done == total else ""))

    summary: dict[str, Any] = write_dataset(args.out, customers, lines, seed=args.seed, end=args.end,
                                            progress=progress, compress=args.gzip)
    emit(args, summary, lambda: (f"wrote {number(summary['customers'])} customers and "
                                 f"{number(summary['lines'])} lines to {args.out} in {summary['seconds']:.1f} s"))
    return EXIT_OK


def load_demo(catalog: Any, size: str = "S", seed: int = 42) -> None:
    """Create index `demo` from the generated fashion retailer, in-process through the columnar fast path."""
    from bitseg.errors import NotFoundError
    from bitseg.generate import FASHION_SCHEMA, generate_profiles, generate_purchases, size_of

    log = logging.getLogger("bitseg.server")
    try:
        catalog.get("demo")
        return
    except NotFoundError:
        pass
    started = time.perf_counter()
    customers, lines = size_of(size)
    index = catalog.create_index("demo", FASHION_SCHEMA)
    index.upsert_profile_columns(generate_profiles(customers, seed=seed))
    for batch in generate_purchases(customers, lines, seed=seed, batch_lines=250_000):
        index.add_purchase_columns(batch)
    log.info("demo index loaded", extra={"index": "demo", "customers": index.customer_count,
                                         "lines": index.line_count,
                                         "seconds": round(time.perf_counter() - started, 2)})


def port_number(text: str) -> int:
    """A TCP port from the command line (0 = any free port); anything else is a usage error, never another port.

    >>> port_number("50051")
    50051
    """
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port {text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range: a port is 1 to 65535 (0 = any free port)")
    return port


def cmd_serve(args: argparse.Namespace) -> int:
    from bitseg.errors import PersistenceError
    from bitseg.server.app import ListenError, ServerConfig, open_store, serve
    from bitseg.server.logs import setup_logging

    setup_logging(args.log_level)
    log = logging.getLogger("bitseg.server")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UsageError("TLS needs both --tls-cert and --tls-key")
    config = ServerConfig(host=args.host, port=args.port, token=args.token or None,
                          tls_cert=Path(args.tls_cert).read_bytes() if args.tls_cert else None,
                          tls_key=Path(args.tls_key).read_bytes() if args.tls_key else None,
                          max_workers=args.max_workers, data_dir=args.data_dir)
    try:
        store = open_store(config)
    except PersistenceError as err:
        log.error("cannot open the data directory", extra={"data_dir": args.data_dir, "problem": str(err)})
        print(f"bitseg serve: {err}", file=sys.stderr)
        return EXIT_OTHER
    try:
        if args.demo and "demo" not in store.names():
            try:
                load_demo(store, args.demo_size)
            except BaseException:
                if "demo" in store.names():  # a half-loaded demo must not come back on the next start
                    try:
                        store.drop_index("demo")
                    except Exception:  # the first error is the one to report
                        log.exception("could not drop the half-loaded demo index")
                raise
            store.snapshot()  # a restart loads the snapshot instead of replaying millions of logged lines
        serve(config, store, grace=args.grace)  # a clean stop closes the store after a last snapshot
    except ListenError as err:
        store.close(snapshot=False)
        log.error("cannot listen", extra={"problem": str(err)})
        print(f"bitseg serve: {err}", file=sys.stderr)
        return EXIT_OTHER
    except BaseException:
        store.close(snapshot=False)  # no-op once closed; else what was acknowledged is in the log
        raise
    return EXIT_OK
