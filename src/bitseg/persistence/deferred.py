"""A Dictionary of many values (a large index's order ids) rebuilt from a snapshot in a background thread.

Ten million order ids take seconds to turn back into a Python dict, and nothing but an import needs them:
queries count orders from the line columns. So start-up hands the index this Dictionary, serving starts at once,
and the table fills in the background a chunk at a time (the GIL is let go between chunks). Whatever needs the
codes or values — an import, the next snapshot — waits until it is complete.

>>> d = DeferredDictionary(iter([["o1", "o2"], ["o3"]]))
>>> d.encode(["o3", "o9", None]).tolist(), len(d)
([2, 3, -1], 4)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from bitseg.errors import PersistenceError
from bitseg.index.lines import Dictionary
from bitseg.index.values import ABSENT


class DeferredDictionary(Dictionary):
    def __init__(self, chunks: Iterator[list[str]]) -> None:  # no super().__init__: the thread fills the table
        self._codes: dict[object, int] = {None: -1, "": -1, ABSENT: -1}
        self._values: list[str] = []
        self._error: BaseException | None = None
        self._ready = threading.Event()
        threading.Thread(target=self._build, args=(chunks,), name="bitseg-dictionary", daemon=True).start()

    def _build(self, chunks: Iterator[list[str]]) -> None:
        try:
            for chunk in chunks:
                start = len(self._values)
                self._values.extend(chunk)
                self._codes.update(zip(chunk, range(start, start + len(chunk))))
                time.sleep(0)  # serving threads run between chunks
        except BaseException as err:  # noqa: BLE001 - reported to whoever needs the table
            self._error = err
        finally:
            self._ready.set()

    def wait(self) -> None:
        self._ready.wait()
        if self._error is not None:
            raise PersistenceError(f"order ids could not be read back from the snapshot: {self._error}")

    @property
    def codes(self) -> dict[object, int]:  # type: ignore[override]
        self.wait()
        return self._codes

    @property
    def values(self) -> list[str]:  # type: ignore[override]
        self.wait()
        return self._values
