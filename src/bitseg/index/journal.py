"""The one write path: the `@write` decorator every change goes through, its journal hook and its replay.

A write operation is a generator method with `@write`, in three steps ("prepare, log, publish"):

1. **prepare** (the code before its one `yield`): check the input and compute everything the write will change,
   changing nothing readers can see. It runs under the owner's `write_lock`, which writers hold and readers
   never take, so it reads a state no other write moves while readers go on.
2. **log**: when the method yields, the decorator hands what it chose to log (`self.logged(...)`: plain values,
   the method's keyword arguments) to the owner's journal, which makes it durable (the Store: append and
   fsync). Readers are not blocked. A journal that raises refuses the write: nothing was changed, nothing is
   visible.
3. **publish** (the code after the `yield`): applies the prepared change under the readers' `lock`. It must be
   short and must not fail; it marks the change (`self.changed()`).

A method that returns before yielding changes nothing (a refused or empty call) and is not journaled.
`replay(op, args)` runs the same method with the journal suppressed, so adding a write operation takes exactly
one change: the method with its decorator.

>>> class Counter(Writable):
...     @write
...     def add(self, amount: int):
...         self.logged(amount=amount)
...         if not amount:
...             return getattr(self, "total", 0)  # nothing to change: not journaled
...         total = getattr(self, "total", 0) + amount  # prepare: computed, not yet visible
...         yield
...         self.total = total  # publish
...         self.changed()
...         return self.total
>>> seen = []
>>> counter = Counter(journal=lambda owner, op, args: seen.append((owner, op, args)))
>>> counter.add(2), counter.add(0), seen
(2, 2, [(None, 'add', {'amount': 2})])
>>> def refuse(owner, op, args):
...     raise OSError("disk full")
>>> counter.journal = refuse
>>> counter.add(5)
Traceback (most recent call last):
OSError: disk full
>>> counter.total  # the refused write was never published
2
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
from collections.abc import Callable, Generator
from typing import Any, Protocol, TypeVar

from bitseg.errors import InvalidInputError, NotFoundError
from bitseg.index.budget import hold

Method = TypeVar("Method", bound=Callable[..., Any])


class Journal(Protocol):
    """Called once per write that changes something, after it was prepared and before it is published, holding
    the owner's write lock (not the readers' lock).

    `index_name` is the index written to, or None for a catalog operation (create_index, drop_index); `args`
    are keyword arguments of the method `op`, so `replay(op, args)` repeats the change. A journal that raises
    refuses the call: the prepared change is dropped, never published. A journal may also have a `check()`
    method, called before every write is prepared: raising there refuses the write untouched (a Store whose log
    cannot be written is read-only).
    """

    def __call__(self, index_name: str | None, op: str, args: dict[str, Any]) -> None: ...


def write(method: Method) -> Method:
    """Declare a write operation: prepare under the write lock, journal, publish under the readers' lock."""
    op = method.__name__
    takes_rejects = "rejects" in inspect.signature(method).parameters
    if not inspect.isgeneratorfunction(method):
        raise TypeError(f"write operation {op} must yield once, between its prepare and its publish step")

    @functools.wraps(method)
    def wrapper(self: Writable, *args: Any, **kwargs: Any) -> Any:
        with hold(self.write_lock):  # a call's wait for another write is bounded by its deadline
            if self.retired:
                raise NotFoundError(f"unknown index {self.name!r}")  # dropped: a stale handle writes nowhere
            outer = not self._writing
            journal = self.journal if outer and not self._replaying else None
            check = getattr(journal, "check", None)
            if check is not None:
                check()
            self._writing.append(op)
            steps: Generator[None, None, Any] = method(self, *args, **kwargs)
            try:
                try:
                    next(steps)  # prepare
                except StopIteration as done:
                    return done.value  # nothing to change
                logged = self._logged if outer else None
                if journal is not None:
                    if logged is None:
                        raise AssertionError(f"write {op} changes {self.name!r} without saying what to log")
                    journal(self.journal_name, op, logged)  # log: raising drops the prepared change
                with self.lock:  # publish: logged, so it waits for the readers however long they take
                    try:
                        next(steps)
                    except StopIteration as done:
                        return done.value
                raise AssertionError(f"write {op} yields more than once")
            finally:
                steps.close()  # a refused write leaves its prepare step (and any lock it holds) here
                self._writing.pop()
                if outer:
                    self._logged = None

    wrapper.write_op = op  # type: ignore[attr-defined]
    wrapper.takes_rejects = takes_rejects  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def locked(method: Method) -> Method:
    """A read that holds the owner's readers' lock, so it never sees half a write (it never waits for a log).

    The wait for the lock (a write publishing, another read running) is bounded by the call's budget."""
    @functools.wraps(method)
    def wrapper(self: Writable, *args: Any, **kwargs: Any) -> Any:
        with hold(self.lock):
            return method(self, *args, **kwargs)
    return wrapper  # type: ignore[return-value]


def write_operations(cls: type) -> list[str]:
    """The names of the write operations of a class, sorted."""
    return sorted(name for name in dir(cls) if getattr(getattr(cls, name), "write_op", None) == name)


class Writable:
    """What `@write` needs of its owner: two locks, a version that counts changes, a journal and the replay.

    `write_lock` is held by a write from its prepare step to its publish step (and by a snapshot while it copies
    the state): holding it, the state does not move. `lock` is the readers' lock, held by a write only to
    publish.
    """

    name: str | None = None

    def __init__(self, journal: Journal | None = None) -> None:
        self.lock = threading.RLock()
        self.write_lock = threading.RLock()
        self.journal = journal
        self.version = 0  # counts changes (published writes)
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
        with self.write_lock:
            self._replaying = True
            try:
                return getattr(self, op)(**kwargs)
            finally:
                self._replaying = False
