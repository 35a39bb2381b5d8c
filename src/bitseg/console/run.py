"""The console served by uvicorn: in the foreground for `bitseg console`, or in a thread for a test.

Both bind the socket first, so a port in use is an OSError naming it before anything else starts, and port 0
gives a free port whose number `Running.url` tells.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import uvicorn

from bitseg.console.app import create_app

if TYPE_CHECKING:
    from bitseg.client import Client

DEFAULT_HOST = "127.0.0.1"   # this machine only: the console carries the server's token in its calls
DEFAULT_PORT = 8080


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise OSError(err.errno, f"cannot listen on {host}:{port}: {err.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def allowed_hosts(host: str) -> tuple[str, ...]:
    """The Host headers the console answers: on a loopback address only the loopback names, else any.

    >>> allowed_hosts("127.0.0.1"), allowed_hosts("0.0.0.0")
    (('127.0.0.1', 'localhost', '::1', '[::1]'), ('*',))
    """
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return ("127.0.0.1", "localhost", "::1", "[::1]") if loopback else ("*",)


def _server(client: Client, host: str, index: str | None, log_level: str) -> uvicorn.Server:
    app = create_app(client, index=index, allowed_hosts=allowed_hosts(host))
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off", timeout_graceful_shutdown=2)
    return uvicorn.Server(config)


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def run(client: Client, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, index: str | None = None,
        log_level: str = "warning", ready: Callable[[str], None] | None = None) -> None:
    """Serve the console until interrupted (Ctrl-C); `ready(url)` is called once it listens."""
    sock = bind(host, port)
    if ready is not None:
        ready(url_of(sock))
    _server(client, host, index, log_level).run(sockets=[sock])


@dataclass
class Running:
    """A console serving in a thread: its `url`, and `stop()`."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def start(client: Client, host: str = DEFAULT_HOST, port: int = 0, *, index: str | None = None,
          log_level: str = "warning") -> Running:
    """Serve the console in a daemon thread; returns once it answers."""
    sock = bind(host, port)
    server = _server(client, host, index, log_level)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="bitseg-console", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the console did not start")
        time.sleep(0.02)
    return Running(url_of(sock), server, thread)
