"""Prometheus metrics (the optional extra `bitseg[metrics]`), served at http://HOST:PORT/metrics.

Each server has a registry of its own, so two servers in one process (tests) do not share series. The values
are set where they change (a call ends, a write ends, a snapshot ends), never computed when scraped.
"""

from __future__ import annotations

from typing import Any

# Calls take 0.1 ms to minutes (an import stream): buckets from 0.25 ms up.
BUCKETS = (0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
           60.0, 300.0)


class Metrics:
    """The SPEC §11 metrics in a registry of their own; `serve(port)` starts the HTTP endpoint."""

    def __init__(self) -> None:
        try:
            import prometheus_client as prom
        except ImportError:
            raise RuntimeError("--metrics-port needs prometheus-client: pip install 'bitseg[metrics]'") from None
        self._prom = prom
        self.registry = prom.CollectorRegistry()
        r = self.registry
        self.rpc_total = prom.Counter("bitseg_rpc", "Calls by method and status code", ["method", "code"],
                                      registry=r)
        self.rpc_seconds = prom.Histogram("bitseg_rpc_seconds", "Time per call, to its last message", ["method"],
                                          buckets=BUCKETS, registry=r)
        self.customers = prom.Gauge("bitseg_customers", "Customers per index", ["index"], registry=r)
        self.lines = prom.Gauge("bitseg_lines", "Purchase lines per index", ["index"], registry=r)
        self.wal = prom.Gauge("bitseg_wal_bytes", "Bytes of the write-ahead log on disk", registry=r)
        self.last_snapshot_ts = prom.Gauge("bitseg_last_snapshot_timestamp_seconds",
                                           "Unix time of the newest good snapshot", registry=r)
        self.snapshot_seconds = prom.Histogram("bitseg_snapshot_seconds", "Time to write a snapshot",
                                               buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300), registry=r)
        self.snapshot_failures = prom.Counter("bitseg_snapshot_failures", "Snapshots that failed", registry=r)
        self._http: Any = None

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Start the /metrics endpoint; returns the port it listens on (useful with port 0)."""
        self._http, _thread = self._prom.start_http_server(port, addr=host, registry=self.registry)
        return int(self._http.server_port)

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def call(self, method: str, code: str, seconds: float) -> None:
        self.rpc_total.labels(method, code).inc()
        self.rpc_seconds.labels(method).observe(seconds)

    def index_size(self, index: str, customers: int, lines: int) -> None:
        self.customers.labels(index).set(customers)
        self.lines.labels(index).set(lines)

    def forget_index(self, index: str) -> None:
        for gauge in (self.customers, self.lines):
            try:
                gauge.remove(index)
            except KeyError:
                pass

    def wal_bytes(self, size: int) -> None:
        self.wal.set(size)

    def last_snapshot(self, timestamp: float) -> None:
        self.last_snapshot_ts.set(timestamp)

    def snapshot(self, seconds: float, ok: bool) -> None:
        if ok:
            self.snapshot_seconds.observe(seconds)
        else:
            self.snapshot_failures.inc()

    def text(self) -> str:
        """The exposition text, as a scrape would see it."""
        return self._prom.generate_latest(self.registry).decode()
