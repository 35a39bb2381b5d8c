"""A byte budget for ingest messages in flight: converting a message costs many times its size in memory, so
the servicer holds a message's size against the budget while it turns it into columns and applies it.

A message waits until it fits (the client waits, its stream is not read meanwhile); one larger than the whole
budget is admitted alone. The server's budget is its `ingest_budget_bytes` (`bitseg serve --ingest-budget-bytes`,
the config key or `BITSEG_INGEST_BUDGET_BYTES`; default 128 MiB). After `wait` seconds the call is refused with OverloadedError (RESOURCE_EXHAUSTED).

>>> budget = InFlight(100, wait=0.01)
>>> with budget.hold(60):
...     with budget.hold(60):
...         pass
Traceback (most recent call last):
bitseg.errors.OverloadedError: the server is converting 60 bytes of ingest messages already (budget 100 bytes); a message of 60 bytes waited 0.01 s. Retry later, or send smaller batches
>>> with budget.hold(500):  # alone, larger than the budget
...     budget.used
500
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bitseg.errors import OverloadedError

# bytes of messages being converted at once (converting takes up to ~19× a message's size in memory)
DEFAULT_BUDGET = int(os.environ.get("BITSEG_INGEST_BUDGET_BYTES", 128 << 20))


class InFlight:
    def __init__(self, budget: int = DEFAULT_BUDGET, wait: float = 60.0) -> None:
        self.budget = budget
        self.wait = wait
        self.used = 0
        self._room = threading.Condition()

    @contextmanager
    def hold(self, size: int) -> Iterator[None]:
        """Hold `size` bytes of the budget for the duration of the block."""
        with self._room:
            if not self._room.wait_for(lambda: self.used == 0 or self.used + size <= self.budget, self.wait):
                raise OverloadedError(
                    f"the server is converting {self.used} bytes of ingest messages already (budget {self.budget} "
                    f"bytes); a message of {size} bytes waited {self.wait:g} s. Retry later, or send smaller "
                    "batches")
            self.used += size
        try:
            yield
        finally:
            with self._room:
                self.used -= size
                self._room.notify_all()
