"""Real crashes: a child process writes through a Store and is killed with SIGKILL; the survivor must hold every
acknowledged call and answer exactly like an uninterrupted run of the same calls.

The child (crash_child.py) prints `ack N` after call N returns. After the kill the store is reopened here; the
number of calls it holds is read from the log (one record per call), must be at least the acknowledged ones and
at most one more (the call in flight may have been logged before its ack was printed).
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bitseg
from bitseg import Catalog
from bitseg.persistence import Store

from . import shop

CHILD = Path(__file__).with_name("crash_child.py")
SRC = Path(bitseg.__file__).parent.parent


@functools.cache
def calls() -> list[tuple[str, tuple, dict]]:
    return shop.crash_calls()


def reference(count: int) -> Any:
    """An in-memory index after the first `count` calls, never interrupted."""
    index = Catalog().create_index("shop", shop.SCHEMA)
    for method, args, kwargs in calls()[:count]:
        getattr(index, method)(*args, **kwargs)
    return index


def run_and_kill(data_dir: Path, mode: str, arg: int, kill_when: Callable[[str], bool], delay: float = 0) -> int:
    """Start the child, SIGKILL it `delay` seconds after it prints a line `kill_when` accepts; returns its acks
    (those it printed before it died, read to the end of the pipe)."""
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    child = subprocess.Popen([sys.executable, str(CHILD), str(data_dir), mode, str(arg)], stdout=subprocess.PIPE,
                             text=True, env=env)
    watchdog = threading.Timer(60, child.kill)
    watchdog.start()
    acked = 0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("ack "):
                assert int(line.split()[1]) == acked
                acked += 1
            if kill_when(line):
                time.sleep(delay)
                os.kill(child.pid, signal.SIGKILL)
                acked += sum(rest.startswith("ack ") for rest in child.stdout)
                break
    finally:
        child.wait()
        watchdog.cancel()
        child.stdout.close()  # type: ignore[union-attr]
    assert child.returncode == -signal.SIGKILL, "the child ended on its own"
    return acked


def check_recovered(data_dir: Path, acked: int, exact: bool) -> Store:
    store = Store(data_dir).open()
    held = store.wal.last_seq - 1  # records: create_index, then one per call
    assert acked <= held <= acked + (0 if exact else 1), (acked, held)
    index = store.get("shop")
    for number in range(acked):
        method, args, _ = calls()[number]
        if method == "add_purchase_columns":
            marker = args[0]["customer"][-1]
            assert index.translator.column(marker) is not None, f"acknowledged call {number} lost"
    assert shop.answers(index) == shop.answers(reference(held))
    # and it goes on from there as if nothing happened
    for method, args, kwargs in calls()[held:]:
        getattr(index, method)(*args, **kwargs)
    assert shop.answers(index) == shop.answers(reference(len(calls())))
    return store


@pytest.mark.parametrize(("after", "delay"), [(9, 0), (17, 0), (12, 0.004), (20, 0.011)])
def test_kill_during_a_stream_of_imports(tmp_path: Path, after: int, delay: float) -> None:
    acked = run_and_kill(tmp_path, "stream", 0, lambda line: line == f"ack {after}\n", delay)
    store = check_recovered(tmp_path, acked, exact=False)
    assert store.list_snapshots()  # the child snapshotted every 5 calls
    store.close()


def test_kill_with_a_torn_record_at_the_tail(tmp_path: Path) -> None:
    acked = run_and_kill(tmp_path, "torn", 11, lambda line: line == "torn\n")
    assert acked == 11
    store = check_recovered(tmp_path, acked, exact=True)
    assert any("torn last record" in p for p in store.problems)
    store.close()


def test_kill_between_snapshot_files_and_rename(tmp_path: Path) -> None:
    acked = run_and_kill(tmp_path, "snapshot", 14, lambda line: line == "publishing\n")
    assert acked == 15
    assert list((tmp_path / "snapshots").glob(".tmp-*"))  # the unfinished snapshot, every file written
    store = check_recovered(tmp_path, acked, exact=True)
    assert store.problems == [] and len(store.list_snapshots()) == 1  # the earlier one only
    assert not list((tmp_path / "snapshots").glob(".tmp-*"))
    store.close()
