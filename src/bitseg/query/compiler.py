"""The compile step of a query: text or tree → checked tree → normalised tree, with the cache of compiled text.

    text ──parse──▶ tree ──check──▶ checked tree ──normalize──▶ normalised tree   (then index/: plan, execute)

>>> from bitseg.schema import Schema
>>> compiler = Compiler(Schema.from_toml('[profile]\\ncountry = "keyword"'))
>>> tree, text = compiler.normalized("NOT NOT country = 'NL' AND ALL")
>>> tree
Compare(field='country', op='=', value='NL')
>>> compiler.normalized(text)[0] is tree  # compiled once: a segment editor sends the same text often
True
>>> compiler.checked(tree)[1]
"country = 'NL'"
"""

from __future__ import annotations

from bitseg.errors import InvalidInputError
from bitseg.query.bind import check
from bitseg.query.expressions import Node
from bitseg.query.limits import DEFAULT_LIMITS, Limits
from bitseg.query.parser import parse
from bitseg.query.printer import to_text
from bitseg.query.rewrite import normalize
from bitseg.schema import Schema

CACHE_MAX = 4096  # compiled query texts kept; the oldest goes first
CACHE_BYTES = 8 * 1024 * 1024  # and at most this much query text: a tree takes ~10-20× its text in memory


class Compiler:
    """Parses, checks and normalises queries against one schema; remembers the normalised tree of each text."""

    def __init__(self, schema: Schema, limits: Limits = DEFAULT_LIMITS) -> None:
        self.schema = schema
        self.limits = limits
        self._normalized: dict[str, Node] = {}  # query text → normalised tree
        self._bytes = 0  # text held by the cache (len of the keys)

    def checked(self, query: str | Node) -> tuple[Node, str]:
        """The checked tree and the text of `query` (text, or a tree whose text is its canonical text); uncached.

        A saved segment keeps the canonical text of its checked tree, so it reads as the marketer wrote it.
        """
        if isinstance(query, Node):
            text = to_text(query)
            return check(query, self.schema, text), text
        if not isinstance(query, str):
            raise InvalidInputError(f"a query is text or a tree, not {type(query).__name__}")
        return check(parse(query, self.limits), self.schema, query), query

    def normalized(self, query: str | Node) -> tuple[Node, str]:
        """The normalised tree (what the planner takes) and the text of `query`; cached by text."""
        if not isinstance(query, str):
            tree, text = self.checked(query)
            return normalize(tree), text
        found = self._normalized.get(query)
        if found is None:
            found = normalize(self.checked(query)[0])
            while self._normalized and (len(self._normalized) >= CACHE_MAX
                                        or self._bytes + len(query) > CACHE_BYTES):
                oldest = next(iter(self._normalized))
                del self._normalized[oldest]
                self._bytes -= len(oldest)
            self._normalized[query] = found
            self._bytes += len(query)
        return found, query
