"""The commands of the README's "Use it from the command line" block and of the Online Retail walk-through
(examples/online_retail/README.md), run as written against a real server, so the docs cannot drift from the CLI.

Each command line runs in bash from a fresh folder, with `bitseg` and `python` on PATH, BITSEG_PORT and
BITSEG_SERVER naming a free port (so `bitseg serve …` and the client verbs meet there, as on 50051), and the
index's time zone as TZ. The one substitution: the README generates `--size S` (2M lines); here `--size XS`, so
the block runs in about half a minute. The walk-through needs the UCI source file (as tests/index/
test_online_retail.py does, skipped without it); its printed outputs are compared with the ones the page shows.
Its Python blocks are what tests/index/test_online_retail.py runs; the download block (section 0) is not run.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE_NAME = "online_retail_II_2009_2010.csv.gz"
SOURCE = next((p for p in (Path(os.environ.get("BITSEG_ONLINE_RETAIL", "/nonexistent")),
                           ROOT.parent / "shared" / "data" / SOURCE_NAME, Path("/work/shared/data") / SOURCE_NAME)
               if p.is_file()), None)


def readme_block() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Use it from the command line"):]
    body = re.search(r"```sh\n(.*?)```", section, re.S)
    assert body is not None
    return [line for line in body.group(1).splitlines() if line.strip()]


def walkthrough() -> list[tuple[str, list[str]]]:
    """(command, the output lines the page shows) of every ```console block."""
    text = (ROOT / "examples" / "online_retail" / "README.md").read_text(encoding="utf-8")
    out: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        lines = block.splitlines()
        at = 0
        while at < len(lines):
            assert lines[at].startswith("$ "), lines[at]
            command = lines[at][2:]
            while command.endswith("\\"):
                at += 1
                command = command[:-1] + " " + lines[at].strip()
            at += 1
            shown = []
            while at < len(lines) and not lines[at].startswith("$ "):
                shown.append(lines[at])
                at += 1
            out.append((command, shown))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Shell:
    """A folder, an environment and a server on a free port for running documented command lines."""

    def __init__(self, folder: Path, zone: str) -> None:
        self.folder = folder
        tools = folder / ".bin"
        tools.mkdir()
        (tools / "bitseg").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m bitseg.cli "$@"\n')
        (tools / "bitseg").chmod(0o755)
        (tools / "python").symlink_to(sys.executable)
        self.port = free_port()
        self.env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}", "TZ": zone,
                    "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
                    "BITSEG_PORT": str(self.port), "BITSEG_SERVER": f"127.0.0.1:{self.port}", "BITSEG_TOKEN": ""}
        self.server: subprocess.Popen[bytes] | None = None

    def run(self, line: str) -> str:
        """One documented line; a line ending in `&` (`bitseg serve … &`) starts the server and waits for it."""
        code = line.split(" #")[0].strip()
        if code.endswith("&"):
            assert self.server is None, "one server per shell"
            self.server = subprocess.Popen(["bash", "-c", "exec " + code[:-1]], cwd=self.folder, env=self.env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while True:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", self.port)) == 0:
                        return ""
                assert self.server.poll() is None, f"{line!r} exited with {self.server.returncode}"
                assert time.monotonic() < deadline, f"{line!r} did not listen on {self.port}"
                time.sleep(0.1)
        done = subprocess.run(["bash", "-ec", line], cwd=self.folder, env=self.env, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, (line, done.returncode, done.stdout[-2000:], done.stderr[-2000:])
        return done.stdout

    def close(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            self.server.wait(timeout=60)


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    created = Shell(tmp_path, "Europe/Amsterdam")
    try:
        yield created
    finally:
        created.close()


def test_the_readme_command_line_block_runs_as_written(shell: Shell) -> None:
    lines = readme_block()
    assert any(line.startswith("bitseg serve") for line in lines) and len(lines) >= 10
    outputs = {}
    for line in lines:
        if line.startswith("bitseg generate"):
            assert "--size S " in line
            line = line.replace("--size S ", "--size XS ")  # the one substitution (see the docstring)
        outputs[line] = shell.run(line)
    assert (shell.folder / "ids.txt").is_file()
    assert (shell.folder / "big_spenders.png").read_bytes()[:4] == b"\x89PNG"
    count = next(out for line, out in outputs.items() if line.startswith("bitseg count"))
    assert count.strip().replace(",", "").isdigit()
    history = next(out for line, out in outputs.items() if line.startswith("bitseg history"))
    assert history.count("backfilled") == 30  # --backfill 30: the 30 days before today, then today's row


@pytest.mark.slow
@pytest.mark.skipif(SOURCE is None, reason=f"{SOURCE_NAME} not found (set BITSEG_ONLINE_RETAIL)")
def test_the_online_retail_walkthrough_runs_as_written(tmp_path: Path) -> None:
    shell = Shell(tmp_path, "Europe/London")
    try:
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / SOURCE_NAME).symlink_to(SOURCE)  # type: ignore[arg-type]
        (tmp_path / "examples").symlink_to(ROOT / "examples")
        shell.run("bitseg serve &")  # "Start a server (`bitseg serve`) in another terminal"
        steps = walkthrough()
        assert len(steps) >= 15
        for command, shown in steps:
            printed = shell.run(command).rstrip("\n").splitlines()
            if shown:
                assert printed == shown, command
    finally:
        shell.close()
