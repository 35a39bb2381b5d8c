"""Benchmark data: the generated fashion retailer of one size, as plain arrays, loaded into each peer.

One `Dataset` is built per size from `bitseg.generate` (deterministic from the seed and the end day). The same
arrays feed every peer:

- bitseg through the columnar fast path (`Index.add_purchase_columns` with `Coded` text columns);
- DuckDB in-process: tables `customers`, `lines`, `list_members`, and the built-ins in the view `customer_facts`
  (also materialised as the table `customer_facts_mat` for a second, stricter DuckDB peer);
- raw pyroaring (see `raw.py`).

Customer columns: profiles are loaded first, in id order, so customer `C0000001` is column 0 in bitseg and
`cid` 0 in DuckDB and in the raw peer; `load_bitseg` checks this, so member sets compare as plain integers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from bitseg import Coded, Index
from bitseg.generate import FASHION_SCHEMA, SIZES, generate_profiles, generate_purchases

END = dt.date(2026, 2, 20)      # the last day of data and the as_of of every query: a Feb 28 of a non-leap
SEED = 42                       # year falls in ANNIVERSARY's [today, +13d], so Feb 29 birthdays count
BATCH_LINES = 1_000_000         # lines per add_purchase_columns call
LISTS = {"gold_manual": (0.01, 1), "tier_blocked": (0.02, 2)}   # static list: (share of customers, seed stream)
DIMENSIONS = ("brand", "department", "collection", "color", "season", "source")
EPOCH = dt.date(1970, 1, 1)


def size_from_env(default: str = "XS") -> str:
    size = os.environ.get("BITSEG_BENCH_SIZE", default).upper()
    if size not in SIZES:
        raise SystemExit(f"BITSEG_BENCH_SIZE={size!r}: expected one of {', '.join(SIZES)}")
    return size


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


@dataclass
class Dataset:
    """One generated retailer as arrays shared by every peer. Codes are -1 for NULL."""

    size: str
    customers: int
    end: dt.date
    seed: int
    profiles: dict[str, np.ndarray]                 # the generator's profile columns, as generated
    # profile fields as codes and numbers
    gender: np.ndarray                              # int16 code into vocab["gender"]
    country: np.ndarray                             # int16 code into vocab["country"]
    tags: np.ndarray                                # int16 code into vocab["tags"] ('a|b' text of a tag set)
    loyalty: np.ndarray                             # int8: 1 true, 0 false, -1 NULL
    email: np.ndarray                               # bool: set
    birth: np.ndarray                               # int64 day number; see birth_known
    birth_known: np.ndarray
    joined: np.ndarray                              # input_date as int64 day number; see joined_known
    joined_known: np.ndarray
    points: np.ndarray                              # int64; see points_known
    points_known: np.ndarray
    credit: np.ndarray                              # int64 cents; see credit_known
    credit_known: np.ndarray
    # purchase lines
    cid: np.ndarray                                 # uint32 customer column
    day: np.ndarray                                 # int32 day number (local day)
    cents: np.ndarray                               # int64 amount in cents, negative for returns
    quantity: np.ndarray                            # int32, negative for returns
    order: np.ndarray                               # int64: 2n for order On, 2n + 1 for its return Rn
    dims: dict[str, np.ndarray]                     # int16 code into vocab[dim]
    vocab: dict[str, list[str]]
    lists: dict[str, np.ndarray]                    # sorted uint32 cids of each static list
    batches: list[dict] = field(repr=False)         # add_purchase_columns input, one per generator batch
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        return len(self.cid)

    @property
    def customer_ids(self) -> np.ndarray:
        return self.profiles["customer"]

    def until(self, day: int) -> Dataset:
        """The same retailer with only the purchase lines dated `day` or before (for point-in-time answers)."""
        keep = self.day <= day
        return dataclasses.replace(self, cid=self.cid[keep], day=self.day[keep], cents=self.cents[keep],
                                   quantity=self.quantity[keep], order=self.order[keep],
                                   dims={dim: codes[keep] for dim, codes in self.dims.items()}, batches=[])

    def nbytes(self) -> int:
        arrays = [v for v in vars(self).values() if isinstance(v, np.ndarray)] + list(self.dims.values())
        return sum(a.nbytes for a in arrays)


class Vocabulary:
    """Codes of text values across batches: first come, first coded; None is -1."""

    def __init__(self) -> None:
        self.codes: dict[object, int] = {None: -1}
        self.values: list = []

    def encode(self, values: np.ndarray, dtype: type = np.int16) -> np.ndarray:
        for value in set(values.tolist()) - self.codes.keys():
            self.codes[value] = len(self.values)
            self.values.append(value)
        return np.fromiter(map(self.codes.__getitem__, values), dtype, len(values))


def numbered(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first byte, number) of ids made of one letter and fixed-width digits ('C0000001', 'R000000007')."""
    text = ids.astype("S")
    width = text.dtype.itemsize
    matrix = np.frombuffer(text.tobytes(), np.uint8).reshape(len(ids), width)
    number = np.zeros(len(ids), np.int64)
    for j in range(1, width):
        number = number * 10 + (matrix[:, j].astype(np.int64) - 48)
    return matrix[:, 0], number


