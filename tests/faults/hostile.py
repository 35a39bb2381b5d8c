"""A real server process on a synthetic index, for the hostile-load fault tests (not a test module).

`python hostile.py CUSTOMERS LINES JSON_CONFIG` builds an in-memory catalog with index `shop` (CUSTOMERS
customers `c0…`, LINES purchase lines spread over 2025), starts a server on a free port with the ServerConfig
fields of JSON_CONFIG, prints `PORT <n>` and serves until killed. `Hostile` starts and stops one from a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import grpc

SCHEMA = '[profile]\ncountry = "keyword"\npoints = "int"\n[purchase]\nbrand = "keyword"\n'


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Hostile:
    def __init__(self, customers: int, lines: int, **config: object) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, str(customers), str(lines), json.dumps(config)],
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.process.kill()
            raise RuntimeError(f"the server did not start: {line!r}")
        self.address = f"127.0.0.1:{int(line.split()[1])}"

    def channel(self, **options: int) -> grpc.Channel:
        return grpc.insecure_channel(self.address, options=list(options.items()))

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def wait_idle(self, timeout: float = 10.0, step: float = 0.1) -> float:
        """Seconds until the server's CPU use stops growing (less than 20% of a core over `step`)."""
        started = time.monotonic()
        before = self.cpu()
        while time.monotonic() - started < timeout:
            time.sleep(step)
            now = self.cpu()
            if now - before < 0.2 * step:
                return time.monotonic() - started
            before = now
        raise AssertionError(f"the server stayed busy for {timeout} s")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def _main(customers: int, lines: int, config: dict) -> None:
    import numpy as np

    from bitseg import Catalog
    from bitseg.server.app import ServerConfig, start

    catalog = Catalog()
    index = catalog.create_index("shop", SCHEMA)
    ids = np.array([f"c{i}" for i in range(customers)], dtype=object)
    rng = np.random.default_rng(7)
    index.upsert_profile_columns({"customer": ids, "country": np.array(["NL", "BE", "DE"], dtype=object)[
        rng.integers(0, 3, customers)], "points": rng.integers(0, 1000, customers)})
    if lines:
        days = np.datetime64("2025-01-01") + rng.integers(0, 365, lines).astype("timedelta64[D]")
        index.add_purchase_columns({"customer": ids[rng.integers(0, customers, lines)], "time": days,
                                    "amount": rng.integers(100, 20000, lines) / 100,
                                    "brand": np.array(["a", "b", "c", "d"], dtype=object)[rng.integers(0, 4, lines)]})
    server = start(ServerConfig(port=0, **config), catalog)
    print(f"PORT {server.port}", flush=True)
    server.wait()


if __name__ == "__main__":
    _main(int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3]))
