"""bitseg: a customer segment engine on roaring bitmaps.

>>> import bitseg
>>> idx = bitseg.Index.from_toml('[profile]\\nvip = "bool"')
>>> idx.upsert_profiles([{"customer": "a", "vip": True}, {"customer": "b"}])
2
>>> idx.count("vip = true"), idx.count("vip != true")
(1, 1)
"""

from __future__ import annotations

from bitseg.errors import (
    AlreadyExistsError,
    BitsegError,
    InvalidInputError,
    LimitError,
    NotFoundError,
    PersistenceError,
    QueryError,
    SchemaError,
)
from bitseg.index.catalog import Catalog
from bitseg.index.index import Index
from bitseg.index.ingest import Coded
from bitseg.index.segments import Segment, Tiering
from bitseg.index.stats import GroupStats, Stats
from bitseg.query.limits import Limits
from bitseg.query.parser import parse
from bitseg.query.printer import to_text
from bitseg.schema import FieldType, Schema

__all__ = [
    "AlreadyExistsError", "BitsegError", "Catalog", "Coded", "FieldType", "GroupStats", "Index", "InvalidInputError",
    "LimitError", "Limits", "NotFoundError", "PersistenceError", "QueryError", "Schema", "SchemaError", "Segment",
    "Stats", "Tiering", "parse", "to_text",
]
