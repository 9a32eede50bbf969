"""The dashboard as users get it: a real ``floatchat serve`` on the bundled sample, driven by
headless Chromium (Debian's package; no browser download). One server for the module."""
from __future__ import annotations

import time

import pytest

from e2e_helpers import Console, Server, screenshot, tap_lonlat_js


@pytest.fixture(scope="module")
def served(database):
    from floatchat_core.cli import sample_dir
    from floatchat_core.db.maintenance import truncate_data
    from floatchat_core.ingest import ingest

    truncate_data()
    job = ingest([sample_dir()], name="sample", dataset="sample", executor="serial")
    assert job["status"] == "succeeded"
    server = Server()
    yield server, job
    server.stop()
    truncate_data()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    p = ctx.new_page()
    yield p
    ctx.close()


def _open(page, url):
    console = Console(page)
    t0 = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.locator("canvas").first.wait_for(state="attached", timeout=60_000)
    return console, time.perf_counter() - t0


def test_dashboard_renders_sample(served, page):
    server, job = served
    console, first_paint = _open(page, server.url())
    summary = page.locator(f"text=/{int(job['n_profiles']):,} profiles/").first
    summary.wait_for(timeout=30_000)
    text = summary.inner_text()
    assert "1 dataset(s)" in text and "5 floats" in text
    page.locator("text=/profile positions from/").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    screenshot(page, "dashboard")
    assert not console.errors, console.errors
    assert not [f for f in console.failed if "127.0.0.1" not in f], console.failed   # nothing fetched off-host
    assert first_paint < 30


def test_click_float_shows_its_trajectory(served, page):
    from floatchat_core.db import dal

    server, _ = served
    console, _ = _open(page, server.url())
    latest = dal.latest_positions().set_index("platform_number")
    target = "2902269"
    lon, lat = (float(v) for v in latest.loc[target, ["longitude", "latitude"]])
    page.wait_for_function("() => window.Bokeh && Bokeh.index && Object.keys(Bokeh.index).length > 0",
                           timeout=30_000)
    page.wait_for_timeout(1000)
    xy = page.evaluate(tap_lonlat_js(), [lon, lat])
    assert xy is not None, "no tappable map found"
    page.mouse.click(*xy)
    n = len(dal.float_trajectory(target))
    page.locator(f"text=/Float {target}: {n:,} cycles/").first.wait_for(timeout=30_000)
    page.wait_for_timeout(800)
    screenshot(page, "trajectory")
    assert not console.errors, console.errors


def test_ask_question_shows_table_and_plot(served, page):
    chat = pytest.importorskip("floatchat_core.chat", reason="the question engine has not landed yet")
    if not hasattr(chat, "ChatSession"):
        pytest.skip("the question engine (floatchat_core.chat.ChatSession) has not landed yet")
    server, _ = served
    console, _ = _open(page, server.url())
    page.locator("text=Show the trajectory of float 2902269").first.click()
    page.locator("text=/Answered in [0-9.]+ s · 57 rows/").first.wait_for(timeout=90_000)   # the server's status line
    page.locator(".tabulator-row").first.wait_for(timeout=60_000)                              # the answer's table
    card = page.locator("text=How this was answered").first
    card.scroll_into_view_if_needed(timeout=60_000)
    assert page.locator(".tabulator-row").count() > 0
    assert page.locator("text=/Trajectory of float 2902269: 57 positions/").count() >= 1
    page.wait_for_timeout(1500)
    screenshot(page, "chat-answer")
    assert page.locator("canvas").count() >= 2          # the map and the answer's plot
    assert not console.errors, console.errors


def test_health_endpoint_beside_the_apps(served):
    """`floatchat serve` mounts GET /health next to the apps (without network probes here)."""
    import json
    import urllib.request

    server, _ = served
    with urllib.request.urlopen(server.url("health") + "?probe=0", timeout=30) as r:
        body = json.loads(r.read())
        assert r.status == 200
    assert body["components"]["database"]["status"] == "ok"
    assert set(body["components"]) == {"database", "dask", "embeddings", "llm", "erddap"}
    gc_state = body["server"]["gc"]
    # full collections are the workbench's (docspeed.CoalescedGC.schedule), on the event loop, not
    # the interpreter's rule; the imports are frozen after warm-up
    assert gc_state["thresholds"][2] >= 1 << 30, gc_state
    assert gc_state["frozen"] > 100_000, gc_state
