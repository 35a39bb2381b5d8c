"""`bitseg import`: CSV (or gzipped CSV) files through the server with a progress bar and a summary."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bitseg.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    InputError,
    UsageError,
    client_of,
    number,
    plural,
    read_text,
)
from bitseg.errors import BitsegError, NotFoundError

if TYPE_CHECKING:
    from bitseg.client import Client


class Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal, or when forced)."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label, self.enabled = label, enabled
        self.started = self.shown = time.perf_counter()

    def update(self, done_bytes: int, total_bytes: int, lines: int, final: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self.shown < 0.2 and not final):
            return
        self.shown = now
        share = min(done_bytes / max(total_bytes, 1), 1.0)
        bar = "█" * int(share * 30)
        rate = lines / max(now - self.started, 1e-9)
        sys.stderr.write(f"\r{self.label} ▕{bar:<30}▏ {share:4.0%} {lines:>12,} lines {rate:>10,.0f}/s")
        if final:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _import_file(client: Client, index: str, path: str, kind: str, args: argparse.Namespace) -> dict[str, Any]:
    progress = Progress(f"{kind} {Path(path).name}", args.progress or (sys.stderr.isatty() and not args.quiet))
    started = time.perf_counter()
    try:
        summary = client.import_csv(index, path, "profiles" if kind == "profiles" else "purchases",
                                    chunk_bytes=args.chunk_bytes, progress=progress.update, force=args.force)
    except BitsegError as err:
        if getattr(err, "code", None):
            raise
        raise InputError(str(err)) from None  # the file itself: not CSV we can send
    seconds = time.perf_counter() - started
    total = Path(path).stat().st_size
    progress.update(total, total, summary.rows, final=True)
    return {"file": path, "kind": kind, "rows": summary.rows, "accepted": summary.accepted,
            "rejected": summary.rejected, "duplicates": summary.duplicates, "seconds": round(seconds, 3),
            "rows_per_second": round(summary.rows / seconds) if seconds else 0,
            "customers": summary.customers, "lines": summary.lines,
            "rejected_rows": [{"line": r.row, "message": r.message} for r in summary.rejected_rows]}


def cmd_import(args: argparse.Namespace) -> int:
    if not (args.profiles or args.purchases):
        raise UsageError("import needs --profiles FILE and/or --purchases FILE")
    for path in (args.profiles, args.purchases):
        if path and not Path(path).is_file():
            raise InputError(f"{path}: no such file")
    client = client_of(args)
    try:
        client.get_index(args.index)
    except NotFoundError:
        if not args.schema:
            raise InputError(f"index {args.index!r} does not exist; give --schema FILE to create it") from None
        client.create_index(args.index, read_text(args.schema))
        if not args.quiet:
            print(f"created index {args.index} from {args.schema}", file=sys.stderr)
    reports = [_import_file(client, args.index, path, kind, args)
               for kind, path in (("profiles", args.profiles), ("purchases", args.purchases)) if path]
    rejected = sum(r["rejected"] for r in reports)
    if args.json:
        print(json.dumps({"index": args.index, "files": reports, "rejected": rejected}, indent=2))
    else:
        for r in reports:
            duplicates = (f", {number(r['duplicates'])} skipped as duplicates (their line id was imported before)"
                          if r["duplicates"] else "")
            print(f"{r['kind']}: {r['file']}: {plural(r['rows'], 'row')}, {number(r['accepted'])} accepted, "
                  f"{number(r['rejected'])} rejected{duplicates} in {r['seconds']:.1f} s "
                  f"({number(r['rows_per_second'])} rows/s)")
            for bad in r["rejected_rows"][:args.show_rejected]:
                print(f"{r['file']}:{bad['line']}: {bad['message']}", file=sys.stderr)
            hidden = r["rejected"] - min(len(r["rejected_rows"]), args.show_rejected)
            if hidden > 0:
                print(f"{r['file']}: … and {number(hidden)} more rejected rows (--show-rejected N, --json)",
                      file=sys.stderr)
        last = reports[-1]
        print(f"index {args.index}: {plural(last['customers'], 'customer')}, {plural(last['lines'], 'line')}")
    return EXIT_OK if not rejected else EXIT_INPUT
