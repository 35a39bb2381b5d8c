"""Convert the UCI "Online Retail II" export into bitseg profile and purchase rows.

Source: ``online_retail_II_2009_2010.csv.gz`` (sheet "Year 2009-2010" of UCI dataset 502, CC BY 4.0): one row per
invoice line with the columns ``Invoice, StockCode, Description, Quantity, InvoiceDate, Price, Customer ID, Country``.

Output (SPEC §7 CSV rules: empty cell = NULL, decimals with a ``.`` point, naive times in the index timezone):

- ``profiles.csv``: ``customer,country``
- ``purchases.csv``: ``customer,time,amount,quantity,order,stock_code,category,kind``

Every quirk of the real data is handled on purpose and counted (the keys of the dict :func:`convert` returns,
besides ``lines_read``, ``purchase_lines`` written and ``customers`` written):

- **Guest lines** (no ``Customer ID``, 107,927 lines): skipped, counted as ``guest_lines_skipped``. bitseg
  segments customers; a guest checkout has no one to attach the line to. Every line without a customer is in
  this count, including the two kinds below.
- **Stock adjustments** (negative quantity on an ordinary invoice, e.g. "damaged", "missing", "?"): in this
  sheet none has a customer, so they are skipped with the guests; counted again as ``guest_stock_adjustments``.
- **Bad debt** (invoice ``A…``, stock code ``B``, negative price): no customer either; skipped with the guests,
  counted again as ``guest_bad_debt_lines``. A kept line with a negative price would be converted as is and
  counted as ``negative_price_lines`` (0 here).
- **Cancellations** (invoice ``C…``, negative quantity): kept as returns, as bitseg models them: negative
  quantity and amount, so they lower ``clv``, ``sum_amount`` and ``sum_quantity`` but never undo the purchase
  (``orders``, ``first/last_purchase_date``, ``count``, ``days`` only look at lines with quantity > 0). Their
  ``kind`` dimension is ``cancel`` (``sale`` for every other line), which makes "cancelled at least once"
  expressible: ``purchases MATCHES (kind = 'cancel', sum_quantity < 0)`` — a MATCHES without a measure only
  looks at purchase lines, so ``MATCHES (kind = 'cancel')`` alone is always empty. Counted as
  ``cancellation_lines``; the cancellation invoice number is the line's order (it never counts as an order,
  having no purchase line).
- **Zero-price lines** (free samples, corrections): kept with amount 0; they are real lines that move goods and
  mark the day as a purchase day. Counted as ``zero_price_lines``.
- **Fees and other non-product codes** (``POST``, ``DOT``, ``C2``, ``C3``, ``BANK CHARGES``, ``AMAZONFEE``,
  ``M``/``m`` manual, ``D`` discount, ``S`` samples, ``B`` bad debt, ``ADJUST``, ``ADJUST2``, ``CRUK``): kept,
  with category ``fee``. They are money the customer was invoiced or credited (postage is billed, a discount
  is a credit), so keeping them makes ``clv`` equal the customer's invoice totals; product questions exclude
  them with ``category != 'fee'``. Consequence, on purpose: an invoice that holds only a fee line with a
  positive quantity (a separately billed postage or a manual invoice, 237 of them here) is a billed order and
  counts in ``orders``. Counted as ``fee_lines``.
- **Test products** (``TEST001``, ``TEST002``, "This is a test product."): dropped, counted as
  ``test_lines_dropped``; they are the shop testing its till, not sales, even where a customer id is attached.
  Their customers are still in ``profiles.csv``.
- **Exact duplicate lines** (every source column equal, 6,865 in the file, 6,771 with a customer): kept,
  counted as ``duplicate_lines`` (every copy after the first). They are real repeated scans: most are not
  adjacent in the file but scattered through one invoice (invoice 489517 lists "VINTAGE SNAKES & LADDERS",
  quantity 1, three times among other items), which is how a counter order looks when the same item is added
  again; the invoice was billed with every line. Dropping them would silently lower invoice totals.
  They change sums only: orders, counts and days are the same either way.
- **Amount**: there is no amount column; amount = Quantity × Price in GBP, rounded half-up to 2 decimals (prices
  go down to 0.001). A ``-0.00`` is written ``0.00``.
- **Customer ids** such as ``"13085.0"`` (the spreadsheet's float format) are normalised to ``"13085"``;
  counted as ``customer_ids_normalised`` (0 in this CSV export, whose ids are plain digits, but other exports of
  the workbook carry the float form).
- **Country**: a customer with lines from several countries (5 here) gets the country of their latest line
  (by InvoiceDate, the later line in the file on a tie); counted as ``customers_with_several_countries``.
- **Stock codes** are trimmed (``"47503J "`` → ``"47503J"``); empty descriptions (only on guest lines here)
  get category ``other`` unless the stock code is a fee.
- **Times** are copied as given (``2009-12-01 07:45:00``, UK wall clock, no zone); the schema's timezone
  ``Europe/London`` makes the day the date written.

Usage::

    python examples/online_retail/convert.py ../shared/data/online_retail_II_2009_2010.csv.gz OUT_DIR

or from Python, to load an index without files::

    for profiles, purchases in iter_rows(src):
        index.upsert_profiles(profiles)
        index.add_purchases(purchases)
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import sys
from collections import Counter
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

SOURCE_COLUMNS = ("Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country")
PROFILE_COLUMNS = ("customer", "country")
PURCHASE_COLUMNS = ("customer", "time", "amount", "quantity", "order", "stock_code", "category", "kind")

# Stock codes that are not products: postage, carriage, charges, manual lines, discounts, samples, adjustments.
FEE_CODES = frozenset({
    "POST", "DOT", "C2", "C3", "BANK CHARGES", "AMAZONFEE", "M", "m", "D", "S", "B", "ADJUST", "ADJUST2", "CRUK",
})
TEST_CODES = frozenset({"TEST001", "TEST002"})

# Coarse categories from the description: the first rule that matches wins, so a "CHRISTMAS ... LIGHTS" string
# is christmas and a "T-LIGHT HOLDER" is candle before light can claim it.
CATEGORY_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("christmas", re.compile(r"\b(CHRISTMAS|XMAS|ADVENT|SANTA|REINDEER|NATIVITY)\b")),
    ("candle", re.compile(r"CANDLE|\bT-?LIGHT|\bTEA ?LIGHT")),
    # "LIGHT BLUE" / "LIGHT PINK" is a colour, not a light; "20LIGHT" is a string of lights.
    ("light", re.compile(r"(\b|\d)LIGHTS?\b(?! (BLUE|PINK|GREEN|PURPLE|GREY|BROWN|YELLOW|RED))|\bLAMPS?\b|\bLANTERNS?\b")),
    ("mug", re.compile(r"\bMUGS?\b")),
    ("card", re.compile(r"\b(POST)?CARDS?\b(?! HOLDER)")),
    ("bag", re.compile(r"\bBAGS?\b")),
)
CATEGORIES = ("christmas", "candle", "light", "mug", "card", "bag", "other", "fee")

# What convert() reports, in reading order; the module docstring says what each one is.
COUNT_KEYS = (
    "lines_read", "guest_lines_skipped", "guest_stock_adjustments", "guest_bad_debt_lines", "test_lines_dropped",
    "purchase_lines", "cancellation_lines", "zero_price_lines", "negative_price_lines", "fee_lines",
    "duplicate_lines", "customer_ids_normalised", "customers", "customers_with_several_countries",
)
CENT = Decimal("0.01")
CUSTOMER_ID = re.compile(r"(\d+)(?:\.0*)?")
BATCH_SIZE = 50_000


def category_of(stock_code: str, description: str) -> str:
    """The coarse category of a line, from its stock code (fees) and then its description.

    >>> category_of("85048", "15CM CHRISTMAS GLASS BALL 20 LIGHTS")
    'christmas'
    >>> category_of("21733", "RED HANGING HEART T-LIGHT HOLDER"), category_of("79323P", "PINK CHERRY LIGHTS")
    ('candle', 'light')
    >>> category_of("22195", "BISCUITS SMALL BOWL LIGHT BLUE"), category_of("POST", "POSTAGE")
    ('other', 'fee')
    >>> category_of("22352", "lunch bag woodland"), category_of("21871", "SAVE THE PLANET MUG")
    ('bag', 'mug')
    """
    if stock_code in FEE_CODES:
        return "fee"
    text = description.upper()
    for category, pattern in CATEGORY_RULES:
        if pattern.search(text):
            return category
    return "other"


def customer_id(raw: str) -> str | None:
    """The external customer id, or None for a guest line.

    >>> customer_id("13085.0"), customer_id(" 13085 "), customer_id("")
    ('13085', '13085', None)
    """
    text = raw.strip()
    if not text:
        return None
    digits = CUSTOMER_ID.fullmatch(text)
    return digits.group(1) if digits else text


def line_amount(quantity: int, price: Decimal) -> Decimal:
    """Quantity × Price in GBP, rounded half-up to pence.

    >>> line_amount(12, Decimal("6.95")), line_amount(-3, Decimal("0.835")), line_amount(-1, Decimal("0"))
    (Decimal('83.40'), Decimal('-2.51'), Decimal('0.00'))
    """
    amount = (quantity * price).quantize(CENT, rounding=ROUND_HALF_UP)
    return amount if amount else CENT * 0  # no "-0.00"


def _open_text(path: str | Path) -> io.TextIOBase:
    if str(path).endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def iter_rows(src_path: str | Path, batch_size: int = BATCH_SIZE,
              counts: Counter[str] | None = None) -> Iterator[tuple[list[dict], list[dict]]]:
    """Yield ``(profile rows, purchase rows)`` batches for ``Index.upsert_profiles`` / ``Index.add_purchases``.

    Purchase rows stream in file order, ``batch_size`` at a time, with an empty profile list; the profile rows
    come with the last batch, because a customer's country is the one of their latest line, known only at the end.
    Purchase rows hold ``customer`` (str), ``time`` (naive ISO text), ``amount`` (Decimal), ``quantity`` (int),
    ``order`` (str) and the dimensions ``stock_code``, ``category``, ``kind`` (str). Pass a Counter as ``counts``
    to receive the quirk counts described in the module docstring.
    """
    counts = Counter() if counts is None else counts
    latest: dict[str, tuple[str, str]] = {}     # customer -> (time of latest line, country)
    countries: dict[str, set[str]] = {}
    seen_lines: set[tuple[str, ...]] = set()
    categories: dict[tuple[str, str], str] = {}  # ~5k distinct products: classify each once, not per line
    purchases: list[dict] = []
    with _open_text(src_path) as source:
        reader = csv.reader(source)
        header = next(reader)
        if tuple(header) != SOURCE_COLUMNS:
            raise ValueError(f"{src_path}: expected columns {', '.join(SOURCE_COLUMNS)}, got {', '.join(header)}")
        for line in reader:
            counts["lines_read"] += 1
            invoice, stock_code, description, quantity_text, time, price_text, customer_text, country = line
            quantity = int(quantity_text)
            price = Decimal(price_text)
            cancelled = invoice.startswith("C")
            customer = customer_id(customer_text)
            if customer is None:
                counts["guest_lines_skipped"] += 1
                if quantity < 0 and not cancelled:
                    counts["guest_stock_adjustments"] += 1
                if invoice.startswith("A"):
                    counts["guest_bad_debt_lines"] += 1
                continue
            if customer != customer_text:
                counts["customer_ids_normalised"] += 1
            country = country.strip()
            countries.setdefault(customer, set()).add(country)
            if customer not in latest or time >= latest[customer][0]:   # ISO text sorts as time
                latest[customer] = (time, country)
            stock_code = stock_code.strip()
            if stock_code in TEST_CODES:
                counts["test_lines_dropped"] += 1
                continue
            key = tuple(line)
            if key in seen_lines:
                counts["duplicate_lines"] += 1
            else:
                seen_lines.add(key)
            category = categories.get((stock_code, description))
            if category is None:
                category = categories[stock_code, description] = category_of(stock_code, description)
            counts["purchase_lines"] += 1
            counts["cancellation_lines"] += cancelled
            counts["zero_price_lines"] += not price
            counts["negative_price_lines"] += price < 0
            counts["fee_lines"] += category == "fee"
            purchases.append({
                "customer": customer,
                "time": time,
                "amount": line_amount(quantity, price),
                "quantity": quantity,
                "order": invoice,
                "stock_code": stock_code,
                "category": category,
                "kind": "cancel" if cancelled else "sale",
            })
            if len(purchases) >= batch_size:
                yield [], purchases
                purchases = []
    counts["customers"] = len(latest)
    counts["customers_with_several_countries"] = sum(len(seen) > 1 for seen in countries.values())
    profiles = [{"customer": customer, "country": country} for customer, (_, country) in latest.items()]
    yield profiles, purchases


def convert(src_path: str | Path, out_dir: str | Path) -> dict[str, int]:
    """Write ``profiles.csv`` and ``purchases.csv`` into ``out_dir``; return the quirk counts."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    with open(out / "purchases.csv", "w", encoding="utf-8", newline="") as purchases_file:
        purchases_csv = csv.writer(purchases_file, lineterminator="\n")
        purchases_csv.writerow(PURCHASE_COLUMNS)
        for profiles, purchases in iter_rows(src_path, counts=counts):
            purchases_csv.writerows([row[column] for column in PURCHASE_COLUMNS] for row in purchases)
    with open(out / "profiles.csv", "w", encoding="utf-8", newline="") as profiles_file:
        profiles_csv = csv.writer(profiles_file, lineterminator="\n")
        profiles_csv.writerow(PROFILE_COLUMNS)
        profiles_csv.writerows([row[column] for column in PROFILE_COLUMNS] for row in profiles)
    return {key: counts[key] for key in COUNT_KEYS}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python examples/online_retail/convert.py SRC OUT_DIR", file=sys.stderr)
        return 2
    counts = convert(args[0], args[1])
    width = max(map(len, counts))
    for name, value in counts.items():
        print(f"{name:<{width}}  {value:>9,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
