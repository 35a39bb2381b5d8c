"""The command line's grammar: every verb with its options, each bound to the function that runs it."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from bitseg.cli.catalog import cmd_delete_customers, cmd_indexes, cmd_lists, cmd_segments, cmd_tiers
from bitseg.cli.common import DEFAULT_SERVER, add_selection
from bitseg.cli.config import add_options
from bitseg.cli.console import add_console
from bitseg.cli.history import cmd_changes, cmd_history, cmd_snapshot
from bitseg.cli.imports import cmd_import
from bitseg.cli.insight import cmd_criteria, cmd_explain, cmd_overlap, cmd_why
from bitseg.cli.operate import cmd_info, cmd_ping, cmd_verify, version_text
from bitseg.cli.query import (
    cmd_breakdown,
    cmd_buyers,
    cmd_check,
    cmd_count,
    cmd_members,
    cmd_stats,
    cmd_values,
)
from bitseg.cli.serve import cmd_generate, cmd_serve
from bitseg.csvrecords import CHUNK_BYTES
from bitseg.names import SegmentKind


class AnyOrderParser(argparse.ArgumentParser):
    """A verb's parser that takes options before, between or after its positional arguments.

    Plain argparse fills every optional positional at its first chance, so in `segments save --index shop
    NAME QUERY` the action took `save` and left NAME and QUERY "unrecognized"; the intermixed parse reads the
    options first and the positionals from what is left.
    """

    _inside = False

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        if self._inside:  # parse_known_intermixed_args calls back in here for each of its two passes
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bitseg", description="bitseg: a customer segment engine on roaring "
                                     "bitmaps, served over gRPC.",
                                     epilog="exit codes: 0 ok, 1 bad input or rejected rows, 2 usage, "
                                     "3 not found, 4 unavailable or other")
    parser.add_argument("--version", action="version", version=version_text())
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=AnyOrderParser)

    common = AnyOrderParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON")
    client = AnyOrderParser(add_help=False, parents=[common])
    client.add_argument("--server", default=os.environ.get("BITSEG_SERVER", DEFAULT_SERVER),
                        help="HOST:PORT (default $BITSEG_SERVER or %(default)s)")
    client.add_argument("--token", default=os.environ.get("BITSEG_TOKEN"),
                        help="bearer token (default $BITSEG_TOKEN)")
    client.add_argument("--tls-ca", default=os.environ.get("BITSEG_TLS_CA"), metavar="PEM",
                        help="CA certificate to reach a TLS server (default $BITSEG_TLS_CA)")
    client.add_argument("--tls-server-name", metavar="NAME",
                        help="the name in the server's certificate, when it differs from the --server host")
    client.add_argument("--timeout", type=float, default=60.0, help="seconds per call (default %(default)s)")
    on_index = AnyOrderParser(add_help=False, parents=[client])
    on_index.add_argument("--index", required=True, help="index name")

    p = verbs.add_parser("serve", parents=[common], help="run the server",
                         description="Settings come from --config FILE (TOML), then BITSEG_<KEY> variables, then "
                         "flags, each winning over the last; a key is the option's name with _ for -.")
    add_options(p)
    p.set_defaults(func=cmd_serve)

    p = verbs.add_parser("import", parents=[on_index], help="import CSV files through the server")
    p.add_argument("--schema", help="schema.toml, to create the index when it does not exist")
    p.add_argument("--profiles", help="profiles CSV (or .csv.gz): customer + profile fields")
    p.add_argument("--purchases", help="purchases CSV (or .csv.gz): customer,time,amount[,order,quantity,dims]")
    p.add_argument("--chunk-bytes", type=int, default=CHUNK_BYTES, help="CSV bytes per message")
    p.add_argument("--show-rejected", type=int, default=20, metavar="N", help="rejected rows to print")
    p.add_argument("--progress", action="store_true", help="show progress even when stderr is not a terminal")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--force", action="store_true",
                   help="import even when the index already imported a file with the same content")
    p.set_defaults(func=cmd_import)

    p = verbs.add_parser("count", parents=[on_index], help="count the members of a query; prints the number")
    add_selection(p)
    p.set_defaults(func=cmd_count)

    p = verbs.add_parser("members", parents=[on_index], help="stream member ids, one per line")
    add_selection(p)
    p.add_argument("--limit", type=int, default=0, help="at most this many (0 = all)")
    p.add_argument("--after", help="resume after this customer id")
    p.add_argument("--chunk-size", type=int, default=0, help="ids per message (0 = server default)")
    p.set_defaults(func=cmd_members)

    p = verbs.add_parser("stats", parents=[on_index], help="KPIs of the members and of the rest")
    add_selection(p)
    p.set_defaults(func=cmd_stats)

    p = verbs.add_parser("breakdown", parents=[on_index], help="members per value of a field, or buyers and "
                         "their revenue per value of a purchase dimension")
    add_selection(p)
    p.add_argument("--field", required=True, help="a keyword, bool or tags field, or a purchase dimension")
    p.add_argument("--start", default="", metavar="DAY", help="a dimension's first purchase day (default: all)")
    p.add_argument("--end", default="", metavar="DAY", help="its last purchase day (default: --as-of, today)")
    p.add_argument("--top", type=int, default=10)
    p.set_defaults(func=cmd_breakdown)

    p = verbs.add_parser("values", parents=[on_index], help="the values of a field or dimension, with counts")
    p.add_argument("--field", required=True, help="a keyword, bool or tags field, or a purchase dimension")
    p.add_argument("--prefix", default="", help="only values starting with it (case-insensitive)")
    p.add_argument("--limit", type=int, default=0, help="at most this many values (0: 100)")
    p.set_defaults(func=cmd_values)

    p = verbs.add_parser("buyers", parents=[on_index], help="buyers per day over a date range")
    add_selection(p, required=False)
    p.add_argument("--start", required=True, metavar="DAY")
    p.add_argument("--end", required=True, metavar="DAY")
    p.set_defaults(func=cmd_buyers)

    p = verbs.add_parser("check", parents=[on_index], help="which segments one customer is in")
    p.add_argument("--customer", required=True)
    p.add_argument("segments", nargs="*", help="segments to check (default: list every segment it is in)")
    p.add_argument("--as-of", default="", metavar="DAY")
    p.set_defaults(func=cmd_check)

    p = verbs.add_parser("explain", parents=[on_index], help="the plan of a query, node by node")
    add_selection(p)
    p.add_argument("--analyze", action="store_true", help="run each node: its count and milliseconds")
    p.set_defaults(func=cmd_explain)

    p = verbs.add_parser("why", parents=[on_index], help="why one customer is (not) a member")
    p.add_argument("--customer", required=True)
    add_selection(p)
    p.set_defaults(func=cmd_why)

    p = verbs.add_parser("criteria", parents=[on_index], help="count per criterion: own, running, without it")
    add_selection(p)
    p.set_defaults(func=cmd_criteria)

    p = verbs.add_parser("overlap", parents=[on_index], help="sizes and intersections of 2 to 32 selections")
    p.add_argument("queries", nargs="*", help="segment queries")
    p.add_argument("--segment", action="append", help="a saved segment (repeat)")
    p.add_argument("--as-of", default="", metavar="DAY")
    p.set_defaults(func=cmd_overlap)

    p = verbs.add_parser("indexes", parents=[client], help="list, show, create or drop indexes")
    p.add_argument("action", nargs="?", default="list", choices=["list", "show", "create", "drop"])
    p.add_argument("name", nargs="?")
    p.add_argument("--schema", help="schema.toml for create")
    p.set_defaults(func=cmd_indexes)

    p = verbs.add_parser("segments", parents=[on_index], help="saved segments: list, get, save, delete")
    p.add_argument("action", nargs="?", default="list", choices=["list", "get", "save", "delete"])
    p.add_argument("name", nargs="?")
    p.add_argument("query", nargs="?", help="for save: the query ('-' reads stdin)")
    p.add_argument("--kind", default="standard", choices=[kind.value for kind in SegmentKind])
    p.add_argument("--description", default="")
    p.add_argument("--backfill", type=int, default=0, metavar="DAYS", help="save: a hot segment's history of "
                   "the DAYS days before today too, as of each day from the purchase history (marked backfilled)")
    p.set_defaults(func=cmd_segments)

    p = verbs.add_parser("lists", parents=[on_index], help="static lists: list, show, add, remove, replace")
    p.add_argument("action", nargs="?", default="list", choices=["list", "show", "add", "remove", "replace"])
    p.add_argument("name", nargs="?")
    p.add_argument("ids", nargs="*", help="customer ids")
    p.add_argument("--file", help="more ids, one per line ('-' = stdin)")
    p.set_defaults(func=cmd_lists)

    p = verbs.add_parser("tiers", parents=[on_index], help="tierings: save, count")
    p.add_argument("action", choices=["save", "count"])
    p.add_argument("name")
    p.add_argument("--tier", action="append", default=[], metavar="NAME=QUERY", help="in priority order")
    p.add_argument("--default", help="the tier of customers matching none")
    p.add_argument("--as-of", default="", metavar="DAY")
    p.set_defaults(func=cmd_tiers)

    p = verbs.add_parser("delete-customers", parents=[on_index], help="erase customers (privacy)")
    p.add_argument("ids", nargs="*")
    p.add_argument("--file", help="more ids, one per line ('-' = stdin)")
    p.set_defaults(func=cmd_delete_customers)

    p = verbs.add_parser("history", parents=[on_index], help="daily size history of a hot segment")
    p.add_argument("segment_name", nargs="?", metavar="SEGMENT", help="a hot (or trigger) segment")
    p.add_argument("--segment", help=argparse.SUPPRESS)  # the older spelling
    p.add_argument("--start", default="", metavar="DAY", help="first day (default: the oldest recorded)")
    p.add_argument("--end", default="", metavar="DAY", help="last day (default: the newest)")
    p.add_argument("--chart", metavar="FILE.png", help="also draw the history into a PNG (needs bitseg[chart])")
    p.set_defaults(func=cmd_history)

    p = verbs.add_parser("changes", parents=[on_index], help="who entered (+id) and left (-id) a trigger segment")
    p.add_argument("segment_name", nargs="?", metavar="SEGMENT", help="a trigger segment")
    p.add_argument("--segment", help=argparse.SUPPRESS)  # the older spelling
    p.add_argument("--since", metavar="DAY", help="a daily snapshot day, YYYY-MM-DD (--follow: the last day "
                   "seen; default every kept day)")
    p.add_argument("--chunk-size", type=int, default=0, help="ids per message (0 = server default)")
    p.add_argument("--follow", action="store_true", help="one line per id and day, then new days as they are "
                   "evaluated, until interrupted")
    p.set_defaults(func=cmd_changes)

    p = verbs.add_parser("snapshot", parents=[client], help="write a snapshot now (or --list them)")
    p.add_argument("--list", action="store_true")
    p.set_defaults(func=cmd_snapshot)

    p = verbs.add_parser("ping", parents=[client], help="exit 0 when the server's health is SERVING")
    p.set_defaults(func=cmd_ping)

    p = verbs.add_parser("info", parents=[client], help="the server: version, uptime, indexes, log, snapshot, "
                         "slowest calls")
    p.set_defaults(func=cmd_info)

    add_console(verbs, client)

    p = verbs.add_parser("verify", parents=[common], help="check a data directory offline: every snapshot's "
                         "checksums and the whole log; exit 1 naming what is damaged")
    p.add_argument("--data-dir", default=os.environ.get("BITSEG_DATA_DIR", "./bitseg-data"),
                   help="the folder to check (default $BITSEG_DATA_DIR or ./bitseg-data)")
    p.set_defaults(func=cmd_verify)

    p = verbs.add_parser("generate", parents=[common], help="write a synthetic fashion retailer (schema + CSV)")
    p.add_argument("--size", help="XS, S (100k customers / 2M lines), M (1M / 20M), L (10M / 100M)")
    p.add_argument("--customers", type=int)
    p.add_argument("--lines", type=int)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--end", help="last day of the two-year window (default today)")
    p.add_argument("--out", default="bitseg-dataset", help="output folder (default %(default)s)")
    p.add_argument("--gzip", action="store_true", help="write .csv.gz")
    p.set_defaults(func=cmd_generate)
    return parser
