"""Index schemas: the profile fields, the purchase dimensions and the calendar time zone, read from TOML."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bitseg.errors import SchemaError
from bitseg.vocabulary import BUILTIN_FIELDS, RESERVED_NAMES, FieldType

NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")


@dataclass(frozen=True)
class Schema:
    """What an index stores about its customers and their purchase lines.

    >>> s = Schema.from_toml('timezone = "Europe/Amsterdam"\\n[profile]\\ncountry = "keyword"\\n'
    ...                      '[purchase]\\nbrand = "keyword"')
    >>> s.field_type("country"), s.field_type("clv"), s.dimensions
    (<FieldType.KEYWORD: 'keyword'>, <FieldType.DECIMAL: 'decimal'>, ('brand',))
    """

    profile: dict[str, FieldType] = field(default_factory=dict)
    dimensions: tuple[str, ...] = ()
    timezone: str = "UTC"
    text: str = ""

    @classmethod
    def from_toml(cls, text: str) -> Schema:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise SchemaError(f"schema is not valid TOML: {err}") from None
        unknown = set(doc) - {"timezone", "profile", "purchase"}
        if unknown:
            raise SchemaError(f"schema: unknown top-level key {sorted(unknown)[0]!r}; "
                              "expected timezone, [profile] or [purchase]")
        timezone = doc.get("timezone", "UTC")
        if not isinstance(timezone, str):
            raise SchemaError("schema: timezone must be a string such as \"Europe/Amsterdam\"")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SchemaError(f"schema: unknown timezone {timezone!r}") from None
        profile = {name: _field_type(name, kind, "profile") for name, kind in _table(doc, "profile").items()}
        dimensions = []
        for name, kind in _table(doc, "purchase").items():
            if _field_type(name, kind, "purchase") is not FieldType.KEYWORD:
                raise SchemaError(f"schema: purchase dimension {name!r} must be \"keyword\", not {kind!r}")
            dimensions.append(name)
        return cls(profile=profile, dimensions=tuple(dimensions), timezone=timezone, text=text)

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise SchemaError(f"cannot read schema {path}: {err.strerror}") from None
        return cls.from_toml(text)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def fields(self) -> dict[str, FieldType]:
        """Every customer field a query can name: the profile's and the built-ins."""
        return {**self.profile, **BUILTIN_FIELDS}

    def field_type(self, name: str) -> FieldType | None:
        return self.profile.get(name) or BUILTIN_FIELDS.get(name)

    def to_toml(self) -> str:
        if self.text:
            return self.text
        lines = [f'timezone = "{self.timezone}"', "", "[profile]"]
        lines += [f'{name} = "{kind.value}"' for name, kind in self.profile.items()]
        lines += ["", "[purchase]"] + [f'{name} = "keyword"' for name in self.dimensions]
        return "\n".join(lines) + "\n"


def _table(doc: dict, key: str) -> dict:
    table = doc.get(key, {})
    if not isinstance(table, dict):
        raise SchemaError(f"schema: [{key}] must be a table of name = \"type\" pairs")
    return table


def _field_type(name: str, kind: object, section: str) -> FieldType:
    if not NAME.match(name):
        raise SchemaError(f"schema: [{section}] field name {name!r} must match [a-z_][a-z0-9_]*")
    if name in RESERVED_NAMES:
        raise SchemaError(f"schema: [{section}] field name {name!r} is reserved (a built-in or a query word)")
    try:
        return FieldType(str(kind))
    except ValueError:
        allowed = ", ".join(t.value for t in FieldType)
        raise SchemaError(f"schema: [{section}] field {name!r} has unknown type {kind!r}; "
                          f"expected one of {allowed}") from None
