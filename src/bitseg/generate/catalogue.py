"""What the shop sells and how people buy: vocabularies with weights, prices, brands, the rhythm of orders."""

from __future__ import annotations

import functools
from collections.abc import Sequence

# ── vocabularies: (value, weight); weights need not sum to 1 ─────────────────────────────────────────────

GENDERS = (("female", 0.57), ("male", 0.31), ("other", 0.02))
GENDER_NULL = 0.10
COUNTRIES = (("NL", 46), ("BE", 16), ("DE", 13), ("FR", 7), ("GB", 5), ("ES", 3), ("IT", 3), ("AT", 2),
             ("LU", 1), ("DK", 1), ("SE", 1), ("PL", 1), ("IE", 0.5), ("CH", 0.5))
COUNTRY_NULL = 0.01
TAGS = (("newsletter", 0.45), ("app_user", 0.35), ("store_pickup", 0.20), ("sms_optin", 0.15),
        ("student", 0.06), ("gift_card", 0.05), ("employee", 0.004), ("vip", 0.0))   # vip follows spend
EMAIL_DOMAINS = (("example.com", 70), ("example.org", 20), ("example.net", 10))
EMAIL_NULL = 0.30
DEPARTMENTS = (("Womenswear", 34), ("Menswear", 20), ("Shoes", 13), ("Kids", 10), ("Accessories", 10),
               ("Sports", 7), ("Underwear", 4), ("Home", 2))
# Mean unit price (EUR) and relative return propensity per department, in DEPARTMENTS order.
DEPARTMENT_PRICE = (45.0, 50.0, 85.0, 22.0, 25.0, 40.0, 18.0, 30.0)
DEPARTMENT_RETURNS = (1.5, 1.1, 1.4, 0.6, 0.5, 0.8, 0.3, 0.4)
# A customer's favourite department, by gender (female, male, other, NULL), in DEPARTMENTS order.
FAVOURITE_DEPARTMENT = (
    (62, 3, 12, 10, 8, 3, 1, 1),
    (3, 60, 14, 8, 5, 8, 1, 1),
    (30, 30, 14, 6, 10, 6, 2, 2),
    (34, 20, 13, 10, 10, 7, 4, 2),
)
COLLECTIONS = ("Essentials", "Denim", "Basics", "Casual", "Workwear", "Party", "Premium", "Athleisure",
               "Sustainable", "Tailoring", "Loungewear", "Outdoor", "Knitwear", "Holiday", "Beachwear",
               "Festival")
# Collection weights in spring/summer and in autumn/winter seasons, in COLLECTIONS order.
COLLECTION_SS = (20, 15, 14, 12, 5, 5, 4, 6, 4, 3, 3, 1, 0.5, 0.5, 6, 4)
COLLECTION_AW = (20, 15, 14, 12, 6, 7, 5, 5, 4, 4, 5, 8, 9, 6, 0.2, 0.2)
COLORS = (("black", 20), ("white", 10), ("navy", 9), ("blue", 8), ("grey", 8), ("beige", 6), ("green", 5),
          ("red", 4), ("brown", 4), ("pink", 4), ("multi", 4), ("khaki", 3), ("cream", 3), ("burgundy", 2.5),
          ("yellow", 2), ("orange", 2), ("purple", 1.5), ("silver", 1), ("gold", 1), ("denim", 2))
SOURCES = (("direct", 25), ("organic", 22), ("cpc", 18), ("email", 14), ("paid_social", 10),
           ("affiliate", 6), ("referral", 3), ("display", 2))
# Share of NULL cells per dimension (source is per order, the rest per line).
DIMENSION_NULL = {"brand": 0.005, "department": 0.003, "collection": 0.06, "color": 0.03,
                  "season": 0.02, "source": 0.05}

# ── the rhythm of orders ─────────────────────────────────────────────────────────────────────────────────

