"""Profile levels through the source router (internal): ``FLOATCHAT_SOURCE = live-first | live``.

Float and lon/lat-box questions that load profile levels (find/plot profiles, T–S diagrams) ask
``floatchat_core.sources.router.fetch_profiles`` instead of the DAL when the configured source is
not ``local``; the ``SourceInfo`` it returns goes into ``answer.provenance["source"]`` and a
short sentence into the answer text ("Served live by ERDDAP (Ifremer) in 420 ms"). With
``FLOATCHAT_SOURCE=local`` none of this runs and ``floatchat_core.sources`` is never imported.

Live frames carry negative, deterministic profile ids (hash of float, cycle and direction);
nothing here assumes ids are positive.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pandas as pd

if TYPE_CHECKING:
    from .executor import Run

log = logging.getLogger(__name__)

#: Profile columns derived from a levels frame (one row per profile).
_PROFILE_COLUMNS = ("profile_id", "platform_number", "cycle_number", "direction", "juld", "latitude",
                    "longitude", "position_qc")


def wants_router(run: Run) -> bool:
    """True when ``run`` should load levels through the source router (non-local source and a
    float or lon/lat-box question the live server can answer)."""
    s = run.spec
    if run.settings.source == "local":
        return False
    return bool(s.platform_numbers) or (s.region is not None and s.region.kind == "box")


def local_reason(run: Run) -> dict[str, Any] | None:
    """Source provenance for answers that did not go through the router in a non-local mode."""
    if run.settings.source == "local":
        return None
    return {"source": "local", "reason": "only float and lon/lat-box questions that load profile levels are "
                                         "served live; answered from the local database",
            "elapsed_ms": 0.0, "url": None, "fell_back": False, "fallback": False, "mode": run.settings.source}


def fetch_levels(run: Run, parameters: list[str], max_profiles: int
                 ) -> tuple[pd.DataFrame, pd.DataFrame, dict] | None:
    """``(profiles, levels, totals)`` like the DAL path, from the configured source.

    ``profiles`` is one row per profile (newest first, at most ``max_profiles``), ``levels``
    the router's long frame restricted to those profiles, ``totals`` the ``count_profiles``-shaped
    dict. Records the ``SourceInfo`` on ``run.source``. None when no profile matches.
    """
    from ..db import dal
    from ..sources.router import fetch_profiles

    s = run.spec
    f = run.filters()
    box = f.get("box")
    extra = {k: f[k] for k in ("float_type", "data_mode") if k in f}      # local-only filters
    before = dal.last_query()
    levels, info = fetch_profiles(
        platform_numbers=list(s.platform_numbers) or None, box=box,
        pres_min=s.pres_min, pres_max=s.pres_max,
        time_start=f.get("time_start"), time_end=f.get("time_end"),
        parameters=list(parameters), mode=s.qc_mode, settings=run.settings, **extra)
    d = info.to_dict()
    d["fell_back"] = bool(info.fallback)
    d["mode"] = run.settings.source
    run.source = d
    q = dal.last_query()
    if info.source == "local" and q is not None and q is not before:
        run.queries.append({"function": "profile_levels", **q})
    if info.source == "erddap":
        run.queries.append({"function": "erddap", "sql": "-- ERDDAP tabledap: " + "\n-- ".join(info.urls),
                            "params": {"platform_numbers": list(s.platform_numbers), "box": box,
                                       "parameters": list(parameters), "mode": s.qc_mode},
                            "rows": int(len(levels)), "elapsed_ms": round(info.elapsed_ms, 1), "cached": False})
    if levels.empty:
        return None
    cols = [c for c in _PROFILE_COLUMNS if c in levels.columns]
    prof = (levels[cols].drop_duplicates("profile_id").sort_values("juld", ascending=False, kind="stable")
            .reset_index(drop=True))
    prof["n_levels"] = prof["profile_id"].map(levels.groupby("profile_id").size()).astype("int64")
    if "dataset_id" in levels.columns:
        prof["dataset_id"] = prof["profile_id"].map(levels.groupby("profile_id")["dataset_id"].first())
    total = {"n_profiles": int(len(prof)), "n_floats": int(prof["platform_number"].nunique()),
             "time_start": prof["juld"].min(), "time_end": prof["juld"].max()}
    n = int(min(s.limit or max_profiles, max_profiles, run.settings.row_cap))
    prof = prof.head(n)
    lv = levels[levels["profile_id"].isin(prof["profile_id"])].reset_index(drop=True)
    return prof, lv, total


def server_label(url: str | None) -> str:
    """``"Ifremer"`` for the Ifremer server, else the host (and port)."""
    if not url:
        return "ERDDAP"
    host = urlsplit(url).netloc or url
    return "Ifremer" if "ifremer" in host.lower() else host


def sentence(src: dict[str, Any] | None, timeout_s: float) -> str:
    """One human sentence for a source provenance dict."""
    if not src:
        return ""
    if src.get("source") == "erddap":
        return f"Served live by ERDDAP ({server_label(src.get('url'))}) in {src.get('elapsed_ms', 0):.0f} ms."
    if not src.get("fell_back"):
        return "Answered from the local database."
    err = str(src.get("error") or src.get("reason") or "")
    low = err.lower()
    if "timed out" in low or "too slow" in low or "timeout" in low:
        return f"ERDDAP did not answer within {timeout_s:g} s (timeout); answered from the local database."
    if "marked unavailable" in low:
        return "ERDDAP is marked unavailable after a recent failure; answered from the local database."
    if "needs floats" in low or "local database only" in low:
        return f"Answered from the local database ({err.split(';')[0]})."
    why = err.split(" (after")[0]
    for key, short in (("connecterror", "connection refused"), ("http 5", "server error"),
                       ("remoteprotocolerror", "broken answer"), ("html", "not an ERDDAP answer")):
        if key in low:
            why = short
            break
    return f"ERDDAP could not answer ({why[:100]}); answered from the local database."
