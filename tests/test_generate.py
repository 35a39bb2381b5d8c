"""The synthetic fashion retailer: deterministic, CSV matching the columns, and shaped like real shop data."""

from __future__ import annotations

import collections
import csv
import datetime as dt
import gzip
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from bitseg import generate
from bitseg.errors import InvalidInputError
from bitseg.generate.text import cents_text
from bitseg.schema import Schema

CUSTOMERS, LINES = generate.SIZES["XS"]
END = dt.date(2026, 3, 14)
START = END - dt.timedelta(days=729)
SEED = 7


def _purchases(**kwargs: object) -> dict[str, np.ndarray]:
    args = {"customers": CUSTOMERS, "lines": LINES, "seed": SEED, "end": END, **kwargs}
    batches = list(generate.generate_purchases(**args))       # type: ignore[arg-type]
    return {key: np.concatenate([b[key] for b in batches]) for key in batches[0]}


def _is_null(column: np.ndarray) -> np.ndarray:
    return np.array([v is None for v in column], dtype=bool)


def _read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def profiles() -> dict[str, np.ndarray]:
    return generate.generate_profiles(CUSTOMERS, seed=SEED, end=END)


@pytest.fixture(scope="module")
def lines() -> dict[str, np.ndarray]:
    return _purchases()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("xs")
    return out, generate.write_dataset(out, CUSTOMERS, LINES, seed=SEED, end=END)


# ── schema, sizes, arguments ───────────────────────────────────────────────────────────────────────────

def test_schema_is_the_spec_fashion_schema() -> None:
    doc = tomllib.loads(generate.FASHION_SCHEMA)
    assert doc["timezone"] == "Europe/Amsterdam"
    assert doc["profile"] == {
        "gender": "keyword", "country": "keyword", "tags": "tags", "loyalty_member": "bool",
        "email": "presence", "birth_date": "date", "input_date": "date", "points": "int", "credit": "decimal",
    }
    assert list(doc["purchase"]) == list(generate.DIMENSIONS)
    assert set(doc["purchase"].values()) == {"keyword"}
    schema = Schema.from_toml(generate.FASHION_SCHEMA)
    assert schema.dimensions == generate.DIMENSIONS and tuple(schema.profile) == generate.PROFILE_COLUMNS[1:]


def test_sizes() -> None:
    assert generate.size_of("XS") == (2_000, 40_000)
    assert generate.size_of("s") == (100_000, 2_000_000)
    assert generate.size_of("M") == (1_000_000, 20_000_000)
    assert generate.size_of("L") == (10_000_000, 100_000_000)
    with pytest.raises(InvalidInputError, match="unknown size 'XL'"):
        generate.size_of("XL")


