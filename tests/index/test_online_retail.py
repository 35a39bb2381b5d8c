"""The online_retail example end to end: real UCI invoice lines through the Python API, checked against plain Python.

The expected side never calls bitseg: it reads the source CSV with the csv module and evaluates each question over
dicts and sets, following SPEC §1–2 (a purchase is a line with quantity > 0; orders = distinct orders with a
purchase line; clv = every amount; MATCHES count/days over matching purchase lines, sums over every matching line;
no measure = at least one matching purchase line; date params bound the line's day, relative to as_of).
It re-applies the converter's documented line rules itself (guests skipped, test products dropped, amount =
Quantity × Price to pence, country of the latest line); only the description → category map is shared.
"""

from __future__ import annotations

import csv
import functools
import gzip
import importlib.util
import io
import itertools
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import ModuleType

import pytest

import bitseg

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "online_retail"
SOURCE_NAME = "online_retail_II_2009_2010.csv.gz"
SOURCE_CANDIDATES = [
    Path(os.environ.get("BITSEG_ONLINE_RETAIL", "/nonexistent")),
    ROOT.parent / "shared" / "data" / SOURCE_NAME,
    Path("/work/shared/data") / SOURCE_NAME,
]
SOURCE = next((path for path in SOURCE_CANDIDATES if path.is_file()), None)
AS_OF = date(2010, 12, 10)  # the day after the data ends

pytestmark = pytest.mark.skipif(SOURCE is None, reason=f"{SOURCE_NAME} not found (set BITSEG_ONLINE_RETAIL)")


