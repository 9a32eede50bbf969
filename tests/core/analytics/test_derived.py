"""TEOS-10 derived variables against the published gsw check values, and mixed-layer depth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from floatchat_core.analytics import add_teos10, mixed_layer_depth


@pytest.fixture(scope="module")
def check_values():
    import gsw

    path = Path(gsw.__file__).parent / "tests" / "gsw_cv_v3_0.npz"
    if not path.is_file():
        pytest.fail(f"TEOS-10 check values missing at {path}")
    return np.load(path)


def _cast_frame(cv) -> pd.DataFrame:
    sp, t, p = cv["SP_chck_cast"], cv["t_chck_cast"], cv["p_chck_cast"]
    nlev, ncast = sp.shape
    return pd.DataFrame(
        {
            "profile_id": np.tile(np.arange(ncast), nlev),
            "psal": sp.ravel(),
            "temp": t.ravel(),
            "pres": p.ravel(),
            "longitude": np.tile(cv["long_chck_cast"].astype(float), nlev),
            "latitude": np.tile(cv["lat_chck_cast"].astype(float), nlev),
        }
    )


def test_teos10_matches_published_check_values(check_values):
    cv = check_values
    df = add_teos10(_cast_frame(cv))
    for col, key in (("SA", "SA_from_SP"), ("CT", "CT_from_t"), ("sigma0", "sigma0")):
        expected = cv[key].ravel()
        tol = float(cv[f"{key}_ca"]) if f"{key}_ca" in cv.files else 1e-10
        got = df[col].to_numpy()
        ok = np.isfinite(expected)
        assert ok.sum() == 98  # 3 casts of 45 levels, the shallow ones filled
        np.testing.assert_allclose(got[ok], expected[ok], rtol=0, atol=tol)
        assert np.isnan(got[~ok]).all()


def test_teos10_on_real_argo_level_values():
    # Argo float 6902746 cycle 34 (ERDDAP recording), surface level: SP 36.262 at 3 dbar, 27.212 °C
    df = pd.DataFrame(
        {
            "profile_id": [1],
            "psal": [36.262],
            "temp": [27.212],
            "pres": [3.0],
            "longitude": [-58.119],
            "latitude": [18.983],
        }
    )
    out = add_teos10(df)
    assert 36.40 < out["SA"][0] < 36.48  # SA exceeds SP by ~0.17 g/kg in the subtropical Atlantic
    assert abs(out["CT"][0] - 27.2) < 0.1
    assert 23.3 < out["sigma0"][0] < 23.7


def _profile(pid, pres, sigma):
    return pd.DataFrame(
        {
            "profile_id": pid,
            "pres": pres,
            "sigma0": sigma,
            "latitude": 0.0,
            "longitude": 0.0,
            "juld": pd.Timestamp("2020-01-01", tz="UTC"),
            "platform_number": "1",
            "cycle_number": pid,
        }
    )


def test_mixed_layer_depth_known_profiles():
    p = np.arange(0, 301, 5.0)
    # mixed to 80 dbar, then a linear pycnocline of 0.01 kg/m³ per dbar: crossing at 83 dbar
    s1 = np.where(p <= 80, 25.0, 25.0 + 0.01 * (p - 80))
    # never exceeds the threshold
    s2 = np.full_like(p, 26.0)
    # starts at 30 dbar: no 10 dbar reference
    p3 = np.arange(30, 300, 10.0)
    s3 = 25 + 0.01 * p3
    df = pd.concat([_profile(1, p, s1), _profile(2, p, s2), _profile(3, p3, s3)], ignore_index=True)
    out = mixed_layer_depth(df).set_index("profile_id")
    assert out.loc[1, "mld"] == pytest.approx(83.0, abs=1e-9)
    assert out.loc[1, "sigma0_ref"] == pytest.approx(25.0)
    assert bool(out.loc[1, "mld_found"])
    assert np.isnan(out.loc[2, "mld"]) and not out.loc[2, "mld_found"]
    assert np.isnan(out.loc[3, "mld"])
    assert out.loc[1, "n_levels"] == p.size


def test_mixed_layer_depth_on_real_cast(check_values):
    df = add_teos10(_cast_frame(check_values))
    out = mixed_layer_depth(df)
    assert len(out) == 3
    for _, r in out.iterrows():
        cast = df[df.profile_id == r.profile_id].dropna(subset=["sigma0"]).sort_values("pres")
        if r.mld_found:
            # σ0 at the MLD is the reference + 0.03 (interpolated); shallower levels below 10 dbar are lighter
            s_at = np.interp(r.mld, cast.pres, cast.sigma0)
            assert s_at == pytest.approx(r.sigma0_ref + 0.03, abs=1e-6)
            shallower = cast[(cast.pres > 10) & (cast.pres < r.mld)]
            assert (shallower.sigma0 <= r.sigma0_ref + 0.03).all()
