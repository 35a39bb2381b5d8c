"""The errors bitseg raises: one small hierarchy, each class mapped to one gRPC status by the server.

    BitsegError
    ├── QueryError            a segment query that does not parse or does not fit the schema (has a position)
    ├── SchemaError           a schema that is not valid TOML or names a bad field or type
    ├── InvalidInputError     a profile row, purchase line, name or argument that is malformed
    │   └── LimitError        a request past a configured limit (query length, nesting depth, IN-list size, …)
    ├── NotFoundError         an unknown index, segment, list, tiering or customer
    ├── AlreadyExistsError    a name that is already taken
    ├── PersistenceError      a damaged snapshot or log, or a failed write to disk
    │   └── ReadOnlyError     the log cannot be written just now: changes are refused until it heals (UNAVAILABLE)
    ├── DeadlineExceededError a call whose deadline passed while it ran: its work was abandoned
    ├── CancelledError        a call its caller cancelled: its work was abandoned
    ├── AuthenticationError   the server wants a token the call did not carry (UNAUTHENTICATED)
    ├── OverloadedError       the server is at its limit of calls or message size (RESOURCE_EXHAUSTED)
    ├── UnavailableError      the server cannot be reached, or the deadline passed (UNAVAILABLE, DEADLINE_EXCEEDED)
    └── ServerError           any other status from the server (INTERNAL, UNIMPLEMENTED, …)

Every message names what is wrong and where, so it can be shown to the person who sent it.

`bitseg.Client` raises these for the server's status codes: INVALID_ARGUMENT as InvalidInputError (QueryError when
the message carries the query's position), NOT_FOUND as NotFoundError, ALREADY_EXISTS as AlreadyExistsError, and
the last four classes for the rest. Every error it raises has `code` (the status name, e.g. "NOT_FOUND") and
`details` (the server's message).
"""

from __future__ import annotations


class BitsegError(Exception):
    """Base of every error bitseg raises on purpose."""


class QueryError(BitsegError):
    """A query that cannot be understood; carries where in the text the problem is.

    >>> err = QueryError("unexpected ')'", text="a = 1)", offset=5)
    >>> str(err), err.line, err.column
    ("unexpected ')' at 1:6", 1, 6)
    """

    def __init__(self, message: str, *, text: str = "", offset: int | None = None) -> None:
        self.message = message
        self.text = text     # the query text the position is in ("" when not known)
        self.offset = offset
        if offset is None:
            self.line = self.column = None
            super().__init__(message)
            return
        before = text[:offset]
        self.line = before.count("\n") + 1
        self.column = offset - (before.rfind("\n") + 1) + 1
        super().__init__(_place(message, f"{self.line}:{self.column}"))


def _place(message: str, where: str) -> str:
    # "unknown field 'colour'; did you mean 'color'?" reads best with the position before the hint.
    head, sep, hint = message.partition("; ")
    return f"{head} at {where}{sep}{hint}"


class SchemaError(BitsegError):
    """A schema that is not valid."""


class InvalidInputError(BitsegError):
    """Malformed input: a row, a value, a name or an argument."""


class LimitError(InvalidInputError):
    """A request past a configured limit."""


class NotFoundError(BitsegError):
    """Something named that does not exist."""


class AlreadyExistsError(BitsegError):
    """A name that is already taken."""


class PersistenceError(BitsegError):
    """Damaged or unwritable data on disk."""


class DeadlineExceededError(BitsegError):
    """The call's deadline (the client's, capped by the server's maximum) passed; its work was abandoned."""


class CancelledError(BitsegError):
    """The caller cancelled the call or went away; its work was abandoned."""


class ReadOnlyError(PersistenceError):
    """The store cannot write its log (a full or read-only disk): the change was refused, nothing of it is
    visible, and changes are accepted again once the log can be written (the store retries by itself)."""


class _StatusError(BitsegError):
    """An error that only a server answers with: it keeps the status code's name and the server's message."""

    default_code = "INTERNAL"

    def __init__(self, details: str, code: str | None = None) -> None:
        self.details = details
        self.code = code or self.default_code
        super().__init__(details)


class AuthenticationError(_StatusError):
    """The call carried no token, or the wrong one (UNAUTHENTICATED).

    >>> err = AuthenticationError("missing or wrong token")
    >>> err.code, str(err)
    ('UNAUTHENTICATED', 'missing or wrong token')
    """

    default_code = "UNAUTHENTICATED"


class OverloadedError(_StatusError):
    """The server refused the call for now: too many calls at once, or a message too large (RESOURCE_EXHAUSTED)."""

    default_code = "RESOURCE_EXHAUSTED"


class UnavailableError(_StatusError):
    """The server could not be reached or did not answer in time (UNAVAILABLE, DEADLINE_EXCEEDED)."""

    default_code = "UNAVAILABLE"


class ServerError(_StatusError):
    """Any other status: a server bug (INTERNAL), a call it does not implement (UNIMPLEMENTED), a cancelled call."""
