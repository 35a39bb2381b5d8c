"""The verbs that keep what an index holds: indexes, saved segments, static lists, tierings and erasure."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bitseg.cli.common import (
    EXIT_OK,
    UsageError,
    as_of,
    client_of,
    emit,
    ids,
    need,
    number,
    plural,
    read_text,
    table,
)
from bitseg.replies import IndexInfo, SavedSegment


def _index_dict(info: IndexInfo) -> dict[str, Any]:
    return {"name": info.name, "customers": info.customers, "lines": info.lines, "timezone": info.timezone,
            "fields": dict(info.fields), "dimensions": list(info.dimensions), "segments": list(info.segments),
            "lists": list(info.lists)}


def cmd_indexes(args: argparse.Namespace) -> int:
    client = client_of(args)
    if args.action == "list":
        infos = [_index_dict(i) for i in client.list_indexes()]
        emit(args, infos, lambda: table([["name", "customers", "lines"]] + [
            [i["name"], number(i["customers"]), number(i["lines"])] for i in infos]))
    elif args.action == "show":
        info = client.get_index(need(args.name, "an index name"))
        emit(args, {**_index_dict(info), "schema_toml": info.schema_toml}, lambda: "\n".join([
            f"index {info.name}: {plural(info.customers, 'customer')}, {plural(info.lines, 'line')}",
            f"segments: {', '.join(info.segments) or '-'}", f"lists: {', '.join(info.lists) or '-'}", "",
            info.schema_toml.rstrip()]))
    elif args.action == "create":
        if not args.schema:
            raise UsageError("indexes create needs --schema FILE")
        info = client.create_index(need(args.name, "an index name"), read_text(args.schema))
        emit(args, _index_dict(info), f"created index {info.name}")
    elif args.action == "drop":
        client.drop_index(need(args.name, "an index name"))
        emit(args, {"dropped": args.name}, f"dropped index {args.name}")
    return EXIT_OK


def _segment_dict(segment: SavedSegment) -> dict[str, Any]:
    return {"name": segment.name, "query": segment.query, "kind": segment.kind.value,
            "description": segment.description}


def cmd_segments(args: argparse.Namespace) -> int:
    client = client_of(args)
    if args.action == "list":
        segments = [_segment_dict(s) for s in client.list_segments(args.index)]
        emit(args, segments, lambda: table([[s["name"], s["kind"], s["query"]] for s in segments]))
    elif args.action == "get":
        s = _segment_dict(client.get_segment(args.index, need(args.name, "a segment name")))
        emit(args, s, lambda: "\n".join(f"{k}: {v}" for k, v in s.items()))
    elif args.action == "save":
        if args.query is None:
            raise UsageError("segments save NAME QUERY")
        query = sys.stdin.read() if args.query == "-" else args.query
        if args.backfill and args.kind != "hot":
            raise UsageError(f"--backfill is for hot segments (--kind hot), not {args.kind} ones")
        s = _segment_dict(client.save_segment(args.index, need(args.name, "a segment name"), query,
                                              kind=args.kind, description=args.description,
                                              backfill_days=args.backfill))
        filled = f"; history backfilled for the {plural(args.backfill, 'day')} before today" if args.backfill else ""
        emit(args, s, f"saved segment {s['name']} ({s['kind']}): {s['query']}{filled}")
    elif args.action == "delete":
        client.delete_segment(args.index, need(args.name, "a segment name"))
        emit(args, {"deleted": args.name}, f"deleted segment {args.name}")
    return EXIT_OK


def cmd_lists(args: argparse.Namespace) -> int:
    client = client_of(args)
    if args.action == "list":
        names = list(client.get_index(args.index).lists)
        emit(args, names, "\n".join(names))
    elif args.action == "show":
        members = client.get_list(args.index, need(args.name, "a list name"))
        emit(args, members, "\n".join(members))
    else:
        given = ids(args)
        name = need(args.name, "a list name")
        if args.action == "add":
            size = client.update_list(args.index, name, add=given)
        elif args.action == "remove":
            size = client.update_list(args.index, name, remove=given)
        else:
            size = client.update_list(args.index, name, replace=given)
        emit(args, {"name": args.name, "size": size}, f"list {args.name}: {plural(size, 'customer')}")
    return EXIT_OK


def cmd_tiers(args: argparse.Namespace) -> int:
    client = client_of(args)
    if args.action == "save":
        if not args.default:
            raise UsageError("tiers save needs --default TIER")
        tiers = []
        for spec in args.tier:
            name, sep, query = spec.partition("=")
            if not sep or not name.strip():
                raise UsageError(f"--tier {spec!r}: write NAME=QUERY")
            tiers.append((name.strip(), query))
        client.save_tiering(args.index, args.name, tiers, args.default)
        emit(args, {"saved": args.name}, f"saved tiering {args.name}: {len(tiers)} tiers + {args.default}")
    else:
        counts = client.count_tiers(args.index, args.name, as_of=as_of(args))
        emit(args, counts, lambda: table([[k, number(v)] for k, v in counts.items()]))
    return EXIT_OK


def cmd_delete_customers(args: argparse.Namespace) -> int:
    deleted = client_of(args).delete_customers(args.index, ids(args))
    emit(args, {"deleted": deleted}, f"deleted {plural(deleted, 'customer')}")
    return EXIT_OK
