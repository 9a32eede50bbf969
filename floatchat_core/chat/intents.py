"""One handler per intent (internal): DAL calls through ``Run`` and the answer's text, frame and
plot recipe. Text always carries the key numbers with units: profiles, floats, time span, values.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import answer as A
from .answer import Answer
from .spec import QuerySpec

if TYPE_CHECKING:
    from .executor import Run


def _ex():
    from . import executor

    return executor


def _span(df: pd.DataFrame, col: str = "juld") -> str:
    if col not in df or df[col].dropna().empty:
        return "no dates"
    return A.fmt_span(df[col].min(), df[col].max())


def _floats(df: pd.DataFrame) -> int:
    return int(df["platform_number"].nunique()) if "platform_number" in df else 0


def _period(spec: QuerySpec) -> str:
    if spec.time_start and spec.time_end:
        return f" from {spec.time_start} to {spec.time_end}"
    if spec.time_start:
        return f" since {spec.time_start}"
    if spec.time_end:
        return f" up to {spec.time_end}"
    return ""


def _nothing(run: Run, what: str = "profiles") -> Answer:
    s = run.spec
    text = f"No {what} match{'es' if what.endswith('s') is False else ''}{_ex().where(s)}{_period(s)}"
    if s.parameters:
        text += " with " + ", ".join(A.param_label(p) for p in s.parameters)
    if s.qc_mode == "research":
        text += " in delayed mode (research QC)"
    return Answer(text=text + ".", suggestions=["widen the period", "drop the depth limit", "map all floats"])


# ----------------------------------------------------------------------------- listings
def find_profiles(run: Run) -> Answer:
    ex, s = _ex(), run.spec
    if run.settings.source != "local":
        from .live import wants_router

        if wants_router(run):
            return _find_profiles_routed(run)
    f = run.filters()
    total = run.dal("count_profiles", **f)
    if total["n_profiles"] == 0:
        return _nothing(run)
    limit = ex.default_limit(s, run.settings)
    df = run.dal("find_profiles", **f, limit=limit)
    run.note_datasets(df)
    text = (f"{A.plural(total['n_profiles'], 'profile')} from {A.plural(total['n_floats'], 'float')}"
            f"{ex.where(s)}, {A.fmt_span(total['time_start'], total['time_end'])}")
    modes = df["data_mode"].value_counts().to_dict() if "data_mode" in df else {}
    if modes:
        text += " (" + ", ".join(f"{n} {_MODE.get(k, k)}" for k, n in sorted(modes.items())) + " shown)"
    return Answer(text=text + ".", frame=df, message=ex.narrowed(len(df), total["n_profiles"]),
                  plot={"kind": "map", "x": "longitude", "y": "latitude", "by": "platform_number",
                        "title": f"{len(df):,} profiles"})


_MODE = {"R": "real-time", "A": "adjusted", "D": "delayed-mode"}


def _find_profiles_routed(run: Run) -> Answer:
    """``find_profiles`` through the source router: the profiles of the levels it returned."""
    from .live import fetch_levels

    ex, s = _ex(), run.spec
    got = fetch_levels(run, list(s.parameters) or ["TEMP", "PSAL"], ex.default_limit(s, run.settings))
    if got is None:
        return _nothing(run)
    prof, _lv, total = got
    text = (f"{A.plural(total['n_profiles'], 'profile')} from {A.plural(total['n_floats'], 'float')}"
            f"{ex.where(s)}, {A.fmt_span(total['time_start'], total['time_end'])}")
    return Answer(text=text + ".", frame=prof, message=ex.narrowed(len(prof), total["n_profiles"]),
                  plot={"kind": "map", "x": "longitude", "y": "latitude", "by": "platform_number",
                        "title": f"{len(prof):,} profiles"})


def map_floats(run: Run) -> Answer:
    ex, s = _ex(), run.spec
    f = run.filters()
    if not f:
        df = run.dal("latest_positions")
        text = f"Latest positions of {A.plural(len(df), 'float')}, {_span(df)}."
        return Answer(text=text, frame=df, plot={"kind": "map", "x": "longitude", "y": "latitude",
                                                 "by": "float_type", "title": "latest float positions"})
    if set(f) == {"float_type"}:
        df = run.dal("floats_by_type", s.float_type)
        return Answer(text=f"{A.plural(len(df), s.float_type.upper() + ' float')}, latest positions {_span(df)}.",
                      frame=df, plot={"kind": "map", "x": "longitude", "y": "latitude", "by": "platform_number"})
    df = run.dal("profile_positions", **f, limit=run.settings.row_cap)
    if df.empty:
        return _nothing(run)
    if "juld" in df and not pd.api.types.is_datetime64_any_dtype(df["juld"]):
        df["juld"] = pd.to_datetime(df["juld"], unit="s", utc=True)
    latest = df.sort_values("juld").groupby("platform_number", sort=True).tail(1)
    text = (f"{A.plural(_floats(df), 'float')} with {A.plural(len(df), 'profile position')}{ex.where(s)}, "
            f"{_span(df)}. Latest: " + ", ".join(
                f"{r.platform_number} at {A.fmt_point(r.latitude, r.longitude)} ({A.fmt_time(r.juld)})"
                for r in latest.head(5).itertuples()) + ("…" if len(latest) > 5 else "") + ".")
    msg = ex.narrowed(len(df), len(df) + 1, "positions") if len(df) >= run.settings.row_cap else None
    return Answer(text=text, frame=df, message=msg,
                  plot={"kind": "map", "x": "longitude", "y": "latitude", "by": "platform_number",
                        "title": f"{len(df):,} positions"})


def nearest_floats(run: Run) -> Answer:
    ex, s = _ex(), run.spec
    r = s.region
    k = int(min(s.limit or 10, 1000))
    maxd = r.radius_km * 1000.0 if r.radius_km else None
    df = run.dal("nearest_floats", r.lon, r.lat, k=k, max_distance_m=maxd)
    if s.float_type and "float_type" in df:
        df = df[df["float_type"] == s.float_type].reset_index(drop=True)
    place = r.label or A.fmt_point(r.lat, r.lon)
    if df.empty:
        return Answer(text=f"No float's latest position lies within {r.radius_km:g} km of {place}."
                      if r.radius_km else "No floats in the database yet.")
    df["distance_km"] = df["distance_m"] / 1000.0
    rows = [f"{x.platform_number} at {x.distance_km:,.0f} km (last profile {A.fmt_time(x.juld)}, "
            f"{A.fmt_point(x.latitude, x.longitude)})" for x in df.head(5).itertuples()]
    text = f"The {A.plural(len(df), 'nearest float')} to {place}: " + "; ".join(rows) + ("…" if len(df) > 5 else "")
    return Answer(text=text + ".", frame=df, plot={"kind": "map", "x": "longitude", "y": "latitude",
                                                   "by": "platform_number", "title": f"nearest floats to {place}"},
                  message=None if not ex.where(s) else None)


# ----------------------------------------------------------------------------- profiles and levels
def _profiles_and_levels(run: Run, parameters: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, dict] | None:
    ex, s = _ex(), run.spec
    if run.settings.source != "local":
        from .live import fetch_levels, wants_router

        if wants_router(run):
            return fetch_levels(run, parameters, ex.PLOT_MAX_PROFILES)
    f = run.filters()
    total = run.dal("count_profiles", **f)
    if total["n_profiles"] == 0:
        return None
    n = int(min(s.limit or ex.PLOT_MAX_PROFILES, ex.PLOT_MAX_PROFILES, run.settings.row_cap))
    prof = run.dal("find_profiles", **f, limit=n)
    run.note_datasets(prof)
    lv = run.dal("profile_levels", prof["profile_id"].tolist(), parameters=parameters,
                 pres_min=s.pres_min, pres_max=s.pres_max, mode=s.qc_mode)
    if s.pressure is not None and s.pres_min is None and s.pres_max is None:
        pass                                   # whole profiles through the target level
    return prof, lv, total


def _levels_text(lv: pd.DataFrame, parameters: list[str]) -> list[str]:
    out = []
    for p in parameters:
        col = p.lower()
        if col not in lv:
            continue
        v = _summary(lv[col], p)
        if v["n"] == 0:
            out.append(f"no {A.param_label(p)} values pass the QC selection")
            continue
        out.append(f"{A.param_label(p)} {A.fmt_num(v['min'])}–{A.fmt_num(v['max'], v['unit'])} "
                   f"(mean {A.fmt_num(v['mean'], v['unit'])}, {v['n']:,} levels)")
    return out


def _summary(values, parameter):
    return _ex().value_summary(values, parameter)


def plot_profiles(run: Run) -> Answer:
    ex, s = _ex(), run.spec
    params = list(s.parameters) or ["TEMP", "PSAL"]
    got = _profiles_and_levels(run, params)
    if got is None:
        return _nothing(run)
    prof, lv, total = got
    pres = lv["pres"].dropna() if "pres" in lv else pd.Series(dtype=float)
    text = (f"{A.plural(len(prof), 'profile')} from {A.plural(_floats(prof), 'float')}{ex.where(s)}, {_span(prof)}")
    if len(pres):
        text += f", {max(pres.min(), 0.0):,.0f}–{pres.max():,.0f} dbar"
    parts = _levels_text(lv, params)
    text += (": " + "; ".join(parts) if parts else "") + f" ({s.qc_mode} QC)."
    return Answer(text=text, frame=lv, message=ex.narrowed(len(prof), total["n_profiles"]),
                  plot={"kind": "profiles", "x": params[0].lower(), "y": "pres", "by": "profile_id",
                        "invert_y": True, "title": f"{A.param_label(params[0])} profiles"})


def ts_diagram(run: Run) -> Answer:
    ex, s = _ex(), run.spec
    got = _profiles_and_levels(run, ["TEMP", "PSAL"])
    if got is None:
        return _nothing(run)
    prof, lv, total = got
    ok = lv.dropna(subset=[c for c in ("temp", "psal") if c in lv]) if {"temp", "psal"} <= set(lv) else lv.iloc[:0]
    text = (f"T–S diagram of {A.plural(len(prof), 'profile')} from {A.plural(_floats(prof), 'float')}"
            f"{ex.where(s)}, {_span(prof)}: {len(ok):,} levels with both temperature and salinity")
    if len(ok):
        text += (f", temperature {A.fmt_num(ok['temp'].min())}–{A.fmt_num(ok['temp'].max(), '°C')}, "
                 f"salinity {A.fmt_num(ok['psal'].min())}–{A.fmt_num(ok['psal'].max(), 'PSU')}")
    elif "psal" in lv and lv["psal"].isna().all():
        text += " (these profiles carry no usable salinity)"
    return Answer(text=text + ".", frame=lv, message=ex.narrowed(len(prof), total["n_profiles"]),
                  plot={"kind": "ts", "x": "psal", "y": "temp", "by": "profile_id", "title": "T–S diagram"})


# ----------------------------------------------------------------------------- values
def depth_slice(run: Run) -> Answer:
    ex, s = _ex(), run.spec
    p = s.parameters[0]
    df, at = run.values(p, **run.filters(depth=False))
    if df.empty:
        return _nothing(run)
    v = ex.value_summary(df["value"], p)
    text = (f"{A.param_label(p).capitalize()} {at}{ex.where(s)}: {A.plural(len(df), 'profile')} from "
            f"{A.plural(_floats(df), 'float')}, {_span(df)}; mean {A.fmt_num(v['mean'], v['unit'])}, "
            f"range {A.fmt_num(v['min'])}–{A.fmt_num(v['max'], v['unit'])} ({s.qc_mode} QC).")
    return Answer(text=text, frame=df, plot={"kind": "depth_slice", "x": "longitude", "y": "value",
                                             "c": "value", "title": f"{A.param_label(p)} {at}"},
                  message=ex.narrowed(len(df), len(df) + 1) if len(df) >= run.settings.row_cap else None)


def statistics(run: Run) -> Answer:
    ex, s = _ex(), run.spec
    if s.statistic == "count" or not s.parameters:
        c = run.dal("count_profiles", **run.filters())
        what = " with " + ", ".join(A.param_label(p) for p in s.parameters) if s.parameters else ""
        text = (f"{A.plural(c['n_profiles'], 'profile')} from {A.plural(c['n_floats'], 'float')}{ex.where(s)}"
                f"{what}{_period(s)}" + (f", {A.fmt_span(c['time_start'], c['time_end'])}" if c["n_profiles"] else "")
                + ".")
        frame = pd.DataFrame([{k: v for k, v in c.items() if k != "region"}])
        return Answer(text=text, frame=frame, plot={"kind": "table"})
    p = s.parameters[0]
    df, at = run.values(p, **run.filters(depth=False))
    if df.empty:
        return _nothing(run)
    v = ex.value_summary(df["value"], p)
    stat = s.statistic or "mean"
    if stat == "range":
        head = f"ranges from {A.fmt_num(v['min'])} to {A.fmt_num(v['max'], v['unit'])}"
    else:
        head = f"{_STAT_WORD[stat]} is {A.fmt_num(v[stat], v['unit'])}"
    text = (f"{A.param_label(p).capitalize()} {at}{ex.where(s)}{_period(s)} {head} over "
            f"{A.plural(len(df), 'profile')} from {A.plural(_floats(df), 'float')} ({_span(df)}; mean "
            f"{A.fmt_num(v['mean'], v['unit'])}, std {A.fmt_num(v['std'], v['unit'])}, {s.qc_mode} QC).")
    return Answer(text=text, frame=df, plot={"kind": "depth_slice", "x": "longitude", "y": "value", "c": "value",
                                             "title": f"{A.param_label(p)} {at}"})


_STAT_WORD = {"mean": "the mean", "median": "the median", "min": "the minimum", "max": "the maximum",
              "std": "the standard deviation"}


def compare(run: Run) -> Answer:
    ex, s = _ex(), run.spec
    p = s.parameters[0]
    rows, frames = [], []
    at = ""
    for side in s.compare:
        f = run.filters(region=side.region, time_start=side.time_start, time_end=side.time_end, depth=False)
        df, at = run.values(p, **f)
        v = ex.value_summary(df["value"] if len(df) else [], p)
        rows.append({"label": side.label, "n_profiles": len(df), "n_floats": _floats(df), "mean": v["mean"],
                     "std": v["std"], "min": v["min"], "max": v["max"],
                     "time_start": df["juld"].min() if len(df) else None,
                     "time_end": df["juld"].max() if len(df) else None})
        frames.append(df.assign(label=side.label))
    table = pd.DataFrame(rows)
    unit = A.UNITS.get(p, "")
    parts = [f"{r['label']}: {A.fmt_num(r['mean'], unit)} ({A.plural(r['n_profiles'], 'profile')})"
             if r["n_profiles"] else f"{r['label']}: no data" for r in rows]
    text = f"Mean {A.param_label(p)} {at}{ex.where(s) if s.region else ''} — " + "; ".join(parts)
    ok = [r for r in rows if r["n_profiles"]]
    if len(ok) >= 2:
        d = ok[1]["mean"] - ok[0]["mean"]
        text += f". Difference {ok[1]['label']} − {ok[0]['label']}: {d:+.3g} {unit}".rstrip()
    text += f" ({s.qc_mode} QC)."
    return Answer(text=text, frame=table, plot={"kind": "bar", "x": "label", "y": "mean",
                                                "title": f"mean {A.param_label(p)} {at}"})


def timeseries(run: Run) -> Answer:
    ex, s = _ex(), run.spec
    p = s.parameters[0]
    df, at = run.values(p, **run.filters(depth=False))
    if df.empty:
        return _nothing(run)
    from ..analytics.timeseries import monthly_series, trend, trend_sentence

    monthly = monthly_series(df)
    unit = A.UNITS.get(p, "")
    text = (f"Monthly mean {A.param_label(p)} {at}{ex.where(s)}: {len(monthly)} months from "
            f"{A.plural(len(df), 'profile')} ({A.plural(_floats(df), 'float')}), {_span(df)}")
    tr = trend(monthly) if len(monthly) >= 6 else None
    if tr is not None:
        text += ". " + trend_sentence(tr, "Trend", unit).rstrip(".")
    else:
        text += f"; {len(monthly)} month(s) of data are too few for a trend (at least 6 needed)"
    ans = Answer(text=text + f" ({s.qc_mode} QC).", frame=monthly,
                 plot={"kind": "timeseries", "x": "month", "y": "mean", "title": f"{A.param_label(p)} {at}"})
    ans.provenance["trend"] = tr
    return ans


#: Half-width (dbar) of the layer an anomaly "at P dbar" averages: max(ANOMALY_HALF_DBAR, 5 % of P).
ANOMALY_HALF_DBAR = 10.0


def _anomaly_layer(run: Run) -> tuple[float, float, str]:
    s = run.spec
    if s.pressure is not None:
        half = max(ANOMALY_HALF_DBAR, 0.05 * float(s.pressure))
        lo, hi = max(float(s.pressure) - half, 0.0), float(s.pressure) + half
        return lo, hi, f"at {s.pressure:g} dbar ({lo:g}–{hi:g} dbar layer)"
    return run.layer()


def _years(years) -> str:
    """``[2013, 2014, 2015, 2018]`` → ``"2013–2015, 2018"``."""
    ys = sorted({int(y) for y in years})
    out, i = [], 0
    while i < len(ys):
        j = i
        while j + 1 < len(ys) and ys[j + 1] == ys[j] + 1:
            j += 1
        out.append(f"{ys[i]}" if i == j else f"{ys[i]}–{ys[j]}")
        i = j + 1
    return ", ".join(out)


def anomaly(run: Run) -> Answer:
    """A period's mean departure from the monthly climatology of every other year (same region,
    layer and QC mode): ``region_profile_values`` over all years → ``analytics.anomaly_summary``."""
    from ..analytics.timeseries import anomalies, anomaly_summary, climatology, monthly_series

    ex, s = _ex(), run.spec
    p = s.parameters[0]
    lo, hi, at = _anomaly_layer(run)
    f = run.filters(depth=False)
    for k in ("time_start", "time_end", "pres_min", "pres_max", "parameters"):
        f.pop(k, None)
    f.setdefault("limit", run.settings.row_cap)
    df = run.dal("region_profile_values", p, lo, hi, mode=s.qc_mode, **f)
    df = df[pd.to_numeric(df["value"], errors="coerce").notna()].reset_index(drop=True) if len(df) else df
    period = _period(s).strip() or "the period"
    if df.empty:
        return _nothing(run)
    t = pd.to_datetime(df["juld"], utc=True)
    t0 = pd.Timestamp(s.time_start, tz="UTC") if s.time_start else t.min()
    t1 = (pd.Timestamp(s.time_end, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
          if s.time_end else t.max())
    inside = ((t >= t0) & (t <= t1)).to_numpy()
    name, unit = A.param_label(p), A.UNITS.get(p, "")
    span = f"{A.plural(len(df), 'profile')} {A.fmt_span(t.min(), t.max())}"
    if not inside.any():
        return Answer(text=f"No {name} values {at}{ex.where(s)} {period}; the record there has {span}.",
                      suggestions=["widen the period", "drop the region", "show the time series"])
    if inside.all():
        q = (f"All {span} of {name} {at}{ex.where(s)} fall {period}, so there is no other year to build a "
             f"climatology from. Widen the region or the layer, or ask for the time series instead?")
        return Answer(text=q, clarification=q, frame=df,
                      suggestions=[f"{name} time series {at}{ex.where(s)}", f"{name} anomaly {at} in "
                                   f"{t.max().year}" if t.max().year != t.min().year else "drop the region"])
    summ = anomaly_summary(df, t0, t1)
    outside = df[~inside]
    clim_years = _years(pd.to_datetime(outside["juld"], utc=True).dt.year)
    clim = climatology(outside)
    an = anomalies(df, clim)
    an["in_period"] = inside
    series = monthly_series(an.dropna(subset=["anomaly"]), value="anomaly")
    months = pd.to_datetime(an.loc[inside, "juld"], utc=True).dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()
    series["in_period"] = series["month"].dt.tz_localize(None).isin(set(months))
    n_in = int(inside.sum())
    head = (f"{name.capitalize()} anomaly {at}{ex.where(s)} {period}: ")
    if np.isfinite(summ["ci_low"]):
        head += (f"{summ['mean_anomaly']:+.3g} {unit} (95 % CI {summ['ci_low']:+.3g} to {summ['ci_high']:+.3g}, "
                 f"std {summ['std']:.3g}) from {A.plural(summ['n_profiles'], 'profile')}")
    else:
        head += (f"not computable — {summ.get('note', 'too few profiles')}"
                 + (f" (single-profile anomaly {summ['mean_anomaly']:+.3g} {unit})"
                    if np.isfinite(summ["mean_anomaly"]) else ""))
    text = (head + f" ({A.plural(_floats(df[inside]), 'float')}), against the monthly climatology of "
            f"{clim_years} ({A.plural(summ['n_climatology'], 'profile')}, {A.plural(_floats(outside), 'float')})")
    if summ["months_without_climatology"]:
        miss = ", ".join(pd.Timestamp(2000, m, 1).strftime("%b") for m in summ["months_without_climatology"])
        dropped = n_in - summ["n_profiles"]
        text += f"; {A.plural(dropped, 'profile')} in months without a climatology ({miss}) left out"
    text += f". Method: {summ['method']} ({s.qc_mode} QC)."
    ans = Answer(text=text, frame=series,
                 plot={"kind": "timeseries", "x": "month", "y": "mean", "by": "in_period",
                       "title": f"{name} anomaly {at}", "ylabel": f"anomaly ({unit})".strip()},
                 message=ex.narrowed(len(df), len(df) + 1) if len(df) >= run.settings.row_cap else None)
    ans.provenance["anomaly"] = {**summ, "climatology_years": clim_years, "layer_dbar": [lo, hi],
                                 "n_record": int(len(df))}
    return ans


# ----------------------------------------------------------------------------- floats
def float_info(run: Run) -> Answer:
    s = run.spec
    wmo = s.platform_numbers[0]
    info = run.dal("float_info", wmo)
    traj = run.dal("float_trajectory", wmo)
    params = [x for x in (info.get("parameters") or []) if x != "PRES"]
    desc = ", ".join(str(x) for x in (info.get("platform_type"), info.get("dac"), info.get("float_type")) if x)
    text = (f"Float {wmo}" + (f" ({desc})" if desc else "") + f": {A.plural(info['n_profiles'], 'profile')}, "
            f"{A.fmt_span(info.get('first_juld'), info.get('last_juld'))}; parameters "
            + (", ".join(params) or "none"))
    if info.get("pi_name"):
        text += f"; PI {info['pi_name']}"
    if len(traj):
        last = traj.iloc[-1]
        text += f"; last position {A.fmt_point(last.latitude, last.longitude)} on {A.fmt_time(last.juld)}"
    return Answer(text=text + ".", frame=traj, plot={"kind": "trajectory", "x": "longitude", "y": "latitude",
                                                     "by": "platform_number", "title": f"float {wmo}"})


def trajectory(run: Run) -> Answer:
    s = run.spec
    frames = [run.dal("float_trajectory", w) for w in s.platform_numbers]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if df.empty:
        return Answer(text=f"No positions for float {', '.join(s.platform_numbers)}.")
    parts = []
    for wmo, g in df.groupby("platform_number", sort=False):
        km = _path_km(g["latitude"].to_numpy(), g["longitude"].to_numpy())
        parts.append(f"float {wmo}: {A.plural(len(g), 'position')}, {_span(g)}, {km:,.0f} km along its track, "
                     f"from {A.fmt_point(g.latitude.iloc[0], g.longitude.iloc[0])} to "
                     f"{A.fmt_point(g.latitude.iloc[-1], g.longitude.iloc[-1])}")
    return Answer(text="Trajectory of " + "; ".join(parts) + ".", frame=df,
                  plot={"kind": "trajectory", "x": "longitude", "y": "latitude", "by": "platform_number",
                        "title": "trajectory"})


def _path_km(lat: np.ndarray, lon: np.ndarray) -> float:
    """Great-circle length of a track (km, mean Earth radius), vectorised."""
    if len(lat) < 2:
        return 0.0
    la, lo = np.radians(lat), np.radians(lon)
    d = np.sin(np.diff(la) / 2) ** 2 + np.cos(la[:-1]) * np.cos(la[1:]) * np.sin(np.diff(lo) / 2) ** 2
    return float(np.nansum(2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(d, 0, 1)))))


# ----------------------------------------------------------------------------- discovery and export
def discover(run: Run) -> Answer:
    s = run.spec
    query = s.query or " ".join(A.param_label(p) for p in s.parameters) or "Argo floats"
    filters: dict[str, Any] = {}
    if s.float_type:
        filters["float_type"] = s.float_type
    try:
        from ..search import search

        hits = search(query, limit=min(s.limit or 10, 50), filters=filters or None, settings=run.settings)
    except Exception as e:                   # search unavailable (no index yet, model missing): list datasets
        df = run.dal("list_datasets")
        return Answer(text=f"Semantic search is unavailable ({type(e).__name__}); the {A.plural(len(df), 'dataset')} "
                           f"in the database: " + ", ".join(df["name"].astype(str).head(10)) + ".",
                      frame=df, plot={"kind": "table"})
    run.queries.append({"function": "search", "sql": "-- floatchat_core.search.search (hybrid semantic + "
                        "full-text)", "params": {"query": query, **filters}, "rows": len(hits)})
    df = pd.DataFrame(hits)
    if df.empty:
        return Answer(text=f"Nothing in the catalogue matches “{query[:80]}”.", frame=df, plot={"kind": "table"})
    top = "; ".join(f"{h['kind']} {h['title']} ({h['why']})" if h.get("why") else f"{h['kind']} {h['title']}"
                    for h in hits[:3])
    return Answer(text=f"{A.plural(len(hits), 'match')} for “{query[:80]}”. Best: {top}.", frame=df,
                  plot={"kind": "table"})


def export(run: Run) -> Answer:
    from .exporting import export_answer

    return export_answer(run)


HANDLERS = {"find_profiles": find_profiles, "map_floats": map_floats, "plot_profiles": plot_profiles,
            "ts_diagram": ts_diagram, "compare": compare, "timeseries": timeseries, "anomaly": anomaly,
            "depth_slice": depth_slice,
            "nearest_floats": nearest_floats, "float_info": float_info, "trajectory": trajectory,
            "discover": discover, "statistics": statistics, "export": export}


# ----------------------------------------------------------------------------- follow-ups
def suggestions(spec: QuerySpec) -> list[str]:
    """Two or three follow-up questions that make sense after ``spec``."""
    p = spec.parameters[0] if spec.parameters else None
    other = {"TEMP": "salinity", "PSAL": "temperature", "DOXY": "temperature"}.get(p or "", "temperature")
    i = spec.intent
    if i in ("plot_profiles", "find_profiles"):
        out = [f"now {other}", "show them on a map" if i == "plot_profiles" else "plot them",
               "T-S diagram for the same profiles"]
    elif i in ("depth_slice", "statistics"):
        out = [f"now {other}", "same at 1000 m" if spec.pressure != 1000 else "same at 200 m", "show the trend over time"]
    elif i == "timeseries":
        out = [f"now {other}", "only delayed-mode data", "export that"]
    elif i == "anomaly":
        out = [f"now {other}", "show the time series", "only delayed-mode data"]
    elif i == "compare":
        out = [f"now {other}", "show the time series", "export that"]
    elif i in ("float_info", "trajectory"):
        w = spec.platform_numbers[0] if spec.platform_numbers else ""
        out = [f"plot temperature profiles of float {w}", f"T-S diagram for float {w}", "nearest floats to its last position"]
    elif i in ("map_floats", "nearest_floats"):
        out = ["only BGC floats", "list their latest profiles", "temperature profiles there"]
    elif i == "discover":
        out = ["map the floats in the Arabian Sea", "which floats measure oxygen"]
    else:
        out = ["same as NetCDF", "show them on a map"]
    return out[:3]
