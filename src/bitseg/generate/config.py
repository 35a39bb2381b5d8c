"""What the generator promises: the schema it writes, its column names, named sizes, and stream settings."""

from __future__ import annotations

from bitseg.errors import InvalidInputError

TIMEZONE = "Europe/Amsterdam"         # purchase days and the default end day are local days here

FASHION_SCHEMA = f"""\
# A fashion retailer, as written by `bitseg generate`.
timezone = "{TIMEZONE}"

[profile]
gender = "keyword"
country = "keyword"
tags = "tags"
loyalty_member = "bool"
email = "presence"
birth_date = "date"
input_date = "date"
points = "int"
credit = "decimal"

[purchase]
brand = "keyword"
department = "keyword"
collection = "keyword"
color = "keyword"
season = "keyword"
source = "keyword"
"""

# name: (customers, lines); lines span the window (two years by default), returns included.
SIZES: dict[str, tuple[int, int]] = {
    "XS": (2_000, 40_000),
    "S": (100_000, 2_000_000),
    "M": (1_000_000, 20_000_000),
    "L": (10_000_000, 100_000_000),
}

PROFILE_COLUMNS = ("customer", "gender", "country", "tags", "loyalty_member", "email",
                   "birth_date", "input_date", "points", "credit")
DIMENSIONS = ("brand", "department", "collection", "color", "season", "source")
PURCHASE_COLUMNS = ("customer", "time", "amount", "quantity", "order") + DIMENSIONS

# Purchase lines are made in blocks of consecutive days holding about this many lines, each block from its
# own random stream: the data do not depend on how a caller batches them, and memory stays bounded.
BLOCK_LINES = 1 << 18
RETURN_SHARE = 0.065


def size_of(name: str) -> tuple[int, int]:
    """The (customers, lines) of a named size.

    >>> size_of("S")
    (100000, 2000000)
    >>> size_of("xl")
    Traceback (most recent call last):
    ...
    bitseg.errors.InvalidInputError: unknown size 'xl'; expected one of XS, S, M, L
    """
    try:
        return SIZES[name.upper()]
    except (KeyError, AttributeError):
        raise InvalidInputError(f"unknown size {name!r}; expected one of {', '.join(SIZES)}") from None
