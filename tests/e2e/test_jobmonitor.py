"""The admin job table in a real browser stays current when it is refreshed from several threads at
once, as it is under ``panel serve --num-threads``: the periodic poll on one pool thread, an upload's
refresh on another. Panel loses updates of a widget written from two threads at once, so without
``JobMonitor``'s lock the page could keep showing a job as running after it had succeeded.

The monitor is served in this process (``pn.serve`` on a thread, a real Bokeh server on 127.0.0.1) so
the test can drive that monitor's refreshes itself, from real threads, against the real job table.
"""
from __future__ import annotations

import re
import threading
import time

import pytest
from e2e_helpers import Console, screenshot

# Measured without the lock: 2 and 3 of 4 rounds kept a stale row, in both runs (and 5 of 26 sessions
# in a plain Tabulator written from 3 threads at once); with it, none.
ROUNDS = 4           # browser sessions; each runs one storm of concurrent refreshes
THREADS = 6          # refreshing threads, like the periodic poll and uploads on a pool
UPDATES = 300        # job updates written, back to back, while they refresh


@pytest.fixture()
def served_monitor(clean_db):
    import panel as pn

    from floatchat_core.db.cluster import free_port
    from workbench.admin import JobMonitor

    sessions: list[tuple[JobMonitor, object]] = []

    def app():
        monitor = JobMonitor(period_ms=60_000)       # the test refreshes; the poll stays out of the way
        sessions.append((monitor, pn.state.curdoc))
        return pn.Column(monitor)

    port = free_port()
    server = pn.serve({"jobs": app}, port=port, address="127.0.0.1", show=False, threaded=True,
                      websocket_origin=[f"127.0.0.1:{port}"])
    deadline = time.monotonic() + 30
    while getattr(server, "server", None) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/jobs", sessions
    server.stop()


def test_job_table_shows_the_last_state_after_concurrent_refreshes(served_monitor, browser):
    from panel.io.state import set_curdoc

    from floatchat_core.db.jobs import create_job, update_job

    url, sessions = served_monitor
    job = create_job("storm.nc", source=None, dataset_name="storm")
    stale = []
    ctx = browser.new_context(viewport={"width": 1500, "height": 900})
    try:
        for round_ in range(ROUNDS):
            page = ctx.new_page()
            console = Console(page)
            page.goto(url, wait_until="domcontentloaded")
            page.locator(".tabulator-cell", has_text="storm.nc").first.wait_for(timeout=60_000)
            monitor, doc = sessions[-1]
            done = threading.Event()

            def refresher(monitor=monitor, doc=doc, done=done):
                while not done.is_set():
                    with set_curdoc(doc):                # as Panel's periodic callback does on its pool thread
                        monitor.refresh()

            threads = [threading.Thread(target=refresher, daemon=True) for _ in range(THREADS)]
            for t in threads:
                t.start()
            for i in range(UPDATES):                     # below 1000: no thousands separator in the cells
                update_job(job, n_profiles=(200 * round_ + i) % 800, status="running")
            final = 900 + round_                         # a value no intermediate state had
            update_job(job, n_profiles=final, status="succeeded")
            time.sleep(0.3)
            done.set()
            for t in threads:
                t.join(30)
            with set_curdoc(doc):
                monitor.refresh()                        # one more, as the next poll would: nothing to change
            assert int(monitor.jobs.iloc[0]["n_profiles"]) == final
            try:
                # the whole cell: "900" inside a job id or a time must not pass for it
                page.locator(".tabulator-cell", has_text=re.compile(rf"^\s*{final}\s*$")).first.wait_for(timeout=15_000)
            except Exception:
                cells = page.locator(".tabulator-row").first.inner_text()
                stale.append((round_, final, cells.replace("\n", " | ")))
                screenshot(page, f"jobmonitor-stale-{round_}")
            assert not console.errors, console.errors
            page.close()
    finally:
        ctx.close()
    assert not stale, f"the browser kept an older job row while the server had the newest: {stale}"
