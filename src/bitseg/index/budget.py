"""The budget of one call: a deadline, a cancellation flag and a ceiling on a query's estimated cost.

The server builds one per call from its transport (the client's deadline capped by the server's maximum; a
callback that fires when the caller goes away) and makes it current for the thread running the call with
`spending(budget)`; the core never sees the transport. The executor calls `check()` between plan steps and
inside long loops, so abandoned work stops within one step: the error unwinds through the index lock, which is
released on the way out. Outside a call (the Python API, tests, replay) the current budget is `UNLIMITED`.

Lock waits are bounded the same way: `hold(lock)` takes an index lock within what is left of the call's
deadline, looking at its cancellation flag while it waits, so a call queued behind a long write or query gives up
in time instead of waiting for the lock and then for its work.

A context variable rather than a parameter on every Index method: every read path (counts, members, stats,
membership, tiers) is covered without threading an argument through each signature and the planner.

>>> b = Budget(seconds=60, max_cost=100)
>>> with spending(b):
...     current() is b, check()
(True, None)
>>> b.cancel()
>>> with spending(b):
...     check()
Traceback (most recent call last):
...
bitseg.errors.CancelledError: the call was cancelled by its caller; its work was abandoned
>>> try:
...     Budget(max_cost=10).check_cost(11, "the query")
... except LimitError as err:
...     print(str(err)[:71])
the query would cost about 11 work units, past the limit max_query_cost
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from typing import Protocol

from bitseg.errors import CancelledError, DeadlineExceededError, LimitError

DEFAULT_MAX_SECONDS = 30.0   # a call's deadline when the client gives none or a longer one
DEFAULT_MAX_COST = 2_000_000_000  # work units (≈ lines read × measures): about a minute of CPU
LOCK_POLL_SECONDS = 0.05  # how often a call waiting for a lock looks at its cancellation flag


class Budget:
    """A deadline (monotonic clock), a cancellation flag and a cost ceiling; `check()` raises once spent."""

    __slots__ = ("deadline", "max_cost", "cancelled")

    def __init__(self, seconds: float | None = None, max_cost: int | None = None) -> None:
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.max_cost = max_cost
        self.cancelled = False

    def cancel(self) -> None:
        """Called from another thread (the transport's callback): the next `check()` raises."""
        self.cancelled = True

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def check(self) -> None:
        if self.cancelled:
            raise CancelledError("the call was cancelled by its caller; its work was abandoned")
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise DeadlineExceededError("the call's deadline passed; its work was abandoned (the server caps "
                                        "every call's deadline at its max_call_seconds)")

    def check_cost(self, cost: int, what: str) -> None:
        """Refuse work estimated past the ceiling before any of it is done."""
        if self.max_cost is not None and cost > self.max_cost:
            raise LimitError(f"{what} would cost about {cost:,} work units, past the limit max_query_cost "
                             f"({self.max_cost:,}): narrow it (fewer measures or a shorter window) or raise "
                             "max_query_cost")


UNLIMITED = Budget()
_current: contextvars.ContextVar[Budget] = contextvars.ContextVar("bitseg_budget", default=UNLIMITED)


def current() -> Budget:
    """The budget of the call running in this thread (UNLIMITED outside a server call)."""
    return _current.get()


def check() -> None:
    """Raise DeadlineExceededError or CancelledError when the current call's budget is spent."""
    _current.get().check()


@contextlib.contextmanager
def spending(budget: Budget) -> Iterator[Budget]:
    """Make `budget` current for the work done inside the block."""
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


class Lock(Protocol):
    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...

    def release(self) -> None: ...


def acquire(lock: Lock) -> None:
    """Take `lock`, waiting no longer than the current call's deadline and not past its cancellation.

    Raises DeadlineExceededError or CancelledError (the lock not taken) when the call is spent while it waits;
    outside a call (UNLIMITED) it simply waits.

    >>> import threading
    >>> lock = threading.Lock()
    >>> lock.acquire()
    True
    >>> with spending(Budget(seconds=0.1)):
    ...     acquire(lock)
    Traceback (most recent call last):
    ...
    bitseg.errors.DeadlineExceededError: the call's deadline passed while it waited for the index (a write or a long query held it); its work was abandoned
    """
    if lock.acquire(blocking=False):
        return
    spending = _current.get()
    if spending is UNLIMITED:
        lock.acquire()
        return
    while True:
        try:
            spending.check()
        except DeadlineExceededError:
            raise DeadlineExceededError("the call's deadline passed while it waited for the index (a write or a "
                                        "long query held it); its work was abandoned") from None
        wait = LOCK_POLL_SECONDS
        left = spending.remaining()
        if left is not None:
            wait = min(wait, max(left, 0.0))
        if lock.acquire(timeout=wait):
            return


@contextlib.contextmanager
def hold(lock: Lock) -> Iterator[None]:
    """Hold `lock` for the block, taken with `acquire` (bounded by the current call's budget)."""
    acquire(lock)
    try:
        yield
    finally:
        lock.release()
