"""The console over HTTP, without a browser: the CSV download against StreamMembers, save, errors as pages or
JSON (503 for a server that cannot be reached), and the token never shown."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bitseg import Client
from bitseg.cli import build_parser
from bitseg.console import Running, start
from bitseg.errors import QueryError
from bitseg.server.app import ServerConfig
from bitseg.server.app import start as start_server

from .conftest import HOT_QUERY


def get(url: str, data: dict[str, Any] | None = None, **headers: str) -> tuple[int, str, dict[str, str]]:
    """Status, body and headers of a GET (or a POST of `data` as JSON); errors are answers too."""
    body = None if data is None else json.dumps(data).encode()
    if body:
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), dict(err.headers)


def api(console: Running, path: str, **params: str) -> str:
    return f"{console.url}/api/i/demo/{path}?{urllib.parse.urlencode(params)}"


def csv_ids(text: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["customer"]
    return [row[0] for row in rows[1:]]


def test_the_csv_download_is_stream_members(console: Running, client: Client) -> None:
    query = "orders >= 2 OR loyalty_member = true"
    status, text, headers = get(api(console, "members.csv", q=query))
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert "attachment" in headers["content-disposition"]
    expected = list(client.members("demo", query))
    assert csv_ids(text) == expected and len(expected) > 1000
    status, text, _ = get(api(console, "members.csv", segment="recent"))
    assert status == 200 and csv_ids(text) == list(client.members("demo", segment="recent"))
    status, text, _ = get(api(console, "members.csv", q="orders > 1000000"))
    assert status == 200 and csv_ids(text) == []


def test_a_bad_query_answers_with_its_position(console: Running, client: Client) -> None:
    query = "country = 'NL' AND\n  colour = 'x'"
    with pytest.raises(QueryError) as expected:
        client.count("demo", query)
    for path in ("count", "criteria", "members", "members.csv"):
        status, text, _ = get(api(console, path, q=query))
        error = json.loads(text)["error"]
        assert status == 400 and error["code"] == "INVALID_ARGUMENT", (path, text)
        assert (error["offset"], error["line"], error["column"]) == (
            expected.value.offset, expected.value.line, expected.value.column) == (21, 2, 3)
    status, text, _ = get(api(console, "count", q="  "))
    assert status == 400 and "type a query" in json.loads(text)["error"]["message"]


def test_the_json_answers_are_the_clients(console: Running, client: Client) -> None:
    query = "orders > 3 AND loyalty_member = true AND email IS NOT NULL"
    assert json.loads(get(api(console, "count", q=query))[1]) == {"count": client.count("demo", query),
                                                                 "warnings": []}
    typo = "purchases MATCHES (department = 'shoes') OR country = 'NL'"
    warned = json.loads(get(api(console, "count", q=typo))[1])
    assert warned["warnings"] == list(client.count_with_warnings("demo", typo).warnings) != []
    criteria = json.loads(get(api(console, "criteria", q=query))[1])
    expected = client.criteria("demo", query)
    assert criteria["total"] == expected.total and [tuple(c.values()) for c in criteria["criteria"]] == [
        (c.text, c.count, c.running, c.without) for c in expected.criteria]
    members = json.loads(get(api(console, "members", q=query))[1])["members"]
    assert members == list(client.members("demo", query, limit=100)) and len(members) == 100
    values = json.loads(get(api(console, "breakdown", segment="vip", field="country"))[1])["values"]
    assert values == [[v or "(none)", n] for v, n in client.breakdown("demo", segment="vip", field="country",
                                                                      top=20).items()]
    bought = json.loads(get(api(console, "breakdown", segment="vip", field="brand", dimension="1",
                                start="2026-01-01", end="2026-06-30"))[1])
    assert (bought["start"], bought["end"]) == ("2026-01-01", "2026-06-30")
    assert bought["values"] == [[r.value or "(none)", r.count, str(r.revenue)] for r in client.breakdown_rows(
        "demo", segment="vip", field="brand", top=20, start="2026-01-01", end="2026-06-30")]
    status, text, _ = get(api(console, "breakdown", segment="vip", field="brand", dimension="1", start="June"))
    assert status == 400 and "start must be a day as YYYY-MM-DD, not 'June'" in text


def test_save_with_kind_and_description(console: Running, client: Client) -> None:
    status, text, _ = get(f"{console.url}/api/i/demo/segments", {
        "name": "saved_here", "query": "orders>=3", "kind": "trigger", "description": "from the console"})
    assert status == 200, text
    saved = client.get_segment("demo", "saved_here")
    assert (saved.query, saved.kind.value, saved.description) == ("orders >= 3", "trigger", "from the console")
    assert json.loads(text)["url"].endswith("/i/demo/segments/saved_here")
    status, text, _ = get(f"{console.url}/api/i/demo/segments", {"name": "x", "query": "orders", "kind": "hot"})
    assert status == 400 and json.loads(text)["error"]["line"] == 1
    status, text, _ = get(f"{console.url}/api/i/demo/segments", {"name": "x", "query": "ALL", "kind": "warm"})
    assert status == 400 and "warm" in json.loads(text)["error"]["message"]
    client.delete_segment("demo", "saved_here")


def test_a_page_elsewhere_cannot_save_or_reach_the_console(console: Running, client: Client) -> None:
    """A form another site posts (text/plain, no preflight) is refused; so is a Host name that is not loopback."""
    status, text, _ = get(f"{console.url}/api/i/demo/segments", {"name": "planted", "query": "ALL"},
                          **{"Content-Type": "text/plain"})
    assert status == 400 and "application/json" in json.loads(text)["error"]["message"]
    assert "planted" not in [s.name for s in client.list_segments("demo")]
    status, _, _ = get(f"{console.url}/i/demo/segments", Host="attacker.example")
    assert status == 400
    assert get(f"{console.url}/i/demo/segments", Host=f"localhost:{console.url.rsplit(':', 1)[1]}")[0] == 200


def test_pages_render_and_unknown_names_are_404_pages(console: Running, client: Client) -> None:
    status, text, _ = get(f"{console.url}/")  # one index: / opens its editor
    assert status == 200 and 'id="query"' in text and 'id="count"' in text and 'id="criteria"' in text
    status, text, _ = get(f"{console.url}/i/demo/segments")
    assert status == 200 and 'id="segments"' in text and 'data-segment="recent"' in text
    status, text, _ = get(f"{console.url}/i/demo/segments/recent")
    assert status == 200 and all(f'id="{name}"' in text for name in ("history-chart", "stats", "breakdown-chart"))
    assert f'data-count="{client.count("demo", segment="recent")}"' in text
    status, text, _ = get(f"{console.url}/i/demo/?segment=recent")
    assert status == 200 and html.escape(HOT_QUERY) in text
    status, text, _ = get(f"{console.url}/i/demo/segments/vip?field=brand&window=1&days=30")
    charts = json.loads(html.unescape(re.search(r'id="chart-data">(.*?)</script>', text, re.S)[1]))
    start, end = charts["breakdown"]["start"], charts["breakdown"]["end"]
    assert status == 200 and charts["breakdown"]["dimension"] and charts["buyers"]["days"][0] == start
    assert charts["breakdown"]["values"] == [[r.value or "(none)", r.count, str(r.revenue)] for r in
                                             client.breakdown_rows("demo", segment="vip", field="brand", top=20,
                                                                   start=start, end=end)]
    for path in ("/i/nowhere/", "/i/demo/segments/nothing", "/i/demo/segments/recent?field=nofield"):
        status, text, _ = get(console.url + path)
        assert status == 404 and "Traceback" not in text, path
    for days in ("0", "x", "99999"):
        status, text, _ = get(f"{console.url}/i/demo/segments/vip?days={days}")
        assert status == 400 and "days must be" in html.unescape(text), days
    status, text, _ = get(f"{console.url}/i/demo/segments/vip?days=7")
    charts = json.loads(re.search(r'id="chart-data">(.*?)</script>', text, re.S)[1])  # type: ignore[index]
    assert status == 200 and len(charts["buyers"]["days"]) == 7 and charts["history"]["days"] == []
    status, text, _ = get(console.url + "/static/uplot/uPlot.iife.min.js")  # vendored: nothing from a CDN
    assert status == 200 and "uPlot" in text
    for template in (Path(__file__).parents[2] / "src/bitseg/console/templates").glob("*.html"):
        assert "//" not in template.read_text().replace("{{ url_for", ""), template  # no address of elsewhere


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def nowhere(closed_port: int) -> Iterator[Running]:
    with Client(f"127.0.0.1:{closed_port}", timeout=5) as unreachable:
        running = start(unreachable)
        yield running
        running.stop()


def test_an_unreachable_server_is_a_503_page(nowhere: Running, closed_port: int) -> None:
    for path in ("/", "/i/demo/", "/i/demo/segments", "/i/demo/segments/recent"):
        status, text, _ = get(nowhere.url + path)
        assert status == 503, path
        assert "cannot be reached" in text and f"127.0.0.1:{closed_port}" in text and "Traceback" not in text
    status, text, _ = get(nowhere.url + "/api/i/demo/count?q=ALL")
    assert status == 503 and json.loads(text)["error"]["code"] == "UNAVAILABLE"


def test_the_token_reaches_the_server_and_is_never_shown(tmp_path: Path) -> None:
    token = "s3cret-token-for-the-console"
    server = start_server(ServerConfig(port=0, data_dir=str(tmp_path), token=token))
    try:
        with Client(f"127.0.0.1:{server.port}", token) as owner:
            owner.create_index("shop", '[profile]\nvip = "bool"')
            owner.upsert_profiles("shop", [{"customer": "a", "vip": True}])
            owner.save_segment("shop", "vips", "vip = true")
            owner.create_index("other", '[profile]\nvip = "bool"')  # two indexes: / lists them
        for given, expected in ((token, 200), ("wrong-token", 503), (None, 503)):
            with Client(f"127.0.0.1:{server.port}", given) as connected:
                running = start(connected)
                try:
                    for path in ("/", "/i/shop/", "/i/shop/segments", "/i/shop/segments/vips",
                                 "/api/i/shop/count?q=ALL"):
                        status, text, headers = get(running.url + path)
                        assert status == expected, (given, path, text)
                        assert token not in text and token not in json.dumps(headers)
                        assert given is None or given not in text
                        if path == "/" and expected == 200:
                            assert 'id="indexes"' in text and "/i/other/" in text and "/i/shop/" in text
                finally:
                    running.stop()
    finally:
        server.stop(grace=0)


def test_the_verb_binds_this_machine_by_default() -> None:
    args = build_parser().parse_args(["console"])
    assert (args.host, args.port, args.server) == ("127.0.0.1", 8080, args.server)
    args = build_parser().parse_args(["console", "--server", "db:50051", "--port", "9000", "--token-file", "t"])
    assert (args.server, args.port, args.token_file) == ("db:50051", 9000, "t")


def test_the_verb_serves_the_console(server: Any, demo: str, client: Client, tmp_path: Path) -> None:
    """`bitseg console --port 0` as a person runs it: it says where it listens (never the token) and answers."""
    token_file = tmp_path / "token"
    token_file.write_text("token-that-stays-secret\n")
    command = [sys.executable, "-m", "bitseg.cli", "console", "--server", f"127.0.0.1:{server.port}",
               "--port", "0", "--token-file", str(token_file)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        said = process.stderr.readline()
        url = re.search(r"on (http://127\.0\.0\.1:\d+) for the server at 127\.0\.0\.1:\d+", said)
        assert url, said
        status, text, _ = get(f"{url[1]}/api/i/demo/count?q=ALL")
        assert status == 200 and json.loads(text)["count"] == client.count("demo", "ALL")
    finally:
        process.terminate()
        rest = process.communicate(timeout=20)[1]
    assert "token-that-stays-secret" not in said + rest
