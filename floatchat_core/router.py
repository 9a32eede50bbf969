"""Sticky sessions for several ``panel serve`` processes behind one port.

One Python process runs every Bokeh session it serves on one event loop, so on a machine with
several cores a single ``panel serve`` queues the answers of concurrent users. Bokeh's own
``--num-procs`` forks processes that share the listening socket: a page's HTTP request and its
websocket then often land in different processes, and the second builds the whole session again
from the token (the work is done twice and the load is uneven).

This router accepts every connection on the public port and forwards it, byte for byte, to one of
``n`` independent ``panel serve`` processes on 127.0.0.1:

- **a page of an app** (``GET /dashboard`` or its ``autoload.js``): the least loaded process is chosen, and the router
  gives the session its id (Bokeh's ``Bokeh-Session-Id`` request header, drawn with Bokeh's own
  ``generate_session_id``) such that ``crc32(id) % n`` names that process;
- **a websocket** (``/…/ws``): the session id is read from the token Bokeh's client sends as the
  second ``Sec-WebSocket-Protocol`` value, so it reaches the process that built its session;
- **anything else** (static files, ``/health``, login): round robin.

HTTP requests are forwarded with ``Connection: close``, so every request is routed on its own;
websockets stay open and are only copied. The router reads nothing but request heads: no bodies,
no answers, no credentials are parsed or logged.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import zlib
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qs, urlsplit

_HEAD_LIMIT = 64 * 1024
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection"}


def _session_of_token(token: str) -> str | None:
    from bokeh.util.token import get_session_id

    try:
        return str(get_session_id(token))
    except Exception:  # not a Bokeh token: any process will do
        return None


class SessionRouter:
    """Routes connections to ``backends`` (``(host, port)``) as described in the module."""

    def __init__(self, backends: Sequence[tuple[str, int]], app_paths: Iterable[str],
                 connect_timeout: float = 120.0, pending_s: float = 30.0):
        from bokeh.settings import settings

        if not backends:
            raise ValueError("the router needs at least one backend")
        self.backends = list(backends)
        self.app_paths = {p.rstrip("/") or "/" for p in app_paths}
        self.connect_timeout, self.pending_s = connect_timeout, pending_s
        self.websockets = [0] * len(self.backends)         # open websockets per backend
        self._pending: list[list[float]] = [[] for _ in self.backends]   # pages whose websocket is not open yet
        self._rr = itertools.count()
        # asyncio holds tasks weakly, and the stream protocol drops its reference to a connection's
        # handler when the client's connection is lost: a handler still closing its backend could
        # then be collected mid-await ("Task was destroyed but it is pending!", seen once in a
        # benchmark run). The handlers running are held here.
        self._handlers: set[asyncio.Task] = set()
        self._secret, self._signed = settings.secret_key_bytes(), settings.sign_sessions()

    # ------------------------------------------------------------------ choosing
    def backend_of(self, session_id: str) -> int:
        return zlib.crc32(session_id.encode()) % len(self.backends)

    def load(self, k: int) -> int:
        now = time.monotonic()
        self._pending[k] = [t for t in self._pending[k] if now - t < self.pending_s]
        return self.websockets[k] + len(self._pending[k])

    def least_loaded(self) -> int:
        start = next(self._rr)                              # ties go round the backends
        n = len(self.backends)
        return min(((start + i) % n for i in range(n)), key=self.load)

    def new_session_id(self, k: int) -> str:
        """A Bokeh session id that :meth:`backend_of` maps to backend ``k`` (n draws expected)."""
        from bokeh.util.token import generate_session_id

        while True:
            sid = str(generate_session_id(secret_key=self._secret, signed=self._signed))
            if self.backend_of(sid) == k:
                return sid

    def _is_page(self, path: str) -> bool:
        """A request that makes Bokeh build a session: an app's page or its ``autoload.js``."""
        path = path.rstrip("/") or "/"
        if path.endswith("/autoload.js"):
            path = path[: -len("/autoload.js")] or "/"
        return path in self.app_paths

    def route(self, method: str, target: str, headers: list[tuple[str, str]]) -> tuple[int, list[tuple[str, str]], bool]:
        """``(backend, headers to send, is_websocket)`` for one request head."""
        lower = {name.lower(): value for name, value in headers}
        if lower.get("upgrade", "").strip().lower() == "websocket":
            protocols = [p.strip() for p in lower.get("sec-websocket-protocol", "").split(",")]
            sid = _session_of_token(protocols[1]) if len(protocols) > 1 and protocols[0] == "bokeh" else None
            k = self.backend_of(sid) if sid else self.least_loaded()
            if self._pending[k]:
                self._pending[k].pop(0)
            return k, headers, True
        url = urlsplit(target)
        given = lower.get("bokeh-session-id") or (parse_qs(url.query).get("bokeh-session-id") or [None])[0]
        if given:
            k = self.backend_of(given)
        elif method == "GET" and self._is_page(url.path):
            k = self.least_loaded()
            headers = [*headers, ("Bokeh-Session-Id", self.new_session_id(k))]
            self._pending[k].append(time.monotonic())
        else:
            k = next(self._rr) % len(self.backends)
        headers = [(n, v) for n, v in headers if n.lower() not in _HOP_BY_HOP] + [("Connection", "close")]
        return k, headers, False

    # ------------------------------------------------------------------ forwarding
    async def _open(self, k: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host, port = self.backends[k]
        deadline = time.monotonic() + self.connect_timeout
        delay = 0.05
        while True:                                          # a process still starting: wait for it
            try:
                return await asyncio.open_connection(host, port, limit=_HEAD_LIMIT)
            except OSError:
                if time.monotonic() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, eof: bool) -> None:
        try:
            while data := await reader.read(256 * 1024):
                writer.write(data)
                await writer.drain()
            if eof and writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            pass

    async def handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        bwriter = None
        try:
            try:
                head = await asyncio.wait_for(creader.readuntil(b"\r\n\r\n"), 60)
            except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            line, *rest = head[:-4].decode("latin-1").split("\r\n")
            try:
                method, target, version = line.split(" ", 2)
                headers = [(n.strip(), v.strip()) for n, _, v in (h.partition(":") for h in rest)]
            except ValueError:
                cwriter.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                return
            k, headers, websocket = self.route(method, target, headers)
            try:
                breader, bwriter = await self._open(k)
            except OSError:
                body = b"the FloatChat server process is not reachable\n"
                cwriter.write(b"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Type: text/plain\r\n"
                              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                return
            bwriter.write(("\r\n".join([f"{method} {target} {version}", *(f"{n}: {v}" for n, v in headers)])
                           + "\r\n\r\n").encode("latin-1"))
            if websocket:
                self.websockets[k] += 1
            try:
                up = asyncio.ensure_future(self._pipe(creader, bwriter, eof=True))
                await self._pipe(breader, cwriter, eof=False)   # the answer (or the server's side of a websocket)
                up.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await up
            finally:
                if websocket:
                    self.websockets[k] -= 1
        finally:
            for w in (bwriter, cwriter):
                if w is not None:
                    w.close()
                    with contextlib.suppress(Exception):
                        await w.wait_closed()

    async def serve(self, address: str, port: int, started: asyncio.Event | None = None,
                    stop: asyncio.Event | None = None) -> None:
        """Listen on ``address:port`` until ``stop`` is set (or forever)."""
        server = await asyncio.start_server(self.handle, address, port, limit=_HEAD_LIMIT, reuse_address=True)
        async with server:
            if started is not None:
                started.set()
            if stop is None:
                await server.serve_forever()
            else:
                await stop.wait()
