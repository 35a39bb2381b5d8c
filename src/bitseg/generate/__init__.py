"""A deterministic synthetic fashion retailer of any size: schema, customer profiles and purchase lines.

The same arguments give the same data, in memory (``generate_profiles``, ``generate_purchases``) and on disk
(``write_dataset``). Modules, each with one job:

- ``config``: the schema text, column names, named sizes and stream settings;
- ``catalogue``: the shop's vocabularies, weights, prices and brands;
- ``world``: the hidden customer traits and seeded random streams that profiles and purchases share;
- ``profiles`` and ``purchases``: drawing each table, as numpy columns or CSV rows;
- ``text``: numbers and codes as byte matrices, for CSV and str objects without a call per cell;
- ``dataset``: writing the folder `bitseg import` reads.
"""

from __future__ import annotations

from bitseg.generate.catalogue import BRANDS, COLLECTIONS
from bitseg.generate.config import (
    DIMENSIONS,
    FASHION_SCHEMA,
    PROFILE_COLUMNS,
    PURCHASE_COLUMNS,
    SIZES,
    TIMEZONE,
    size_of,
)
from bitseg.generate.dataset import write_dataset
from bitseg.generate.profiles import generate_profiles
from bitseg.generate.purchases import generate_purchases

__all__ = [
    "BRANDS", "COLLECTIONS", "DIMENSIONS", "FASHION_SCHEMA", "PROFILE_COLUMNS", "PURCHASE_COLUMNS", "SIZES",
    "TIMEZONE", "generate_profiles", "generate_purchases", "size_of", "write_dataset",
]
