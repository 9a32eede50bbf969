"""The dashboard as users get it: a real ``panel serve`` on the bundled sample, driven by
headless Chromium (Debian's package; no browser download)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Chromium not found: run scripts/setup-system.sh (installs Debian's chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(database):
    from floatchat_core.cli import sample_dir
    from floatchat_core.db.maintenance import truncate_data
    from floatchat_core.ingest import ingest

    truncate_data()
    job = ingest([sample_dir()], name="sample", dataset="sample", executor="serial")
    assert job["status"] == "succeeded"
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "floatchat_core.cli", "serve", "--port", str(port)],
                            env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/dashboard"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read() if proc.poll() is not None else ""
            proc.kill()
            pytest.fail(f"panel serve did not come up: {out[-2000:]}")
        time.sleep(0.5)
    yield url, job
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    truncate_data()


def test_dashboard_renders_sample_in_chromium(served):
    from playwright.sync_api import sync_playwright

    url, job = served
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url, wait_until="networkidle", timeout=60_000)
        page.wait_for_selector("text=FloatChat Workbench", timeout=60_000)
        # Panel renders inside shadow roots: Playwright's locators pierce them, innerText does not
        summary = page.locator(f"text=/{int(job['n_profiles']):,} profiles/")
        summary.first.wait_for(timeout=60_000)
        text = summary.first.inner_text()
        page.locator("canvas").first.wait_for(state="attached", timeout=60_000)   # the map is drawn
        page.locator("text=Datasets").first.wait_for(timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        browser.close()
    assert f"{int(job['n_profiles']):,} profiles" in text
    assert "5 floats" in text and "1 dataset(s)" in text
    assert not errors, errors
