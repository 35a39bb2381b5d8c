"""How a coordinator reaches its shards: one round of calls, every shard asked at once, every answer or an error.

A `Transport` runs a `ShardWorker` method on some shards and returns their answers by shard. A shard that cannot
answer (its actor died and is being restarted, its machine is gone) makes the whole round fail with
UnavailableError naming it: a partial answer is never combined. An error a shard raised (a bad query, an unknown
segment) is raised again as itself, the lowest shard's first.

`LocalTransport` holds the workers in this process (tests, one machine without Ray); `rayshards.RayTransport`
holds them in Ray actors. `kill` and `restart` let tests take a local shard down and bring it back from disk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bitseg.errors import UnavailableError
from bitseg.shards.worker import ShardWorker

Call = tuple[str, Sequence[Any], Mapping[str, Any]]  # a worker method's name, args and kwargs


class ShardUnavailableError(UnavailableError):
    """A shard did not answer: nothing is combined until every shard answers again."""

    def __init__(self, shards: Sequence[int], why: str) -> None:
        names = ", ".join(f"{k:03d}" for k in shards)
        super().__init__(f"shard {names} is unavailable ({why}); nothing was answered from the other shards "
                         "(retry: a shard is restarted and recovers from its snapshot and log)")
        self.shards = list(shards)
        self.why = why


def unwrap(answers: Mapping[int, Any], failures: Mapping[int, BaseException]) -> dict[int, Any]:
    """The answers, or the error to raise: unavailable shards first, then the lowest shard's own error."""
    down = sorted(k for k, err in failures.items() if isinstance(err, ShardUnavailableError))
    if down:
        raise ShardUnavailableError(down, getattr(failures[down[0]], "why", "no answer"))
    if failures:
        raise failures[min(failures)]
    return dict(answers)


class Transport:
    """The shards of one server; subclasses say how a call reaches one."""

    shards: int

    def run(self, calls: Mapping[int, Call]) -> dict[int, Any]:
        raise NotImplementedError

    def all(self, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        """The same call on every shard, answers in shard order."""
        found = self.run({k: (method, args, kwargs) for k in range(self.shards)})
        return [found[k] for k in range(self.shards)]

    def one(self, shard: int, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.run({shard: (method, args, kwargs)})[shard]

    def pids(self) -> list[int]:
        """The process of each shard (for operators and the kill test)."""
        return [status["pid"] for status in self.all("status")]

    def close(self, snapshot: bool = True) -> None:
        """Close every shard (each writes a last snapshot when `snapshot`)."""
        raise NotImplementedError


class LocalTransport(Transport):
    """N workers in this process, asked one after the other (the GIL would serialise them anyway)."""

    def __init__(self, make: Callable[[int], ShardWorker], shards: int) -> None:
        self.shards = shards
        self.make = make
        self.workers: list[ShardWorker | None] = [make(k) for k in range(shards)]

    def run(self, calls: Mapping[int, Call]) -> dict[int, Any]:
        answers: dict[int, Any] = {}
        failures: dict[int, BaseException] = {}
        for k, (method, args, kwargs) in calls.items():
            worker = self.workers[k]
            if worker is None:
                failures[k] = ShardUnavailableError([k], "it is stopped")
                continue
            try:
                answer = getattr(worker, method)(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 - raised again by unwrap, the lowest shard's first
                failures[k] = err
                continue
            answers[k] = answer
        return unwrap(answers, failures)

    def kill(self, shard: int) -> None:
        """Take a shard down as a crash would: its log is released, nothing is snapshotted."""
        worker = self.workers[shard]
        self.workers[shard] = None
        if worker is not None:
            worker.close(snapshot=False)

    def restart(self, shard: int) -> None:
        """Bring a shard back: it recovers from its snapshot and log."""
        self.workers[shard] = self.make(shard)

    def close(self, snapshot: bool = True) -> None:
        failed: BaseException | None = None
        for k, worker in enumerate(self.workers):
            self.workers[k] = None
            try:
                if worker is not None:
                    worker.close(snapshot)
            except Exception as err:  # noqa: BLE001 - every shard is closed; the first error is raised after
                failed = failed or err
        if failed is not None:
            raise failed
