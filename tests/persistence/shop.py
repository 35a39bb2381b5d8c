"""A small generated fashion retailer for persistence tests, and the answers two indexes must agree on.

Also imported by crash_child.py, which runs in another process (so no relative imports here).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from bitseg.generate import FASHION_SCHEMA, generate_profiles, generate_purchases

SCHEMA = FASHION_SCHEMA
END = "2026-03-14"
AS_OF = dt.date(2026, 3, 14)
CUSTOMERS = 1500
LINES = 24_000

QUERIES = (
    "ALL",
    "purchases MATCHES (brand = 'Levi''s', date >= -6m, sum_amount > 300)",
    "orders > 3 AND clv >= 300 AND last_purchase_date < -30d",
    "purchases MATCHES (department = 'Womenswear', sum_quantity >= 2) AND purchases NOT MATCHES (color = 'black')",
    "ANNIVERSARY(birth_date) BETWEEN today AND +13d AND loyalty_member = true AND email IS NOT NULL",
    "input_date >= -90d AND orders = 0",
    "orders = 1 AND purchases MATCHES (date BETWEEN -90d AND -60d)",
    "purchases MATCHES (source IN ('cpc', 'paid_social')) AND purchases NOT MATCHES (source NOT IN ('cpc', 'paid_social'))",
    "purchases MATCHES (department = 'Shoes', color = 'black', date >= -12m, sum_quantity >= 2)",
    "(gender IS NULL OR birth_date IS NULL) AND purchases MATCHES (date >= -365d)",
    "(purchases MATCHES (date >= -365d, sum_amount >= 500) OR IN LIST 'gold_manual') AND NOT IN LIST 'tier_blocked'",
    "tags CONTAINS 'app_user' AND NOT country IN ('NL', 'BE')",
    "purchases MATCHES (date = -21d)",
    "purchases MATCHES (count >= 3, days >= 2, date >= -2y)",
    "points > 100 OR credit >= 10.5",
    "IN SEGMENT 'big_spenders' AND NOT IN SEGMENT 'lapsed'",
)
MEMBER_QUERIES = QUERIES[1:4]


def profile_columns(customers: int = CUSTOMERS, seed: int = 7) -> dict[str, np.ndarray]:
    return generate_profiles(customers, seed=seed, end=END)


def purchase_batches(customers: int = CUSTOMERS, lines: int = LINES, seed: int = 7,
                     batch_lines: int = 4000) -> list[dict[str, np.ndarray]]:
    return list(generate_purchases(customers, lines, seed=seed, end=END, batch_lines=batch_lines))


def populate(index: Any, customers: int = CUSTOMERS, lines: int = LINES) -> None:
    """Fill an Index (in memory or a Store's) the same way every time: profiles, lines, segments, lists, tiers, erasures."""
    index.upsert_profile_columns(profile_columns(customers))
    for batch in purchase_batches(customers, lines):
        index.add_purchase_columns(batch)
    index.upsert_profiles([{"customer": "C0000003", "gender": None, "tags": "vip|app_user", "points": "250"},
                           {"customer": "new-1", "country": "NL", "loyalty_member": "yes"}])
    index.add_purchases([{"customer": "new-1", "time": "2026-03-01T10:00:00+01:00", "amount": "99.5",
                          "brand": "Levi's", "order": "X1"},
                         {"customer": "new-1", "time": "2026-03-02", "amount": "-20", "quantity": "-1",
                          "order": "X1"}])
    index.save_segment("big_spenders", "clv >= 500", kind="hot", description="monitor")
    index.save_segment("lapsed", "last_purchase_date < -180d", kind="standard")
    index.save_segment("after_sales", "purchases MATCHES (date = -21d)", kind="trigger")
    index.update_list("gold_manual", add=["C0000010", "C0000011", "C0000012", "nobody-yet"])
    index.update_list("tier_blocked", add=["C0000011", "C0000020"])
    index.update_list("gold_manual", remove=["C0000012"])
    index.save_tiering("loyalty", [("gold", "clv >= 1000"), ("silver", "clv >= 300")], default="bronze")
    index.delete_customers(["C0000005", "C0000010", "not-a-customer"])


def answers(index: Any, as_of: dt.date = AS_OF) -> dict[str, Any]:
    """Everything a client could observe, for comparing two indexes."""
    out: dict[str, Any] = {q: index.count(q, as_of=as_of) for q in QUERIES}
    out.update({"members: " + q: index.members(q, as_of=as_of) for q in MEMBER_QUERIES})
    out["customers"], out["lines"] = index.customer_count, index.line_count
    out["segments"] = index.list_segments()
    out["lists"] = {name: index.get_list(name) for name in index.list_names()}
    out["tiers"] = index.count_tiers("loyalty", as_of=as_of) if "loyalty" in index.tierings else None
    out["stats"] = index.stats("purchases MATCHES (date >= -90d)", as_of=as_of)
    out["breakdown"] = index.breakdown("ALL", "country", top=5, as_of=as_of)
    out["customer_segments"] = index.customer_segments("C0000003", as_of=as_of)
    return out


def crash_calls(customers: int = 800, lines: int = 16_000) -> list[tuple[str, tuple, dict]]:
    """A stream of write calls for the crash tests; purchase batch i carries a line of customer `marker-i`."""
    calls: list[tuple[str, tuple, dict]] = [
        ("upsert_profile_columns", (profile_columns(customers),), {}),
        ("save_segment", ("big_spenders", "clv >= 500"), {"kind": "hot"}),
        ("save_segment", ("lapsed", "last_purchase_date < -180d"), {}),
        ("update_list", ("gold_manual",), {"add": ["C0000010", "C0000011"]}),
        ("update_list", ("tier_blocked",), {"add": ["C0000011", "C0000020"]}),
        ("save_tiering", ("loyalty", [("gold", "clv >= 1000"), ("silver", "clv >= 300")], "bronze"), {}),
    ]
    for i, batch in enumerate(purchase_batches(customers, lines, batch_lines=800)):
        marked = {name: np.append(column, column[:1]) for name, column in batch.items()}
        marked["customer"][-1] = f"marker-{i}"
        calls.append(("add_purchase_columns", (marked,), {}))
        if i == 8:
            calls.append(("delete_customers", (["C0000005", "C0000007"],), {}))
        if i == 12:
            calls.append(("upsert_profiles", ([{"customer": "C0000003", "country": "BE", "points": "300"}],), {}))
    return calls
