"""bitseg: a customer segment engine on roaring bitmaps.

>>> import bitseg
>>> idx = bitseg.Index.from_toml('[profile]\\nvip = "bool"')
>>> idx.upsert_profiles([{"customer": "a", "vip": True}, {"customer": "b"}])
2
>>> idx.count("vip = true"), idx.count("vip != true")
(1, 1)

`bitseg.Client` talks to a server (SPEC §11); it is imported on first use, so `import bitseg` never loads grpc.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bitseg.errors import (
    AlreadyExistsError,
    AuthenticationError,
    BitsegError,
    InvalidInputError,
    LimitError,
    NotFoundError,
    OverloadedError,
    PersistenceError,
    QueryError,
    ReadOnlyError,
    SchemaError,
    ServerError,
    UnavailableError,
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

if TYPE_CHECKING:
    from bitseg.client import Client

__all__ = [
    "AlreadyExistsError", "AuthenticationError", "BitsegError", "Catalog", "Client", "Coded", "FieldType",
    "GroupStats", "Index", "InvalidInputError", "LimitError", "Limits", "NotFoundError", "OverloadedError",
    "PersistenceError", "QueryError", "ReadOnlyError", "Schema", "SchemaError", "Segment", "ServerError", "Stats", "Tiering",
    "UnavailableError", "parse", "to_text",
]


def __getattr__(name: str) -> Any:
    # The client needs grpc; the in-process engine does not, so it is loaded only when asked for.
    if name == "Client":
        from bitseg.client import Client

        return Client
    raise AttributeError(f"module 'bitseg' has no attribute {name!r}")
