"""Issue #8 through the question engine, on the real shared corpus in PostgreSQL:

* answers say which source served them (``FLOATCHAT_SOURCE``): live from the local ERDDAP replay
  server (the recordings of ``shared/data/erddap``), falling back to the local database within the
  timeout when it is down, never touching the network in ``local`` mode;
* change words ("warming") imply the parameter and the trend intent; the trend is checked against
  an independent computation from float 2902269's Argo file;
* the anomaly intent: a period against the monthly climatology of the other years, checked the
  same way, and a clarification when no other year exists.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from floatchat_core.chat import ChatSession, ask
from floatchat_core.config import override

_here = Path(__file__).resolve()
_spec = importlib.util.spec_from_file_location("chat_conftest", _here.with_name("conftest.py"))
qs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(qs)
# the local ERDDAP replay server of the sources tests (a real HTTP server on 127.0.0.1)
_spec = importlib.util.spec_from_file_location("sources_conftest", _here.parents[1] / "sources" / "conftest.py")
replay = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(replay)
erddap_dir, erddap_server, dead_url = replay.erddap_dir, replay.erddap_server, replay.dead_url

#: A whole-float request recorded in shared/data/erddap (core dataset, standard mode).
LIVE_FLOAT = "1901393"
REC_URL = (
    "https://erddap.ifremer.fr/erddap/tabledap/ArgoFloats.nc?config_mission_number,cycle_number,data_mode,"
    "direction,latitude,longitude,platform_number,position_qc,pres,pres_adjusted,pres_adjusted_error,"
    "pres_adjusted_qc,pres_qc,psal,psal_adjusted,psal_adjusted_error,psal_adjusted_qc,psal_qc,temp,"
    "temp_adjusted,temp_adjusted_error,temp_adjusted_qc,temp_qc,time,time_qc,vertical_sampling_scheme"
    f'&platform_number=~"{LIVE_FLOAT}"&latitude!=NaN&longitude!=NaN&distinct()&orderBy("time,pres")'
)


@pytest.fixture(autouse=True)
def _fresh_monitor():
    from floatchat_core.sources.router import monitor

    monitor.reset()
    yield
    monitor.reset()


# ----------------------------------------------------------------------------- independent reference
def _standard_profiles(gdac_dir: Path, wmo: str) -> list[tuple[pd.Timestamp, str, np.ndarray, np.ndarray]]:
    """(time, direction, pres, temp) per profile of a float's single-cycle files (the delayed-mode
    ``D`` file where one exists, as the GDAC serves it), in standard QC mode, by hand: adjusted
    where the profile is A/D and the adjusted value exists, else raw; QC 1–2 kept."""
    import netCDF4

    files: dict[str, Path] = {}
    for f in sorted((gdac_dir / "dac").glob(f"*/{wmo}/profiles/[DR]{wmo}_*.nc")):
        key = f.name[1:]
        if key not in files or f.name.startswith("D"):
            files[key] = f
    out = []
    for f in files.values():
        with netCDF4.Dataset(f) as ds:
            ds.set_auto_mask(False)

            def val(name):
                a = ds[name][0].astype(np.float64)
                return np.where(a == ds[name]._FillValue, np.nan, a)

            def qc(name):
                raw = ds[name][0].astype("U1")
                q = np.full(raw.shape, -1)
                ok = np.char.isdigit(raw)
                q[ok] = raw[ok].astype(int)
                return q

            dm = ds["DATA_MODE"][0].tobytes().decode().strip()
            direction = ds["DIRECTION"][0].tobytes().decode().strip()
            juld = float(ds["JULD"][0])
            vals = []
            for name in ("PRES", "TEMP"):
                adj, raw = val(f"{name}_ADJUSTED"), val(name)
                use_adj = (dm in ("A", "D")) & np.isfinite(adj)
                v = np.where(use_adj, adj, raw)
                q = np.where(use_adj, qc(f"{name}_ADJUSTED_QC"), qc(f"{name}_QC"))
                vals.append(np.where(np.isin(q, [1, 2]), v, np.nan))
        t = pd.Timestamp("1950-01-01", tz="UTC") + pd.to_timedelta(juld * 86400, unit="s")
        out.append((t, direction, vals[0], vals[1]))
    return out


def _at_pressure(gdac_dir: Path, wmo: str, target: float) -> pd.DataFrame:
    """Temperature at ``target`` dbar per ascending profile: linear between the two QC-passing
    levels that bracket it, no extrapolation."""
    rows = []
    for t, direction, pres, temp in _standard_profiles(gdac_dir, wmo):
        ok = np.isfinite(pres) & np.isfinite(temp)
        p, v = pres[ok], temp[ok]
        order = np.argsort(p)
        p, v = p[order], v[order]
        if direction != "A" or p.size == 0 or not p[0] <= target <= p[-1]:
            continue
        rows.append({"juld": t, "value": float(np.interp(target, p, v))})
    return pd.DataFrame(rows).sort_values("juld", ignore_index=True)


def _layer_means(gdac_dir: Path, wmo: str, lo: float, hi: float) -> pd.DataFrame:
    rows = []
    for t, direction, pres, temp in _standard_profiles(gdac_dir, wmo):
        inside = (pres >= lo) & (pres <= hi) & np.isfinite(temp)
        if direction == "A" and inside.any():
            rows.append({"juld": t, "value": float(temp[inside].mean()), "n": int(inside.sum())})
    return pd.DataFrame(rows).sort_values("juld", ignore_index=True)


# ----------------------------------------------------------------------------- warming → trend
def test_warming_question_is_a_temperature_trend_matching_the_file(corpus, gdac_dir):
    chat = ChatSession(reference_time=qs.REFERENCE)
    ans = chat.ask("is the Arabian Sea warming at 100 m since 2015?")
    s = ans.spec
    assert (s.intent, s.parameters, s.region.name, str(s.time_start)) == \
        ("timeseries", ["TEMP"], "Arabian Sea", "2015-01-01"), ans.text
    assert s.pressure == pytest.approx(100.6, abs=0.1)
    ref = _at_pressure(gdac_dir, "2902269", s.pressure)         # the Arabian Sea's only float here
    ref_m = ref.assign(m=ref.juld.dt.strftime("%Y-%m")).groupby("m")["value"].agg(["mean", "size"])
    assert len(ans.frame) == len(ref_m) == 20
    np.testing.assert_allclose(ans.frame["mean"].to_numpy(float), ref_m["mean"].to_numpy(), rtol=1e-5)
    assert (ans.frame["n"].to_numpy() == ref_m["size"].to_numpy()).all()
    x = ans.frame["month"].dt.year + (ans.frame["month"].dt.day_of_year - 1) / np.where(
        ans.frame["month"].dt.is_leap_year, 366, 365)
    lr = stats.linregress(x.to_numpy(float), ref_m["mean"].to_numpy())
    tr = ans.provenance["trend"]
    assert tr["slope_per_decade"] == pytest.approx(10 * lr.slope, rel=1e-4)
    half = 10 * stats.t.ppf(0.975, len(ref_m) - 2) * lr.stderr
    assert tr["ci_high"] - tr["slope_per_decade"] == pytest.approx(half, rel=1e-4)
    assert tr["n"] == 20 and tr["n_observations"] == len(ref) == int(ref_m["size"].sum())
    # method, sample size and uncertainty in the words themselves
    assert f"20 monthly means of {len(ref)} profiles" in ans.text
    assert "95% CI" in ans.text and "OLS" in ans.text and "Theil–Sen" in ans.text and "Mann–Kendall" in ans.text
    assert "°C/decade" in ans.text


# ----------------------------------------------------------------------------- anomaly
def test_anomaly_against_the_other_years_matches_the_file(corpus, gdac_dir):
    ans = ask("temperature anomaly at 100 m in the Arabian Sea in 2019")
    assert ans.spec.intent == "anomaly" and ans.clarification is None, ans.text
    a = ans.provenance["anomaly"]
    lo, hi = a["layer_dbar"]
    assert (lo, hi) == pytest.approx((ans.spec.pressure - 10, ans.spec.pressure + 10))
    ref = _layer_means(gdac_dir, "2902269", lo, hi)
    in_2019 = ref.juld.dt.year == 2019
    clim = ref[~in_2019].groupby(ref[~in_2019].juld.dt.month)["value"].mean()      # Jan–Aug 2020
    cur = ref[in_2019].assign(c=ref[in_2019].juld.dt.month.map(clim)).dropna(subset=["c"])
    d = (cur["value"] - cur["c"]).to_numpy()
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    assert a["n_profiles"] == d.size and a["n_climatology"] == int((~in_2019).sum())
    assert a["mean_anomaly"] == pytest.approx(d.mean(), rel=1e-5)
    assert a["ci_low"] == pytest.approx(d.mean() - half, rel=1e-5)
    assert a["climatology_years"] == "2020" and a["months_without_climatology"] == [9, 10, 11, 12]
    # the words: climatology used (years, n), the anomaly with its CI and counts, what was left out
    assert f"{d.mean():+.3g} °C (95 % CI {d.mean() - half:+.3g} to {d.mean() + half:+.3g}" in ans.text
    assert f"from {d.size} profiles" in ans.text
    assert f"monthly climatology of 2020 ({int((~in_2019).sum())} profiles" in ans.text
    assert "(Sep, Oct, Nov, Dec) left out" in ans.text and "Method:" in ans.text
    assert ans.plot["kind"] == "timeseries" and ans.plot["y"] == "mean"
    assert set(ans.frame.columns) >= {"month", "mean", "n", "in_period"} and ans.frame["in_period"].any()
    # each month of 2020 is its own climatology: its anomaly is exactly zero
    assert ans.frame.loc[~ans.frame["in_period"], "mean"].abs().max() < 1e-9
    assert ans.sql.strip().upper().startswith(("SELECT", "WITH", "--"))
    assert "region_profile_values" in [q["function"] for q in ans.provenance["queries"]]


def test_anomaly_without_other_years_asks_back(corpus):
    chat = ChatSession(reference_time=qs.REFERENCE)
    ans = chat.ask("temperature anomaly at 500 dbar for float 2902269 from 2019 to 2020")
    assert ans.clarification and "no other year to build a climatology" in ans.text
    assert "57 profiles" in ans.text
    ans = chat.ask("oxygen anomaly at 200 dbar")
    assert ans.provenance["clarification_reason"] == "missing_period" and "which period" in ans.text.lower()


def test_oxygen_anomaly_question(corpus):
    """DOXY of BGC float 3902131 (2018–2021) at 200 dbar: the anomaly of 2020 recomputed by hand from
    the DAL's per-profile layer means (the layer itself is checked against files elsewhere)."""
    from floatchat_core.db import dal

    ans = ask("oxygen anomaly at 200 dbar in 2020 in expert mode")
    s, a = ans.spec, ans.provenance["anomaly"]
    assert (s.intent, s.parameters, s.pressure, s.qc_mode) == ("anomaly", ["DOXY"], 200, "expert")
    assert a["layer_dbar"] == [190.0, 210.0]
    v = dal.region_profile_values("DOXY", 190.0, 210.0, mode="expert")
    v = v[v["value"].notna()]
    in_2020 = v["juld"].dt.year == 2020
    clim = v[~in_2020].groupby(v[~in_2020]["juld"].dt.month)["value"].mean()
    d = (v[in_2020]["value"] - v[in_2020]["juld"].dt.month.map(clim)).dropna().to_numpy()
    assert a["n_profiles"] == d.size == 37 and a["n_climatology"] == int((~in_2020).sum()) == 124
    assert a["mean_anomaly"] == pytest.approx(d.mean(), rel=1e-9)
    assert a["std"] == pytest.approx(d.std(ddof=1), rel=1e-9)
    assert "Oxygen anomaly at 200 dbar (190–210 dbar layer)" in ans.text
    assert f"{d.mean():+.3g} µmol/kg" in ans.text and "climatology of 2018–2019, 2021 (124 profiles" in ans.text
    assert ans.frame.loc[ans.frame["in_period"], "month"].dt.year.unique().tolist() == [2020]


