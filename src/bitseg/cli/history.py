"""The verbs on what the server keeps over time: hot segment history (with its chart), trigger changes, snapshots."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bitseg.cli.common import EXIT_OK, InputError, UsageError, client_of, emit, need, number, table
from bitseg.replies import Snapshot


def _segment_argument(args: argparse.Namespace) -> str:
    if args.segment_name and args.segment and args.segment_name != args.segment:
        raise UsageError("give the segment once: SEGMENT or --segment NAME")
    return need(args.segment_name or args.segment, "a segment name (SEGMENT or --segment NAME)")


def cmd_history(args: argparse.Namespace) -> int:
    segment = _segment_argument(args)
    history = client_of(args).history(args.index, segment, start=args.start or None, end=args.end or None)
    rows: list[dict[str, Any]] = [{"day": h.day.isoformat(), "size": h.size, "entered": h.entered,
                                   "left": h.left, "backfilled": h.backfilled} for h in history]
    if args.chart:
        from bitseg.cli.chart import EmptyHistory, history_chart

        try:
            history_chart(history, args.chart, title=f"{args.index} / {segment}")
        except EmptyHistory as err:
            raise InputError(f"no chart written to {args.chart}: {err}") from None
        except ModuleNotFoundError:
            raise InputError("--chart needs matplotlib: pip install 'bitseg[chart]'") from None
        except OSError as err:
            raise InputError(f"{args.chart}: {err.strerror or err}") from None
    emit(args, rows, lambda: table([["day", "size", "entered", "left", ""]] + [
        [h["day"], number(h["size"]), number(h["entered"]), number(h["left"]), "backfilled" if h["backfilled"] else ""]
        for h in rows])
         + (f"\nchart written to {args.chart}" if args.chart else ""))
    return EXIT_OK


def cmd_changes(args: argparse.Namespace) -> int:
    if args.follow:
        from bitseg.cli.insight import cmd_follow_changes

        return cmd_follow_changes(args, _segment_argument(args))
    changes = client_of(args).changes(args.index, _segment_argument(args), need(args.since, "--since DAY"),
                                      chunk_size=args.chunk_size)
    if args.json:
        entered: list[str] = []
        left: list[str] = []
        for chunk in changes:
            entered += chunk.entered
            left += chunk.left
        emit(args, {"entered": entered, "left": left})
        return EXIT_OK
    out = sys.stdout
    for chunk in changes:  # printed as they come: a trigger segment may change by millions
        if chunk.entered:
            out.write("".join(f"+{i}\n" for i in chunk.entered))
        if chunk.left:
            out.write("".join(f"-{i}\n" for i in chunk.left))
    out.flush()
    return EXIT_OK


def _snapshot_dict(s: Snapshot) -> dict[str, Any]:
    return {"id": s.id, "created": s.created, "bytes": s.bytes, "indexes": list(s.indexes)}


def cmd_snapshot(args: argparse.Namespace) -> int:
    client = client_of(args)
    if args.list:
        snaps = [_snapshot_dict(s) for s in client.list_snapshots()]
        emit(args, snaps, lambda: table([[s["id"], s["created"], number(s["bytes"])] for s in snaps]))
    else:
        s = _snapshot_dict(client.create_snapshot())
        emit(args, s, f"snapshot {s['id']} written ({number(s['bytes'])} bytes)")
    return EXIT_OK
