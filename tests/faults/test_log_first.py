"""Log first (issue 10, findings 3 and 4; issue 9, reads never wait): a write the log refused is never visible,
the store turns read-only and heals by itself when the log can be written again, readers never wait for a
write's fsync, and the log keeps a good handle when it cannot open its next file.

On a real small disk (a tmpfs) with real server processes where mount is permitted (skipped otherwise); the
same properties by fault injection in the log's open/fsync everywhere."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

import pytest

from bitseg import ReadOnlyError, UnavailableError
from bitseg.client import Client
from bitseg.persistence import Store
from bitseg.persistence import wal as wal_module
from tests.faults.small_disk import Serving, fill_inodes, fill_space, give_back, read_only, small_disk

SCHEMA = '[profile]\nvip = "bool"\n[purchase]\nbrand = "keyword"\n'


def profiles(prefix: str, n: int) -> list[dict[str, object]]:
    return [{"customer": f"{prefix}{i}", "vip": i % 2 == 0} for i in range(n)]


def wait_until(condition, seconds: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_full_disk_never_shows_an_unacknowledged_write_and_heals(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "16m") as disk:
        server = Serving(disk / "data")
        try:
            client = Client(server.address, retries=0)
            client.create_index("shop", SCHEMA)
            client.upsert_profiles("shop", profiles("a", 100))
            filler = fill_space(disk)
            with pytest.raises(UnavailableError, match="No space left"):
                client.upsert_profiles("shop", profiles("b", 2000))
            assert client.count("shop", "ALL") == 100  # refused by the log: never visible
            with pytest.raises(UnavailableError, match="refused while the log cannot be written"):
                client.upsert_profiles("shop", profiles("c", 10))  # read-only, reads go on
            assert client.count("shop", "vip = true") == 50
            assert client.health() == "NOT_SERVING"  # the store is read-only: health says so
            give_back(filler)

            def accepted() -> bool:
                try:
                    client.upsert_profiles("shop", profiles("b", 2000))
                except UnavailableError:
                    return False
                return True
            assert wait_until(accepted), "the store did not heal when space came back"
            assert client.count("shop", "ALL") == 2100
            assert wait_until(lambda: client.health() == "SERVING")  # healed without a restart
            client.close()
            server.kill()  # kill -9: only the log holds the acknowledged changes
            server = Serving(disk / "data")
            with Client(server.address) as again:
                assert again.count("shop", "ALL") == 2100
        finally:
            server.kill()


def test_no_inodes_then_fixed_writes_go_on_and_snapshots_resume(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "64m", inodes=400) as disk:
        store = Store(disk / "data").open()
        index = store.create_index("shop", SCHEMA)
        index.upsert_profiles(profiles("a", 100))
        fillers = fill_inodes(disk)
        with pytest.raises(Exception, match="No space left"):
            store.snapshot()  # cannot make its folder; the log cannot start a new file either
        assert not list((disk / "data" / "snapshots").glob(".tmp-*"))
        index.upsert_profiles(profiles("b", 100))  # the log goes on in the file it has
        assert store.writable and index.count("ALL") == 200
        give_back(fillers)
        store.snapshot()
        index.upsert_profiles(profiles("c", 100))
        store.close(snapshot=False)
        assert Store(disk / "data").open().get("shop").count("ALL") == 300


def test_a_read_only_wal_folder_keeps_the_log_in_its_file_and_heals(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "64m") as disk:
        store = Store(disk / "data", heal_backoff=(0.02, 0.2)).open()
        index = store.create_index("shop", SCHEMA)
        index.upsert_profiles(profiles("a", 100))
        with read_only(disk / "data" / "wal"):
            store.snapshot()  # the log cannot open its next file: it stays in the current one
            index.upsert_profiles(profiles("b", 100))
            assert store.writable and index.count("ALL") == 200
            store.wal._fd and os.close(store.wal._fd)  # the handle goes bad: the next write fails …
            with pytest.raises(ReadOnlyError):
                index.upsert_profiles(profiles("c", 100))
            time.sleep(0.3)
            assert not store.writable  # … and the folder is read-only, so it cannot reopen it yet
            assert index.count("ALL") == 200
        assert wait_until(lambda: store.writable), store.problem  # fixed: healed, through a fresh handle
        index.upsert_profiles(profiles("c", 100))
        store.close(snapshot=False)
        assert Store(disk / "data").open().get("shop").count("ALL") == 300


def test_readers_never_wait_for_a_writes_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path).open()
    index = store.create_index("shop", SCHEMA)
    index.upsert_profiles(profiles("a", 100))
    syncing, release = threading.Event(), threading.Event()
    real_sync = wal_module._sync

    def slow_sync(fd: int) -> None:
        syncing.set()
        release.wait(10)
        real_sync(fd)

    monkeypatch.setattr(wal_module, "_sync", slow_sync)
    writer = threading.Thread(target=index.upsert_profiles, args=(profiles("b", 100),))
    writer.start()
    assert syncing.wait(10)
    started = time.perf_counter()
    assert index.count("ALL") == 100  # not waiting, and not seeing the batch before it is durable
    assert index.members("vip = true")[:1] == ["a0"]
    waited = time.perf_counter() - started
    release.set()
    writer.join(10)
    assert waited < 1.0
    assert index.count("ALL") == 200
    store.close(snapshot=False)


def test_injected_failures_to_open_the_next_log_file_keep_the_handle(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path, heal_backoff=(0.01, 0.05)).open()
    index = store.create_index("shop", SCHEMA)
    index.upsert_profiles(profiles("a", 10))
    real_open = os.open

    def no_inodes(path, flags, *args):  # type: ignore[no-untyped-def]
        if flags & os.O_CREAT:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, flags, *args)

    monkeypatch.setattr(wal_module.os, "open", no_inodes)
    before = store.wal._fd
    store.wal.rotate()
    assert store.wal._fd == before  # still the good handle
    index.upsert_profiles(profiles("b", 10))

    def failing_sync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(wal_module, "_sync", failing_sync)
    with pytest.raises(ReadOnlyError, match="Input/output error"):
        index.upsert_profiles(profiles("c", 10))
    assert index.count("ALL") == 20 and not store.writable
    monkeypatch.undo()
    assert wait_until(lambda: store.writable, 5)
    index.upsert_profiles(profiles("c", 10))
    store.close(snapshot=False)
    assert Store(tmp_path).open().get("shop").count("ALL") == 30