# ----------------------------------------------------------------------------- sources
def test_live_first_answer_is_served_by_erddap(corpus, erddap_server, erddap_dir):
    from floatchat_core.sources import processors as P

    with override(source="live-first", erddap_url=erddap_server.url, erddap_timeout_s=5.0):
        ans = ask(f"temperature profiles of float {LIVE_FLOAT}")
    assert ans.provenance["error"] is None, ans.text
    src = ans.provenance["source"]
    assert src["source"] == "erddap" and not src["fell_back"]
    assert src["url"] == REC_URL.replace("https://erddap.ifremer.fr/erddap", erddap_server.url)
    assert erddap_server.requests and all(LIVE_FLOAT in r for r in erddap_server.requests)
    assert f"Served live by ERDDAP (127.0.0.1:{erddap_server.url.split(':')[2].split('/')[0]}) in " in ans.text
    # the numbers are the recording's: profiles, and temperature range under standard QC
    entry = next(e for e in json.loads((erddap_dir / "index.json").read_text()) if e["url"] == REC_URL)
    raw = P.read_nc((erddap_dir / entry["file"]).read_bytes())
    n_prof = raw.groupby(["cycle_number", "direction"]).ngroups
    lv = ans.frame
    assert lv["profile_id"].nunique() == min(n_prof, 100) and (lv["profile_id"] < 0).all()
    assert ans.plot["kind"] == "profiles" and ans.plot["by"] == "profile_id"
    assert f"{min(n_prof, 100)} profiles from 1 float" in ans.text
    mode = raw["data_mode"].astype(str).str.strip()
    adj = mode.isin(["A", "D"]) & raw["temp_adjusted"].notna()
    v = np.where(adj, raw["temp_adjusted"], raw["temp"])
    q = np.where(adj, raw["temp_adjusted_qc"].astype(str), raw["temp_qc"].astype(str))
    good = v[np.isin(q, ["1", "2"]) & np.isfinite(v.astype(float))].astype(float)
    if n_prof <= 100:
        assert lv["temp"].notna().sum() == good.size
        assert lv["temp"].max() == pytest.approx(good.max()) and lv["temp"].min() == pytest.approx(good.min())
    assert ans.provenance["queries"][0]["function"] == "erddap"


