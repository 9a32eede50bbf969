"""Browser-test helpers (imported by the e2e tests): a real ``floatchat serve`` (``panel serve``) on 127.0.0.1 and Debian's
headless Chromium through Playwright (no browser download)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from floatchat_core.db.cluster import free_port

ARTIFACTS = Path(__file__).parent / "artifacts"


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Chromium not found: run scripts/setup-system.sh (installs Debian's chromium)")


class Server:
    """A ``floatchat serve`` child process; ``url(app)`` gives an app's address."""

    def __init__(self, *args: str, env: dict | None = None, app: str = "dashboard", timeout: float = 90):
        self.port = free_port()
        self.log_path = ARTIFACTS / f"serve-{self.port}.log"
        ARTIFACTS.mkdir(exist_ok=True)
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "floatchat_core.cli", "serve", "--port", str(self.port),
                                      *args], env=dict(os.environ, **(env or {})), stdout=self._log,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        deadline = time.monotonic() + timeout
        probe = f"http://127.0.0.1:{self.port}/login" if "--auth" in args else self.url(app)
        while True:
            try:
                with urllib.request.urlopen(probe, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"floatchat serve did not come up: {self.log_path.read_text()[-3000:]}")
            time.sleep(0.3)

    def url(self, app: str = "dashboard") -> str:
        return f"http://127.0.0.1:{self.port}/{app}"

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def stop(self) -> None:
        """Stop ``floatchat serve`` and its ``panel serve`` child (their own process group)."""
        import signal

        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)   # whatever is left of this server's group
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        self._log.close()



