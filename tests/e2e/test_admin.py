"""The admin app behind a real login (``floatchat serve --auth``): an admin uploads a real Argo
file and watches the job succeed; a viewer is refused — by the page, and by crafted requests
that skip the page (autoload script) — and nobody logged out gets in."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from e2e_helpers import Console, Server, autoload_token, pull_document_json, screenshot

CREDS = {"users": {"ana": "ana-pw-4711", "ben": "ben-pw-0815"}, "roles": {"ana": "admin", "ben": "viewer"}}


@pytest.fixture(scope="module")
def served(database, tmp_path_factory):
    from floatchat_core.db.maintenance import truncate_data

    truncate_data()
    creds = tmp_path_factory.mktemp("auth") / "credentials.json"
    creds.write_text(json.dumps(CREDS))
    # search indexing after ingestion (torch model load) has its own tests; here it would only add minutes
    # (Dask ingestion has its own tests; a server thread keeps this test inside its time budget)
    server = Server("--auth", str(creds), env={"FLOATCHAT_SEARCH_INDEX_ON_INGEST": "0",
                                               "FLOATCHAT_UPLOAD_EXECUTOR": "serial"})
    yield server
    server.stop()
    log = server.log()
    assert "ana-pw-4711" not in log and "ben-pw-0815" not in log      # no credentials in logs
    truncate_data()


def _login(browser, server, user):
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(90_000)
    console = Console(page)
    # land on /admin after login (a 403 for viewers): quicker than building a dashboard session
    page.goto(f"http://127.0.0.1:{server.port}/login?next=/admin", wait_until="domcontentloaded")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", CREDS["users"][user])
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    return ctx, page, console


def test_admin_uploads_real_file_and_job_succeeds(served, browser, gdac_dir):
    from floatchat_core.db import dal
    from floatchat_core.ingest import list_jobs

    path = gdac_dir / "dac" / "coriolis" / "1900857" / "profiles" / "D1900857_144.nc"
    ctx, page, console = _login(browser, served, "ana")
    try:
        resp = page.goto(served.url("admin"), wait_until="domcontentloaded")
        assert resp.status == 200
        page.locator("text=Upload Argo files").first.wait_for(timeout=60_000)
        page.locator("input[type=file]").first.set_input_files(str(path))
        page.locator("text=/submitted 1 job/").first.wait_for(timeout=60_000)
        try:
            page.locator(".tabulator-cell", has_text="succeeded").first.wait_for(timeout=150_000)
        except Exception as exc:    # say what the job and the server were doing (this wait once timed out)
            screenshot(page, "admin-upload-timeout")
            jobs = list_jobs(limit=3)[["name", "status", "progress", "errors", "started_at", "finished_at"]]
            raise AssertionError(f"job not shown as succeeded: {exc}\njobs in the database:\n{jobs.to_string()}"
                                 f"\nserver log tail:\n{served.log()[-4000:]}") from exc
        page.wait_for_timeout(500)
        screenshot(page, "admin-upload")
        assert not console.errors, console.errors
        cookies = ctx.cookies()
    finally:
        ctx.close()
    base = f"http://127.0.0.1:{served.port}"
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in cookies)
    status, token = autoload_token(base, "admin", cookie)
    assert status == 200 and "FileDropper" in pull_document_json(base, "admin", token, cookie)
    job = list_jobs(limit=1).iloc[0]
    assert job["status"] == "succeeded" and job["name"] == path.name and job["files_ok"] == 1
    assert job["n_profiles"] >= 1
    assert "1900857" in set(dal.latest_positions()["platform_number"])


def test_viewer_is_refused_admin_page_and_crafted_requests(served, browser):
    ctx, page, console = _login(browser, served, "ben")
    try:
        resp = page.goto(served.url("admin"), wait_until="domcontentloaded")
        assert resp.status == 403
        assert page.locator("input[type=file]").count() == 0
        screenshot(page, "viewer-refused")
        # crafted: Panel's autoload route and websocket do not consult the authorization callback, so a
        # viewer can open an /admin session by hand; the app itself must refuse to build the upload widgets
        base = f"http://127.0.0.1:{served.port}"
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in ctx.cookies())
        status, token = autoload_token(base, "admin", cookie)
        if status == 200:
            doc = pull_document_json(base, "admin", token, cookie)
            assert "Refused" in doc and "FileDropper" not in doc and "Upload Argo files" not in doc
        else:
            assert status == 403
        # the viewer still has the dashboard
        assert page.goto(served.url("dashboard"), wait_until="domcontentloaded").status == 200
    finally:
        ctx.close()


def test_anonymous_gets_no_app(served):
    opener = urllib.request.build_opener(urllib.request.HTTPRedirectHandler())
    for app in ("admin", "dashboard"):
        try:
            with opener.open(served.url(app), timeout=10) as r:
                final, status, text = r.geturl(), r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            final, status, text = e.geturl(), e.code, ""
        assert "/login" in final or status in (401, 403), (app, final, status)
        assert "FileDropper" not in text
