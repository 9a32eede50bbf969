"""Workbench speed: map aggregation, dashboard first paint, concurrent chat sessions.

    python benchmarks/ui.py            # 1,000,000 positions, 20 sessions during a bulk ingestion
    python benchmarks/ui.py --smoke    # 200,000 positions, 3 sessions, no ingestion (CI, < 60 s on an idle machine)

1. **Map**: synthetic positions rasterized server-side with the FloatMap's own pipeline
   (``workbench.plots.position_points`` → datashader ``rasterize``), first aggregate of the world
   and re-aggregation on zoom, both as pure aggregation and as the HoloViews/Bokeh plot update
   (``RangeXY`` stream event on the rendered plot, what a browser zoom triggers).
2. **First paint**: the dashboard on the bundled sample in headless Chromium (Debian's), from
   navigation to the map's canvas and the summary line being on screen.
3. **Sessions**: N websocket clients speaking Bokeh's protocol to ``panel serve`` on 127.0.0.1
   (each pulls its own document, as a browser does), each asking questions while
   ``floatchat ingest`` runs on the shared GDAC corpus (then ``floatchat reingest`` again and
   again until the last session is done, so the whole measurement overlaps a bulk ingestion).
   Every session first opens its page and websocket; once all are connected they ask (an answer's
   time never includes another visitor's page build, which first paint measures). Time per
   answer = from sending the question to receiving the document patch that carries the whole
   answer (its text, table, plot and provenance card arrive together in one message's models,
   checked per answer); the "Answered in" status line is set before the answer is appended, so
   it is not the end point. Errors counted. ``--think S`` paces the sessions like people: each
   asks its first question at a random moment within the first S seconds and waits 0.5–1.5 × S
   (uniform, seeded) between an answer and its next question; the default 0 is a burst, every
   session asking at the same instant and again the moment it is answered (the harshest load).
   ``wall_s`` and ``cpu_s`` (CPU seconds by part: servers, PostgreSQL, ingestion, clients) cover
   the round from the moment all sessions are connected to the moment the last answer arrived;
   the clients closing their websockets afterwards (up to 2 s each) is left out.

Uses its own throw-away managed PostgreSQL (a temporary FLOATCHAT_HOME).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FLOATCHAT_SHARED", REPO.parent / "shared"))
QUESTIONS = ["How many floats are there?", "Show the trajectory of float 2902269",
             "Temperature profiles of float 2902269", "Mean temperature at 1000 dbar in the Arabian Sea",
             "Salinity profiles of float 1900857", "How many profiles in 2019?"]


def synthetic_positions(n: int, seed: int = 0):
    """Argo-like positions: clustered float tracks over the oceans (degrees)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_floats = max(n // 150, 1)
    lon0, lat0 = rng.uniform(-180, 180, n_floats), rng.uniform(-65, 65, n_floats)
    idx = rng.integers(0, n_floats, n)
    return pd.DataFrame({"longitude": np.clip(lon0[idx] + rng.normal(0, 3, n), -180, 180),
                         "latitude": np.clip(lat0[idx] + rng.normal(0, 2, n), -80, 85),
                         "platform_number": (idx + 1_900_000).astype(str),
                         "cycle_number": rng.integers(1, 300, n)})


def bench_map(n: int, repeats: int = 5) -> dict:
    import holoviews as hv
    from holoviews.operation.datashader import rasterize

    from workbench import plots

    df = synthetic_positions(n)
    plots._holoviews()
    out: dict = {"positions": n}
    t0 = time.perf_counter()   # datashader compiles its numba kernels once per process (the server warms up)
    rasterize(plots.position_points(df.head(10)), aggregator="count", dynamic=False, width=90, height=48,
              x_range=(-180, 180), y_range=(-90, 90))
    out["jit_warm_up_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    pts = plots.position_points(df)
    agg = rasterize(pts, aggregator="count", dynamic=False, width=900, height=480,
                    x_range=(-180, 180), y_range=(-90, 90))
    out["first_aggregate_s"] = round(time.perf_counter() - t0, 3)
    total = int(agg.data[list(agg.data.data_vars)[0]].sum())
    assert total == n, (total, n)
    zooms = [((40, 80), (0, 25)), ((-80, -20), (-10, 30)), ((140, 180), (-50, -20)), ((-30, 0), (40, 60))]
    times = []
    for i in range(repeats):
        (x0, x1), (y0, y1) = zooms[i % len(zooms)]
        t = time.perf_counter()
        rasterize(pts, aggregator="count", dynamic=False, width=900, height=480, x_range=(x0, x1), y_range=(y0, y1))
        times.append(time.perf_counter() - t)
    out["zoom_aggregate_median_s"] = round(statistics.median(times), 3)
    out["zoom_aggregate_max_s"] = round(max(times), 3)
    # the FloatMap's dynamic pipeline rendered to Bokeh, then a zoom event (what a browser sends)
    t = time.perf_counter()
    dmap = plots.rasterize_positions(pts)
    plot = hv.renderer("bokeh").get_plot(dmap * plots.coastlines())
    out["first_plot_render_s"] = round(time.perf_counter() - t, 3)
    rng = [s for s in plot.streams if isinstance(s, hv.streams.RangeXY)]
    times = []
    for i in range(repeats):
        (x0, x1), (y0, y1) = zooms[i % len(zooms)]
        t = time.perf_counter()
        for s in rng[:1]:
            s.event(x_range=(x0, x1), y_range=(y0, y1))
        times.append(time.perf_counter() - t)
    out["zoom_plot_update_median_s"] = round(statistics.median(times), 3)
    out["zoom_plot_update_max_s"] = round(max(times), 3)
    return out


# ----------------------------------------------------------------------------- server
def start_server(home: Path, port: int, env_extra: dict | None = None) -> subprocess.Popen:
    env = dict(os.environ, FLOATCHAT_HOME=str(home), **(env_extra or {}))
    proc = subprocess.Popen([sys.executable, "-m", "floatchat_core.cli", "serve", "--port", str(port)], env=env,
                            stdout=open(home / "serve.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/dashboard", timeout=30):
                return proc
        except OSError:
            time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError("panel serve did not come up: " + (home / "serve.log").read_text()[-2000:])


def stop_server(proc: subprocess.Popen) -> None:
    import signal

    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def server_rss_mb(proc: subprocess.Popen) -> list[int]:
    """Resident memory (MB) of each ``panel serve`` process of a ``floatchat serve``."""
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for child in children:
        try:
            if "panel" in " ".join(child.cmdline()):
                out.append(round(child.memory_info().rss / 2**20))
        except psutil.Error:
            pass
    return sorted(out)


def cpu_snapshot(server: subprocess.Popen) -> dict:
    """CPU seconds used so far, by part of the run: the ``panel serve`` processes, this run's PostgreSQL
    (the managed cluster under ``FLOATCHAT_HOME``), the bulk ingestion (its processes and their workers),
    and this process (the websocket clients).

    Processes that ended since the last snapshot count through their parent's ``children_*`` times:
    a PostgreSQL backend through the postmaster, an ingestion run through this process (its only
    child waited for during a round).

    These are the kernel's figures. On the 2-core Firecracker VM of the README's runs they over-count:
    four CPU burners on its two vCPUs were each charged ~4 s in 4 s. So compare the parts within
    one run, not a sum against the machine's CPU time.
    """
    import psutil

    me = psutil.Process()
    top = psutil.Process(server.pid)
    servers = {p.pid for p in [top, *top.children(recursive=True)]}
    home = os.environ.get("FLOATCHAT_HOME", "\0")
    postmasters = {p.pid for p in psutil.process_iter(["name", "cmdline"])
                   if p.info["name"] == "postgres" and home in " ".join(p.info["cmdline"] or ())}
    ingestion = {p.pid for c in me.children() if c.pid not in servers for p in [c, *c.children(recursive=True)]}
    t = me.cpu_times()
    out = {"servers": 0.0, "postgres": 0.0, "ingestion": t.children_user + t.children_system,
           "clients": t.user + t.system}
    for proc in psutil.process_iter(["pid", "ppid"]):
        try:
            if proc.pid in servers:
                key = "servers"
            elif proc.pid in postmasters or proc.info["ppid"] in postmasters:
                key = "postgres"
            elif proc.pid in ingestion:
                key = "ingestion"
            else:
                continue                       # not part of this run
            ct = proc.cpu_times()
            out[key] += ct.user + ct.system + ct.children_user + ct.children_system
        except psutil.Error:
            pass
    return out


def cpu_used(before: dict, after: dict, wall_s: float) -> dict:
    """CPU seconds each part used between two snapshots, and the machine's CPU seconds in that time
    (wall time × CPUs)."""
    used = {k: round(after[k] - before[k], 1) for k in before}
    used["machine_cpu_s"] = round(wall_s * (os.cpu_count() or 1), 1)
    return used


def server_warnings(log: Path, keep: int = 20) -> list[str]:
    """The server log's warnings and errors so far (the last ``keep``): why an answer failed, in
    the server's words (a failed chat answer logs ``workbench.chat_failed error=…``)."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return []
    flag = re.compile(r"WARNING|ERROR|Traceback|Exception|_failed|error=")
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("Traceback"):   # its last frame and the exception line say what it was
            j = i + 1
            while j < len(lines) and (lines[j][:1].isspace() or not lines[j]):
                j += 1
            frames = [ln.strip() for ln in lines[i + 1:j] if ln.strip().startswith("File ")]
            exc = lines[j] if j < len(lines) else ""
            out.append(f"Traceback … {frames[-1] if frames else ''} → {exc}"[:500])
            i = j + 1
            continue
        if flag.search(line):
            out.append(line[:500])
        i += 1
    return out[-keep:]


def bench_first_paint(url: str, runs: int = 3) -> dict:
    sys.path.insert(0, str(REPO / "tests" / "e2e"))
    from e2e_helpers import chromium_path
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            t = time.perf_counter()
            page.goto(url, wait_until="commit", timeout=120_000)
            page.locator("canvas").first.wait_for(state="visible", timeout=120_000)
            page.locator("text=/profile positions from/").first.wait_for(timeout=120_000)
            times.append(time.perf_counter() - t)
            page.close()
        browser.close()
    return {"first_paint_s": [round(t, 2) for t in times], "first_paint_median_s": round(statistics.median(times), 2)}


# ----------------------------------------------------------------------------- websocket sessions
def _step(coro):
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("bokeh Receiver.consume awaited unexpectedly")


def _find(obj, pred, out):
    if isinstance(obj, dict):
        if pred(obj):
            out.append(obj)
        for v in obj.values():
            _find(v, pred, out)
    elif isinstance(obj, list):
        for v in obj:
            _find(v, pred, out)
    return out


def _answer_parts(patch: dict, number: int) -> dict:
    """Which parts of the session's ``number``-th answer a PATCH-DOC's new models carry (Bokeh model
    names); its provenance card is tagged with the number (an older answer folding also sends one)."""
    text = json.dumps(patch)
    tag = re.compile(rf'data-answer=(?:\\\\"|&quot;){number}(?:\\\\"|&quot;)')   # as sent: HTML-escaped in JSON
    return {"provenance": bool(tag.search(text)), "table": "DataTabulator" in text,
            "plot": '"name":"Figure"' in text.replace(" ", ""), "failed": "question failed" in text}


def _failure(obj) -> str:
    """The reason a failed answer gives ("Sorry, this question failed: REASON"), from a PATCH-DOC."""
    if isinstance(obj, str):
        return obj.split("question failed:", 1)[1].strip()[:300] if "question failed:" in obj else ""
    values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else ()
    return next((why for v in values if (why := _failure(v))), "")


def session_client(base: str, questions: list[str], results: list, timeout: float = 120,
                   barrier: threading.Barrier | None = None, think: float = 0.0, seed: int = 0,
                   done: threading.Semaphore | None = None) -> None:
    """One browser-less session: pull the dashboard document, wait until every session is connected,
    ask each question, time each answer until its whole body (text, table, plot, card) arrived.
    ``done`` is released once its last answer arrived (before its websocket closes) or it failed."""
    from bokeh.protocol import Protocol
    from bokeh.protocol.receiver import Receiver
    from websockets.sync.client import connect

    try:
        html = urllib.request.urlopen(base + "/dashboard", timeout=timeout).read().decode()
        token = re.search(r'"token":\s*"([^"]+)"', html).group(1)
        proto = Protocol()
        rec = Receiver(proto)
        with connect(base.replace("http://", "ws://") + "/dashboard/ws", subprotocols=["bokeh", token],
                     origin=base, max_size=2**28, open_timeout=timeout, ping_interval=None,
                     close_timeout=2) as ws:
            def read(deadline):
                while True:
                    m = _step(rec.consume(ws.recv(timeout=max(deadline - time.perf_counter(), 0.01))))
                    if m is not None:
                        return m
            assert read(time.perf_counter() + timeout).msgtype == "ACK"
            req = proto.create("PULL-DOC-REQ")
            for frame in (req.header_json, req.metadata_json, req.content_json):
                ws.send(frame)
            while (m := read(time.perf_counter() + timeout)).msgtype != "PULL-DOC-REPLY":
                pass
            inputs = _find(m.content["doc"], lambda d: d.get("type") == "object"
                           and "ChatAreaInput" in str(d.get("name")), [])
            mid = inputs[0]["id"]
            # what BokehJS sends once the page is rendered: until then Panel holds back every change that
            # adds models (a new chat message is one) for the first full render, so a client that never
            # says "ready" receives status lines and step texts but never an answer's body
            ready = {"type": "event", "name": "document_ready", "values": {"type": "map", "entries": []}}
            for frame in (json.dumps({"msgid": uuid.uuid4().hex, "msgtype": "PATCH-DOC"}), "{}",
                          json.dumps({"events": [{"kind": "MessageSent", "msg_type": "bokeh_event",
                                                  "msg_data": ready}]})):
                ws.send(frame)
            if barrier is not None:
                barrier.wait(timeout=600)
            import random

            rng = random.Random(seed)
            for k, q in enumerate(questions):
                if think:
                    time.sleep(rng.uniform(0.5 * think, 1.5 * think) if k else rng.uniform(0.0, think))
                event = {"type": "event", "name": "chat_message_event",
                         "values": {"type": "map", "entries": [["model", {"id": mid}], ["value", q]]}}
                content = {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": event}]}
                t0 = time.perf_counter()
                for frame in (json.dumps({"msgid": uuid.uuid4().hex, "msgtype": "PATCH-DOC"}), "{}",
                              json.dumps(content)):
                    ws.send(frame)
                status, seen = "timeout", {"table": False, "plot": False}
                try:
                    while time.perf_counter() - t0 < timeout:
                        m = read(t0 + timeout)
                        if m.msgtype == "ERROR":
                            status = f"protocol error: {m.content}"
                            break
                        if m.msgtype == "PATCH-DOC":
                            parts = _answer_parts(m.content, k + 1)
                            seen = {k: seen[k] or parts[k] for k in seen}
                            if parts["failed"]:
                                status = "error: " + _failure(m.content)
                                break
                            if parts["provenance"]:   # the answer's last part: the whole body has arrived
                                status = "ok"
                                break
                except TimeoutError:
                    pass
                results.append((q, time.perf_counter() - t0, status, seen, t0))
            if done is not None:
                done.release()
                done = None
    except Exception as exc:   # a client that cannot connect is an error of the run
        if barrier is not None:
            barrier.abort()
        results.append(("<connect>", float("nan"), f"error: {type(exc).__name__}: {exc}", {}, float("nan")))
    finally:
        if done is not None:
            done.release()


def bench_sessions(base: str, n_sessions: int, per_session: int, think: float = 0.0,
                   server: subprocess.Popen | None = None) -> dict:
    results: list = []
    barrier = threading.Barrier(n_sessions + 1)
    done = threading.Semaphore(0)
    threads = [threading.Thread(target=session_client,
                                args=(base, [QUESTIONS[(i + k) % len(QUESTIONS)] for k in range(per_session)],
                                      results), kwargs={"barrier": barrier, "think": think, "seed": i, "done": done})
               for i in range(n_sessions)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    barrier.wait(timeout=600)          # every session has its page and websocket
    connect_s = time.perf_counter() - t
    cpu0 = cpu_snapshot(server) if server is not None else None
    t = time.perf_counter()
    deadline = t + 900
    for _ in threads:     # until every session's last answer arrived: closing the websockets is not timed
        done.acquire(timeout=max(deadline - time.perf_counter(), 0.01))
    wall, end = time.perf_counter() - t, time.time()
    cpu = cpu_used(cpu0, cpu_snapshot(server), wall) if cpu0 is not None else None
    for th in threads:
        th.join(timeout=900)
    ok = sorted(r[1] for r in results if r[2] == "ok")
    errors = [r for r in results if r[2] != "ok"]
    p95 = ok[min(len(ok) - 1, int(round(0.95 * (len(ok) - 1))))] if ok else float("nan")
    return {"sessions": n_sessions, "questions": len(results), "answered": len(ok), "errors": len(errors),
            "error_samples": [f"{q}: {s}" for q, _, s, _, _ in errors[:5]],
            "with_table": sum(1 for r in results if r[2] == "ok" and r[3].get("table")),
            "with_plot": sum(1 for r in results if r[2] == "ok" and r[3].get("plot")),
            "answer_median_s": round(statistics.median(ok), 2) if ok else None, "answer_p95_s": round(p95, 2),
            "answer_max_s": round(ok[-1], 2) if ok else None, "think_s": think,
            "slowest_by_question_s": {q: round(max(r[1] for r in results if r[0] == q and r[2] == "ok"), 2)
                                      for q in sorted({r[0] for r in results if r[2] == "ok"})},
            # asked in each 5 s after the start: [second, questions asked, their slowest answer]
            "timeline_5s": [[w * 5, len(v), round(max(v), 2)] for w, v in sorted(_windows(results, t).items())],
            "connect_all_s": round(connect_s, 1), "wall_s": round(wall, 1), "cpu_s": cpu,
            "window": (end - wall, end)}


def _windows(results: list, start: float, width: float = 5.0) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    for r in results:
        if r[2] == "ok":
            out.setdefault(int((r[4] - start) // width), []).append(r[1])
    return out


class BulkIngestion:
    """``floatchat ingest`` of the GDAC corpus, then ``floatchat reingest`` again and again until
    stopped: a bulk ingestion that lasts as long as the measurement. Records each run's interval."""

    def __init__(self, gdac: Path, log_path: Path):
        self.gdac, self.log = gdac, open(log_path, "w")
        self.runs: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> BulkIngestion:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            cmd = ["reingest"] if self.runs else ["ingest", str(self.gdac), "--dataset", "gdac-bulk"]
            t0 = time.time()
            self._proc = subprocess.Popen([sys.executable, "-m", "floatchat_core.cli", *cmd], env=dict(os.environ),
                                          stdout=self.log, stderr=subprocess.STDOUT)
            rc = self._proc.wait()
            self.runs.append((t0, time.time(), rc))

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(timeout=900)
        return {"runs": len(self.runs), "failed_runs": sum(1 for r in self.runs if r[2] != 0),
                "run_s": [round(b - a, 1) for a, b, _ in self.runs]}

    def overlap(self, window: tuple[float, float]) -> float:
        """Fraction of ``window`` (epoch seconds) during which an ingestion process was running."""
        a, b = window
        busy = sum(max(0.0, min(b, e) - max(a, s)) for s, e, _ in self.runs)
        return round(busy / max(b - a, 1e-9), 3)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="small and quick (CI)")
    ap.add_argument("--positions", type=int, default=None)
    ap.add_argument("--sessions", type=int, default=None)
    ap.add_argument("--questions", type=int, default=None, help="questions per session")
    ap.add_argument("--no-ingest", action="store_true", help="no bulk ingestion during the sessions")
    ap.add_argument("--think", type=float, nargs="+", default=[0.0],
                    help="mean seconds a session waits before its first question (random within S) and between "
                         "an answer and its next one (0.5-1.5 S); default 0: a burst. Several values: one "
                         "sessions run each (results 'sessions', then 'sessions_think_S')")
    ap.add_argument("--processes", type=int, default=None,
                    help="panel serve processes behind the session router (default FLOATCHAT_SERVE_PROCESSES)")
    ap.add_argument("--sessions-only", action="store_true", help="skip the map and first-paint measurements")
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args(argv)
    n = args.positions or (200_000 if args.smoke else 1_000_000)
    sessions = args.sessions or (3 if args.smoke else 20)
    per = args.questions or (1 if args.smoke else 3)
    sys.path.insert(0, str(REPO))
    from _benchdb import calibrate

    # the host's speed before and after (10 M pure-Python additions, s): figures on a shared VM
    # are only comparable at similar calibrations
    results: dict = {"machine": {"cpus": os.cpu_count(), "load_1min": os.getloadavg()[0],
                                 "calibration_s": calibrate()}}
    if not args.sessions_only:
        print(f"map: {n:,} synthetic positions …", flush=True)
        results["map"] = bench_map(n, repeats=3 if args.smoke else 7)
        print(json.dumps(results["map"]), flush=True)

    home = Path(tempfile.mkdtemp(prefix="floatchat-bench-ui-"))
    os.chmod(home, 0o755)
    os.environ["FLOATCHAT_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    from floatchat_core import db
    from floatchat_core.db import cluster

    proc = ingestion = None
    try:
        db.up()
        from floatchat_core.cli import _seed_regions, sample_dir
        from floatchat_core.ingest import ingest

        _seed_regions()
        ingest([sample_dir()], name="sample", dataset="sample", executor="serial")
        from floatchat_core.db.cluster import free_port

        port = free_port()
        server_env = {"FLOATCHAT_SEARCH_INDEX_ON_INGEST": "0"}
        if args.processes is not None:
            server_env["FLOATCHAT_SERVE_PROCESSES"] = str(args.processes)
        from floatchat_core.serve import resolve_processes

        results["server_processes"] = resolve_processes(args.processes)
        proc = start_server(home, port, server_env)
        base = f"http://127.0.0.1:{port}"
        if not args.sessions_only:
            print("first paint …", flush=True)
            results["first_paint"] = bench_first_paint(base + "/dashboard", runs=1 if args.smoke else 3)
            print(json.dumps(results["first_paint"]), flush=True)
        gdac = SHARED / "data" / "argo" / "gdac" / "dac"
        if not args.smoke and not args.no_ingest and gdac.is_dir():
            ingestion = BulkIngestion(gdac, home / "ingest.log").start()
            time.sleep(3)
        windows = {}
        for k, think in enumerate(args.think):
            key = "sessions" if k == 0 else f"sessions_think_{think:g}"
            print(f"sessions: {sessions} × {per} questions, think {think:g} s"
                  f"{' during a bulk ingestion' if ingestion else ''} …", flush=True)
            load0 = os.getloadavg()
            res = results[key] = bench_sessions(base, sessions, per, think=think, server=proc)
            res["load_avg_before_after"] = [round(v, 2) for v in (*load0, *os.getloadavg())]
            res["server_rss_mb"] = server_rss_mb(proc)
            res["server_warnings"] = server_warnings(home / "serve.log")
            windows[key] = res.pop("window")
            print(json.dumps(res), flush=True)
        if ingestion is not None:
            results["ingestion"] = ingestion.stop()      # the run in progress is recorded when it ends
        for key, window in windows.items():
            overlap = ingestion.overlap(window) if ingestion is not None else 0.0
            results[key].update(ingestion_overlap=overlap, during_ingestion=overlap >= 0.99)
            print(key, "overlap with the bulk ingestion:", overlap, flush=True)
    finally:
        if ingestion is not None:
            ingestion.stop()
        if proc is not None:
            stop_server(proc)
        db.dispose_engines()
        cluster.remove()
        shutil.rmtree(home, ignore_errors=True)
    results["machine"]["calibration_after_s"] = calibrate()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
