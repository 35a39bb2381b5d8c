"""Real disks and real server processes for the fault tests of the write path: a small tmpfs (skipped where
mount is not permitted), filling it up (space or inodes), a read-only bind mount, and `bitseg serve` in a
subprocess."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
       "BITSEG_SERVER": "", "BITSEG_TOKEN": ""}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False)


@contextlib.contextmanager
def small_disk(path: Path, size: str = "16m", inodes: int | None = None) -> Iterator[Path]:
    """A tmpfs of `size` (and `inodes`) mounted at `path`; the test is skipped when mount is not permitted."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (f",nr_inodes={inodes}" if inodes else "")
    done = _run("mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode})")
    try:
        yield path
    finally:
        _run("umount", "-l", str(path))


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """`path` bind-mounted read-only over itself: new files cannot be made there; files already open stay open."""
    if _run("mount", "--bind", str(path), str(path)).returncode != 0:
        pytest.skip("cannot bind-mount here")
    try:
        if _run("mount", "-o", "remount,ro,bind", str(path)).returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield path
    finally:
        _run("umount", "-l", str(path))


def fill_space(folder: Path) -> Path:
    """Fill the disk of `folder` with one file until it is full; delete the file to give the space back."""
    filler = folder / "filler.bin"
    block = bytes(1 << 16)
    with open(filler, "wb", buffering=0) as file:
        try:
            while True:
                file.write(block)
        except OSError as err:
            assert err.errno == errno.ENOSPC
    with contextlib.suppress(OSError), open(filler, "ab", buffering=0) as file:  # the last partial block
        while True:
            file.write(b"\0" * 512)
    return filler


def fill_inodes(folder: Path) -> Path:
    """Use up every inode of `folder`'s disk with empty files in one folder; delete it to give them back."""
    fillers = folder / "fillers"
    fillers.mkdir()
    n = 0
    try:
        while True:
            (fillers / str(n)).touch()
            n += 1
    except OSError as err:
        assert err.errno == errno.ENOSPC
    return fillers


def give_back(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def _entry(line: str) -> dict:
    """A log line: JSON, or (a warning printed before logging starts) its text."""
    try:
        return json.loads(line)
    except ValueError:
        return {"text": line}


class Serving:
    """`bitseg serve --port 0 --data-dir …` in a subprocess, its logs drained."""

    def __init__(self, data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "bitseg.cli", "serve", "--port", "0",
                                         "--data-dir", str(data_dir), *extra], env={**ENV, **(env or {})},
                                        stderr=subprocess.PIPE, text=True)
        assert self.process.stderr is not None
        self.logs: list[dict] = []
        self.address = ""
        for line in self.process.stderr:
            self.logs.append(_entry(line))
            if self.logs[-1].get("msg") == "listening":
                self.address = self.logs[-1]["address"]
                break
        else:
            self.process.wait(timeout=30)
            raise AssertionError(f"the server did not start: {self.logs}")
        stream = self.process.stderr
        self._drain = threading.Thread(target=lambda: self.logs.extend(map(_entry, stream)), daemon=True)
        self._drain.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def peak_rss(self) -> int:
        """The server's peak resident memory so far, in bytes (VmHWM)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self._close()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self._close()

    def _close(self) -> int:
        code = self.process.wait(timeout=60)
        self._drain.join(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return code
