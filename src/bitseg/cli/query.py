"""The verbs that ask about a selection of customers: count, members, stats, breakdown, buyers and check; and
values, what a field or dimension holds."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from typing import Any

from bitseg.cli.common import EXIT_OK, as_of, client_of, emit, money, number, plural, selection, table

MEMBERS_PER_WRITE = 10_000   # ids written at once: one write per chunk, not per id


def cmd_count(args: argparse.Namespace) -> int:
    counted = client_of(args).count_with_warnings(args.index, as_of=as_of(args), **selection(args))
    for warning in counted.warnings:  # stderr: stdout keeps the count alone
        print(f"warning: {warning}", file=sys.stderr)
    emit(args, {"count": counted.count}, str(counted.count))
    return EXIT_OK


def cmd_values(args: argparse.Namespace) -> int:
    found = client_of(args).values(args.index, args.field, prefix=args.prefix, limit=args.limit)
    emit(args, [{"value": v.value, "count": v.count} for v in found],
         lambda: table([[v.value, number(v.count)] for v in found]))
    return EXIT_OK


def cmd_members(args: argparse.Namespace) -> int:
    members = client_of(args).members(args.index, as_of=as_of(args), chunk_size=args.chunk_size,
                                      after=args.after or None, limit=args.limit, **selection(args))
    out = sys.stdout
    first = True
    if args.json:
        out.write("[")
    while ids := list(itertools.islice(members, MEMBERS_PER_WRITE)):
        if args.json:
            out.write(("" if first else ",") + ",".join(json.dumps(i) for i in ids))
        else:
            out.write("\n".join(ids) + "\n")
        first = False
    if args.json:
        out.write("]\n")
    out.flush()
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    stats = client_of(args).stats(args.index, as_of=as_of(args), **selection(args))

    def group(g: Any) -> dict[str, Any]:
        return {"customers": g.customers, "orders": g.orders, "revenue": g.revenue,
                "average_order_value": g.average_order_value, "average_clv": g.average_clv,
                "presence_share": g.presence_share}

    data: dict[str, Any] = {"count": stats.count, "members": group(stats.members), "rest": group(stats.rest)}

    def text() -> str:
        rows: list[list[object]] = [["", "members", "rest"]]
        for key, label in (("customers", "customers"), ("orders", "orders"), ("revenue", "revenue"),
                           ("average_order_value", "avg order value"), ("average_clv", "avg clv")):
            m, o = data["members"][key], data["rest"][key]
            rows.append([label, number(m) if isinstance(m, int) else money(m),
                         number(o) if isinstance(o, int) else money(o)])
        for name in data["members"]["presence_share"]:
            rows.append([f"{name} set", f"{data['members']['presence_share'][name]:.1%}",
                         f"{data['rest']['presence_share'].get(name, 0.0):.1%}"])
        total = stats.members.customers + stats.rest.customers
        return f"{number(stats.count)} of {plural(total, 'customer')}\n" + table(rows)

    emit(args, data, text)
    return EXIT_OK


def cmd_breakdown(args: argparse.Namespace) -> int:
    rows = client_of(args).breakdown_rows(args.index, field=args.field, top=args.top, as_of=as_of(args),
                                          start=args.start or None, end=args.end or None, **selection(args))
    values: list[dict[str, Any]] = [{"value": r.value, "count": r.count} | ({} if r.revenue is None else
                                    {"revenue": r.revenue}) for r in rows]
    if rows and rows[0].revenue is not None:  # a purchase dimension: buyers and their net revenue from the value
        emit(args, values, lambda: table([["value", "buyers", "revenue"]] + [
            [v["value"] or "(null)", number(v["count"]), money(v["revenue"])] for v in values]))
    else:
        emit(args, values, lambda: table([[v["value"] or "(null)", number(v["count"])] for v in values]))
    return EXIT_OK


def cmd_buyers(args: argparse.Namespace) -> int:
    per_day = client_of(args).buyers_per_day(args.index, args.start, args.end, as_of=as_of(args),
                                             **selection(args))
    days = [{"day": day.isoformat(), "count": count} for day, count in per_day.items()]
    emit(args, days, lambda: "\n".join(f"{d['day']}\t{d['count']}" for d in days))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    client = client_of(args)
    if args.segments:
        data = client.check_membership(args.index, args.customer, args.segments, as_of=as_of(args))
        emit(args, data, lambda: "\n".join(f"{k}\t{str(v).lower()}" for k, v in data.items()))
    else:
        names = client.customer_segments(args.index, args.customer, as_of=as_of(args))
        emit(args, names, "\n".join(names))
    return EXIT_OK
