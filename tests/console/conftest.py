"""Fixtures for the console: a real server with the XS demo retailer, a hot segment with a week of history, the
console serving in a thread, and (for the browser tests) headless Chromium driven by selenium."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bitseg import Client
from bitseg.cli.serve import load_demo
from bitseg.console import Running, start
from bitseg.persistence import SimulatedClock
from bitseg.server.app import Server, ServerConfig
from bitseg.server.app import start as start_server

HISTORY_DAYS = 7
BACKFILL_DAYS = 5  # `recent` was saved with its history of the 5 days before backfilled
HOT_QUERY = "last_purchase_date >= -30d"


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(ServerConfig(port=0, data_dir=str(tmp_path_factory.mktemp("console-data"))))
    load_demo(running.catalog, "XS")
    yield running
    running.stop(grace=0)


@pytest.fixture(scope="package")
def client(server: Server) -> Iterator[Client]:
    with Client(f"127.0.0.1:{server.port}", timeout=30) as connected:
        yield connected


@pytest.fixture(scope="package")
def demo(server: Server, client: Client) -> str:
    """The demo index with saved segments: `recent` (hot, a daily history of HISTORY_DAYS days
    after BACKFILL_DAYS backfilled ones) and `vip`."""
    store: Any = server.catalog
    today = store._local_date(store.get("demo"))
    first = today - dt.timedelta(days=HISTORY_DAYS - 1)
    real_clock = store.clock
    store.clock = SimulatedClock(f"{first.isoformat()}T12:00:00+00:00")  # saved a week ago: its first row
    try:
        client.save_segment("demo", "recent", HOT_QUERY, kind="hot", description="bought in the last 30 days",
                            backfill_days=BACKFILL_DAYS)
    finally:
        store.clock = real_clock
    for back in range(HISTORY_DAYS - 2, -1, -1):
        store.daily_snapshot(today - dt.timedelta(days=back))
    client.save_segment("demo", "vip", "orders > 10 AND clv >= 1000", description="many orders, high value")
    client.save_segment("demo", "new_loyal", "loyalty_member = true AND input_date >= -90d", kind="trigger")
    return "demo"


@pytest.fixture(scope="package")
def console(client: Client, demo: str) -> Iterator[Running]:
    running = start(client)
    yield running
    running.stop()


# ── the browser ──────────────────────────────────────────────────────────────────────────────────────

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,1000", "--hide-scrollbars")


def chromium_paths() -> tuple[str, str] | None:
    """Debian's chromium and chromedriver, when installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or next(
        (p for p in ("/usr/lib/chromium/chromedriver",) if os.path.exists(p)), None)
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Headless Chromium. Skipped when it is not installed, unless BITSEG_REQUIRE_BROWSER is set (CI)."""
    found = chromium_paths()
    if found is None or not _has_selenium():
        if os.environ.get("BITSEG_REQUIRE_BROWSER"):
            pytest.fail("BITSEG_REQUIRE_BROWSER is set but chromium, chromedriver or selenium is missing "
                        "(apt-get install chromium chromium-driver; pip install 'bitseg[console]')")
        pytest.skip("no chromium and chromedriver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="bitseg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=found[1]))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _has_selenium() -> bool:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="package")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the pages' screenshots go: $BITSEG_SCREENSHOTS (docs/ to refresh the README's), else a temp folder."""
    chosen = os.environ.get("BITSEG_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
