"""``GET /health`` beside the Panel apps (a Tornado handler; Panel serve plugin).

Mount it with ``panel serve … --plugins floatchat_core.sources.health_http`` (Panel reads
:data:`ROUTES`), or ``pn.serve(apps, extra_patterns=ROUTES)``. The answer is the JSON of
:func:`floatchat_core.sources.health.health`; HTTP 200 when the overall status is ``ok`` or
``degraded``, 503 when ``down``. ``/health?probe=0`` skips the network probes. ``server`` tells
which process answered, how many Bokeh sessions it holds (behind :mod:`floatchat_core.router`
every process has its own) and how its garbage collector runs.
"""

from __future__ import annotations

import json

from tornado.web import RequestHandler

__all__ = ["ROUTES", "HealthHandler"]


class HealthHandler(RequestHandler):
    """JSON health report; runs the checks in a thread so the server loop never blocks."""

    async def get(self):
        from tornado.ioloop import IOLoop

        from .health import health

        probe = self.get_query_argument("probe", "1") not in ("0", "false", "no")
        report = await IOLoop.current().run_in_executor(None, lambda: health(probe=probe))
        report["server"] = self._server()
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.set_status(503 if report["status"] == "down" else 200)
        self.finish(json.dumps(report, default=str))

    def _server(self) -> dict:
        """This server process: its pid and its Bokeh sessions per app (all, and with a browser
        connected), so an operator (and the router's tests) can see how sessions are spread."""
        import os

        app = self.application
        apps = {}
        for path in getattr(app, "app_paths", ()):
            sessions = app.get_sessions(path)
            apps[path] = {"sessions": len(sessions),
                          "connected": sum(1 for s in sessions if s.connection_count > 0)}
        return {"pid": os.getpid(), "apps": apps, "gc": _gc()}


def _gc() -> dict:
    """The process's garbage collector: its thresholds (the oldest generation's is out of reach when
    the workbench schedules full collections itself), how many objects are frozen, and the
    collections run per generation."""
    import gc

    return {"thresholds": list(gc.get_threshold()), "frozen": gc.get_freeze_count(),
            "collections": [g["collections"] for g in gc.get_stats()]}


#: Panel ``--plugins`` routes (and ``pn.serve(extra_patterns=...)``).
ROUTES = [(r"/health", HealthHandler)]
