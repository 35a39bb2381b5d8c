"""A process that applies a stream of write calls through a Store and prints `ack N` after each one returns.

Run by test_crash.py, which kills it with SIGKILL. Usage:

    python crash_child.py DATA_DIR MODE [ARG]

MODE `stream`: every call in order, a snapshot after every 5th. `torn`: after ARG calls, the next log record is
written half and the process waits to be killed. `snapshot`: after ARG calls, a snapshot stops just before its
rename and the process waits to be killed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main(data_dir: str, mode: str, arg: int) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    import shop  # the test folder is not a package in this process

    from bitseg.persistence import Store, snapshot

    store = Store(data_dir).open()
    index = store.create_index("shop", shop.SCHEMA)
    print("ready", flush=True)
    for number, (method, args, kwargs) in enumerate(shop.crash_calls()):
        if mode == "torn" and number == arg:
            def half(fd: int, data: bytes, write=os.write) -> int:
                write(fd, bytes(data[: len(data) // 2]))
                print("torn", flush=True)
                time.sleep(60)
                return 0

            os.write = half  # type: ignore[assignment]
        getattr(index, method)(*args, **kwargs)
        print(f"ack {number}", flush=True)
        if mode == "stream" and number % 5 == 4:
            store.snapshot()
        if mode == "snapshot" and number in (arg // 2, arg):
            if number == arg:
                def stop(temp: Path, final: Path) -> None:
                    print("publishing", flush=True)
                    time.sleep(60)

                snapshot._publish = stop  # type: ignore[assignment]
            store.snapshot()
    print("done", flush=True)
    time.sleep(60)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
