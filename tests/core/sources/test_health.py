"""Health check: components, the CLI, and the /health endpoint mounted in a real `panel serve`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from floatchat_core.config import override
from floatchat_core.sources.health import format_health, health
from floatchat_core.sources.router import monitor


def test_health_components(database, erddap_server):
    monitor.reset()
    with override(erddap_url=erddap_server.url, source="live-first"):
        r = health()
    c = r["components"]
    assert c["database"]["status"] == "ok" and "PostgreSQL" in c["database"]["detail"]
    assert c["erddap"]["status"] == "ok" and c["erddap"]["detail"] == "reachable"
    assert "/erddap/info/ArgoFloats/index.json" in erddap_server.requests
    assert c["llm"]["status"] == "off" and c["dask"]["status"] == "ok"
    assert c["embeddings"]["status"] in ("ok", "degraded")
    assert r["status"] in ("ok", "degraded")
    assert "database" in format_health(r)


def test_health_reports_erddap_outage_without_probing(database, erddap_server, dead_url):
    monitor.reset()
    with override(erddap_url=dead_url, source="live-first", erddap_timeout_s=0.5):
        r = health()
    assert r["components"]["erddap"]["status"] == "down" and r["status"] == "degraded"
    monitor.record_failure(erddap_server.url, "HTTP 500", cooldown_s=30)
    with override(erddap_url=erddap_server.url, source="live-first"):
        r = health()
    e = r["components"]["erddap"]
    assert e["status"] == "down" and e["failures"] == 1 and e["last_error"] == "HTTP 500"
    assert erddap_server.requests == []  # remembered: not probed during the cool-down
    monitor.reset()


def test_health_cli_json(database, erddap_server):
    env = dict(os.environ, FLOATCHAT_ERDDAP_URL=erddap_server.url, FLOATCHAT_SOURCE="local")
    p = subprocess.run(
        [sys.executable, "-m", "floatchat_core.cli", "health", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(p.stdout)
    assert report["components"]["database"]["status"] == "ok"
    assert p.returncode == {"ok": 0, "degraded": 1}[report["status"]]


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.slow
def test_health_endpoint_in_panel_serve(database, tmp_path):
    app = tmp_path / "app.py"
    app.write_text("import panel as pn\npn.pane.Markdown('ok').servable()\n")
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "panel",
            "serve",
            str(app),
            "--port",
            str(port),
            "--address",
            "127.0.0.1",
            "--plugins",
            "floatchat_core.sources.health_http",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health?probe=0", timeout=10)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(
                        proc.stdout.read().decode() if proc.poll() is not None else "timeout"
                    ) from None
                time.sleep(0.5)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert body["components"]["database"]["status"] == "ok"
        assert body["components"]["erddap"]["detail"] == "not probed"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
