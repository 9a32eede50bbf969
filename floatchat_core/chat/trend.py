"""Monthly series and trends for time-series answers (internal).

Uses ``floatchat_core.analytics.timeseries`` (contract section 5) when it is installed; until
then the same computation here: monthly means of per-profile values, an ordinary least-squares
trend on decimal years with its 95 % confidence interval, the Theil–Sen slope and the
Mann–Kendall test (Kendall's tau against time).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def monthly_series(values: pd.DataFrame) -> pd.DataFrame:
    """``values`` (``juld``, ``value``) → ``month`` (UTC month start), ``mean``, ``std``, ``n``."""
    try:
        from ..analytics.timeseries import monthly_series as impl
    except ImportError:
        impl = None
    if impl is not None:
        return impl(values)
    df = values[["juld", "value"]].dropna()
    if df.empty:
        return pd.DataFrame(columns=["month", "mean", "std", "n"])
    month = df["juld"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()
    g = df["value"].astype(float).groupby(month.to_numpy())
    out = pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=1), "n": g.size()})
    out.index = pd.DatetimeIndex(out.index, name="month").tz_localize("UTC")
    return out.reset_index()


def trend(series: pd.DataFrame) -> dict:
    """Trend of a monthly series: slope per decade (unit/decade) with 95 % CI, p-value,
    Theil–Sen slope and Mann–Kendall p."""
    try:
        from ..analytics.timeseries import trend as impl
    except ImportError:
        impl = None
    if impl is not None:
        return impl(series)
    from scipy import stats

    s = series.dropna(subset=["mean"])
    t = s["month"]
    years = (t.dt.year + (t.dt.dayofyear - 1) / 365.25).to_numpy(dtype=float)
    y = s["mean"].to_numpy(dtype=float)
    n = len(y)
    if n < 3 or np.ptp(years) == 0:
        return {"slope_per_decade": None, "ci_low": None, "ci_high": None, "p_value": None, "n": n,
                "method": "OLS on monthly means", "theil_sen_slope": None, "mann_kendall_p": None}
    lr = stats.linregress(years, y)
    tcrit = stats.t.ppf(0.975, n - 2)
    ts = stats.theilslopes(y, years)
    tau = stats.kendalltau(years, y)
    return {"slope_per_decade": 10 * lr.slope, "ci_low": 10 * (lr.slope - tcrit * lr.stderr),
            "ci_high": 10 * (lr.slope + tcrit * lr.stderr), "p_value": float(lr.pvalue), "n": n,
            "method": "OLS on monthly means", "theil_sen_slope": 10 * float(ts.slope),
            "mann_kendall_p": float(tau.pvalue)}
