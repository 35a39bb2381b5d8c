"""The verbs that run here, not through a server: `serve` (with the demo index) and `generate`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bitseg.cli.common import EXIT_OK, EXIT_OTHER, InputError, UsageError, emit, number


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


def server_config(args: argparse.Namespace, environ: Mapping[str, str]) -> Any:
    """The ServerConfig that --config FILE, BITSEG_<KEY> variables and the flags make, in that order of strength."""
    from bitseg.cli.config import BY_KEY, read_file, resolve, token_of
    from bitseg.query.limits import Limits
    from bitseg.server.app import ServerConfig

    try:
        config_file = args.config or environ.get("BITSEG_CONFIG")
        settings = resolve(read_file(config_file) if config_file else {}, environ,
                           {key: getattr(args, key, None) for key in BY_KEY})
        token = token_of(settings)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if bool(settings["tls_cert"]) != bool(settings["tls_key"]):
        raise UsageError("TLS needs both tls_cert and tls_key")
    if settings["shards"] < 0:
        raise UsageError(f"--shards must be 0 (one process) or more, not {settings['shards']}")
    if settings["ray_address"] and not settings["shards"]:
        raise UsageError("--ray-address needs --shards N")
    if settings["ingest_budget_bytes"] < 1:
        raise UsageError(f"ingest_budget_bytes must be positive, not {settings['ingest_budget_bytes']}")
    if settings["keep_snapshots"] < 2:
        raise UsageError("keep_snapshots must be at least 2: the previous snapshot is the fallback for a damaged one")
    try:
        cert = Path(settings["tls_cert"]).read_bytes() if settings["tls_cert"] else None
        key = Path(settings["tls_key"]).read_bytes() if settings["tls_key"] else None
    except OSError as err:
        raise InputError(f"{err.filename}: {err.strerror}") from None
    args.settings = settings
    return ServerConfig(host=settings["host"], port=settings["port"], token=token, tls_cert=cert, tls_key=key,
                        max_message_bytes=settings["max_message_bytes"], max_workers=settings["max_workers"],
                        max_concurrent_rpcs=settings["max_concurrent_rpcs"], max_streams=settings["max_streams"],
                        stall_seconds=settings["stall_seconds"], max_call_seconds=settings["max_call_seconds"],
                        max_query_cost=settings["max_query_cost"],
                        ingest_budget_bytes=settings["ingest_budget_bytes"],
                        limits=Limits(max_query_length=settings["max_query_bytes"], max_depth=settings["max_depth"],
                                      max_in_values=settings["max_in_values"]),
                        data_dir=settings["data_dir"], daily_at=settings["snapshot_time"],
                        keep=settings["keep_snapshots"], metrics_port=settings["metrics_port"],
                        shards=settings["shards"], ray_address=settings["ray_address"])


def cmd_serve(args: argparse.Namespace) -> int:
    from bitseg.errors import PersistenceError
    from bitseg.server.app import ListenError, open_store, serve
    from bitseg.server.logs import setup_logging

    config = server_config(args, os.environ)
    settings = args.settings
    setup_logging(settings["log_level"])
    log = logging.getLogger("bitseg.server")
    try:
        store = open_store(config)
    except PersistenceError as err:
        log.error("cannot open the data directory", extra={"data_dir": config.data_dir, "problem": str(err)})
        print(f"bitseg serve: {err}", file=sys.stderr)
        return EXIT_OTHER
    try:
        if settings["demo"] and "demo" not in store.names():
            try:
                load_demo(store, settings["demo_size"])
            except BaseException:
                if "demo" in store.names():  # a half-loaded demo must not come back on the next start
                    try:
                        store.drop_index("demo")
                    except Exception:  # the first error is the one to report
                        log.exception("could not drop the half-loaded demo index")
                raise
            store.snapshot()  # a restart loads the snapshot instead of replaying millions of logged lines
        serve(config, store, grace=settings["grace"])  # a clean stop closes the store after a last snapshot
    except ListenError as err:
        store.close(snapshot=False)
        log.error("cannot listen", extra={"problem": str(err)})
        print(f"bitseg serve: {err}", file=sys.stderr)
        return EXIT_OTHER
    except BaseException:
        store.close(snapshot=False)  # no-op once closed; else what was acknowledged is in the log
        raise
    return EXIT_OK
