"""Trends, Mann–Kendall, climatology and anomalies on series of known properties."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from floatchat_core.analytics import (
    anomalies,
    climatology,
    correlation,
    mann_kendall,
    monthly_series,
    seasonal_cycle,
    trend,
    trend_sentence,
)


def _profiles(years=10, per_month=6, slope_per_year=0.02, amp=1.5, noise=0.1, seed=1):
    rng = np.random.default_rng(seed)
    months = pd.date_range("2015-01-01", periods=12 * years, freq="MS", tz="UTC")
    t = np.repeat(months, per_month) + pd.to_timedelta(rng.uniform(0, 27, 12 * years * per_month), unit="D")
    yrs = (t - pd.Timestamp("2015-01-01", tz="UTC")).total_seconds() / (365.2425 * 86400)
    season = amp * np.sin(2 * np.pi * (t.month.to_numpy() - 1) / 12)
    v = 20 + slope_per_year * yrs + season + rng.normal(0, noise, t.size)
    return pd.DataFrame({"profile_id": np.arange(t.size), "juld": t, "value": v})


def test_monthly_series_counts_and_means():
    df = _profiles(years=2, per_month=4)
    m = monthly_series(df)
    assert len(m) == 24 and (m["n"] == 4).all()
    first = df[df.juld < pd.Timestamp("2015-02-01", tz="UTC")]["value"]
    assert m["mean"].iloc[0] == pytest.approx(first.mean()) and m["std"].iloc[0] == pytest.approx(first.std())
    assert str(m["month"].dt.tz) == "UTC"


def test_trend_recovers_known_slope_with_interval():
    df = _profiles(years=10, slope_per_year=0.02, amp=0.0, noise=0.05)
    res = trend(monthly_series(df))
    assert res["n"] == 120 and res["n_observations"] == 720
    assert res["ci_low"] < 0.2 < res["ci_high"]
    assert res["slope_per_decade"] == pytest.approx(0.2, abs=0.02)
    assert res["theil_sen_low"] < 0.2 < res["theil_sen_high"]
    assert res["p_value"] < 1e-10 and res["mann_kendall_p"] < 1e-10
    text = trend_sentence(res, "Temperature at 100 dbar", "°C")
    assert "120 monthly means of 720 profiles" in text and "°C/decade" in text and "Mann–Kendall" in text


def test_no_trend_in_noise_and_too_few_points():
    rng = np.random.default_rng(7)
    s = pd.DataFrame(
        {
            "month": pd.date_range("2010-01-01", periods=200, freq="MS", tz="UTC"),
            "mean": rng.normal(0, 1, 200),
            "n": 1,
        }
    )
    res = trend(s)
    assert res["ci_low"] < 0 < res["ci_high"] and res["p_value"] > 0.01 and res["mann_kendall_p"] > 0.01
    few = trend(s.iloc[:2])
    assert few["n"] == 2 and np.isnan(few["slope_per_decade"]) and "not enough data" in few["note"]
    assert "not enough data" in trend_sentence(few, "x", "°C")


def _mk_reference(y):
    s = sum(np.sign(y[j] - y[i]) for i, j in itertools.combinations(range(len(y)), 2))
    return s


def test_mann_kendall_matches_reference_and_handles_ties():
    rng = np.random.default_rng(3)
    y = np.round(rng.normal(0, 1, 60), 1)  # ties on purpose
    s, z, p = mann_kendall(y)
    assert s == _mk_reference(y)
    n = len(y)
    _, c = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in c)) / 18
    assert z == pytest.approx((s - np.sign(s)) / np.sqrt(var))
    assert 0 <= p <= 1
    s_up, _, p_up = mann_kendall(np.arange(30.0))
    assert s_up == 30 * 29 / 2 and p_up < 1e-8


def test_climatology_anomalies_and_seasonal_cycle():
    df = _profiles(years=6, slope_per_year=0.0, amp=2.0, noise=0.01)
    clim = climatology(df)
    assert list(clim["month_of_year"]) == list(range(1, 13)) and (clim["n"] == 36).all()
    assert clim.loc[clim.month_of_year == 4, "mean"].item() == pytest.approx(
        20 + 2 * np.sin(np.pi / 2), abs=0.01
    )
    an = anomalies(df)
    assert an["anomaly"].abs().max() < 0.05 and (an["climatology_n"] == 36).all()
    assert seasonal_cycle(df)["mean"].idxmax() == 3  # April (index 3) peaks
    # a warm year stands out against a climatology from the other years
    warm = df.copy()
    warm.loc[warm.juld.dt.year == 2020, "value"] += 0.5
    an2 = anomalies(warm, start="2015-01-01", end="2019-12-31")
    assert an2[an2.juld.dt.year == 2020]["anomaly"].mean() == pytest.approx(0.5, abs=0.02)


def test_correlation():
    rng = np.random.default_rng(0)
    x = rng.normal(size=500)
    df = pd.DataFrame({"a": x, "b": 2 * x + rng.normal(0, 0.1, 500), "c": rng.normal(size=500)})
    r = correlation(df, "a", "b")
    assert r["n"] == 500 and r["pearson_r"] > 0.99 and r["spearman_rho"] > 0.99
    assert abs(correlation(df, "a", "c")["pearson_r"]) < 0.15
    assert np.isnan(correlation(df.iloc[:2], "a", "b")["pearson_r"])


def test_anomaly_summary_of_a_warm_year():
    from floatchat_core.analytics import anomaly_summary

    df = _profiles(years=6, slope_per_year=0.0, amp=2.0, noise=0.05)
    df.loc[df.juld.dt.year == 2019, "value"] += 0.3
    r = anomaly_summary(df, "2019-01-01", "2019-12-31T23:59:59")
    assert r["n_profiles"] == 72 and r["n_climatology"] == 360
    assert r["ci_low"] < 0.3 < r["ci_high"] and r["mean_anomaly"] == pytest.approx(0.3, abs=0.02)
    assert "monthly climatology of all other years" in r["method"]
    none = anomaly_summary(df, "2030-01-01", "2030-12-31")
    assert none["n_profiles"] == 0 and "not enough" in none["note"]


def test_mann_kendall_scales_and_trend_sorts_time():
    import time as _t

    rng = np.random.default_rng(5)
    y = np.cumsum(rng.normal(0.01, 1, 200_000))
    t0 = _t.perf_counter()
    s, z, p = mann_kendall(y)
    assert _t.perf_counter() - t0 < 5 and np.isfinite(z)
    small = np.round(rng.normal(0, 1, 300), 1)
    assert mann_kendall(small)[0] == _mk_reference(small)
    df = _profiles(years=5, slope_per_year=0.05, amp=0.0, noise=0.05).sample(frac=1.0, random_state=1)
    shuffled = trend(df, value="value", time="juld", count=None)
    ordered = trend(df.sort_values("juld"), value="value", time="juld", count=None)
    assert shuffled["mann_kendall_s"] == ordered["mann_kendall_s"] > 0
    assert shuffled["lag1_autocorrelation"] == pytest.approx(ordered["lag1_autocorrelation"])
