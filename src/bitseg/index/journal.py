"""The one write path: the `@write` decorator every change goes through, its journal hook and its replay.

A write operation is a method with `@write`. The decorator holds the owner's lock, runs the method, and when the
owner's `version` moved (something changed) hands what the method chose to log (`self.logged(...)`: plain values,
materialised, the method's own keyword arguments) to the owner's journal, once, still under the lock. A refused
call raises before anything changed, so it is never journaled; a call that changes nothing is not either.
`replay(op, args)` calls the same method with those arguments and the journal suppressed, so adding a write
operation takes exactly one change: the method with its decorator.

>>> class Counter(Writable):
...     @write
...     def add(self, amount: int) -> int:
...         self.logged(amount=amount)
...         self.total = getattr(self, "total", 0) + amount
...         if amount:
...             self.changed()
...         return self.total
>>> seen = []
>>> counter = Counter(journal=lambda owner, op, args: seen.append((owner, op, args)))
>>> counter.add(2), counter.add(0), seen
(2, 2, [(None, 'add', {'amount': 2})])
>>> fresh = Counter()
>>> for _, op, args in seen:
...     _ = fresh.replay(op, args)
>>> fresh.total, write_operations(Counter)
(2, ['add'])
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from bitseg.errors import InvalidInputError, NotFoundError

Method = TypeVar("Method", bound=Callable[..., Any])


class Journal(Protocol):
    """Called once per write that changed something, after it was applied, holding the owner's lock.

    `index_name` is the index written to, or None for a catalog operation (create_index, drop_index); `args`
    are keyword arguments of the method `op`, so `replay(op, args)` repeats the change. A journal that raises
    makes the call raise (the change is then applied but not acknowledged). A journal may also have a
    `check()` method, called before every write is applied: raising there refuses the write untouched (a Store
    whose log failed refuses every later change).
    """

    def __call__(self, index_name: str | None, op: str, args: dict[str, Any]) -> None: ...


def write(method: Method) -> Method:
    """Declare a write operation: lock, journal when something changed, registered for `replay` by its name."""
    op = method.__name__
    takes_rejects = "rejects" in inspect.signature(method).parameters

    @functools.wraps(method)
    def wrapper(self: Writable, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            if self.retired:
                raise NotFoundError(f"unknown index {self.name!r}")  # dropped: a stale handle writes nowhere
            outer = not self._writing
            journal = self.journal if outer and not self._replaying else None
            check = getattr(journal, "check", None)
            if check is not None:
                check()
            before = self.version
            self._writing.append(op)
            try:
                result = method(self, *args, **kwargs)
            finally:
                self._writing.pop()
                logged, self._logged = (self._logged, None) if outer else (None, self._logged)
            if journal is not None and self.version != before:
                if logged is None:
                    raise AssertionError(f"write {op} changed {self.name!r} without saying what to log")
                journal(self.journal_name, op, logged)
            return result

    wrapper.write_op = op  # type: ignore[attr-defined]
    wrapper.takes_rejects = takes_rejects  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def locked(method: Method) -> Method:
    """A read that holds the owner's lock, so it never sees half a write."""
    @functools.wraps(method)
    def wrapper(self: Writable, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)
    return wrapper  # type: ignore[return-value]


def write_operations(cls: type) -> list[str]:
    """The names of the write operations of a class, sorted."""
    return sorted(name for name in dir(cls) if getattr(getattr(cls, name), "write_op", None) == name)


class Writable:
    """What `@write` needs of its owner: a lock, a version that counts changes, a journal and the replay."""

    name: str | None = None

    def __init__(self, journal: Journal | None = None) -> None:
        self.lock = threading.RLock()
        self.journal = journal
        self.version = 0  # counts changes; a write that leaves it alone changed nothing and is not journaled
        self.retired = False  # set when the owner is dropped: later writes raise NotFoundError
        self._writing: list[str] = []
        self._logged: dict[str, Any] | None = None
        self._replaying = False

    @property
    def journal_name(self) -> str | None:
        """The owner's name in journal calls (None for the catalog)."""
        return self.name

    def changed(self) -> None:
        self.version += 1

    def logged(self, **args: Any) -> None:
        """Say what the running write journals (the outermost write's first call counts)."""
        if self._logged is None and len(self._writing) == 1:
            self._logged = args

    def replay(self, op: str, args: dict[str, Any]) -> Any:
        """Repeat a journaled write (the journal is not called); bad rows are dropped again, not raised."""
        method = getattr(type(self), op, None)
        if getattr(method, "write_op", None) != op:
            raise InvalidInputError(f"{op!r} is not a write operation of {type(self).__name__}")
        kwargs = dict(args)
        if method.takes_rejects:  # type: ignore[union-attr]
            kwargs.setdefault("rejects", [])
        with self.lock:
            self._replaying = True
            try:
                return getattr(self, op)(**kwargs)
            finally:
                self._replaying = False
