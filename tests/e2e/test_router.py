"""``floatchat serve --processes 2``: two real ``panel serve`` processes behind
:mod:`floatchat_core.router` on one port. Sessions are spread over both and each websocket reaches
the process that built its session (none is built twice); answers, the page in Chromium and a
login made on one process and used on the other all work through the router."""
from __future__ import annotations

import contextlib
import json
import re
import urllib.error
import urllib.request

import pytest
from e2e_helpers import Console, Server, Session, names, screenshot

from floatchat_core.router import SessionRouter


# ----------------------------------------------------------------------------- routing decisions
def test_pages_get_a_session_id_of_the_least_loaded_process():
    from bokeh.util.token import generate_jwt_token

    r = SessionRouter([("127.0.0.1", 1), ("127.0.0.1", 2), ("127.0.0.1", 3)], ["/", "/dashboard", "/admin"])
    picked = []
    for _ in range(6):
        k, headers, ws = r.route("GET", "/dashboard?theme=dark", [("Host", "x:5006"), ("Connection", "keep-alive")])
        sid = dict(headers)["Bokeh-Session-Id"]
        assert r.backend_of(sid) == k and not ws
        assert [v for n, v in headers if n.lower() == "connection"] == ["close"]   # one request per connection
        picked.append(k)
    assert sorted(picked) == [0, 0, 1, 1, 2, 2]                # three processes, two pages each
    # the page's websocket: its token names the session, whose id names the process
    token = generate_jwt_token(sid)
    k, headers, ws = r.route("GET", "/dashboard/ws", [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                                     ("Sec-WebSocket-Protocol", f"bokeh, {token}")])
    assert ws and k == r.backend_of(sid) and ("Connection", "Upgrade") in headers
    assert r.load(k) == 1      # k's other page still waits for its websocket (an open one is counted by handle)
    # autoload.js builds a session too; a given id is routed by itself; static files go round robin
    assert "Bokeh-Session-Id" in dict(r.route("GET", "/admin/autoload.js?x=1", [])[1])
    assert r.route("GET", "/dashboard?bokeh-session-id=abc", [])[0] == r.backend_of("abc")
    assert "Bokeh-Session-Id" not in dict(r.route("GET", "/static/js/bokeh.min.js", [])[1])
    assert "Bokeh-Session-Id" not in dict(r.route("POST", "/login", [])[1])


# ----------------------------------------------------------------------------- two real processes
@pytest.fixture(scope="module")
def served(database):
    from floatchat_core.cli import sample_dir
    from floatchat_core.db.maintenance import truncate_data
    from floatchat_core.ingest import ingest

    truncate_data()
    assert ingest([sample_dir()], name="sample", dataset="sample", executor="serial")["status"] == "succeeded"
    server = Server("--processes", "2", env={"FLOATCHAT_LOG_LEVEL": "INFO"})    # INFO: the warm-up lines
    yield server
    server.stop()
    truncate_data()


def _processes(server, app: str = "/dashboard", calls: int = 6) -> dict[int, dict]:
    """Each process's sessions of ``app``, from ``/health`` (the router sends it round robin)."""
    out = {}
    for _ in range(calls):
        with urllib.request.urlopen(server.url("health") + "?probe=0", timeout=60) as r:
            body = json.loads(r.read())
        out[body["server"]["pid"]] = body["server"]["apps"].get(app, {"sessions": 0, "connected": 0})
    return out


