"""The shards as Ray actors: Ray places them (spread over the cluster's machines), restarts one whose process
died (it recovers from its snapshot and log in `__init__`), and carries the calls.

The only module that imports Ray; `launch.open_shards` imports it when a server starts with `--shards` on Ray.
A round submits every shard's call before it waits for any, so the shards work in parallel. A shard whose actor
died or is restarting fails the round with UnavailableError naming it; so does one that has not answered within
`timeout` seconds (a hung machine), never a partial answer. The caller's budget (its deadline, the query cost
ceiling) goes with each call and is spent in the shard's process.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from bitseg.index.budget import Budget, current, spending
from bitseg.query.limits import DEFAULT_LIMITS, Limits
from bitseg.shards.transport import Call, ShardUnavailableError, Transport, unwrap
from bitseg.shards.worker import RemoteError, ShardWorker

CALL_SECONDS = 600.0   # a shard that has not answered a call by then is taken as unavailable
CONCURRENCY = 16       # calls one shard actor runs at once (threads: reads never wait for a write's fsync)
log = logging.getLogger("bitseg.shards")


class ShardActor:
    """A ShardWorker in a Ray actor process; answers ("ok", value) or ("err", RemoteError)."""

    def __init__(self, data_dir: str, shard: int, shards: int, limits: Limits, daily_at: dt.time,
                 keep: int) -> None:
        self.worker = ShardWorker(data_dir, shard, shards, limits=limits, daily_at=daily_at, keep=keep)

    def run(self, method: str, args: tuple, kwargs: dict,
            budget: tuple[float | None, int | None] = (None, None)) -> tuple[str, Any]:
        """The call under the caller's budget (seconds left, cost ceiling): a deadline or a too costly query
        ends here as it would in one process."""
        try:
            with spending(Budget(*budget)):
                return "ok", getattr(self.worker, method)(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - carried back as data and raised again by the coordinator
            return "err", RemoteError.of(err)


def start_ray(address: str | None) -> bool:
    """Join the cluster at `address`, or start a local Ray runtime; True when this call started it."""
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                               "logging_level": logging.WARNING}
    if address:
        ray.init(address=address, **options)
    else:
        ray.init(num_cpus=os.cpu_count() or 1, **options)
    return True


class RayTransport(Transport):
    """N ShardActors, restarted by Ray whenever their process dies."""

    def __init__(self, data_dir: str, shards: int, *, address: str | None = None,
                 limits: Limits = DEFAULT_LIMITS, daily_at: dt.time = dt.time(2), keep: int = 7,
                 timeout: float = CALL_SECONDS) -> None:
        self.shards = shards
        self.timeout = timeout
        self.started = start_ray(address)
        remote: Any = ray.remote(ShardActor).options(  # type: ignore[attr-defined]
            max_restarts=-1, max_task_retries=0, max_concurrency=CONCURRENCY, num_cpus=0,
            scheduling_strategy="SPREAD")
        self.actors: list[Any] = [remote.remote(str(data_dir), k, shards, limits, daily_at, keep) for k in range(shards)]
        self.all("status")  # every shard has opened (recovered) its Store, or this raises

    def run(self, calls: Mapping[int, Call]) -> dict[int, Any]:
        spent = current()
        budget = (spent.remaining(), spent.max_cost)
        refs = {k: self.actors[k].run.remote(method, tuple(args), dict(kwargs), budget)
                for k, (method, args, kwargs) in calls.items()}
        answers: dict[int, Any] = {}
        failures: dict[int, BaseException] = {}
        wait = self.timeout
        try:  # the common case: one wait for every answer
            found = dict(zip(refs, ray.get(list(refs.values()), timeout=self.timeout), strict=True))
        except RayActorError:
            found = {}  # a shard died: ask each (the others' answers are there or coming)
        except GetTimeoutError:
            found, wait = {}, 0.0  # the time is up: take what has come
        for k, ref in refs.items():
            if k in found:
                status, value = found[k]
            else:
                try:
                    status, value = ray.get(ref, timeout=wait)
                except RayActorError as err:
                    failures[k] = ShardUnavailableError([k], f"its actor died or is restarting: {type(err).__name__}")
                    continue
                except GetTimeoutError:
                    ray.cancel(ref)
                    failures[k] = ShardUnavailableError([k], f"no answer within {self.timeout:g} s")
                    continue
            if status == "ok":
                answers[k] = value
            else:
                failures[k] = value.rebuild()
        return unwrap(answers, failures)

    def close(self, snapshot: bool = True) -> None:
        try:
            ray.get([actor.run.remote("close", (snapshot,), {}) for actor in self.actors], timeout=self.timeout)
        except Exception:  # noqa: BLE001 - a dead shard has nothing to close; its log holds every write
            log.warning("a shard could not be closed cleanly", exc_info=True)
        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        self.actors = []
        if self.started:
            ray.shutdown()
