"""A bitseg gRPC server over one benchmark dataset, in a process of its own.

    python -m benchmarks.serve --size S --ready /tmp/ready.json

Builds the same dataset as the benchmarks (same generator, seed and end day), loads it into index `bench`
through the columnar fast path, starts the server on a free port with the access log on (as `bitseg serve`
runs), writes {"port", "pid", "build_seconds"} to the ready file, and serves until its stdin closes.
The client then runs in another process, as a real client does: the two do not share a GIL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve")
    parser.add_argument("--size", required=True)
    parser.add_argument("--ready", required=True, help="file to write the port to once serving")
    parser.add_argument("--log", default=os.devnull, help="file for the server's JSON log lines")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    from benchmarks.data import build, load_bitseg
    from bitseg import Catalog
    from bitseg.server.app import ServerConfig, start
    from bitseg.server.logs import setup_logging

    started = time.perf_counter()
    ds = build(args.size)
    index, _ = load_bitseg(ds)
    del ds
    catalog = Catalog()
    catalog.indexes[index.name] = index
    log = open(args.log, "a", encoding="utf-8")  # noqa: SIM115 - open for the life of the server
    setup_logging(args.log_level, log)
    server = start(ServerConfig(port=0), catalog)
    ready = Path(args.ready)
    temporary = ready.with_suffix(".tmp")
    temporary.write_text(json.dumps({"port": server.port, "pid": os.getpid(),
                                     "build_seconds": time.perf_counter() - started}))
    temporary.replace(ready)
    try:
        sys.stdin.read()        # until the parent closes our stdin (or exits)
    finally:
        server.stop(grace=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
