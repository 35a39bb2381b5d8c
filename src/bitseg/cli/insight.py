"""The segment insight verbs (SPEC §10): explain, why, criteria, overlap and changes --follow."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bitseg.cli.common import EXIT_OK, UsageError, as_of, client_of, emit, number, selection, table
from bitseg.replies import WhyStep


def cmd_explain(args: argparse.Namespace) -> int:
    steps = client_of(args).explain(args.index, as_of=as_of(args), analyze=args.analyze, **selection(args))
    rows = [{"depth": s.depth, "text": s.text, "access": s.access, "minus": s.minus,
             **({"count": s.count, "ms": round(s.ms or 0.0, 3)} if args.analyze else {})} for s in steps]

    def text() -> str:
        out = []
        for s in steps:
            line = f"{'  ' * s.depth}{'minus ' if s.minus else ''}{s.text}  → {s.access}"
            if args.analyze:
                line += f"  [{number(s.count or 0)} customers, {s.ms or 0.0:.3f} ms]"
            out.append(line)
        return "\n".join(out)
    emit(args, rows, text)
    return EXIT_OK


def _why_step(s: WhyStep) -> dict[str, Any]:
    return {"depth": s.depth, "text": s.text, "holds": s.holds, "minus": s.minus, "values": list(s.values),
            "lines": [{"day": line.day.isoformat(), "amount": str(line.amount), "quantity": line.quantity,
                       "order": line.order, "dimensions": line.dimensions} for line in s.lines]}


def cmd_why(args: argparse.Namespace) -> int:
    why = client_of(args).why(args.index, args.customer, as_of=as_of(args), **selection(args))

    def text() -> str:
        out = [f"{args.customer} is {'a member' if why.is_member else 'not a member'}"]
        for s in why.steps:
            pad = "  " * (s.depth + 1)
            mark = "✓" if s.holds else "✗"
            out.append(f"{pad}{mark} {'minus ' if s.minus else ''}{s.text}"
                       + (f"   ({'; '.join(s.values)})" if s.values else ""))
            for line in s.lines:
                dims = ", ".join(f"{k}={v}" for k, v in line.dimensions.items())
                out.append(f"{pad}    {line.day}  {line.amount}  ×{line.quantity}  order {line.order or '-'}"
                           + (f"  {dims}" if dims else ""))
        return "\n".join(out)
    emit(args, {"customer": args.customer, "is_member": why.is_member,
                "steps": [_why_step(s) for s in why.steps]}, text)
    return EXIT_OK


def cmd_criteria(args: argparse.Namespace) -> int:
    found = client_of(args).criteria(args.index, as_of=as_of(args), **selection(args))
    rows = [{"criterion": c.text, "count": c.count, "running": c.running, "without": c.without}
            for c in found.criteria]
    emit(args, {"combinator": found.combinator, "total": found.total, "criteria": rows},
         lambda: table([["#", "criterion", "count", f"running ({found.combinator})", "without it"]]
                       + [[i + 1, c.text, number(c.count), number(c.running), number(c.without)]
                          for i, c in enumerate(found.criteria)]) + f"\ntotal: {number(found.total)}")
    return EXIT_OK


def cmd_overlap(args: argparse.Namespace) -> int:
    queries, segments = list(args.queries), list(args.segment or [])
    if len(queries) + len(segments) < 2:
        raise UsageError("overlap needs at least two selections: queries and/or --segment NAME")
    found = client_of(args).overlap(args.index, queries, segments=segments, as_of=as_of(args))
    names = queries + [f"segment {s}" for s in segments]
    emit(args, {"selections": names, "sizes": list(found.sizes), "matrix": [list(r) for r in found.matrix]},
         lambda: "\n".join(f"[{i + 1}] {name}  ({number(size)})" for i, (name, size)
                           in enumerate(zip(names, found.sizes)))
         + "\n\n" + table([["", *(f"[{i + 1}]" for i in range(len(names)))]]
                          + [[f"[{i + 1}]", *map(number, row)] for i, row in enumerate(found.matrix)]))
    return EXIT_OK


def cmd_follow_changes(args: argparse.Namespace, segment: str) -> int:
    """`changes --follow`: each evaluated day after --since, then new days as they come, until interrupted."""
    out = sys.stdout
    try:
        for day in client_of(args).watch_changes(args.index, segment, args.since or None,
                                                 chunk_size=args.chunk_size):
            if args.json:  # one JSON object a line: a stream has no end to close an array at
                out.write(json.dumps({"day": day.day.isoformat(), "entered": list(day.entered),
                                      "left": list(day.left), "complete": day.complete}) + "\n")
            else:
                out.write("".join(f"{day.day} +{i}\n" for i in day.entered)
                          + "".join(f"{day.day} -{i}\n" for i in day.left))
            out.flush()
    except KeyboardInterrupt:
        pass
    return EXIT_OK
