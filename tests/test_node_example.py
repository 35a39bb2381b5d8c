"""The Node client example (examples/node, built from the proto alone) counts and streams what the Python client does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bitseg import Client
from bitseg.server.app import ServerConfig, start

from .server.shop import load_shop

ROOT = Path(__file__).resolve().parents[1]
NODE_READY = shutil.which("node") is not None and (ROOT / "node_modules" / "@grpc" / "grpc-js").is_dir()
# CI installs the Node packages (npm ci) and sets this, so a missing install fails there instead of skipping.
REQUIRED = os.environ.get("BITSEG_REQUIRE_NODE") == "1"


@pytest.mark.skipif(not NODE_READY and not REQUIRED, reason="needs node and `npm ci` (CI runs both)")
@pytest.mark.parametrize("query", ["vip = true", "country IN ('NL', 'DE')", "PURCHASES MATCHES (brand = 'Levi''s')"])
def test_node_counts_and_members_equal_the_python_clients(tmp_path: Path, query: str) -> None:
    server = start(ServerConfig(port=0, data_dir=str(tmp_path)))
    try:
        address = f"127.0.0.1:{server.port}"
        with Client(address) as client:
            load_shop(client._stub)
            expected_count = client.count("shop", query)
            expected_members = list(client.members("shop", query))
        done = subprocess.run(["node", str(ROOT / "examples" / "node" / "client.js"), address, "shop", query],
                              capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        assert answer["count"] == expected_count
        assert answer["members"] == expected_members
    finally:
        server.stop(grace=0)
