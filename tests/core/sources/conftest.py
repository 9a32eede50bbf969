"""A real HTTP server on 127.0.0.1 replaying the recorded ERDDAP answers of ``shared/data/erddap``.

The server maps the *decoded* request path + query to an ``index.json`` entry (the recorded
URL's path + query), and serves the file with ERDDAP's status: 404 for its "no matching
results" error body, 502 for the recorded proxy error page, 200 otherwise. ``behaviour``
switches it into failure modes: ``slow`` (sleeps before answering), ``500``, ``truncated``
(announces the full length, sends half, closes), ``short`` (a well-formed HTTP answer with
half a NetCDF file), ``html`` (an HTML error page with status 200).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest


class Replay:
    def __init__(self, root: Path):
        self.root = root
        self.entries = json.loads((root / "index.json").read_text())
        self.by_key = {}
        for e in self.entries:
            u = urlsplit(e["url"])
            self.by_key[u.path + ("?" + u.query if u.query else "")] = e
        self.behaviour = "normal"
        self.delay = 10.0
        self.requests: list[str] = []
        self.lock = threading.Lock()


def _handler(replay: Replay):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # quiet
            pass

        def _send(self, status: int, body: bytes, ctype: str, length: int | None = None):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True

        def do_GET(self):
            key = unquote(self.path)
            with replay.lock:
                replay.requests.append(key)
            b = replay.behaviour
            if b == "slow":
                time.sleep(replay.delay)
            if b == "500":
                return self._send(
                    500, b'Error {\n    code=500;\n    message="Internal Server Error";\n}\n', "text/plain"
                )
            if b == "html":
                return self._send(
                    200,
                    b"<!DOCTYPE html><html><head><title>Maintenance</title></head>"
                    b"<body>ERDDAP is down for maintenance</body></html>",
                    "text/html",
                )
            e = replay.by_key.get(key)
            if e is None:
                return self._send(
                    404,
                    f'Error {{\n    code=404;\n    message="Not Found: no recording for '
                    f'{key[:200]}";\n}}\n'.encode(),
                    "text/plain",
                )
            body = (replay.root / e["file"]).read_bytes()
            text = body[:300].decode("latin-1")
            if text.startswith("Error"):
                m = re.search(r"code=(\d+)", text)
                return self._send(int(m.group(1)) if m else 500, body, "text/plain")
            if text.lstrip().lower().startswith("<!doctype"):
                return self._send(502, body, "text/html")
            ctype = "application/x-netcdf" if e["file"].endswith(".nc") else "text/plain"
            if b == "truncated":
                return self._send(200, body[: len(body) // 2], ctype, length=len(body))
            if b == "short":
                return self._send(200, body[: len(body) // 2], ctype)
            return self._send(200, body, ctype)

    return H


@pytest.fixture(scope="session")
def erddap_dir(shared_dir) -> Path:
    return shared_dir / "data" / "erddap"


@pytest.fixture
def erddap_server(erddap_dir):
    """Yields the replay state; ``.url`` is the base URL (``http://127.0.0.1:PORT/erddap``)."""
    replay = Replay(erddap_dir)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _handler(replay))
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    replay.url = f"http://127.0.0.1:{srv.server_address[1]}/erddap"
    try:
        yield replay
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def dead_url() -> str:
    """A base URL where nothing listens (a port just freed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/erddap"