ORDER_SIZES = (0.45, 0.25, 0.14, 0.08, 0.05, 0.03)      # P(1 line), …, P(6 lines)
QUANTITIES = (0.86, 0.10, 0.03, 0.006, 0.003, 0.001)    # P(1), …, P(6)
# Orders per hour of the local day. None from 02:00 to 03:00: that hour is missing or doubled on DST days.
HOURS = (1.5, 0.8, 0, 0.3, 0.3, 0.5, 1, 2, 3, 4, 5, 5.5, 6, 6, 5.5, 5.5, 5.5, 6, 6.5, 7.5, 8.5, 8, 6, 3.5)
MONTHS = (1.15, 0.8, 0.95, 1.0, 1.0, 1.0, 1.1, 0.9, 0.95, 1.0, 1.35, 1.45)     # Jan sales … Dec gifts
WEEKDAYS = (1.1, 1.0, 1.0, 1.0, 0.95, 0.85, 1.15)                           # Monday … Sunday

# ── brands ───────────────────────────────────────────────────────────────────────────────────────────────

_KNOWN_BRANDS = (
    "Levi's", "Nike", "Adidas", "Tommy Hilfiger", "Calvin Klein", "G-Star RAW", "Scotch & Soda", "Vero Moda",
    "Jack & Jones", "Only", "Esprit", "Mango", "Puma", "Vans", "Converse", "Ralph Lauren", "Hugo Boss",
    "Guess", "Lacoste", "New Balance", "Diesel", "Pepe Jeans", "Superdry", "The North Face", "Columbia",
    "Timberland", "Dr. Martens", "Birkenstock", "Asics", "Reebok", "Fila", "Champion", "Carhartt WIP",
    "Napapijri", "Woolrich", "Armani Exchange", "Michael Kors", "Fossil", "Ray-Ban", "Skechers", "UGG",
    "Crocs", "Mexx", "WE Fashion", "Garcia", "America Today", "Fred Perry", "Barbour", "Gant", "Wrangler",
    "Lee", "Replay", "Kings of Indigo", "Marc O'Polo", "s.Oliver", "Tom Tailor", "Vila", "Selected", "Object",
    "Noisy May",
)
_BRAND_HEADS = ("Atelier", "Studio", "Maison", "North", "Urban", "Blue", "Wild", "Silver", "Grey", "Noble",
                "Little", "Nordic", "Velvet", "Copper", "Harbor", "Linen", "Coastal", "Golden", "Indigo",
                "Olive")
_BRAND_TAILS = ("Thread", "Loom", "Lane", "Fox", "Row", "& Co", "Works", "Label", "Denim", "Supply",
                "Collective", "Stitch", "House", "Club", "Tailors", "Project")


def _brands(count: int = 200) -> tuple[str, ...]:
    """Brand names by popularity rank: well-known ones first, then made-up labels."""
    made_up = [f"{head} {tail}" for head in _BRAND_HEADS for tail in _BRAND_TAILS]
    # Stride 7 is coprime with the 320 combinations: every name once, heads well mixed.
    made_up = [made_up[i * 7 % len(made_up)] for i in range(count - len(_KNOWN_BRANDS))]
    return _KNOWN_BRANDS + tuple(made_up)


BRANDS = _brands()
BRAND_WEIGHTS = tuple(1.0 / rank ** 1.05 for rank in range(1, len(BRANDS) + 1))     # Zipf: few big brands


# ── lookups ──────────────────────────────────────────────────────────────────────────────────────────────

def values_of(pairs: Sequence[tuple[str, float]]) -> tuple[str, ...]:
    """The values of a (value, weight) vocabulary.

    >>> values_of(GENDERS)
    ('female', 'male', 'other')
    """
    return tuple(value for value, _ in pairs)


def weights_of(pairs: Sequence[tuple[str, float]]) -> tuple[float, ...]:
    """The weights of a (value, weight) vocabulary, in its order."""
    return tuple(weight for _, weight in pairs)


@functools.cache
def dimension_values() -> dict[str, tuple[str, ...]]:
    """The values of each purchase dimension but season (whose names depend on the window), code order."""
    return {
        "brand": BRANDS,
        "department": values_of(DEPARTMENTS),
        "collection": COLLECTIONS,
        "color": values_of(COLORS),
        "source": values_of(SOURCES),
    }
