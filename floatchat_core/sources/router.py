"""Which source answers: the local database, the live ERDDAP server, or live first with fallback.

``FLOATCHAT_SOURCE`` (or ``source=``):

* ``local`` — the DAL only;
* ``live-first`` — ERDDAP within ``FLOATCHAT_ERDDAP_TIMEOUT`` seconds (retries with backoff
  included), then the local database; a failing server is remembered for
  ``FLOATCHAT_ERDDAP_COOLDOWN`` seconds and skipped at once meanwhile, so an outage costs one
  timeout, not one per question;
* ``live`` — ERDDAP only; :class:`~floatchat_core.errors.SourceUnavailableError` when it fails.

Every call returns ``(levels, SourceInfo)``; the info says which source served the answer and
why (e.g. ``"ERDDAP timed out after 3.0 s; answered from the local database"``).

>>> from floatchat_core.sources.router import fetch_profiles
>>> levels, info = fetch_profiles(platform_numbers=["6902746"], source="live-first")  # doctest: +SKIP
>>> info.source, info.reason                                                         # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings, get_settings
from ..errors import ErddapError, SourceUnavailableError

log = logging.getLogger(__name__)

__all__ = ["HealthMonitor", "SourceInfo", "fetch_profiles", "monitor"]


@dataclass
class SourceInfo:
    """Where an answer came from and why."""

    source: str  # "local" | "erddap"
    reason: str
    elapsed_ms: float = 0.0
    url: str | None = None  # first ERDDAP URL (canonical form) when the server was asked
    urls: list[str] = field(default_factory=list)
    fallback: bool = False  # True when live was wanted but the local database answered
    error: str | None = None
    write_through: dict | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class HealthMonitor:
    """Remembers failing servers for a cool-down (thread-safe, process-wide)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._state: dict[str, dict[str, Any]] = {}

    def record_success(self, url: str, elapsed_ms: float) -> None:
        with self._lock:
            st = self._state.setdefault(url, {"failures": 0})
            st.update(failures=0, down_until=0.0, last_ok=time.time(), last_elapsed_ms=round(elapsed_ms, 1))

    def record_failure(self, url: str, error: str, cooldown_s: float) -> None:
        with self._lock:
            st = self._state.setdefault(url, {"failures": 0})
            st["failures"] = int(st.get("failures", 0)) + 1
            st["last_error"] = error
            st["last_failure"] = time.time()
            st["down_until"] = time.monotonic() + cooldown_s

    def is_down(self, url: str) -> tuple[bool, dict[str, Any]]:
        with self._lock:
            st = dict(self._state.get(url, {}))
        left = float(st.get("down_until", 0.0)) - time.monotonic()
        st["cooldown_left_s"] = round(max(left, 0.0), 1)
        return left > 0, st

    def status(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            urls = list(self._state)
        return {u: self.is_down(u)[1] for u in urls}

    def reset(self, url: str | None = None) -> None:
        with self._lock:
            if url is None:
                self._state.clear()
            else:
                self._state.pop(url, None)


#: The process-wide monitor the router and the health check share.
monitor = HealthMonitor()


def _local(
    platform_numbers,
    cycle_numbers,
    box,
    pres_min,
    pres_max,
    time_start,
    time_end,
    parameters,
    mode,
    settings,
    filters,
) -> pd.DataFrame:
    from ..db import dal

    f = dict(filters)
    if platform_numbers:
        f["platform_numbers"] = [str(p) for p in platform_numbers]
    if box is not None:
        f["box"] = tuple(box)
    for k, v in (
        ("time_start", time_start),
        ("time_end", time_end),
        ("pres_min", pres_min),
        ("pres_max", pres_max),
    ):
        if v is not None:
            f[k] = v
    f.setdefault("limit", None)
    if parameters:
        f["parameters"] = list(parameters)
    profiles = dal.find_profiles(settings=settings, **f)
    if cycle_numbers is not None and len(profiles):
        profiles = profiles[profiles["cycle_number"].isin([int(c) for c in cycle_numbers])]
    ids = profiles["profile_id"].tolist()
    return dal.profile_levels(
        ids,
        parameters=list(parameters) if parameters else None,
        pres_min=pres_min,
        pres_max=pres_max,
        mode=mode,
        settings=settings,
    )


def _utc(t) -> pd.Timestamp:
    ts = pd.Timestamp(t)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _live(
    client,
    platform_numbers,
    cycle_numbers,
    box,
    pres_min,
    pres_max,
    time_start,
    time_end,
    parameters,
    mode,
    deadline,
) -> pd.DataFrame:
    if platform_numbers:
        df = client.fetch_float(list(platform_numbers), cycle_numbers, parameters, mode, deadline=deadline)
        # server-side constraints are float/cycle only: apply the rest here, as the DAL does
        if len(df):
            keep = np.ones(len(df), bool)
            if time_start is not None:
                keep &= (df["juld"] >= _utc(time_start)).to_numpy()
            if time_end is not None:
                keep &= (df["juld"] <= _utc(time_end)).to_numpy()
            if box is not None:
                w, s, e, n = (float(x) for x in box)
                lon, lat = df["longitude"].to_numpy(), df["latitude"].to_numpy()
                in_lon = (lon >= w) & (lon <= e) if w <= e else (lon >= w) | (lon <= e)
                keep &= in_lon & (lat >= s) & (lat <= n)
            if pres_min is not None:
                keep &= (df["pres"] >= pres_min).to_numpy()
            if pres_max is not None:
                keep &= (df["pres"] <= pres_max).to_numpy()
            df = df[keep].reset_index(drop=True)
        return df
    pres = (
        None
        if pres_min is None and pres_max is None
        else (pres_min if pres_min is not None else 0, pres_max if pres_max is not None else 12000)
    )
    trange = None if time_start is None and time_end is None else (time_start, time_end)
    return client.fetch_box(tuple(box), pres, trange, parameters, mode, deadline=deadline)


def fetch_profiles(
    *,
    platform_numbers: list[str] | None = None,
    cycle_numbers: list[int] | None = None,
    box: tuple | None = None,
    pres_min: float | None = None,
    pres_max: float | None = None,
    time_start=None,
    time_end=None,
    parameters: list[str] | None = None,
    mode: str = "standard",
    source: str | None = None,
    timeout: float | None = None,
    write_through: bool | None = None,
    base_url: str | None = None,
    settings: Settings | None = None,
    **filters,
) -> tuple[pd.DataFrame, SourceInfo]:
    """Profile levels (the DAL's long ``profile_levels`` frame) from the configured source.

    Parameters
    ----------
    platform_numbers, cycle_numbers : floats (WMO ids) and optionally their cycles
    box : (west, south, east, north) in degrees; west > east crosses the antimeridian
    pres_min, pres_max : pressure band in decibar
    time_start, time_end : UTC time range (anything ``pd.Timestamp`` takes)
    parameters : Argo names (``TEMP``, ``DOXY``…); PRES, TEMP and PSAL always come along live
    mode : QC mode, ``research | standard | expert``
    source : ``local | live-first | live`` (default ``FLOATCHAT_SOURCE``)
    timeout : seconds for the live attempt (default ``FLOATCHAT_ERDDAP_TIMEOUT``)
    write_through : store live answers in the ``erddap-live`` dataset (default
        ``FLOATCHAT_ERDDAP_WRITE_THROUGH``)
    filters : other DAL filters (``region``, ``point``/``radius_m``…) — local only; a live
        request needs floats or a box, otherwise the local database answers.

    Returns
    -------
    (DataFrame, SourceInfo)
    """
    s = settings or get_settings()
    source = source or s.source
    if source not in ("local", "live-first", "live"):
        raise ValueError(f"source must be local, live-first or live, not {source!r}")
    args = (platform_numbers, cycle_numbers, box, pres_min, pres_max, time_start, time_end, parameters, mode)
    t0 = time.perf_counter()
    if source == "local":
        df = _local(*args, s, filters)
        return df, SourceInfo("local", "FLOATCHAT_SOURCE=local", (time.perf_counter() - t0) * 1000)

    server = (base_url or s.erddap_url).rstrip("/")
    live_possible = bool(platform_numbers) or box is not None
    unsupported = sorted(k for k, v in filters.items() if v is not None and k not in ("limit",))
    why_not = None
    if not live_possible:
        why_not = "a live request needs floats or a lon/lat box"
    elif unsupported:
        why_not = f"filter(s) {', '.join(unsupported)} are answered by the local database only"
    if why_not:
        if source == "live":
            raise SourceUnavailableError(f"FLOATCHAT_SOURCE=live but {why_not}")
        df = _local(*args, s, filters)
        return df, SourceInfo(
            "local",
            f"{why_not}; answered from the local database",
            (time.perf_counter() - t0) * 1000,
            fallback=True,
        )

    down, st = monitor.is_down(server)
    if down:
        reason = (
            f"ERDDAP marked unavailable for another {st['cooldown_left_s']:.0f} s after "
            f"{st.get('failures', 1)} failure(s) (last: {st.get('last_error', '?')})"
        )
        if source == "live":
            raise SourceUnavailableError(reason)
        df = _local(*args, s, filters)
        return df, SourceInfo(
            "local",
            reason + "; answered from the local database",
            (time.perf_counter() - t0) * 1000,
            fallback=True,
            error=st.get("last_error"),
        )

    from .erddap import ErddapClient

    budget = float(timeout if timeout is not None else s.erddap_timeout_s)
    client = ErddapClient(server, timeout=budget, settings=s)
    deadline = time.monotonic() + budget
    try:
        df = _live(client, *args, deadline)
    except ErddapError as exc:
        elapsed = (time.perf_counter() - t0) * 1000
        monitor.record_failure(server, str(exc), s.erddap_cooldown_s)
        log.warning("source.live_failed server=%s error=%s", server, exc)
        if source == "live":
            raise SourceUnavailableError(f"ERDDAP failed: {exc}") from exc
        df = _local(*args, s, filters)
        return df, SourceInfo(
            "local",
            f"{exc}; answered from the local database",
            (time.perf_counter() - t0) * 1000,
            url=client.log.urls[0] if client.log.urls else None,
            urls=list(client.log.urls),
            fallback=True,
            error=f"{exc} (after {elapsed:.0f} ms)",
        )
    elapsed = (time.perf_counter() - t0) * 1000
    monitor.record_success(server, elapsed)
    info = SourceInfo(
        "erddap",
        f"served live by {server} ({len(client.log.urls)} request(s), {client.log.bytes:,} bytes)",
        elapsed,
        url=client.log.urls[0] if client.log.urls else None,
        urls=list(client.log.urls),
    )
    if df.attrs.get("data_mode_inferred"):
        info.reason += "; BGC data modes inferred (the synthetic-BGC dataset serves none)"
    wt = s.erddap_write_through if write_through is None else write_through
    if wt and client.last_raw is not None:
        if mode == "research" and "BGC" in str(df.attrs.get("dataset", "")):
            info.write_through = {
                "ok": False,
                "error": "research-mode BGC answers carry no raw values; not stored",
            }
        else:
            from .writethrough import write_through as _wt

            info.write_through = _wt(client.last_raw, str(df.attrs.get("dataset", "ArgoFloats")), settings=s)
    return df, info
