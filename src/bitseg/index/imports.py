"""The files an index has imported, by the SHA-256 of their content, so a retried load is not counted twice.

>>> log = ImportLog()
>>> log.remember("ab" * 32, "purchases", "purchases.csv", "2026-03-14")
>>> log.find("ab" * 32)
ImportedFile(sha256='abab…', day='2026-03-14', kind='purchases', name='purchases.csv')
>>> ImportLog.from_state(log.state()).find("ab" * 32) == log.find("ab" * 32)
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bitseg.errors import AlreadyExistsError, InvalidInputError

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ImportedFile:
    """One imported file: its content digest, the day (index time) it went in, what it held and its name."""

    sha256: str
    day: str
    kind: str
    name: str

    def __repr__(self) -> str:
        return f"ImportedFile(sha256='{self.sha256[:4]}…', day='{self.day}', kind='{self.kind}', name='{self.name}')"


def check_digest(digest: str) -> str:
    """A SHA-256 as 64 lowercase hex digits, or InvalidInputError."""
    digest = digest.lower()
    if not _SHA256.fullmatch(digest):
        raise InvalidInputError(f"file_sha256 {digest[:80]!r} is not a SHA-256 (64 hex digits)")
    return digest


def refuse_reimport(earlier: ImportedFile | None, index: str) -> None:
    """AlreadyExistsError naming the day when `earlier` holds an import of the same content."""
    if earlier is not None:
        name = f" (as {earlier.name})" if earlier.name else ""
        raise AlreadyExistsError(f"this file's content was imported into index {index!r} on {earlier.day}{name}; "
                                 f"importing it again would count its {earlier.kind} twice (--force to do it anyway)")


@dataclass
class ImportLog:
    """Imported files by digest; the first import of a content is the one kept (a forced re-import adds none)."""

    files: dict[str, ImportedFile] = field(default_factory=dict)

    def find(self, digest: str) -> ImportedFile | None:
        return self.files.get(digest.lower())

    def remember(self, digest: str, kind: str, name: str, day: str) -> None:
        digest = check_digest(digest)
        self.files.setdefault(digest, ImportedFile(digest, day, kind, name))

    def state(self) -> dict[str, Any]:
        return {"files": [[f.sha256, f.day, f.kind, f.name] for f in self.files.values()]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> ImportLog:
        """The log `state()` described; None (a snapshot from before imports were kept) is an empty log."""
        log = cls()
        for digest, day, kind, name in (state or {}).get("files", []):
            log.files[digest] = ImportedFile(digest, day, kind, name)
        return log
