"""The executor: ``QuerySpec`` → DAL calls on the read-only engine → ``Answer``.

Every number in an answer comes from the DAL (``floatchat_core.db.dal``), whose SQL is
recorded for provenance after each call. Bounded: listings and plots show at most a few hundred
profiles (the newest), everything respects ``FLOATCHAT_ROW_CAP`` and the read-only engine's
statement timeout; a narrowed answer says so ("showing the latest 500 of 12,340 profiles").
Database problems become an answer that says what went wrong, never an exception.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings, get_settings
from ..errors import AmbiguousRegionError, DatabaseError, FloatChatError, NotFoundError, RegionNotFoundError
from . import answer as A
from . import intents
from .answer import Answer
from .parser import DEFAULT_RADIUS_KM, SURFACE_PRES
from .spec import DEFAULT_LIMIT, QuerySpec, Region

log = logging.getLogger(__name__)

#: Profiles whose levels a profile plot / T-S diagram loads at most.
PLOT_MAX_PROFILES = 100


class Run:
    """One execution: settings plus the provenance of each DAL call made."""

    def __init__(self, spec: QuerySpec, settings: Settings):
        self.spec = spec
        self.settings = settings
        self.queries: list[dict] = []
        self.datasets: set[int] = set()
        #: ``SourceInfo`` (as a dict) when levels came through the source router (``chat.live``)
        self.source: dict | None = None

    def note_datasets(self, df: pd.DataFrame) -> None:
        if "dataset_id" in df.columns and len(df):
            self.datasets.update(int(x) for x in pd.unique(df["dataset_id"].dropna()))

    def dal(self, fn: str, *args, **kwargs):
        """Call ``dal.<fn>`` and record its SQL (``dal.last_query()``)."""
        from ..db import dal

        before = dal.last_query()
        out = getattr(dal, fn)(*args, settings=self.settings, **kwargs)
        q = dal.last_query()
        if q is not None and q is not before:
            self.queries.append({"function": fn, **q})
        return out

    # ------------------------------------------------------------------ filters
    def filters(self, region: Region | None = None, time_start=None, time_end=None, *, use_region: bool = True,
                depth: bool = True) -> dict[str, Any]:
        """The DAL filters of the spec (optionally with another region/period, for comparisons)."""
        s = self.spec
        f: dict[str, Any] = {}
        region = region if region is not None else (s.region if use_region else None)
        if region is not None:
            f.update(region_filters(region))
        t0 = time_start if time_start is not None else s.time_start
        t1 = time_end if time_end is not None else s.time_end
        if t0 is not None:
            f["time_start"] = pd.Timestamp(t0, tz="UTC")
        if t1 is not None:                      # the whole last day
            f["time_end"] = pd.Timestamp(t1, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
        if depth:
            if s.pressure is not None:
                f["pres_min"] = f["pres_max"] = float(s.pressure)
            else:
                if s.pres_min is not None:
                    f["pres_min"] = float(s.pres_min)
                if s.pres_max is not None:
                    f["pres_max"] = float(s.pres_max)
        if s.parameters:
            f["parameters"] = list(s.parameters)
        if s.platform_numbers:
            f["platform_numbers"] = list(s.platform_numbers)
        if s.float_type:
            f["float_type"] = s.float_type
        if s.data_mode:
            f["data_mode"] = s.data_mode
        return f

    def layer(self) -> tuple[float, float, str]:
        """The pressure layer of value questions (dbar) and how to say it."""
        s = self.spec
        if s.pres_min is not None or s.pres_max is not None:
            lo = s.pres_min if s.pres_min is not None else 0.0
            hi = s.pres_max if s.pres_max is not None else 12000.0
            return lo, hi, f"between {lo:g} and {hi:g} dbar" if hi < 12000 else f"below {lo:g} dbar"
        return SURFACE_PRES[0], SURFACE_PRES[1], f"near the surface ({SURFACE_PRES[0]:g}–{SURFACE_PRES[1]:g} dbar)"

    def values(self, parameter: str, **filters) -> tuple[pd.DataFrame, str]:
        """One value per profile: interpolated at ``spec.pressure`` or the layer mean; and its wording."""
        s = self.spec
        filters.pop("pres_min", None)
        filters.pop("pres_max", None)
        filters.pop("parameters", None)
        filters.setdefault("limit", self.settings.row_cap)
        if s.pressure is not None:
            df = self.dal("depth_slice", parameter, float(s.pressure), mode=s.qc_mode, **filters)
            return df, f"at {s.pressure:g} dbar"
        lo, hi, words = self.layer()
        return self.dal("region_profile_values", parameter, lo, hi, mode=s.qc_mode, **filters), words


def region_filters(region: Region) -> dict[str, Any]:
    """DAL filters of a region: ``region`` (id or name), ``box`` or ``point`` + ``radius_m``."""
    if region.kind == "named":
        return {"region": region.region_id if region.region_id is not None else region.name}
    if region.kind == "box":
        return {"box": (region.west, region.south, region.east, region.north)}
    return {"point": (region.lon, region.lat), "radius_m": 1000.0 * (region.radius_km or DEFAULT_RADIUS_KM)}


def where(spec: QuerySpec, region: Region | None = None) -> str:
    """Where, for answers: " in the Arabian Sea", " within 300 km of 10°N 65°E", " near the equator (…)"."""
    region = region or spec.region
    if region is None:
        return ""
    if region.label:
        return f" {region.label}"
    if region.kind == "point":
        return f" within {region.radius_km or DEFAULT_RADIUS_KM:g} km of {A.fmt_point(region.lat, region.lon)}"
    return f" in {region.describe()}"


def execute(spec: QuerySpec, *, settings: Settings | None = None, question: str = "") -> Answer:
    """Run ``spec`` and return an ``Answer`` (errors become answers, never exceptions)."""
    settings = settings or get_settings()
    run = Run(spec, settings)
    t0 = time.perf_counter()
    error = None
    try:
        ans = intents.HANDLERS[spec.intent](run)
    except AmbiguousRegionError as e:
        names = [c["name"] for c in e.candidates][:4]
        ans = Answer(text=f"Which region do you mean: {', '.join(names)}?", clarification=str(e),
                     candidates=names, suggestions=[f"… in the {n}" for n in names[:3]])
    except RegionNotFoundError as e:
        ans = Answer(text=f"I don't know a region called “{e.name}”.", clarification=str(e),
                     candidates=[c["name"] if isinstance(c, dict) else str(c) for c in e.candidates])
    except NotFoundError as e:
        ans = Answer(text=f"Nothing found: {e}.")
        error = str(e)
    except FloatChatError as e:                  # QueryError, DatabaseError, SearchError…
        ans = Answer(text=f"I couldn't run that query: {e}")
        error = str(e)
    except Exception as e:                       # driver errors: statement timeout, lost connection
        ans = _database_failure(e, settings)
        error = f"{type(e).__name__}: {e}"
    ans.spec, ans.question = spec, question
    if settings.source != "local":
        from .live import local_reason, sentence

        src = run.source or local_reason(run)
        if error is None and ans.clarification is None:
            ans.text = f"{ans.text} {sentence(src, settings.erddap_timeout_s)}".strip()
    extra = {k: v for k, v in ans.provenance.items() if k not in ("queries", "elapsed_ms")}
    ans.provenance = {**provenance(run, (time.perf_counter() - t0) * 1000.0, error), **extra}
    if not ans.suggestions and ans.clarification is None:
        ans.suggestions = intents.suggestions(spec)
    log.info("chat.answered intent=%s rows=%d elapsed_ms=%.1f", spec.intent, len(ans.frame),
             ans.provenance["elapsed_ms"])
    return ans


def _database_failure(e: Exception, settings: Settings) -> Answer:
    msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    if "statement timeout" in msg or "canceling statement" in msg:
        return Answer(text=f"That query took longer than {settings.statement_timeout_ms / 1000:g} s and was "
                           "stopped. Narrow it down: a region, a period or fewer floats.")
    if isinstance(e, (DatabaseError, ConnectionError)) or "connect" in msg.lower():
        return Answer(text=f"The database is not reachable ({msg}). Run `floatchat db up` or check DATABASE_URL.")
    log.exception("chat.execute_failed")
    return Answer(text=f"Something went wrong while answering: {type(e).__name__}: {msg[:200]}")


def provenance(run: Run, elapsed_ms: float, error: str | None = None) -> dict[str, Any]:
    """Provenance of an answer: each query (SQL, parameters, rows, elapsed, cached), totals,
    QC mode, data source, datasets."""
    s = run.spec
    datasets = sorted(run.datasets)
    return {"queries": run.queries, "sql": [q.get("sql", "") for q in run.queries],
            "params": [q.get("params", {}) for q in run.queries],
            "rows": int(sum(q.get("rows", 0) for q in run.queries)),
            "elapsed_ms": round(elapsed_ms, 1), "qc_mode": s.qc_mode if s else None,
            "source": _source(run, error), "datasets": datasets, "error": error}


def _source(run: Run, error: str | None = None) -> str | dict[str, Any]:
    """``"local database (read-only)"`` with ``FLOATCHAT_SOURCE=local``; else the router's
    ``SourceInfo`` (source, reason, elapsed_ms, url, fell_back…) as a dict."""
    if run.settings.source == "local":
        return "local database (read-only)"
    if run.source is not None:
        return run.source
    if error and run.settings.source == "live":
        return {"source": "none", "reason": error, "elapsed_ms": 0.0, "url": None, "fell_back": False,
                "fallback": False, "mode": "live"}
    from .live import local_reason

    return local_reason(run)


# ----------------------------------------------------------------------------- shared summaries
def value_summary(values: pd.Series | np.ndarray, parameter: str) -> dict[str, Any]:
    """n, mean, std, min, max, median of finite values (in the parameter's unit)."""
    v = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, "mean": None, "std": None, "min": None, "max": None, "median": None,
                "unit": A.UNITS.get(parameter, "")}
    return {"n": int(v.size), "mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max()), "median": float(np.median(v)),
            "unit": A.UNITS.get(parameter, "")}


def narrowed(shown: int, total: int, what: str = "profiles", order: str = "latest") -> str | None:
    """``"showing the latest 500 of 12,340 profiles"`` when ``shown < total``."""
    if total > shown:
        return f"showing the {order} {shown:,} of {total:,} {what}"
    return None


def default_limit(spec: QuerySpec, settings: Settings, cap: int = DEFAULT_LIMIT) -> int:
    return int(min(spec.limit or cap, settings.row_cap))
