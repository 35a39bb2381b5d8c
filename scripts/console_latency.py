"""What the console adds to a call: the editor's three answers and the CSV download, through the console's HTTP
against the same call made with bitseg.Client, on the demo retailer. Usage: python scripts/console_latency.py [SIZE]
(XS, S (default), M; needs the `console` extra)."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable

from bitseg import Client
from bitseg.cli.serve import load_demo
from bitseg.console import start
from bitseg.server.app import ServerConfig
from bitseg.server.app import start as start_server

QUERY = "purchases MATCHES (department = 'Shoes', date >= -12m, sum_quantity >= 2) AND loyalty_member = true"


def median_ms(call: Callable[[], object], runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(size: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = start_server(ServerConfig(port=0, data_dir=folder))
        load_demo(server.catalog, size)
        client = Client(f"127.0.0.1:{server.port}")
        console = start(client)
        try:
            def get(path: str, query: str = QUERY) -> bytes:
                url = f"{console.url}/api/i/demo/{path}?{urllib.parse.urlencode({'q': query})}"
                with urllib.request.urlopen(url) as answer:
                    return bytes(answer.read())

            print(f"demo {size}: {client.count('demo', 'ALL'):,} customers; median of 20, ms")
            for name, direct in (("count", lambda: client.count_with_warnings("demo", QUERY)),
                                 ("criteria", lambda: client.criteria("demo", QUERY)),
                                 ("members", lambda: list(client.members("demo", QUERY, limit=100)))):
                print(f"  {name:<9} client {median_ms(direct):6.1f}   console {median_ms(lambda: get(name)):6.1f}")
            every = median_ms(lambda: sum(1 for _ in client.members("demo", "ALL")), 5)
            csv = median_ms(lambda: get("members.csv", "ALL"), 5)
            print(f"  every member: StreamMembers {every:.0f}, console CSV {csv:.0f}")
        finally:
            console.stop()
            client.close()
            server.stop(grace=0)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "S")