def _days(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    known = ~np.isnat(values)
    return np.where(known, values.astype("datetime64[D]").astype(np.int64), 0), known


def _numbers(values: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    known = np.array([v is not None for v in values.tolist()], dtype=bool)
    numbers = np.zeros(len(values), np.int64)
    numbers[known] = np.rint(np.asarray(values[known], dtype=np.float64) * scale).astype(np.int64)
    return numbers, known


def build(size: str, seed: int = SEED, end: dt.date = END, batch_lines: int = BATCH_LINES) -> Dataset:
    """Generate the retailer of `size` and encode it for every peer."""
    customers, lines = SIZES[size]
    started = time.perf_counter()
    profiles = generate_profiles(customers, seed=seed, end=end)
    generating = time.perf_counter() - started
    ids = profiles["customer"]
    letter, number = numbered(ids)
    if not ((letter == ord("C")).all() and np.array_equal(number, np.arange(1, customers + 1))):
        raise AssertionError("generator customer ids are not C<n> in id order; the benchmarks rely on it")
    vocab = {name: Vocabulary() for name in ("gender", "country", "tags", *DIMENSIONS)}
    gender = vocab["gender"].encode(profiles["gender"])
    country = vocab["country"].encode(profiles["country"])
    tags = vocab["tags"].encode(profiles["tags"])
    loyalty = np.array([-1 if v is None else int(v) for v in profiles["loyalty_member"].tolist()], np.int8)
    email = np.array([v is not None for v in profiles["email"].tolist()], dtype=bool)
    birth, birth_known = _days(profiles["birth_date"])
    joined, joined_known = _days(profiles["input_date"])
    points, points_known = _numbers(profiles["points"], 1)
    credit, credit_known = _numbers(profiles["credit"], 100)

    parts: dict[str, list[np.ndarray]] = {name: [] for name in ("cid", "day", "cents", "quantity", "order",
                                                                 *DIMENSIONS)}
    batches = []
    mark = time.perf_counter()
    for batch in generate_purchases(customers, lines, seed=seed, end=end, batch_lines=batch_lines):
        now = time.perf_counter()
        generating += now - mark
        letter, number = numbered(batch["customer"])
        cid = (number - 1).astype(np.uint32)
        letter, number = numbered(batch["order"])
        order = number * 2 + (letter == ord("R"))
        codes = {dim: vocab[dim].encode(batch[dim]) for dim in DIMENSIONS}
        parts["cid"].append(cid)
        parts["day"].append(batch["day"].astype(np.int64).astype(np.int32))
        parts["cents"].append(np.rint(batch["amount"] * 100).astype(np.int64))
        parts["quantity"].append(batch["quantity"].astype(np.int32))
        parts["order"].append(order)
        for dim in DIMENSIONS:
            parts[dim].append(codes[dim])
        # bitseg's columnar input: text columns as dictionary codes, each distinct value named once
        columns, column_codes = np.unique(cid, return_inverse=True)
        _, first, order_codes = np.unique(order, return_index=True, return_inverse=True)
        batches.append({
            "customer": Coded(column_codes.astype(np.int32), ids[columns].tolist()),
            "day": batch["day"], "amount": batch["amount"], "quantity": batch["quantity"],
            "order": Coded(order_codes.astype(np.int32), batch["order"][first].tolist()),
            **{dim: Coded(codes[dim], list(vocab[dim].values)) for dim in DIMENSIONS},
        })
        mark = time.perf_counter()
    joined_parts = {name: np.concatenate(chunks) if chunks else np.empty(0, np.int64)
                    for name, chunks in parts.items()}
    lists = {}
    for name, (share, stream) in LISTS.items():
        rng = np.random.default_rng([seed, stream])
        lists[name] = np.sort(rng.choice(customers, size=max(1, int(customers * share)), replace=False)
                              ).astype(np.uint32)
    total = time.perf_counter() - started
    return Dataset(
        size=size, customers=customers, end=end, seed=seed, profiles=profiles,
        gender=gender, country=country, tags=tags, loyalty=loyalty, email=email,
        birth=birth, birth_known=birth_known, joined=joined, joined_known=joined_known,
        points=points, points_known=points_known, credit=credit, credit_known=credit_known,
        cid=joined_parts["cid"].astype(np.uint32), day=joined_parts["day"].astype(np.int32),
        cents=joined_parts["cents"], quantity=joined_parts["quantity"].astype(np.int32),
        order=joined_parts["order"], dims={dim: joined_parts[dim].astype(np.int16) for dim in DIMENSIONS},
        vocab={name: list(v.values) for name, v in vocab.items()}, lists=lists, batches=batches,
        seconds={"generate": round(generating, 3), "build": round(total, 3)},
    )


# ── bitseg ────────────────────────────────────────────────────────────────────────────────────────────

def load_bitseg(ds: Dataset, name: str = "bench", batches: Iterable[dict] | None = None) -> tuple[Index, dict]:
    """A bitseg index of the dataset, with the time each step took."""
    index = Index.from_toml(FASHION_SCHEMA, name)
    started = time.perf_counter()
    index.upsert_profile_columns(ds.profiles)
    profiled = time.perf_counter()
    for batch in ds.batches if batches is None else batches:
        index.add_purchase_columns(batch)
    loaded = time.perf_counter()
    for list_name, members in ds.lists.items():
        index.update_list(list_name, add=ds.customer_ids[members].tolist())
    probe = np.unique(np.linspace(0, ds.customers - 1, 1000).astype(np.int64))
    columns = index.translator.to_columns(ds.customer_ids[probe].tolist(), create=False)
    if not np.array_equal(columns, probe) or index.customer_count != ds.customers:
        raise AssertionError("bitseg columns are not the customers' id order; member sets would not compare")
    if index.line_count != ds.lines:
        raise AssertionError(f"bitseg holds {index.line_count} lines, the dataset {ds.lines}")
    return index, {"profile_seconds": profiled - started, "line_seconds": loaded - profiled,
                   "profiles_per_second": ds.customers / max(profiled - started, 1e-9),
                   "lines_per_second": ds.lines / max(loaded - profiled, 1e-9)}


# ── DuckDB ────────────────────────────────────────────────────────────────────────────────────────────

def facts_sql(lines: str = "lines") -> str:
    """The built-ins per customer from `lines` (a table, or a subquery aliased `lines` for a past as_of)."""
    return f"""
SELECT c.*,
       coalesce(f.orders, 0) AS orders,
       coalesce(f.clv, 0) AS clv,
       f.first_purchase_date,
       f.last_purchase_date
FROM customers c
LEFT JOIN (
    SELECT cid,
           -- an order counts when it has a purchase line (quantity > 0); every line has an order id here
           count(DISTINCT order_id) FILTER (WHERE quantity > 0) AS orders,
           sum(amount) AS clv,                                   -- returns included: net
           min(day) FILTER (WHERE quantity > 0) AS first_purchase_date,
           max(day) FILTER (WHERE quantity > 0) AS last_purchase_date
    FROM {lines}
    GROUP BY cid
) f USING (cid)
"""


FACTS_VIEW = f"CREATE VIEW customer_facts AS {facts_sql()}"


def _text_table(values: list) -> dict[str, np.ndarray]:
    return {"code": np.arange(len(values), dtype=np.int16), "value": np.array(values, dtype=object)}


def load_duckdb(ds: Dataset, threads: int | None = None) -> tuple[object, dict[str, float]]:
    """An in-memory DuckDB database of the dataset (tables customers, lines, list_members; view customer_facts),
    and the seconds the load took."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for name in ("gender", "country", "tags", *DIMENSIONS):
        con.register(f"v_{name}", _text_table(ds.vocab[name]))
    con.register("p", {
        "cid": np.arange(ds.customers, dtype=np.int32), "gender": ds.gender, "country": ds.country,
        "tags": ds.tags, "loyalty": ds.loyalty, "email": ds.profiles["email"],
        "birth": ds.birth.astype(np.int32), "birth_known": ds.birth_known,
        "joined": ds.joined.astype(np.int32), "joined_known": ds.joined_known,
        "points": ds.points, "points_known": ds.points_known, "credit": ds.credit, "credit_known": ds.credit_known,
    })
    con.execute("""
        CREATE TABLE customers AS
        SELECT p.cid, g.value AS gender, c.value AS country,
               string_split(t.value, '|') AS tags,
               CASE p.loyalty WHEN 1 THEN true WHEN 0 THEN false END AS loyalty_member,
               p.email,
               CASE WHEN p.birth_known THEN DATE '1970-01-01' + p.birth END AS birth_date,
               CASE WHEN p.joined_known THEN DATE '1970-01-01' + p.joined END AS input_date,
               CASE WHEN p.points_known THEN p.points END AS points,
               CASE WHEN p.credit_known THEN (p.credit / 100)::DECIMAL(18, 2) END AS credit
        FROM p
        LEFT JOIN v_gender g ON g.code = p.gender
        LEFT JOIN v_country c ON c.code = p.country
        LEFT JOIN v_tags t ON t.code = p.tags
        ORDER BY p.cid
    """)
    con.register("l", {"cid": ds.cid, "day": ds.day, "cents": ds.cents, "quantity": ds.quantity,
                       "order_id": ds.order, **{f"{dim}_code": codes for dim, codes in ds.dims.items()}})
    dims = ", ".join(f"v_{dim}.value AS {dim}" for dim in DIMENSIONS)
    joins = "\n".join(f"LEFT JOIN v_{dim} ON v_{dim}.code = l.{dim}_code" for dim in DIMENSIONS)
    con.execute(f"""
        CREATE TABLE lines AS
        SELECT l.cid::INTEGER AS cid, DATE '1970-01-01' + l.day AS day, (l.cents / 100)::DECIMAL(18, 2) AS amount,
               l.quantity, l.order_id, {dims}
        FROM l
        {joins}
    """)
    members = [(name, cid) for name, cids in ds.lists.items() for cid in [cids]]
    con.register("lm", {"list": np.concatenate([np.full(len(c), n, dtype=object) for n, c in members]),
                        "cid": np.concatenate([c for _, c in members]).astype(np.int32)})
    con.execute("CREATE TABLE list_members AS SELECT list, cid FROM lm")
    for name in ("p", "l", "lm", *(f"v_{n}" for n in ("gender", "country", "tags", *DIMENSIONS))):
        con.unregister(name)
    con.execute(FACTS_VIEW)
    loaded = time.perf_counter()
    con.execute("CREATE TABLE customer_facts_mat AS SELECT * FROM customer_facts")
    done = time.perf_counter()
    (lines,) = con.execute("SELECT count(*) FROM lines").fetchone() or (0,)
    if lines != ds.lines:
        raise AssertionError(f"DuckDB holds {lines} lines, the dataset {ds.lines}")
    return con, {"load": loaded - started, "materialise_facts": done - loaded}


# ── memory ────────────────────────────────────────────────────────────────────────────────────────────

def rss_bytes() -> int:
    """Resident set size of this process, from /proc (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def settled_rss() -> int:
    gc.collect()
    return rss_bytes()


def index_bytes(index: Index) -> dict[str, int]:
    """The structural size of an index by part: numpy arrays (allocated capacity), bitmaps, id translation."""
    import sys

    def bitmap_bytes(bitmap) -> int:
        stats = bitmap.get_statistics()
        return (stats["n_bytes_array_containers"] + stats["n_bytes_run_containers"]
                + stats["n_bytes_bitset_containers"] + 16 * stats["n_containers"])

    parts: dict[str, int] = {}
    line_arrays = index.lines._columns
    parts["line store (used)"] = sum(a.itemsize for a in line_arrays.values()) * index.line_count
    parts["line store (spare capacity, not resident until written)"] = sum(a.nbytes for a in line_arrays.values()) - parts["line store (used)"]
    parts["order pairs (hash set)"] = index.builtins.order_pairs.nbytes
    views = [b for view in index.views.views.values() for b in view.bitmaps()]
    parts["time views (bitmaps)"] = sum(bitmap_bytes(b) for b in views)
    field_bitmaps, field_arrays = 0, 0
    for f in [*index.fields.values(), *index.builtins.values()]:
        field_bitmaps += bitmap_bytes(f.present)
        for row in getattr(f, "rows", {}).values():
            field_bitmaps += bitmap_bytes(row)
        for name in ("values", "column_codes"):
            array = getattr(f, name, None)
            if isinstance(array, np.ndarray):
                field_arrays += array.nbytes
    parts["profile fields (bitmaps)"] = field_bitmaps + bitmap_bytes(index.existence)
    parts["profile fields (arrays)"] = field_arrays
    translator = index.translator
    keys = translator._keys[: translator.size]
    key_bytes = sum(map(sys.getsizeof, keys.tolist()))
    parts["id translation"] = translator._keys.nbytes + key_bytes + sys.getsizeof(translator._columns)
    parts["order ids (hash table)"] = index.lines.orders.nbytes
    parts["dictionaries (dimension values)"] = sum(
        sys.getsizeof(d.codes) + sys.getsizeof(d.values) + sum(map(sys.getsizeof, d.values))
        for d in index.lines.dictionaries.values())
    return parts


def slice_batch(batch: dict, start: int, stop: int) -> dict:
    """Lines [start, stop) of a batch; large Coded columns (customers, orders) name only the values they use."""
    out: dict = {}
    for name, column in batch.items():
        if isinstance(column, Coded):
            codes = np.asarray(column.codes[start:stop])
            if len(column.values) > 4096:
                used, compact = np.unique(codes, return_inverse=True)
                out[name] = Coded(compact.astype(np.int32), [column.values[i] for i in used.tolist()])
            else:
                out[name] = Coded(codes, column.values)
        else:
            out[name] = column[start:stop]
    return out
