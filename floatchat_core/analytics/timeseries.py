"""Time series, trends, anomalies, seasonal cycle and correlation of Argo values.

Inputs are per-profile values — the DAL's ``region_profile_values`` frame (``profile_id, juld,
latitude, longitude, value, n_levels``: the mean QC-selected value of a parameter in a pressure
band, per profile) — or any frame with a UTC time column and a value column.

Every statistic carries its sample size: a monthly mean its number of profiles, a trend the
number of months *and* of profiles behind it. Time in trends is decimal years (UTC); slopes are
reported per decade in the parameter's unit.

* :func:`monthly_series` — monthly means with std and counts;
* :func:`trend` — ordinary least squares with a t-distribution confidence interval, the robust
  Theil–Sen slope (with its interval) and the Mann–Kendall test (tie-corrected, vectorised);
* :func:`climatology`, :func:`anomalies` — monthly climatology built from the data themselves,
  and each profile's (or month's) departure from it;
* :func:`seasonal_cycle` — mean by calendar month; :func:`correlation` — Pearson and Spearman.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = [
    "anomalies",
    "anomaly_summary",
    "climatology",
    "correlation",
    "decimal_year",
    "mann_kendall",
    "monthly_series",
    "seasonal_cycle",
    "trend",
    "trend_sentence",
]

_SECONDS_PER_YEAR = 365.2425 * 86400.0


def _utc(t) -> pd.Series:
    s = pd.to_datetime(pd.Series(t), utc=True)
    return s.reset_index(drop=True)


def decimal_year(t) -> np.ndarray:
    """UTC times → decimal years (``2015.0`` = 2015-01-01T00:00Z), exact within each year."""
    s = _utc(t)
    year = s.dt.year.to_numpy()
    start = pd.to_datetime(pd.Series(year.astype(str)), format="%Y", utc=True)
    nxt = pd.to_datetime(pd.Series((year + 1).astype(str)), format="%Y", utc=True)
    frac = (s - start).dt.total_seconds().to_numpy() / (nxt - start).dt.total_seconds().to_numpy()
    out = year + frac
    return np.where(s.isna().to_numpy(), np.nan, out)


def monthly_series(values: pd.DataFrame, value: str = "value", time: str = "juld") -> pd.DataFrame:
    """Monthly means of per-profile values.

    Returns
    -------
    DataFrame ``month`` (UTC month start), ``mean``, ``std`` (sample std, NaN when n = 1), ``n``
    (profiles in the month), ordered by month; months without data are absent.
    """
    if values.empty:
        return pd.DataFrame(
            {
                "month": pd.Series(dtype="datetime64[ns, UTC]"),
                "mean": pd.Series(dtype=float),
                "std": pd.Series(dtype=float),
                "n": pd.Series(dtype=np.int64),
            }
        )
    t = _utc(values[time])
    v = pd.to_numeric(values[value], errors="coerce").reset_index(drop=True)
    ok = t.notna() & v.notna()
    month = t[ok].dt.tz_localize(None).dt.to_period("M").dt.to_timestamp().dt.tz_localize("UTC")
    g = pd.DataFrame({"month": month, "v": v[ok]}).groupby("month")["v"]
    out = pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=1), "n": g.size().astype(np.int64)}).reset_index()
    return out.sort_values("month", ignore_index=True)


def mann_kendall(y: np.ndarray) -> tuple[float, float, float]:
    """Mann–Kendall trend test of a series in time order: ``(S, Z, two-sided p)``, variance
    corrected for ties.

    ``S`` comes from Kendall's tau-b between the time index and the values (scipy, O(n log n)):
    with no ties in time, ``S = tau_b * sqrt(n0 * (n0 - n_y))`` where ``n0 = n(n-1)/2`` and
    ``n_y`` counts tied value pairs — exactly the pairwise sign sum, without the O(n²) matrix.
    """
    from scipy.stats import kendalltau, norm

    y = np.asarray(y, dtype=np.float64)
    y = y[np.isfinite(y)]
    n = y.size
    if n < 3:
        return float("nan"), float("nan"), float("nan")
    _, counts = np.unique(y, return_counts=True)
    n0 = n * (n - 1) / 2.0
    n_y = float(np.sum(counts * (counts - 1) / 2.0))
    if n_y >= n0:  # all values equal
        return 0.0, float("nan"), float("nan")
    tau = kendalltau(np.arange(n), y).statistic
    s = float(np.rint(tau * math.sqrt(n0 * (n0 - n_y))))
    ties = counts[counts > 1].astype(np.float64)
    var = (n * (n - 1) * (2 * n + 5) - np.sum(ties * (ties - 1) * (2 * ties + 5))) / 18.0
    if var <= 0:
        return s, float("nan"), float("nan")
    z = (s - np.sign(s)) / math.sqrt(var) if s != 0 else 0.0
    return s, float(z), float(2 * norm.sf(abs(z)))


def trend(
    series: pd.DataFrame,
    value: str = "mean",
    time: str = "month",
    count: str | None = "n",
    confidence: float = 0.95,
) -> dict:
    """Linear trend of a series with its uncertainty, and robust alternatives.

    Parameters
    ----------
    series : e.g. :func:`monthly_series` output (one row per month) or per-profile values
    value, time : column names (time UTC)
    count : column with the number of observations behind each point (summed into
        ``n_observations``), or None
    confidence : two-sided level of the intervals

    Returns
    -------
    dict: ``slope_per_decade``, ``ci_low``, ``ci_high`` (OLS, t-distribution with n − 2 dof),
    ``p_value``, ``n`` (points), ``n_observations``, ``r2``, ``intercept``, ``theil_sen_slope``,
    ``theil_sen_low``, ``theil_sen_high`` (per decade), ``mann_kendall_s``, ``mann_kendall_z``,
    ``mann_kendall_p``, ``lag1_autocorrelation``, ``n_effective`` (n adjusted for lag-1
    autocorrelation), ``start``, ``end``, ``method``. With fewer than 3 points every statistic is
    NaN and ``note`` says why — never a trend without its count.
    """
    from scipy import stats

    t = _utc(series[time])
    y = pd.to_numeric(series[value], errors="coerce").reset_index(drop=True).to_numpy(np.float64)
    x = decimal_year(t)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    order = np.argsort(x, kind="stable")  # Mann–Kendall and the lag-1 autocorrelation need time order
    x, y = x[order], y[order]
    n = int(x.size)
    n_obs = (
        int(pd.to_numeric(series[count], errors="coerce").reset_index(drop=True)[ok].sum())
        if count and count in series
        else n
    )
    method = (
        f"OLS on {n} points with {confidence:.0%} t-interval; Theil–Sen slope; "
        "Mann–Kendall test (tie-corrected)"
    )
    out = {
        "n": n,
        "n_observations": n_obs,
        "method": method,
        "confidence": confidence,
        "start": t[ok].min() if n else None,
        "end": t[ok].max() if n else None,
    }
    nan_keys = (
        "slope_per_decade",
        "ci_low",
        "ci_high",
        "p_value",
        "r2",
        "intercept",
        "theil_sen_slope",
        "theil_sen_low",
        "theil_sen_high",
        "mann_kendall_s",
        "mann_kendall_z",
        "mann_kendall_p",
        "lag1_autocorrelation",
        "n_effective",
    )
    if n < 3 or np.ptp(x) == 0:
        out.update({k: float("nan") for k in nan_keys})
        out["note"] = f"not enough data for a trend ({n} point(s); at least 3 distinct times needed)"
        return out
    lr = stats.linregress(x, y)
    tcrit = stats.t.ppf(0.5 + confidence / 2, n - 2)
    ts = stats.theilslopes(y, x, alpha=confidence)
    s, z, p_mk = mann_kendall(y)
    resid = y - (lr.intercept + lr.slope * x)
    r1 = float(np.corrcoef(resid[:-1], resid[1:])[0, 1]) if n > 3 and np.std(resid) > 0 else float("nan")
    n_eff = n * (1 - r1) / (1 + r1) if np.isfinite(r1) and -1 < r1 < 1 else float("nan")
    out.update(
        {
            "slope_per_decade": 10 * lr.slope,
            "ci_low": 10 * (lr.slope - tcrit * lr.stderr),
            "ci_high": 10 * (lr.slope + tcrit * lr.stderr),
            "p_value": float(lr.pvalue),
            "r2": float(lr.rvalue**2),
            "intercept": float(lr.intercept),
            "theil_sen_slope": 10 * float(ts[0]),
            "theil_sen_low": 10 * float(ts[2]),
            "theil_sen_high": 10 * float(ts[3]),
            "mann_kendall_s": s,
            "mann_kendall_z": z,
            "mann_kendall_p": p_mk,
            "lag1_autocorrelation": r1,
            "n_effective": float(min(n_eff, n)) if np.isfinite(n_eff) else float("nan"),
        }
    )
    return out


def climatology(
    values: pd.DataFrame, value: str = "value", time: str = "juld", start=None, end=None
) -> pd.DataFrame:
    """Monthly climatology (calendar month 1–12: ``mean``, ``std``, ``n``) from the data themselves.

    ``start``/``end`` restrict the reference period (UTC); the default is all data.
    """
    t = _utc(values[time])
    v = pd.to_numeric(values[value], errors="coerce").reset_index(drop=True)
    ok = t.notna() & v.notna()
    if start is not None:
        ok &= t >= pd.Timestamp(start, tz="UTC")
    if end is not None:
        ok &= t <= pd.Timestamp(end, tz="UTC")
    g = pd.DataFrame({"month_of_year": t[ok].dt.month, "v": v[ok]}).groupby("month_of_year")["v"]
    out = pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=1), "n": g.size().astype(np.int64)})
    out = out.reindex(range(1, 13))
    out["n"] = out["n"].fillna(0).astype(np.int64)
    out.index.name = "month_of_year"
    return out.reset_index()


def anomalies(
    values: pd.DataFrame,
    climatology_df: pd.DataFrame | None = None,
    value: str = "value",
    time: str = "juld",
    **clim_kw,
) -> pd.DataFrame:
    """Each row's departure from the monthly climatology of its calendar month.

    Adds ``climatology`` (the month's climatological mean), ``climatology_n`` and ``anomaly``
    (value − climatology; NaN where the month has no climatology). ``climatology_df`` defaults
    to :func:`climatology` of ``values`` itself (``clim_kw`` passes ``start``/``end``).
    """
    clim = climatology_df if climatology_df is not None else climatology(values, value, time, **clim_kw)
    out = values.reset_index(drop=True).copy()
    moy = _utc(out[time]).dt.month
    m = clim.set_index("month_of_year")
    out["climatology"] = moy.map(m["mean"]).to_numpy(np.float64)
    out["climatology_n"] = moy.map(m["n"]).fillna(0).astype(np.int64).to_numpy()
    out["anomaly"] = (
        pd.to_numeric(out[value], errors="coerce").to_numpy(np.float64) - out["climatology"].to_numpy()
    )
    return out


def anomaly_summary(
    values: pd.DataFrame,
    start,
    end,
    value: str = "value",
    time: str = "juld",
    climatology_start=None,
    climatology_end=None,
    confidence: float = 0.95,
) -> dict:
    """Mean anomaly of the profiles in [``start``, ``end``] against a monthly climatology.

    The climatology comes from ``values`` themselves (by default every profile *outside* the
    period, so the period is not compared with itself; ``climatology_start``/``_end`` choose a
    reference period instead). Each profile's anomaly is its value minus its calendar month's
    climatological mean; the result is their mean with a t-interval.

    Returns
    -------
    dict: ``mean_anomaly``, ``ci_low``, ``ci_high``, ``std``, ``n_profiles`` (in the period, with a
    climatology for their month), ``n_climatology`` (profiles behind the climatology),
    ``months_without_climatology``, ``method``, ``start``, ``end``. NaN statistics (and a
    ``note``) when fewer than 2 profiles qualify.
    """
    from scipy import stats

    t = _utc(values[time])
    t0, t1 = (
        pd.Timestamp(start, tz="UTC") if pd.Timestamp(start).tzinfo is None else pd.Timestamp(start),
        pd.Timestamp(end, tz="UTC") if pd.Timestamp(end).tzinfo is None else pd.Timestamp(end),
    )
    in_period = ((t >= t0) & (t <= t1)).to_numpy()
    base = values.reset_index(drop=True)
    if climatology_start is None and climatology_end is None:
        clim = climatology(base[~in_period], value, time)
        ref = "all other years"
    else:
        clim = climatology(base, value, time, climatology_start, climatology_end)
        ref = f"{climatology_start or 'start'} to {climatology_end or 'end'}"
    an = anomalies(base[in_period], clim, value, time)
    ok = an["anomaly"].notna() & (an["climatology_n"] > 0)
    a = an.loc[ok, "anomaly"].to_numpy(np.float64)
    n = int(a.size)
    out = {
        "n_profiles": n,
        "n_climatology": int(clim["n"].sum()),
        "months_without_climatology": sorted(set(_utc(an.loc[~ok, time]).dt.month.tolist())),
        "start": t0,
        "end": t1,
        "confidence": confidence,
        "method": f"profile values minus the monthly climatology of {ref} (same database, same QC mode); "
        f"mean with {confidence:.0%} t-interval",
    }
    if n < 2:
        out.update(
            mean_anomaly=float(a.mean()) if n else float("nan"),
            ci_low=float("nan"),
            ci_high=float("nan"),
            std=float("nan"),
            note=f"not enough profiles with a climatology ({n})",
        )
        return out
    m, sd = float(a.mean()), float(a.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    out.update(mean_anomaly=m, ci_low=m - half, ci_high=m + half, std=sd)
    return out


def seasonal_cycle(values: pd.DataFrame, value: str = "value", time: str = "juld") -> pd.DataFrame:
    """Mean seasonal cycle: calendar month 1–12 with ``mean``, ``std``, ``n`` (= :func:`climatology`)."""
    return climatology(values, value, time)


def correlation(df: pd.DataFrame, a: str, b: str) -> dict:
    """Pearson and Spearman correlation of two columns over rows where both are finite.

    Returns ``pearson_r``, ``pearson_p``, ``spearman_rho``, ``spearman_p``, ``n`` (NaN below 3 pairs).
    """
    from scipy import stats

    x = pd.to_numeric(df[a], errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(df[b], errors="coerce").to_numpy(np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(x.size)
    if n < 3 or np.std(x) == 0 or np.std(y) == 0:
        return {
            "pearson_r": float("nan"),
            "pearson_p": float("nan"),
            "spearman_rho": float("nan"),
            "spearman_p": float("nan"),
            "n": n,
        }
    pr = stats.pearsonr(x, y)
    sr = stats.spearmanr(x, y)
    return {
        "pearson_r": float(pr[0]),
        "pearson_p": float(pr[1]),
        "spearman_rho": float(sr[0]),
        "spearman_p": float(sr[1]),
        "n": n,
    }


def _fmt(v: float, digits: int = 3) -> str:
    return "nan" if not np.isfinite(v) else f"{v:+.{digits}g}" if abs(v) < 1e-3 else f"{v:+.{digits}f}"


def trend_sentence(result: dict, what: str, units: str, digits: int = 3) -> str:
    """One honest sentence for a :func:`trend` result: slope, interval, method and counts."""
    if not np.isfinite(result.get("slope_per_decade", float("nan"))):
        return f"{what}: {result.get('note', 'no trend could be computed')}."
    start = pd.Timestamp(result["start"]).strftime("%Y-%m") if result.get("start") is not None else "?"
    end = pd.Timestamp(result["end"]).strftime("%Y-%m") if result.get("end") is not None else "?"
    conf = f"{result.get('confidence', 0.95):.0%}"
    return (
        f"{what}: {_fmt(result['slope_per_decade'], digits)} {units}/decade "
        f"({conf} CI {_fmt(result['ci_low'], digits)} to {_fmt(result['ci_high'], digits)}, OLS p = "
        f"{result['p_value']:.2g}) from {result['n']} monthly means of "
        f"{result['n_observations']:,} profiles, "
        f"{start} to {end}; robust Theil–Sen {_fmt(result['theil_sen_slope'], digits)} {units}/decade, "
        f"Mann–Kendall p = {result['mann_kendall_p']:.2g}."
    )
