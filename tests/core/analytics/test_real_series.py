"""Analytics on real shared-corpus values: Arabian Sea float 2902269 at 100 dbar, through the DAL,
checked against an independent computation from the Argo file itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from floatchat_core.analytics import anomalies, monthly_series, trend, trend_sentence

SAMPLE = Path(__file__).resolve().parents[3] / "floatchat_core" / "data" / "sample" / "2902269_prof.nc"


def _independent_layer_means(lo: float, hi: float) -> pd.DataFrame:
    """Standard QC mode by hand from the file: adjusted where the profile is A/D and the adjusted
    value exists, else raw; keep QC 1-2; mean of TEMP over levels with pressure in [lo, hi]."""
    import netCDF4

    with netCDF4.Dataset(SAMPLE) as ds:
        ds.set_auto_mask(False)

        def val(name):
            a = ds[name][:].astype(np.float64)
            return np.where(a == ds[name]._FillValue, np.nan, a)

        def qc(name):
            raw = ds[name][:]
            out = np.full(raw.shape, -1)
            digits = np.char.isdigit(raw.astype("U1"))
            out[digits] = raw.astype("U1")[digits].astype(int)
            return out

        dm = np.char.strip(netCDF4.chartostring(ds["DATA_MODE"][:].reshape(-1, 1)).astype(str))
        juld = val("JULD")
        out = []
        for name in ("PRES", "TEMP"):
            adj, raw = val(f"{name}_ADJUSTED"), val(name)
            use_adj = np.isin(dm, ["A", "D"])[:, None] & np.isfinite(adj)
            v = np.where(use_adj, adj, raw)
            q = np.where(use_adj, qc(f"{name}_ADJUSTED_QC"), qc(f"{name}_QC"))
            out.append(np.where(np.isin(q, [1, 2]), v, np.nan))
    pres, temp = out
    temp = np.where(np.isfinite(pres), temp, np.nan)
    in_layer = (pres >= lo) & (pres <= hi) & np.isfinite(temp)
    n = in_layer.sum(axis=1)
    mean = np.where(n > 0, np.nansum(np.where(in_layer, temp, 0.0), axis=1) / np.maximum(n, 1), np.nan)
    t = pd.to_datetime("1950-01-01", utc=True) + pd.to_timedelta(juld * 86400, unit="s")
    df = pd.DataFrame({"juld": t, "value": mean, "n_levels": n})
    return df[df.n_levels > 0].sort_values("juld", ignore_index=True)


@pytest.fixture
def arabian_sea(clean_db):
    from floatchat_core.db.regions import seed_if_needed
    from floatchat_core.ingest import ingest

    seed_if_needed()
    job = ingest([SAMPLE], dataset="arabian", executor="serial")
    assert job["status"] == "succeeded", job.get("errors")
    return clean_db


def test_monthly_series_and_trend_from_the_dal_match_the_file(arabian_sea):
    from floatchat_core.db import dal

    vals = dal.region_profile_values("TEMP", 90, 110, region="Arabian Sea")
    ref = _independent_layer_means(90, 110)
    assert len(vals) == len(ref) > 40
    np.testing.assert_allclose(vals["value"].to_numpy(float), ref["value"].to_numpy(), rtol=1e-5)
    assert (vals["n_levels"].to_numpy() == ref["n_levels"].to_numpy()).all()
    monthly = monthly_series(vals)
    ref_m = ref.assign(m=ref.juld.dt.strftime("%Y-%m")).groupby("m")["value"].agg(["mean", "size"])
    assert len(monthly) == len(ref_m)
    np.testing.assert_allclose(monthly["mean"].to_numpy(), ref_m["mean"].to_numpy(), rtol=1e-5)
    assert (monthly["n"].to_numpy() == ref_m["size"].to_numpy()).all()
    tr = trend(monthly)
    assert tr["n"] == len(monthly) and tr["n_observations"] == len(vals)
    assert tr["ci_low"] <= tr["slope_per_decade"] <= tr["ci_high"]
    assert np.isfinite(tr["mann_kendall_p"]) and np.isfinite(tr["theil_sen_slope"])
    text = trend_sentence(tr, "Temperature at 90–110 dbar, Arabian Sea", "°C")
    assert f"{len(monthly)} monthly means of {len(vals)} profiles" in text
    an = anomalies(vals)
    # each calendar month's anomalies average to zero against a climatology from the same data
    assert an.groupby(an.juld.dt.month)["anomaly"].mean().abs().max() < 1e-9


def test_question_engine_states_method_count_and_uncertainty(arabian_sea):
    from floatchat_core.chat import ask

    # ("is the Arabian Sea warming …" needs the parser to map "warming" to temperature: reported)
    a = ask("temperature trend in the Arabian Sea at 100 m since 2015")
    assert a.clarification is None, a.clarification
    assert "profiles" in a.text and "months" in a.text
    if a.provenance.get("trend"):
        tr = a.provenance["trend"]
        assert tr["n"] == len(a.frame) and "/decade" in a.text and "CI" in a.text
        assert "OLS" in a.text and "Mann–Kendall" in tr["method"]
