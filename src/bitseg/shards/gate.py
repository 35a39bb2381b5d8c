"""The gate of a sharded index: a read never sees half a write batch across shards.

A write batch reaches each shard separately; a read that ran while some shards had published it and others not
would count half a batch. So a write round holds the gate alone and read rounds share it (many at once). Turns
alternate: the readers waiting when a write ends go in before the next writer, and a waiting writer goes before
readers that come later, so neither a stream of reads nor a stream of imports starves the other.

>>> gate = Gate()
>>> with gate.read(), gate.read():
...     gate.readers
2
>>> with gate.write():
...     gate.writing
True
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Gate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.readers = 0
        self.writing = False
        self._waiting_writers = 0
        self._waiting_readers = 0
        self._readers_turn = False  # set when a write ends: the readers waiting then go first

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            self._waiting_readers += 1
            while self.writing or (self._waiting_writers and not self._readers_turn):
                self._cond.wait()
            self._waiting_readers -= 1
            if not self._waiting_readers:
                self._readers_turn = False
            self.readers += 1
        try:
            yield
        finally:
            with self._cond:
                self.readers -= 1
                if not self.readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._waiting_writers += 1
            while self.writing or self.readers or (self._readers_turn and self._waiting_readers):
                self._cond.wait()
            self._waiting_writers -= 1
            self.writing = True
        try:
            yield
        finally:
            with self._cond:
                self.writing = False
                self._readers_turn = bool(self._waiting_readers)
                self._cond.notify_all()
