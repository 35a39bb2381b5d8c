"""The console in a real headless Chromium (selenium): what a person sees equals what the server answers.

Each page's screenshot is saved (to $BITSEG_SCREENSHOTS when set: `BITSEG_SCREENSHOTS=docs` refreshes the
README's pictures).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bitseg import Client
from bitseg.console import Running
from bitseg.errors import QueryError

from .conftest import BACKFILL_DAYS, HISTORY_DAYS

WAIT = 15  # seconds for the page to show an answer: generous, CI machines are shared


def wait_for(browser: Any, condition: Callable[[], Any], what: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT, poll_frequency=0.05).until(lambda _: condition(), message=what)


def by_id(browser: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, element_id)


def type_query(browser: Any, console: Running, text: str) -> None:
    """Open the editor and type `text` key by key (each key an input event the editor debounces)."""
    browser.get(f"{console.url}/i/demo/")
    box = by_id(browser, "query")
    box.clear()
    box.send_keys(text)


def shown_for(browser: Any, element_id: str, text: str) -> Any:
    """The element once it shows the answer for `text` (its data-query)."""
    element = by_id(browser, element_id)
    wait_for(browser, lambda: element.get_attribute("data-query") == text, f"#{element_id} answering {text!r}")
    return element


def screenshot(browser: Any, path: Path, height: int) -> None:
    """The page at 1280 × `height` into `path` (then the window's usual size again)."""
    browser.set_window_size(1280, height)
    try:
        browser.save_screenshot(str(path))
    finally:
        browser.set_window_size(1280, 1000)


def test_typing_a_query_shows_the_servers_count(browser: Any, console: Running, client: Client,
                                                 screenshots: Path) -> None:
    query = "orders > 3 AND loyalty_member = true AND email IS NOT NULL"
    type_query(browser, console, query)
    count = shown_for(browser, "count", query)
    expected = client.count("demo", query)
    assert int(count.get_attribute("data-count")) == expected and count.text == f"{expected:,}"
    assert by_id(browser, "error").get_attribute("hidden") is not None
    members = shown_for(browser, "members", query)
    assert [li.text for li in members.find_elements("tag name", "li")] == list(client.members("demo", query,
                                                                                               limit=100))
    shown_for(browser, "criteria", query)
    link = by_id(browser, "download").get_attribute("href")  # the file the button downloads
    with urllib.request.urlopen(link, timeout=30) as answer:
        rows = list(csv.reader(io.StringIO(answer.read().decode())))
    assert rows[0] == ["customer"] and [row[0] for row in rows[1:]] == list(client.members("demo", query))
    screenshot(browser, screenshots / "console-editor.png", 1120)


def test_a_stale_answer_never_overwrites_a_newer_one(browser: Any, console: Running, client: Client) -> None:
    older, newer = "orders > 2", "orders > 20"
    browser.get(f"{console.url}/i/demo/")
    # The answers for the older text are held back 1.5 s, so they arrive after the newer text's.
    browser.execute_script("""
        const real = window.fetch, slow = encodeURIComponent(arguments[0]).replace(/%20/g, '+');
        window.held = 0;
        window.fetch = (url, init) => real(url, init).then(answer => !url.endsWith('q=' + slow) ? answer
            : new Promise(done => setTimeout(() => { window.held += 1; done(answer); }, 1500)));
    """, older)
    box = by_id(browser, "query")
    box.send_keys(older)
    wait_for(browser, lambda: "pending" in by_id(browser, "count").get_attribute("class"), "the older request")
    box.send_keys("0")  # "orders > 20"
    count = shown_for(browser, "count", newer)
    assert int(count.get_attribute("data-count")) == client.count("demo", newer)
    time.sleep(2)  # the older answers have come by now, and were dropped
    assert browser.execute_script("return window.held") == 3  # count, criteria and members came late
    assert count.get_attribute("data-query") == newer
    assert int(count.get_attribute("data-count")) == client.count("demo", newer) != client.count("demo", older)
    assert by_id(browser, "members").get_attribute("data-query") == newer


def test_a_bad_query_shows_the_error_at_its_position(browser: Any, console: Running, client: Client,
                                                     screenshots: Path) -> None:
    query = "country = 'NL' AND\n  colour = 'x'"
    with pytest.raises(QueryError) as expected:
        client.count("demo", query)
    type_query(browser, console, query)
    shown_for(browser, "count", query)
    error = by_id(browser, "error")
    assert error.is_displayed()
    assert (int(error.get_attribute("data-line")), int(error.get_attribute("data-column")),
            int(error.get_attribute("data-offset"))) == (expected.value.line, expected.value.column,
                                                         expected.value.offset)
    assert expected.value.message in error.text  # "unknown field 'colour'; did you mean …"
    line = error.find_element("css selector", ".caret .line").text
    caret = error.find_element("css selector", ".caret .mark").get_attribute("textContent")
    assert line == query.split("\n")[1] and caret == " " * (expected.value.column - 1) + "^"
    assert line[caret.index("^"):].startswith("colour")
    assert by_id(browser, "count").text == "—"
    screenshot(browser, screenshots / "console-error.png", 780)


def test_the_criteria_table_is_count_criteria(browser: Any, console: Running, client: Client) -> None:
    query = "loyalty_member = true AND orders >= 2 AND purchases MATCHES (date >= -90d) AND email IS NOT NULL"
    type_query(browser, console, query)
    table = shown_for(browser, "criteria", query)
    rows = [[cell.text for cell in row.find_elements("tag name", "td")]
            for row in table.find_elements("css selector", "tbody tr")]
    expected = client.criteria("demo", query)
    assert rows == [[c.text, f"{c.count:,}", f"{c.running:,}", f"{c.without:,}"] for c in expected.criteria]
    assert len(rows) == 4 and expected.total == client.count("demo", query)


def test_save_from_the_editor(browser: Any, console: Running, client: Client) -> None:
    from selenium.webdriver.support.ui import Select

    query = "orders >= 5"
    type_query(browser, console, query)
    by_id(browser, "save-name").send_keys("loyal_buyers")
    Select(by_id(browser, "save-kind")).select_by_value("hot")
    by_id(browser, "save-description").send_keys("five orders or more")
    by_id(browser, "save").submit()
    wait_for(browser, lambda: "saved" in by_id(browser, "save-result").text, "the save")
    saved = client.get_segment("demo", "loyal_buyers")
    assert (saved.query, saved.kind.value, saved.description) == (query, "hot", "five orders or more")
    client.delete_segment("demo", "loyal_buyers")


def test_the_segments_list(browser: Any, console: Running, client: Client, screenshots: Path) -> None:
    browser.get(f"{console.url}/i/demo/segments")
    rows = by_id(browser, "segments").find_elements("css selector", "tbody tr")
    shown = [[cell.text for cell in row.find_elements("tag name", "td")] for row in rows]
    assert shown == [[s.name, s.kind.value, f"{client.count('demo', segment=s.name):,}", s.description]
                     for s in client.list_segments("demo")]
    screenshot(browser, screenshots / "console-segments.png", 420)


def test_a_hot_segment_shows_its_history_one_point_per_day(browser: Any, console: Running, client: Client,
                                                           screenshots: Path) -> None:
    browser.set_window_size(1280, 1500)
    try:
        browser.get(f"{console.url}/i/demo/segments/recent")
        wait_for(browser, lambda: browser.execute_script("return !!window.bitsegCharts['breakdown-chart']"),
                 "the charts")
        history = client.history("demo", "recent")
        assert len(history) == HISTORY_DAYS + BACKFILL_DAYS == len({h.day for h in history})
        assert [h.backfilled for h in history] == [True] * BACKFILL_DAYS + [False] * HISTORY_DAYS
        xs, size, entered, left, backfilled = browser.execute_script(
            "return window.bitsegCharts['history-chart'].data")
        assert [dt.datetime.fromtimestamp(x, dt.UTC).date() for x in xs] == [h.day for h in history]
        assert (size, entered, left) == ([h.size for h in history], [h.entered for h in history],
                                         [h.left for h in history])
        # The backfilled days are marked: hollow points over the size line there, nothing on the recorded days.
        assert backfilled == [h.size if h.backfilled else None for h in history]
        assert browser.execute_script(
            "const u = window.bitsegCharts['history-chart'], s = u.series[4];"
            "return [s.label, s.points.show(u, 4), s.points.fill(u, 4), s.points.size, s.paths(u, 4, 0, 11)]"
        ) == ["backfilled", True, "#fff", 9, None]  # hollow points, no line
        note = by_id(browser, "history-note")
        assert note.get_attribute("data-backfilled") == str(BACKFILL_DAYS)
        assert f"{BACKFILL_DAYS} of the {HISTORY_DAYS + BACKFILL_DAYS} days were backfilled" in note.text
        assert by_id(browser, "history-chart").find_elements("tag name", "canvas")  # drawn, not only data
        stats = client.stats("demo", segment="recent")
        cells = [[c.text for c in row.find_elements("css selector", "th, td")]
                 for row in by_id(browser, "stats").find_elements("css selector", "tbody tr")]
        assert cells[0] == ["customers", f"{stats.members.customers:,}", f"{stats.rest.customers:,}"]
        assert cells[2] == ["revenue", f"{stats.members.revenue:,.2f}", f"{stats.rest.revenue:,.2f}"]
        field = by_id(browser, "breakdown-field").get_attribute("value")
        labels = browser.execute_script("return JSON.parse(document.getElementById('breakdown-chart')"
                                        ".dataset.labels)")
        counts = browser.execute_script("return window.bitsegCharts['breakdown-chart'].data[1]")
        expected = client.breakdown("demo", segment="recent", field=field, top=20)
        assert dict(zip(labels, counts)) == {k or "(none)": v for k, v in expected.items()}
        buyers = browser.execute_script("return window.bitsegCharts['buyers-chart'].data")
        per_day = client.buyers_per_day("demo", min(_days(buyers[0])), max(_days(buyers[0])), segment="recent")
        assert dict(zip(_days(buyers[0]), buyers[1])) == per_day and len(per_day) == 90
        browser.save_screenshot(str(screenshots / "console-segment.png"))
    finally:
        browser.set_window_size(1280, 1000)


def _days(xs: list[float]) -> list[dt.date]:
    return [dt.datetime.fromtimestamp(x, dt.UTC).date() for x in xs]


def test_choosing_another_breakdown_field_redraws_the_chart(browser: Any, console: Running,
                                                            client: Client) -> None:
    from selenium.webdriver.support.ui import Select

    browser.get(f"{console.url}/i/demo/segments/vip")
    wait_for(browser, lambda: browser.execute_script("return !!window.bitsegCharts['breakdown-chart']"), "chart")
    assert not browser.find_elements("id", "history-chart")  # a standard segment keeps no history
    Select(by_id(browser, "breakdown-field")).select_by_visible_text("country")
    wait_for(browser, lambda: browser.execute_script(
        "return document.getElementById('breakdown-chart').dataset.labels.includes('NL')"), "the country chart")
    labels = browser.execute_script("return JSON.parse(document.getElementById('breakdown-chart').dataset.labels)")
    assert labels == [k or "(none)" for k in client.breakdown("demo", segment="vip", field="country", top=20)]


def _breakdown_shown(browser: Any) -> tuple[list[str], list[int], list[list[str]], dict[str, str]]:
    """The breakdown chart's labels and bars, the table's rows and the table's data attributes."""
    labels = browser.execute_script("return JSON.parse(document.getElementById('breakdown-chart').dataset.labels)")
    bars = browser.execute_script("return window.bitsegCharts['breakdown-chart'].data[1]")
    table = by_id(browser, "breakdown-table")
    rows = [[cell.text for cell in row.find_elements("tag name", "td")]
            for row in table.find_elements("css selector", "tbody tr")]
    return labels, bars, rows, {k: table.get_attribute(f"data-{k}") or "" for k in ("field", "start", "end")}


def test_a_purchase_dimension_breakdown_is_breakdown_rows(browser: Any, console: Running, client: Client,
                                                         screenshots: Path) -> None:
    from selenium.webdriver.support.ui import Select

    browser.get(f"{console.url}/i/demo/segments/vip")
    wait_for(browser, lambda: browser.execute_script("return !!window.bitsegCharts['breakdown-chart']"), "chart")
    assert not by_id(browser, "breakdown-table").is_displayed()  # a profile field: members only
    dimensions = client.get_index("demo").dimensions
    options = Select(by_id(browser, "breakdown-field")).options
    assert [o.text for o in options if o.get_attribute("data-dimension")] == list(dimensions)
    Select(by_id(browser, "breakdown-field")).select_by_visible_text("department")
    wait_for(browser, lambda: _breakdown_shown(browser)[3]["field"] == "department", "the department chart")
    labels, bars, rows, shown = _breakdown_shown(browser)
    expected = client.breakdown_rows("demo", segment="vip", field="department", top=20)
    assert len(expected) > 3 and all(r.revenue is not None for r in expected)
    assert labels == [r.value or "(none)" for r in expected] and bars == [r.count for r in expected]
    assert rows == [[r.value or "(none)", f"{r.count:,}", f"{r.revenue:,.2f}"] for r in expected]
    assert shown["start"] == "" and by_id(browser, "breakdown-table").is_displayed()

    # The last 90 days only: the buyers per day window, start and end as the page gives them.
    window = by_id(browser, "breakdown-window")
    window.click()
    wait_for(browser, lambda: _breakdown_shown(browser)[3]["start"] != "", "the windowed chart")
    labels, bars, rows, shown = _breakdown_shown(browser)
    start, end = dt.date.fromisoformat(shown["start"]), dt.date.fromisoformat(shown["end"])
    assert (end - start).days == 89
    windowed = client.breakdown_rows("demo", segment="vip", field="department", top=20, start=start, end=end)
    assert sum(r.count for r in windowed) < sum(r.count for r in expected)  # the window narrows it
    assert labels == [r.value or "(none)" for r in windowed] and bars == [r.count for r in windowed]
    assert rows == [[r.value or "(none)", f"{r.count:,}", f"{r.revenue:,.2f}"] for r in windowed]
    screenshot(browser, screenshots / "console-breakdown.png", 1000)
    window.click()