@pytest.mark.parametrize("kwargs", [
    {"customers": 0}, {"lines": -1}, {"seed": -1}, {"days": 0}, {"end": "14-03-2026"}, {"batch_lines": 0},
])
def test_bad_arguments_are_invalid_input(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        _purchases(**kwargs)


# ── determinism ────────────────────────────────────────────────────────────────────────────────────────

def test_same_arguments_same_files(tmp_path: Path, dataset: tuple[Path, dict[str, object]]) -> None:
    first, _ = dataset
    generate.write_dataset(tmp_path, CUSTOMERS, LINES, seed=SEED, end=END)
    for name in ("schema.toml", "profiles.csv", "purchases.csv"):
        assert (tmp_path / name).read_bytes() == (first / name).read_bytes(), name


def test_batches_do_not_change_the_data(lines: dict[str, np.ndarray]) -> None:
    rebatched = _purchases(batch_lines=999)
    assert rebatched.keys() == lines.keys()
    for key, column in lines.items():
        assert np.array_equal(rebatched[key], column), key


def test_batch_sizes(lines: dict[str, np.ndarray]) -> None:
    batches = generate.generate_purchases(CUSTOMERS, LINES, SEED, END, batch_lines=15_000)
    sizes = [len(b["customer"]) for b in batches]
    assert sizes == [15_000, 15_000, 10_000]


def test_another_seed_other_data(lines: dict[str, np.ndarray]) -> None:
    other = _purchases(seed=SEED + 1)
    assert not np.array_equal(other["customer"], lines["customer"])


# ── CSV ────────────────────────────────────────────────────────────────────────────────────────────────

def test_csv_shape_and_summary(dataset: tuple[Path, dict[str, object]]) -> None:
    out, summary = dataset
    purchases = _read_csv(out / "purchases.csv")
    profiles = _read_csv(out / "profiles.csv")
    assert purchases[0] == ["customer", "time", "amount", "quantity", "order",
                            "brand", "department", "collection", "color", "season", "source"]
    assert profiles[0] == ["customer", "gender", "country", "tags", "loyalty_member", "email",
                           "birth_date", "input_date", "points", "credit"]
    assert len(purchases) == LINES + 1 and len(profiles) == CUSTOMERS + 1
    assert {len(row) for row in purchases} == {11} and {len(row) for row in profiles} == {10}
    assert summary["lines"] == LINES and summary["customers"] == CUSTOMERS
    assert summary["purchase_lines"] + summary["return_lines"] == LINES     # type: ignore[operator]
    assert summary["orders"] == len({row[4] for row in purchases[1:] if row[4].startswith("O")})
    time = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\Z")
    amount = re.compile(r"-?\d+\.\d\d\Z")
    for row in purchases[1:]:
        assert time.match(row[1]) and amount.match(row[2]) and re.match(r"-?\d+\Z", row[3]), row


def test_purchases_csv_holds_the_columns(dataset: tuple[Path, dict[str, object]],
                                         lines: dict[str, np.ndarray]) -> None:
    rows = _read_csv(dataset[0] / "purchases.csv")[1:]
    columns = list(zip(*rows))
    assert list(columns[0]) == lines["customer"].tolist()
    assert [t[:10] for t in columns[1]] == np.datetime_as_string(lines["day"]).tolist()
    assert [float(a) for a in columns[2]] == lines["amount"].tolist()
    assert [int(q) for q in columns[3]] == lines["quantity"].tolist()
    assert list(columns[4]) == lines["order"].tolist()
    for position, name in enumerate(generate.DIMENSIONS, start=5):
        assert [v or None for v in columns[position]] == lines[name].tolist(), name


def test_profiles_csv_holds_the_columns(dataset: tuple[Path, dict[str, object]],
                                        profiles: dict[str, np.ndarray]) -> None:
    rows = _read_csv(dataset[0] / "profiles.csv")[1:]
    columns = dict(zip(generate.PROFILE_COLUMNS, zip(*rows)))

    def text(value: object) -> str:
        if value is None or (isinstance(value, np.datetime64) and np.isnat(value)):
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return f"{value:.2f}"
        return str(value)

    for name in generate.PROFILE_COLUMNS:
        assert list(columns[name]) == [text(v) for v in profiles[name]], name


def test_gzip(tmp_path: Path, dataset: tuple[Path, dict[str, object]]) -> None:
    summary = generate.write_dataset(tmp_path, 50, 500, seed=SEED, end=END, compress=True)
    assert summary["files"] == {"schema": str(tmp_path / "schema.toml"),     # type: ignore[comparison-overlap]
                                "profiles": str(tmp_path / "profiles.csv.gz"),
                                "purchases": str(tmp_path / "purchases.csv.gz")}
    plain = generate.write_dataset(tmp_path / "plain", 50, 500, seed=SEED, end=END)
    for name in ("profiles", "purchases"):
        assert gzip.decompress(Path(summary["files"][name]).read_bytes()) == \
            Path(plain["files"][name]).read_bytes()         # type: ignore[index]


def test_progress_reaches_the_totals(tmp_path: Path) -> None:
    seen: dict[str, tuple[int, int]] = {}
    generate.write_dataset(tmp_path, 300, 3_000, seed=SEED, end=END,
                           progress=lambda what, done, total: seen.__setitem__(what, (done, total)))
    assert seen == {"profiles": (300, 300), "purchases": (3_000, 3_000)}


def test_vocabularies_need_no_csv_quoting() -> None:
    assert "Levi's" in generate.BRANDS
    for name in generate.BRANDS + generate.COLLECTIONS:
        assert not set(name) & set(',"\n\r'), name
    assert len(set(generate.BRANDS)) == len(generate.BRANDS) == 200


# ── profiles ───────────────────────────────────────────────────────────────────────────────────────────

def test_every_profile_field_has_values_and_nulls(profiles: dict[str, np.ndarray]) -> None:
    assert list(profiles) == list(generate.PROFILE_COLUMNS)
    assert profiles["customer"][:2].tolist() == ["C0000001", "C0000002"]
    assert len(set(profiles["customer"])) == CUSTOMERS
    for name in generate.PROFILE_COLUMNS[1:]:
        column = profiles[name]
        null = np.isnat(column) if column.dtype.kind == "M" else _is_null(column)
        assert 0 < null.sum() < CUSTOMERS, name
    kinds = {
        "gender": str, "country": str, "tags": str, "loyalty_member": bool, "email": str, "points": int,
        "credit": float,
    }
    for name, kind in kinds.items():
        assert {type(v) for v in profiles[name] if v is not None} == {kind}, name
    assert profiles["birth_date"].dtype == profiles["input_date"].dtype == np.dtype("datetime64[D]")


def test_profile_value_shapes(profiles: dict[str, np.ndarray]) -> None:
    def share(name: str) -> float:
        return float(np.mean(_is_null(profiles[name])))

    assert 0.07 < share("gender") < 0.13
    assert 0.25 < share("email") < 0.35
    assert 0.11 < float(np.mean(np.isnat(profiles["birth_date"]))) < 0.19
    countries = collections.Counter(profiles["country"].tolist())
    assert countries.most_common(1)[0][0] == "NL" and {"BE", "DE", "FR", "GB"} <= set(countries)
    tags = collections.Counter(t for joined in profiles["tags"] if joined for t in joined.split("|"))
    assert {"app_user", "newsletter", "vip"} <= set(tags)
    births = profiles["birth_date"][~np.isnat(profiles["birth_date"])]
    assert any(str(b).endswith("-02-29") for b in births)
    assert all(round(c, 2) == c for c in profiles["credit"] if c is not None)
    # Points go with loyalty membership.
    members = np.array([v is True for v in profiles["loyalty_member"]])
    assert _is_null(profiles["points"][~members]).all()


# ── purchase lines ─────────────────────────────────────────────────────────────────────────────────────

def test_line_columns(lines: dict[str, np.ndarray]) -> None:
    assert set(lines) == {"customer", "day", "amount", "quantity", "order", *generate.DIMENSIONS}
    assert lines["day"].dtype == np.dtype("datetime64[D]")
    assert lines["amount"].dtype == np.float64 and lines["quantity"].dtype == np.int64
    assert np.all(np.round(lines["amount"], 2) == lines["amount"])
    assert np.all(lines["amount"] != 0) and np.all(lines["quantity"] != 0)
    for name in generate.DIMENSIONS:
        values = set(lines[name].tolist())
        assert None in values and len(values) > 3, name


def test_days_inside_the_window(lines: dict[str, np.ndarray]) -> None:
    assert lines["day"].min() >= np.datetime64(START) and lines["day"].max() <= np.datetime64(END)
    assert lines["day"].min() == np.datetime64(START)


def test_returns(lines: dict[str, np.ndarray]) -> None:
    returned = lines["quantity"] < 0
    assert np.array_equal(returned, lines["amount"] < 0)
    assert 0.05 <= returned.mean() <= 0.08
    assert all(order.startswith("R") for order in lines["order"][returned])
    bought = {}
    for i in np.flatnonzero(~returned):
        bought[lines["order"][i]] = (lines["customer"][i], lines["day"][i])
    for i in np.flatnonzero(returned):
        customer, day = bought["O" + lines["order"][i][1:]]
        assert lines["customer"][i] == customer and lines["day"][i] > day


def test_orders_share_customer_and_day(lines: dict[str, np.ndarray]) -> None:
    bought = lines["quantity"] > 0
    orders: dict[str, set[tuple[str, object]]] = collections.defaultdict(set)
    sizes: collections.Counter[str] = collections.Counter()
    for order, customer, day in zip(lines["order"][bought], lines["customer"][bought], lines["day"][bought]):
        orders[order].add((customer, day))
        sizes[order] += 1
    assert all(len(v) == 1 for v in orders.values())
    assert set(sizes.values()) == {1, 2, 3, 4, 5, 6}


def test_levis_is_a_big_brand(lines: dict[str, np.ndarray]) -> None:
    brands = collections.Counter(lines["brand"].tolist())
    assert "Levi's" in [name for name, _ in brands.most_common(3)]
    assert len(brands) > 100


def test_seasons_follow_the_day(lines: dict[str, np.ndarray]) -> None:
    def season(day: dt.date, back: int) -> str:
        index = (day.year * 12 + day.month - 1 - 1) // 6 - back     # SS: Feb–Jul, AW: Aug–Jan
        return f"{'SS' if index % 2 == 0 else 'AW'}{index // 2 % 100:02d}"

    bought = lines["quantity"] > 0
    for day, name in zip(lines["day"][bought].tolist(), lines["season"][bought]):
        assert name is None or name in (season(day, 0), season(day, 1)), (day, name)
    assert season(dt.date(2025, 1, 15), 0) == "AW24" and season(dt.date(2025, 2, 1), 0) == "SS25"
    assert {"SS24", "AW24", "SS25", "AW25"} <= set(lines["season"].tolist())


def test_lines_per_customer_are_skewed(lines: dict[str, np.ndarray]) -> None:
    bought = lines["quantity"] > 0
    per_customer = collections.Counter(lines["customer"][bought].tolist())
    counts = sorted(per_customer.values(), reverse=True) + [0] * (CUSTOMERS - len(per_customer))
    assert sum(counts[:CUSTOMERS // 10]) > 0.35 * sum(counts)
    assert 0.05 < counts.count(0) / CUSTOMERS < 0.5
    assert sum(1 for c in counts if c >= 10) > CUSTOMERS // 10


def test_registration_comes_before_buying(profiles: dict[str, np.ndarray],
                                          lines: dict[str, np.ndarray]) -> None:
    bought = lines["quantity"] > 0
    first: dict[str, np.datetime64] = {}
    for customer, day in zip(lines["customer"][bought], lines["day"][bought]):
        first[customer] = min(first.get(customer, day), day)
    joined = dict(zip(profiles["customer"], profiles["input_date"]))
    known = [c for c in first if not np.isnat(joined[c])]
    assert np.mean([joined[c] <= first[c] for c in known]) > 0.9
    recent = [c for c, day in joined.items() if not np.isnat(day) and day >= np.datetime64(END) - 30]
    assert any(c not in first for c in recent)


def test_seasonal_and_weekly_pattern(lines: dict[str, np.ndarray]) -> None:
    days = lines["day"][lines["quantity"] > 0]
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    per_month = np.bincount(month, minlength=12)
    assert per_month[10] > 1.3 * per_month[1] and per_month[11] > 1.3 * per_month[1]   # Nov, Dec vs Feb
    weekday = (days.astype(np.int64) + 3) % 7
    per_weekday = np.bincount(weekday, minlength=7)
    assert per_weekday[6] > per_weekday[5]                                            # Sunday vs Saturday


def test_no_time_in_the_hour_that_dst_skips(dataset: tuple[Path, dict[str, object]]) -> None:
    with open(dataset[0] / "purchases.csv", encoding="utf-8") as f:
        text = f.read()
    assert " 02:" not in text and len(re.findall(r" 2[0-3]:", text)) > 0


def test_amounts_text_keeps_the_sign_of_small_returns() -> None:
    row = cents_text(np.array([-50, 5, 0, 123456, -100]))
    flat = row.reshape(-1)
    assert bytes(flat[flat != 0]) == b"-0.500.050.001234.56-1.00"



def test_birthdays_are_spread_over_the_year() -> None:
    """Clipped ages once put a quarter of the customers' birthdays on the last day of the data (4,230 "today"
    in the demo); about 1/365 of them have it on any one day."""
    from bitseg.generate import generate_profiles

    profiles = generate_profiles(20_000, seed=3, end="2026-03-14")
    births = profiles["birth_date"][~np.isnat(profiles["birth_date"])].astype(object)
    today = sum(1 for b in births if (b.month, b.day) == (3, 14))
    assert today < 3 * len(births) / 365, today
    assert max(np.unique(profiles["birth_date"][~np.isnat(profiles["birth_date"])],
                         return_counts=True)[1]) < 20
    again = generate_profiles(20_000, seed=3, end="2026-03-14")
    assert np.array_equal(again["birth_date"], profiles["birth_date"], equal_nan=True)
