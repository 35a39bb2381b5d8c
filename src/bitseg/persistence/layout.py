"""The declared snapshot layout: the parts of an index's state and the file each array or long list goes to.

The components' `state()` dicts decide what is kept; this table decides where it lands on disk. A snapshot
refuses an array or long list at a path not declared here (`file_for`), so renaming a key inside a component
cannot quietly rename a file and leave older snapshots unreadable: the rename fails the tests until the table
says what the file is called. Changing a file name here, or what a file holds, is a new FORMAT.

Paths are the keys from the top of an index's state down, joined by dots; `*` stands for one name chosen by
the user (a field, a dimension) or by a component (a line column), put into the file name where `{}` is.
"""
from __future__ import annotations

from collections.abc import Container, Sequence

from bitseg.errors import PersistenceError

FORMAT = 2  # 1: file names derived from the state's keys (before the layout was declared)

NPY, MSGPACK = ".npy", ".msgpack"  # numeric arrays; object arrays and long lists of names

# part of an index's state → {path inside the part ("" for the part itself) → file}
LAYOUT: dict[str, dict[str, str]] = {
    "translator": {
        "keys": "keys.msgpack",  # external id by column, None where erased
        "erased_keys": "erased.keys.msgpack",  # each erased id (since 2026-12; absent before) ...
        "erased_columns": "erased.columns.npy",  # ... and a column it had
    },
    "existence": {},
    "fields": {
        "*.values": "fields.{}.values.npy",  # numbers by column
        "*.column_codes": "fields.{}.column_codes.npy",  # value code by column
        "*.names": "fields.{}.names.msgpack",  # values by code, when there are many
        "*.tags": "fields.{}.tags.msgpack",  # tags, when there are many
    },
    "builtins": {
        "fields.*.values": "builtins.{}.values.npy",  # orders, clv, first and last purchase day by column
        "order_pairs": "order_pairs.npy",  # written until 2026-12: column << 32 | order key, sorted (still read)
        "order_pairs.keys": "order_pairs.keys.npy",  # the hash set of those pairs, slot by slot (-1 empty)
    },
    "lines": {
        "columns.*": "lines.{}.npy",  # one file per line column
        "runs": "lines.runs.msgpack",
        "dictionaries.*": "dictionaries.{}.msgpack",  # a dimension's values by code, when there are many
    },
    "orders": {
        "": "orders.msgpack",  # written until 2026-12: order ids by code (still read)
        "table.keys": "orders.table.keys.npy",  # first hash of an order id, slot by slot (-1 empty) ...
        "table.values": "orders.table.values.npy",  # ... and its code
        "checks": "orders.checks.npy",  # the second hash of each code's id
        "texts": "orders.texts.npy",  # the ids' UTF-8 bytes, in code order
        "ends": "orders.ends.npy",  # where each code's bytes end
    },
    "views": {},
    "registry": {},  # saved segments, static lists, tierings
    "tracking": {},  # hot segment histories and kept trigger members
    "imports": {},  # the SHA-256 of every imported file, with its day, kind and name
}

_PATTERNS: dict[str, list[tuple[tuple[str, ...], str]]] = {
    part: [(tuple(pattern.split(".")) if pattern else (), file) for pattern, file in files.items()]
    for part, files in LAYOUT.items()
}


def check_part(part: str) -> None:
    if part not in LAYOUT:
        raise PersistenceError(f"the snapshot layout has no part {part!r}; declare it in "
                               "persistence/layout.py")


def file_for(path: Sequence[str], suffix: str, taken: Container[str] = ()) -> str:
    """The declared file of the array or long list at `path`, which must end in `suffix` and not be `taken`.

    >>> file_for(("fields", "country", "column_codes"), ".npy"), file_for(("orders",), ".msgpack")
    ('fields.country.column_codes.npy', 'orders.msgpack')
    >>> file_for(("fields", "country", "codes"), ".npy")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    bitseg.errors.PersistenceError: the snapshot layout declares no file for fields.country.codes ...
    """
    part, rest = path[0], tuple(path[1:])
    check_part(part)
    for pattern, file in _PATTERNS[part]:
        if len(pattern) == len(rest) and all(p in ("*", r) for p, r in zip(pattern, rest)):
            if not file.endswith(suffix):
                raise PersistenceError(f"the snapshot layout declares {file} for {'.'.join(path)}, which "
                                       f"needs a {suffix} file")
            file = file.format(*(r for p, r in zip(pattern, rest) if p == "*"))
            if file in taken:
                raise PersistenceError(f"the snapshot layout gives {'.'.join(path)} the file {file} of "
                                       "another path")
            return file
    raise PersistenceError(f"the snapshot layout declares no file for {'.'.join(path)} (a {suffix}); declare "
                           "one in persistence/layout.py rather than let a key name a file")