def _load_converter() -> ModuleType:
    spec = importlib.util.spec_from_file_location("online_retail_convert", EXAMPLE / "convert.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


convert = _load_converter()


# ----------------------------------------------------------------------------------------------------------------
# The oracle: plain rows, sets and dicts.

@dataclass(frozen=True)
class Line:
    customer: str
    day: date
    amount: Decimal
    quantity: int
    order: str
    stock_code: str
    category: str
    kind: str


@dataclass
class Truth:
    country: dict[str, str] = field(default_factory=dict)
    lines: dict[str, list[Line]] = field(default_factory=lambda: defaultdict(list))
    raw_lines: int = 0
    guests: int = 0
    cancellations: int = 0

    @property
    def customers(self) -> set[str]:
        return set(self.country)

    def where(self, keep: Callable[[str], bool]) -> set[str]:
        return {customer for customer in self.country if keep(customer)}

    @functools.cached_property
    def builtins(self) -> dict[str, tuple[int, Decimal, date | None, date | None]]:
        """customer -> (orders, clv, first purchase day, last purchase day), straight from SPEC §1."""
        out = {}
        for customer in self.country:
            lines = self.lines.get(customer, [])
            bought = [line for line in lines if line.quantity > 0]
            out[customer] = (len({line.order for line in bought}), sum((line.amount for line in lines), Decimal(0)),
                             min((line.day for line in bought), default=None),
                             max((line.day for line in bought), default=None))
        return out

    def orders(self, customer: str) -> int:
        return self.builtins[customer][0]

    def clv(self, customer: str) -> Decimal:
        return self.builtins[customer][1]

    def first_purchase(self, customer: str) -> date | None:
        return self.builtins[customer][2]

    def last_purchase(self, customer: str) -> date | None:
        return self.builtins[customer][3]

    def matches(self, line_filter: Callable[[Line], bool], **measures: Callable[[Decimal | int], bool]) -> set[str]:
        """PURCHASES MATCHES: over the lines passing `line_filter`; with no measure, at least one purchase line."""
        found = set()
        for customer in self.country:
            matching = [line for line in self.lines.get(customer, ()) if line_filter(line)]
            bought = [line for line in matching if line.quantity > 0]
            if not measures:
                if bought:
                    found.add(customer)
                continue
            values: dict[str, Decimal | int] = {
                "count": len({line.order for line in bought}),
                "days": len({line.day for line in bought}),
                "sum_amount": sum((line.amount for line in matching), Decimal(0)),
                "sum_quantity": sum(line.quantity for line in matching),
            }
            if all(test(values[name]) for name, test in measures.items()):
                found.add(customer)
        return found


def read_truth(path: Path) -> Truth:
    """Read the raw export with the csv module, keeping the lines the converter documents as kept."""
    truth = Truth()
    latest: dict[str, tuple[str, int]] = {}
    categories: dict[tuple[str, str], str] = {}
    with io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        assert next(reader) == ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
                                "Customer ID", "Country"]
        for number, (invoice, stock_code, description, quantity, time, price, customer, country) in enumerate(reader):
            truth.raw_lines += 1
            customer = customer.strip().removesuffix(".0")
            if not customer:
                truth.guests += 1
                continue
            if customer not in latest or (time, number) > latest[customer]:
                latest[customer] = (time, number)
                truth.country[customer] = country.strip()
            stock_code = stock_code.strip()
            if stock_code.startswith("TEST"):
                continue
            category = categories.get((stock_code, description))
            if category is None:
                category = categories[stock_code, description] = convert.category_of(stock_code, description)
            cancelled = invoice.startswith("C")
            truth.cancellations += cancelled
            truth.lines[customer].append(Line(
                customer=customer, day=date.fromisoformat(time[:10]), quantity=int(quantity),
                amount=(Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01"), ROUND_HALF_UP),
                order=invoice, stock_code=stock_code, category=category, kind="cancel" if cancelled else "sale",
            ))
    return truth


# ----------------------------------------------------------------------------------------------------------------
# Fixtures: one load of the real data per module.

@pytest.fixture(scope="module")
def truth() -> Truth:
    assert SOURCE is not None
    return read_truth(SOURCE)


@pytest.fixture(scope="module")
def loaded() -> tuple[bitseg.Index, Counter[str]]:
    assert SOURCE is not None
    index = bitseg.Index(bitseg.Schema.load(EXAMPLE / "schema.toml"))
    counts: Counter[str] = Counter()
    for profiles, purchases in convert.iter_rows(SOURCE, counts=counts):
        index.upsert_profiles(profiles)
        index.add_purchases(purchases)
    return index, counts


@pytest.fixture(scope="module")
def index(loaded: tuple[bitseg.Index, Counter[str]]) -> bitseg.Index:
    return loaded[0]


def members(index: bitseg.Index, query: str, as_of: date = AS_OF) -> set[str]:
    found = index.members(query, as_of=as_of)
    assert len(found) == len(set(found)) == index.count(query, as_of=as_of), query
    return set(found)


def assert_same(query: str, got: set[str], expected: set[str]) -> None:
    missing, extra = sorted(expected - got)[:5], sorted(got - expected)[:5]
    assert got == expected, (f"{query}: engine {len(got)}, expected {len(expected)}; "
                             f"missing e.g. {missing}, unexpected e.g. {extra}")


# ----------------------------------------------------------------------------------------------------------------
# The converter's quirk counts and the loaded totals.

def test_quirk_counts(loaded: tuple[bitseg.Index, Counter[str]], truth: Truth) -> None:
    _, counts = loaded
    assert counts["lines_read"] == truth.raw_lines == 525_461
    assert counts["guest_lines_skipped"] == truth.guests == 107_927
    assert counts["guest_stock_adjustments"] == 2_121
    assert counts["guest_bad_debt_lines"] == 3
    assert counts["test_lines_dropped"] == 16
    assert counts["cancellation_lines"] == truth.cancellations == 9_835
    assert counts["zero_price_lines"] == 29
    assert counts["fee_lines"] == 1_784
    assert counts["duplicate_lines"] == 6_771
    assert counts["customers"] == len(truth.customers) == 4_383
    assert counts["customers_with_several_countries"] == 5
    assert counts["purchase_lines"] == sum(map(len, truth.lines.values())) == 417_518


def test_loaded_sizes(index: bitseg.Index, truth: Truth) -> None:
    assert index.customer_count == len(truth.customers)
    assert index.line_count == sum(map(len, truth.lines.values()))
    assert members(index, "ALL") == truth.customers


def test_convert_writes_the_same_rows_as_csv(tmp_path: Path) -> None:
    """convert() on the first 3,000 source lines writes what iter_rows yields, in SPEC §7 CSV form."""
    assert SOURCE is not None
    with gzip.open(SOURCE, "rt", encoding="utf-8", newline="") as source:
        head = [next(source) for _ in range(3_001)]
    sample = tmp_path / "sample.csv.gz"
    with gzip.open(sample, "wt", encoding="utf-8", newline="") as out:
        out.writelines(head)
    counts = convert.convert(sample, tmp_path / "out")
    profiles, purchases = [], []
    for profile_rows, purchase_rows in convert.iter_rows(sample):
        profiles += profile_rows
        purchases += purchase_rows
    with open(tmp_path / "out" / "purchases.csv", encoding="utf-8", newline="") as written:
        rows = list(csv.DictReader(written))
    assert list(rows[0]) == list(convert.PURCHASE_COLUMNS)
    assert rows == [{key: str(value) for key, value in row.items()} for row in purchases]
    assert all("." in row["amount"] and not row["amount"].startswith("-0.00") for row in rows)
    with open(tmp_path / "out" / "profiles.csv", encoding="utf-8", newline="") as written:
        assert list(csv.DictReader(written)) == profiles
    assert counts["lines_read"] == 3_000 and counts["purchase_lines"] == len(rows)


# ----------------------------------------------------------------------------------------------------------------
# Built-in fields.

def test_orders_and_clv_of_some_customers(index: bitseg.Index, truth: Truth) -> None:
    by_clv = sorted(truth.customers, key=truth.clv)
    with_returns = sorted(c for c in truth.customers if any(line.quantity < 0 for line in truth.lines[c]))
    never_bought = sorted(c for c in truth.customers if truth.orders(c) == 0)
    picks = {by_clv[0], by_clv[-1], by_clv[len(by_clv) // 2], "13085", "12346", with_returns[0], with_returns[-1]}
    picks |= set(never_bought[:2])
    for customer in sorted(picks):
        clv, orders = truth.clv(customer), truth.orders(customer)
        assert customer in members(index, f"clv = {clv}"), (customer, clv)
        assert customer in members(index, f"orders = {orders}"), (customer, orders)
        assert_same(f"clv = {clv}", members(index, f"clv = {clv}"), {c for c in truth.customers if truth.clv(c) == clv})


def test_clv_thresholds_partition_the_customers(index: bitseg.Index, truth: Truth) -> None:
    for threshold in ("-1000", "0", "0.01", "250.5", "1000", "5000", "50000"):
        value = Decimal(threshold)
        query = f"clv >= {threshold}"
        assert_same(query, members(index, query), {c for c in truth.customers if truth.clv(c) >= value})


def test_orders_thresholds(index: bitseg.Index, truth: Truth) -> None:
    for query, test in [("orders = 0", lambda n: n == 0), ("orders = 1", lambda n: n == 1),
                        ("orders BETWEEN 2 AND 10", lambda n: 2 <= n <= 10), ("orders > 10", lambda n: n > 10)]:
        assert_same(query, members(index, query), {c for c in truth.customers if test(truth.orders(c))})


def test_totals(index: bitseg.Index, truth: Truth) -> None:
    """Sum of clv = sum of the amounts of every kept line; orders add up the same way."""
    total = sum((line.amount for lines in truth.lines.values() for line in lines), Decimal(0))
    assert total == sum(map(truth.clv, truth.customers)) == Decimal("8348005.06")
    orders = sum(map(truth.orders, truth.customers))
    everyone = index.stats("ALL", as_of=AS_OF)
    assert (everyone.count, everyone.members.revenue, everyone.members.orders) == (len(truth.customers), total, orders)
    # Every customer falls in exactly one clv bucket; the engine's buckets weigh the same as the truth's.
    edges = [Decimal(-10**9), Decimal(0), Decimal(100), Decimal(1000), Decimal(10_000), Decimal(10**9)]
    engine_total = Decimal(0)
    for low, high in itertools.pairwise(edges):
        query = f"clv >= {low} AND clv < {high}"
        bucket = members(index, query)
        assert_same(query, bucket, {c for c in truth.customers if low <= truth.clv(c) < high})
        engine_total += sum(map(truth.clv, bucket))
        assert index.stats(query, as_of=AS_OF).members.revenue == sum(map(truth.clv, bucket))
    assert engine_total == total


# ----------------------------------------------------------------------------------------------------------------
# Real segments: the engine's members against the oracle's.

def _in_window(low: date | None = None, high: date | None = None) -> Callable[[Line], bool]:
    return lambda line: (low is None or line.day >= low) and (high is None or line.day <= high)


def _questions(t: Truth) -> Iterable[tuple[str, set[str]]]:
    """(query, expected members as of AS_OF) for real questions about the retailer's customers."""
    december_2009 = _in_window(date(2009, 12, 1), date(2009, 12, 31))
    yield ("country = 'Germany' AND purchases MATCHES (date BETWEEN 2009-12-01 AND 2009-12-31)",
           t.where(lambda c: t.country[c] == "Germany") & t.matches(december_2009))
    # "cancelled at least once": cancel lines have quantity < 0, so their net quantity is negative iff one exists.
    cancelled = t.matches(lambda line: line.kind == "cancel", sum_quantity=lambda q: q < 0)
    assert cancelled == {c for c, lines in t.lines.items() if any(line.kind == "cancel" for line in lines)}
    yield ("orders > 10 AND purchases MATCHES (kind = 'cancel', sum_quantity < 0)",
           t.where(lambda c: t.orders(c) > 10) & cancelled)
    yield ("purchases MATCHES (kind = 'cancel')", set())   # no measure: purchase lines only, and cancels are none
    yield ("clv >= 5000", t.where(lambda c: t.clv(c) >= 5000))
    yield ("purchases MATCHES (category = 'christmas', date >= 2010-10-01, sum_amount > 100)",
           t.matches(lambda line: line.category == "christmas" and line.day >= date(2010, 10, 1),
                     sum_amount=lambda s: s > 100))
    yield ("first_purchase_date >= 2010-06-01", t.where(lambda c: (t.first_purchase(c) or date.min) >= date(2010, 6, 1)))
    yield ("last_purchase_date < 2010-06-01", t.where(lambda c: (t.last_purchase(c) or date.max) < date(2010, 6, 1)))
    yield ("first_purchase_date IS NULL", t.where(lambda c: t.first_purchase(c) is None))
    yield ("purchases MATCHES (days >= 20)", t.matches(lambda line: True, days=lambda n: n >= 20))
    # -90d from 2010-12-10 is 2010-09-11.
    yield ("purchases MATCHES (count >= 5, date >= -90d)",
           t.matches(_in_window(date(2010, 9, 11)), count=lambda n: n >= 5))
    # Lapsed: bought before the last six months (-6m = 2010-06-10) but not since.
    yield ("purchases MATCHES (date < -6m) AND purchases NOT MATCHES (date >= -6m)",
           t.matches(lambda line: line.day < date(2010, 6, 10)) - t.matches(_in_window(date(2010, 6, 10))))
    yield ("country IN ('France', 'Belgium', 'Netherlands') AND purchases NOT MATCHES (category = 'fee')",
           t.where(lambda c: t.country[c] in {"France", "Belgium", "Netherlands"})
           - t.matches(lambda line: line.category == "fee"))
    # NULL-free dimension, so != is the plain complement over lines; net product spend below zero.
    yield ("purchases MATCHES (category != 'fee', sum_amount < 0)",
           t.matches(lambda line: line.category != "fee", sum_amount=lambda s: s < 0))
    yield ("purchases MATCHES (sum_amount < 100)", t.matches(lambda line: True, sum_amount=lambda s: s < 100))
    yield (("purchases MATCHES (stock_code IN ('85123A', '22423'), date BETWEEN 2010-11-01 AND 2010-11-30, "
            "sum_quantity >= 24)"),
           t.matches(lambda line: line.stock_code in {"85123A", "22423"}
                     and date(2010, 11, 1) <= line.day <= date(2010, 11, 30), sum_quantity=lambda q: q >= 24))
    yield ("purchases MATCHES (category = 'candle', date >= -12m) AND purchases NOT MATCHES (category = 'light')",
           t.matches(lambda line: line.category == "candle" and line.day >= date(2009, 12, 10))
           - t.matches(lambda line: line.category == "light"))
    yield ("NOT country = 'United Kingdom' AND orders >= 2 AND last_purchase_date >= -30d",
           t.where(lambda c: t.country[c] != "United Kingdom" and t.orders(c) >= 2
                   and (t.last_purchase(c) or date.min) >= date(2010, 11, 10)))


QUESTION_IDS = [
    "germany-dec-2009", "many-orders-cancelled", "cancel-without-measure", "clv-5000", "christmas-autumn",
    "new-since-june", "lapsed-before-june", "never-bought", "days-20", "count-5-last-90d", "lapsed-6m",
    "benelux-france-no-fee", "net-negative-products", "sum-amount-under-100", "two-products-november",
    "candles-not-lights", "abroad-recent",
]


@pytest.fixture(scope="module")
def questions(truth: Truth) -> dict[str, tuple[str, set[str]]]:
    pairs = list(_questions(truth))
    assert len(pairs) == len(QUESTION_IDS)
    return dict(zip(QUESTION_IDS, pairs))


@pytest.mark.parametrize("name", QUESTION_IDS)
def test_real_segment(index: bitseg.Index, questions: dict[str, tuple[str, set[str]]], name: str) -> None:
    query, expected = questions[name]
    assert_same(query, members(index, query), expected)


def test_questions_are_not_trivial(truth: Truth, questions: dict[str, tuple[str, set[str]]]) -> None:
    """Each question (but the deliberately empty one) splits the customers, so a match proves something."""
    for name, (query, expected) in questions.items():
        if name != "cancel-without-measure":
            assert 0 < len(expected) < len(truth.customers), query


def test_in_list(index: bitseg.Index, truth: Truth) -> None:
    """A manual VIP list: the 40 largest clv customers plus three hand-picked ones, then only the recent ones."""
    vip = sorted(truth.customers, key=truth.clv)[-40:] + ["13085", "13078", "12346"]
    index.update_list("vip_manual", replace=vip)
    assert_same("IN LIST 'vip_manual'", members(index, "IN LIST 'vip_manual'"), set(vip))
    query = "IN LIST 'vip_manual' AND purchases MATCHES (date >= -30d)"
    expected = set(vip) & truth.matches(_in_window(date(2010, 11, 10)))
    assert_same(query, members(index, query), expected)
    query = "NOT IN LIST 'vip_manual' AND clv >= 20000"
    assert_same(query, members(index, query), truth.where(lambda c: c not in vip and truth.clv(c) >= 20000))


def test_purchase_breakdown_by_category(index: bitseg.Index, truth: Truth) -> None:
    """Breakdown by a purchase dimension (SPEC §4), as the walk-through shows it: per category, the big accounts
    who bought it since November and their net revenue from it there, counted over the raw lines."""
    big = truth.where(lambda c: truth.clv(c) >= 5000)
    since = _in_window(date(2010, 11, 1), AS_OF)
    buyers: dict[str, set[str]] = defaultdict(set)
    for customer in big:
        for line in truth.lines.get(customer, ()):
            if since(line) and line.quantity > 0:
                buyers[line.category].add(customer)
    expected = {category: (len(who), sum((line.amount for c in who for line in truth.lines[c]
                                          if since(line) and line.category == category), Decimal(0)))
                for category, who in buyers.items()}
    got = index.purchase_breakdown("clv >= 5000", "category", top=100, as_of=AS_OF, start=date(2010, 11, 1))
    assert {value: (n, revenue) for value, n, revenue in got} == expected
    assert [(v, n, str(r)) for v, n, r in got[:3]] == [("other", 218, "512686.07"), ("candle", 154, "60400.09"),
                                                      ("christmas", 152, "44891.91")]
