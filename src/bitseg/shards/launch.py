"""Starting the shards of a server: in this process (`local`, for tests) or as Ray actors (`ray`)."""

from __future__ import annotations

import datetime as dt
from functools import partial

from bitseg.errors import PersistenceError
from bitseg.persistence.clock import Clock, utc_now
from bitseg.query.limits import DEFAULT_LIMITS, Limits
from bitseg.schema import Schema
from bitseg.shards.coordinator import ShardedStore, open_sharded
from bitseg.shards.sharded import ShardedIndex
from bitseg.shards.transport import LocalTransport, Transport
from bitseg.shards.worker import ShardWorker

TRANSPORTS = ("ray", "local")


def open_shards(data_dir: str, shards: int, *, transport: str = "ray", ray_address: str | None = None,
                limits: Limits = DEFAULT_LIMITS, daily_at: dt.time = dt.time(2), keep: int = 7,
                clock: Clock = utc_now) -> ShardedStore:
    """The coordinator over `shards` shards of `data_dir`, each shard recovered from its own snapshot and log."""
    if transport not in TRANSPORTS:
        raise ValueError(f"unknown shard transport {transport!r}: {' or '.join(TRANSPORTS)}")

    def make() -> Transport:
        if transport == "local":
            return LocalTransport(partial(_worker, data_dir, shards, limits, daily_at, keep, clock), shards)
        try:
            from bitseg.shards.rayshards import RayTransport  # Ray is imported here and only here
        except ImportError as err:
            raise PersistenceError(f"--shards needs Ray, which cannot be imported ({err}): "
                                   "pip install 'bitseg[ray]'") from None
        return RayTransport(data_dir, shards, address=ray_address, limits=limits, daily_at=daily_at, keep=keep)

    return open_sharded(data_dir, shards, make, limits=limits, clock=clock)


def memory_index(schema: Schema, shards: int, name: str = "default", limits: Limits = DEFAULT_LIMITS,
                 clock: Clock = utc_now) -> ShardedIndex:
    """A sharded index held in memory by `shards` in-process workers (tests and benchmarks: no log, no Ray).

    >>> shop = memory_index(Schema.from_toml('[profile]\\nvip = "bool"'), 3)
    >>> shop.upsert_profiles([{"customer": f"c{i}", "vip": i % 2 == 0} for i in range(10)])
    10
    >>> shop.count("vip = true"), sorted(shop.members("vip = false"))
    (5, ['c1', 'c3', 'c5', 'c7', 'c9'])
    """
    transport = LocalTransport(lambda shard: ShardWorker(None, shard, shards, limits=limits, clock=clock), shards)
    transport.all("store_call", "create_index", (name, schema.to_toml()))
    return ShardedIndex(name, schema, limits, transport, clock)


def _worker(data_dir: str, shards: int, limits: Limits, daily_at: dt.time, keep: int, clock: Clock,
            shard: int) -> ShardWorker:
    return ShardWorker(data_dir, shard, shards, limits=limits, daily_at=daily_at, keep=keep, clock=clock)