def test_the_router_holds_each_connection_handler_until_it_is_done():
    """asyncio keeps tasks weakly and the stream protocol lets go of a handler once its client is
    gone: the router holds every handler that runs, so none is collected mid-await."""
    import asyncio
    import gc

    async def scenario():
        answered = asyncio.Event()

        async def backend(reader, writer):            # a silent process: it answers when told to
            await reader.readuntil(b"\r\n\r\n")
            await answered.wait()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(backend, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        router = SessionRouter([("127.0.0.1", port)], ["/dashboard"])
        front = await asyncio.start_server(router.handle, "127.0.0.1", 0)
        fport = front.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", fport)
        writer.write(b"GET /static/x.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        for _ in range(100):
            if router._handlers:
                break
            await asyncio.sleep(0.01)
        assert len(router._handlers) == 1                   # held while it waits for the process
        writer.close()                                      # the client goes away mid-request
        gc.collect()
        assert len(router._handlers) == 1 and not next(iter(router._handlers)).done()
        answered.set()
        for _ in range(200):
            if not router._handlers:
                break
            await asyncio.sleep(0.01)
        assert not router._handlers                         # released once done
        for s in (front, server):
            s.close()
            await s.wait_closed()
        del reader

    import threading

    failed = []

    def in_a_fresh_thread():                  # Playwright keeps a loop running on the main thread
        try:
            asyncio.run(scenario())
        except BaseException as exc:          # noqa: BLE001 - re-raised below
            failed.append(exc)

    thread = threading.Thread(target=in_a_fresh_thread)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    if failed:
        raise failed[0]


def test_each_process_builds_a_page_before_its_first_visitor(served):
    """``server_setup`` has each process build one dashboard page of its own, on itself, once it
    listens (the first page of a process cost ~1 s more than the next): both processes log it."""
    import time

    deadline = time.monotonic() + 60
    while len(re.findall(r"serve\.warm_page status=200", served.log())) < 2:
        assert time.monotonic() < deadline, served.log()[-3000:]
        time.sleep(0.5)
    assert "serve.warm_page_failed" not in served.log()


def test_sessions_spread_over_both_processes_and_stay_there(served):
    before = _processes(served)
    assert len(before) == 2, before                           # two panel serve processes answer
    idle_before = sum(a["sessions"] - a["connected"] for a in before.values())
    with contextlib.ExitStack() as stack:
        sessions = [stack.enter_context(Session(served.url())) for _ in range(4)]
        now = _processes(served)
        assert sorted(a["connected"] for a in now.values()) == [2, 2], now
        # a websocket sent to another process would build its session there and leave the page's
        # own session idle: no more idle sessions than before (the readiness probe's, if not expired)
        assert sum(a["sessions"] - a["connected"] for a in now.values()) <= idle_before, (before, now)
        s = sessions[3]
        s.ask("Show the trajectory of float 2902269")
        got = s.patches(90, until="How this was answered")
        assert "Trajectory of float 2902269: 57 positions" in got
        assert {"DataTabulator", "Figure"} <= names(got)


def test_dashboard_in_chromium_through_the_router(served, browser):
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    try:
        page = ctx.new_page()
        console = Console(page)
        page.goto(served.url(), wait_until="domcontentloaded", timeout=60_000)
        page.locator("text=/profile positions from/").first.wait_for(timeout=60_000)
        page.locator("text=Show the trajectory of float 2902269").first.click()
        page.locator("text=/Answered in [0-9.]+ s · 57 rows/").first.wait_for(timeout=90_000)
        page.locator(".tabulator-row").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        screenshot(page, "router-chat-answer")
        assert not console.errors, console.errors
        assert not [f for f in console.failed if "127.0.0.1" not in f], console.failed
    finally:
        ctx.close()


def test_a_login_made_on_one_process_holds_on_the_other(database, browser, tmp_path):
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps({"users": {"ben": "ben-pw-0815"}, "roles": {"ben": "viewer"}}))
    server = Server("--processes", "2", "--auth", str(creds), env={"FLOATCHAT_SEARCH_INDEX_ON_INGEST": "0"})
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(f"http://127.0.0.1:{server.port}/login?next=/health", wait_until="domcontentloaded")
        page.fill("input[name=username]", "ben")
        page.fill("input[name=password]", "ben-pw-0815")
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_load_state("domcontentloaded")
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in ctx.cookies())
        for _ in range(4):                                     # the router alternates the processes
            req = urllib.request.Request(server.url(), headers={"Cookie": cookie})
            with urllib.request.urlopen(req, timeout=60) as r:
                html = r.read().decode()
            assert r.status == 200 and re.search(r'"token":\s*"', html) and "password" not in html
        for _ in range(2):                                     # a viewer, whichever process asks
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(server.url("admin"), headers={"Cookie": cookie}),
                                       timeout=60)
            assert refused.value.code == 403
        seen = {}
        for _ in range(6):
            req = urllib.request.Request(server.url("health") + "?probe=0", headers={"Cookie": cookie})
            with urllib.request.urlopen(req, timeout=60) as r:
                s = json.loads(r.read())["server"]
            seen[s["pid"]] = s["apps"]["/dashboard"]["sessions"]
        assert len(seen) == 2 and all(n >= 2 for n in seen.values()), seen   # both built pages for ben
    finally:
        ctx.close()
        server.stop()
    assert "ben-pw-0815" not in server.log()
