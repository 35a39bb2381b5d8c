"""Property: with the log failing on random writes, the index answers like the oracle fed only the writes that
were acknowledged — live (a refused batch is never visible, not even until a restart), and after a restart."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from bitseg import ReadOnlyError
from bitseg.persistence import SimulatedClock, Store
from bitseg.persistence import wal as wal_module
from tests.persistence.test_roundtrip_oracle import (
    BASES,
    CLOCK_START,
    NAME,
    Known,
    assert_agrees,
    draw_writes,
)

from oracle import Oracle  # isort: skip  # noqa: E402 (put on the path by test_roundtrip_oracle)
from test_oracle_properties import SCHEMA, SCHEMA_TOML, apply, examples  # isort: skip  # noqa: E402

MAY_FAIL = {"profiles", "lines", "list_change", "delete"}  # a refused segment or new list would confuse `Known`


@examples(10)
@given(data=st.data())
def test_writes_the_log_refused_are_never_seen(data) -> None:  # type: ignore[no-untyped-def]
    known = Known(base=data.draw(BASES, label="base"))
    oracle = Oracle(SCHEMA)
    steps: list[tuple[str, object]] = []
    failing = [False]
    real_sync = wal_module._sync

    def sync(fd: int) -> None:
        if failing[0]:
            raise OSError(28, "No space left on device")
        real_sync(fd)

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "data"
        clock = SimulatedClock(CLOCK_START)
        store = Store(folder, clock=clock, heal_backoff=(0.001, 0.01)).open()
        store.create_index(NAME, SCHEMA_TOML)
        with mock.patch.object(wal_module, "_sync", sync):
            for step in draw_writes(data.draw, known, data.draw(st.integers(3, 10), label="writes")):
                failing[0] = step[0] in MAY_FAIL and data.draw(st.booleans(), label="the log fails")
                try:
                    apply([step], store.get(NAME), oracle)  # the oracle gets it only when acknowledged
                    steps.append(step)  # acknowledged (or it changed nothing, so nothing was logged)
                except ReadOnlyError:
                    assert failing[0]
                    failing[0] = False
                    deadline = time.monotonic() + 10
                    while not store.writable and time.monotonic() < deadline:
                        time.sleep(0.001)
                    assert store.writable, store.problem
            assert_agrees(data.draw, store, oracle, known, "live, after refused writes", steps)
        store.close(snapshot=False)
        store = Store(folder, clock=clock).open()
        try:
            assert_agrees(data.draw, store, oracle, known, "after a restart", steps)
        finally:
            store.close(snapshot=False)