def test_server_down_falls_back_within_the_timeout(corpus, dead_url, erddap_server):
    local = ask("temperature profiles of float 2902269 in 2019")
    with override(source="live-first", erddap_url=dead_url, erddap_timeout_s=1.0, erddap_retries=2):
        t0 = time.monotonic()
        ans = ask("temperature profiles of float 2902269 in 2019")
        elapsed = time.monotonic() - t0
    assert elapsed < 2.5, elapsed
    src = ans.provenance["source"]
    assert src["source"] == "local" and src["fell_back"] and src["error"]
    assert "answered from the local database" in ans.text and "ERDDAP could not answer" in ans.text
    # the same numbers as the local answer
    assert ans.frame["profile_id"].nunique() == local.frame["profile_id"].nunique() == 35       # 2019
    assert set(ans.frame["profile_id"]) == set(local.frame["profile_id"])
    np.testing.assert_allclose(np.sort(ans.frame["temp"].dropna().to_numpy(float)),
                               np.sort(local.frame["temp"].dropna().to_numpy(float)))
    # a slow server: timeout wording, still within the budget
    erddap_server.behaviour, erddap_server.delay = "slow", 5.0
    with override(source="live-first", erddap_url=erddap_server.url, erddap_timeout_s=1.0, erddap_retries=0):
        t0 = time.monotonic()
        ans = ask("temperature profiles of float 2902269 in 2019")
        assert time.monotonic() - t0 < 2.5
    assert "ERDDAP did not answer within 1 s (timeout); answered from the local database." in ans.text
    assert ans.provenance["source"]["fell_back"] and len(ans.frame) == len(local.frame)


