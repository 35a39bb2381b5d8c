"""Healing a failed log: a thread that retries with backoff until the log can be written again.

>>> import time
>>> attempts, reported = [], []
>>> def heal() -> None:
...     attempts.append(1)
...     if len(attempts) < 3:
...         raise PersistenceError("the disk is full")
>>> healer = Healer(heal, reported.append, lambda: True, (0.001, 0.01))
>>> healer.start(); healer.start()  # a second start while one runs does nothing
>>> healer.join(5)
>>> len(attempts), reported[-1]
(3, None)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bitseg.errors import PersistenceError


class Healer:
    """Calls `heal` (which raises PersistenceError while the cause lasts) every `first`, 2×`first`, … up to
    `longest` seconds, reporting each failure's message and finally None to `report`; gives up when `alive()`
    turns False (the store was closed)."""

    def __init__(self, heal: Callable[[], None], report: Callable[[str | None], None], alive: Callable[[], bool],
                 backoff: tuple[float, float] = (0.05, 5.0)) -> None:
        self.heal = heal
        self.report = report
        self.alive = alive
        self.first, self.longest = backoff
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="bitseg-heal", daemon=True)
                self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        wait = self.first
        while self.alive():
            time.sleep(wait)
            try:
                self.heal()
            except PersistenceError as err:
                self.report(str(err))
                wait = min(self.longest, wait * 2)
                continue
            self.report(None)
            return
