"""The server's logs: JSON lines on stderr, server events through `logging` and one access line per call."""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import sys
import threading
import time
from typing import Any


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra` fields (method, code, ms, …)."""

    _PLAIN = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in self._PLAIN})
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


MAX_PENDING_LINES = 200_000


class AccessLog:
    """One JSON line per call (method, status code, milliseconds, peer, index), written in batches.

    Lines are buffered in memory and written by a background thread every `interval` seconds: a call pays
    a few microseconds, not the ~25 µs of a logging record formatted and written on the spot, which would
    be a tenth of a Count round trip.
    """

    def __init__(self, interval: float = 0.5) -> None:
        self.enabled = False
        self.interval = interval
        self._stream: Any = None
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def configure(self, stream: Any, enabled: bool) -> None:
        self.flush()
        self._stream, self.enabled = stream, enabled
        if enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
            self._thread.start()

    def record(self, **fields: Any) -> None:
        if len(self._lines) > MAX_PENDING_LINES:  # the log stream is stuck: drop lines rather than memory
            return
        now = dt.datetime.now().isoformat(timespec="milliseconds")
        self._lines.append(json.dumps({"time": now, "level": "info", "logger": "bitseg.access", "msg": "rpc",
                                       **fields}))  # list.append is atomic: no lock on the hot path

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
            if lines and self._stream is not None:
                try:
                    self._stream.write("\n".join(lines) + "\n")
                    self._stream.flush()
                except (OSError, ValueError):  # a closed stderr must not take the server down
                    pass

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            self.flush()


access_log = AccessLog()
atexit.register(access_log.flush)


def setup_logging(level: str = "info", stream: Any = None) -> None:
    """JSON lines on stderr: server events through `logging`, one access line per call at level info."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("bitseg")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    access_log.configure(stream, enabled=root.isEnabledFor(logging.INFO))