def test_local_mode_never_touches_the_network(corpus, erddap_server):
    with override(source="local", erddap_url=erddap_server.url):
        ans = ask("temperature profiles of float 2902269 in 2019")
    assert erddap_server.requests == [] and ans.provenance["source"] == "local database (read-only)"
    assert "ERDDAP" not in ans.text and "local database" not in ans.text
    code = ("import sys; from floatchat_core.chat import ask; a = ask('temperature profiles of float 2902269'); "
            "assert a.provenance['error'] is None, a.text; "
            "print(sorted(m for m in sys.modules if m.startswith(('floatchat_core.sources', 'httpx'))))")
    import os

    env = {**os.environ, "FLOATCHAT_SOURCE": "local", "FLOATCHAT_ERDDAP_URL": erddap_server.url}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "[]"
    assert erddap_server.requests == []


def test_region_question_in_live_first_mode_says_local(corpus, erddap_server):
    with override(source="live-first", erddap_url=erddap_server.url):
        ans = ask("temperature profiles in the Arabian Sea in 2019")
    assert erddap_server.requests == [] and ans.provenance["source"]["source"] == "local"
    assert "local database" in ans.text


def test_live_mode_with_the_server_down_is_an_answer_not_an_exception(corpus, dead_url):
    with override(source="live", erddap_url=dead_url, erddap_timeout_s=1.0, erddap_retries=0):
        ans = ask("temperature profiles of float 2902269 in 2019")
    assert ans.text.startswith("I couldn't run that query: ERDDAP failed") and len(ans.frame) == 0
    assert ans.provenance["source"]["source"] == "none" and "ERDDAP failed" in ans.provenance["source"]["reason"]