class Console:
    """JavaScript errors of a page (page errors and console.error), ignoring none."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.failed: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", lambda m: self.errors.append(f"console.error: {m.text}") if m.type == "error" else None)
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def tap_lonlat_js() -> str:
    """JS returning the page coordinates of (lon, lat) in the Bokeh figure that has a TapTool."""
    return """([lon, lat]) => {
      const out = [];
      const visit = (v) => {
        if (!v || out.length) return;
        const m = v.model;
        if (m && m.toolbar && m.toolbar.tools && m.toolbar.tools.some(t => t.type === 'TapTool' ||
            (t.constructor && t.constructor.name === 'TapTool')) && v.frame) {
          const r = v.canvas_view.el.getBoundingClientRect();
          const x = v.frame.x_scale.compute(lon), y = v.frame.y_scale.compute(lat);
          out.push([r.left + x, r.top + y]);
          return;
        }
        const kids = v.child_views ? [...v.child_views] : [];
        for (const k of kids) visit(k);
      };
      for (const v of Bokeh.index.roots ?? Object.values(Bokeh.index)) visit(v);
      return out[0] ?? null;
    }"""


def autoload_token(base: str, app: str, cookie: str) -> tuple[int, str | None]:
    """GET an app's autoload script (the route that skips the authorization callback) → (status, token)."""
    import re
    import urllib.error
    import urllib.request

    url = (f"{base}/{app}/autoload.js?bokeh-autoload-element=x&bokeh-app-path=/{app}"
           f"&bokeh-absolute-url={base}/{app}")
    req = urllib.request.Request(url, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            body = r.read().decode()
            status = r.status
    except urllib.error.HTTPError as e:
        return e.code, None
    m = re.search(r'"token":\s*"([^"]+)"', body)
    return status, m.group(1) if m else None


def pull_document_json(base: str, app: str, token: str, cookie: str, timeout: float = 60) -> str:
    """Speak Bokeh's websocket protocol like a browser would (cookie + session token) and return
    the JSON of the document the server built for this session."""
    from bokeh.protocol import Protocol
    from bokeh.protocol.receiver import Receiver
    from websockets.sync.client import connect

    proto = Protocol()
    ws_url = base.replace("http://", "ws://") + f"/{app}/ws"
    with connect(ws_url, subprotocols=["bokeh", token], additional_headers={"Cookie": cookie},
                 origin=base, open_timeout=timeout, max_size=2**28, ping_interval=None) as ws:
        receiver = Receiver(proto)

        def step(coro):   # Receiver.consume never awaits I/O; run it without an event loop (Playwright owns one)
            try:
                coro.send(None)
            except StopIteration as stop:
                return stop.value
            raise RuntimeError("bokeh Receiver.consume awaited unexpectedly")

        def read_message():
            while True:
                msg = step(receiver.consume(ws.recv(timeout=timeout)))
                if msg is not None:
                    return msg

        ack = read_message()
        assert ack.msgtype == "ACK", ack.msgtype
        req = proto.create("PULL-DOC-REQ")
        ws.send(req.header_json)
        ws.send(req.metadata_json)
        ws.send(req.content_json)
        while True:
            reply = read_message()
            if reply.msgtype == "PULL-DOC-REPLY":
                import json

                return json.dumps(reply.content["doc"])


class Session:
    """One dashboard session over Bokeh's websocket protocol, as BokehJS speaks it."""

    def __init__(self, url: str):
        from bokeh.protocol import Protocol
        from bokeh.protocol.receiver import Receiver

        self.url = url
        self.proto = Protocol()
        self.rec = Receiver(self.proto)

    def __enter__(self) -> Session:
        from websockets.sync.client import connect

        base = self.url.rsplit("/", 1)[0]
        page = urllib.request.urlopen(self.url, timeout=60).read().decode()
        token = re.search(r'"token":\s*"([^"]+)"', page).group(1)
        self._conn = connect(base.replace("http://", "ws://") + "/dashboard/ws", subprotocols=["bokeh", token],
                             origin=base, max_size=2**28, open_timeout=60, ping_interval=None)
        self.ws = self._conn.__enter__()
        assert self.read(60).msgtype == "ACK"
        self.send(self.proto.create("PULL-DOC-REQ"))
        while (m := self.read(60)).msgtype != "PULL-DOC-REPLY":
            pass
        self.input_id = find_id(m.content["doc"], "ChatAreaInput")
        self.event({"type": "event", "name": "document_ready", "values": {"type": "map", "entries": []}})
        return self

    def __exit__(self, *exc) -> None:
        self._conn.__exit__(*exc)

    def read(self, timeout: float):
        while True:
            frag = self.ws.recv(timeout=timeout)
            try:
                self.rec.consume(frag).send(None)
            except StopIteration as stop:
                if stop.value is not None:
                    return stop.value

    def send(self, msg) -> None:
        for frame in (msg.header_json, msg.metadata_json, msg.content_json):
            self.ws.send(frame)

    def event(self, data: dict) -> None:
        content = {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": data}]}
        for frame in (json.dumps({"msgid": uuid.uuid4().hex, "msgtype": "PATCH-DOC"}), "{}", json.dumps(content)):
            self.ws.send(frame)

    def ask(self, question: str) -> None:
        self.event({"type": "event", "name": "chat_message_event",
                    "values": {"type": "map", "entries": [["model", {"id": self.input_id}], ["value", question]]}})

    def patches(self, seconds: float, until: str | None = None) -> str:
        """Every PATCH-DOC's JSON for ``seconds`` (or until one contains ``until``), joined."""
        out, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                m = self.read(max(end - time.monotonic(), 0.01))
            except TimeoutError:
                break
            if m.msgtype == "PATCH-DOC":
                out.append(json.dumps(m.content))
                if until and until in out[-1]:
                    break
        return "\n".join(out)


def find_id(obj, name: str) -> str | None:
    """The id of the first Bokeh model of class ``name`` in a serialized document (names may be
    qualified: ``panel.models.chatarea_input.ChatAreaInput``)."""
    if isinstance(obj, dict):
        if obj.get("type") == "object" and str(obj.get("name")).rsplit(".", 1)[-1] == name and "id" in obj:
            return obj["id"]
        obj = list(obj.values())
    if isinstance(obj, list):
        for v in obj:
            if (found := find_id(v, name)) is not None:
                return found
    return None


def names(text: str) -> set[str]:
    return {n.rsplit(".", 1)[-1] for n in re.findall(r'"name":\s*"([\w.]+)"', text)}
