"""Derived seawater variables with TEOS-10 (``gsw``), columnar over long level frames.

* :func:`add_teos10` — Absolute Salinity ``SA`` (g/kg), Conservative Temperature ``CT`` (°C)
  and potential density anomaly ``sigma0`` (kg/m³, referenced to 0 dbar) per level.
* :func:`mixed_layer_depth` — per profile, the pressure (dbar) where σ0 first exceeds its value
  at the 10 dbar reference by 0.03 kg/m³ (de Boyer Montégut et al., 2004, density criterion),
  linearly interpolated between the two levels that bracket the crossing.

Inputs are the DAL's ``profile_levels`` frames (``pres`` dbar, ``temp`` °C ITS-90, ``psal`` PSS-78,
``longitude``/``latitude`` degrees); values already QC-selected (NaN = rejected) stay NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MLD_REFERENCE_DBAR", "MLD_THRESHOLD", "add_teos10", "mixed_layer_depth"]

MLD_THRESHOLD = 0.03  # kg/m³
MLD_REFERENCE_DBAR = 10.0  # dbar
_MAX_REF_GAP_DBAR = 10.0  # a profile starting deeper than ref + this has no reference density


def add_teos10(
    df: pd.DataFrame,
    *,
    psal: str = "psal",
    temp: str = "temp",
    pres: str = "pres",
    lon: str = "longitude",
    lat: str = "latitude",
) -> pd.DataFrame:
    """Add ``SA`` (g/kg), ``CT`` (°C) and ``sigma0`` (kg/m³) columns (a copy; NaN in → NaN out).

    Parameters
    ----------
    df : long level frame with practical salinity, in-situ temperature (°C), pressure (dbar),
        longitude and latitude (degrees)
    """
    import gsw

    missing = [c for c in (psal, temp, pres, lon, lat) if c not in df.columns]
    if missing:
        raise KeyError(f"add_teos10 needs column(s) {missing}")
    out = df.copy()
    sp = out[psal].to_numpy(np.float64)
    t = out[temp].to_numpy(np.float64)
    p = out[pres].to_numpy(np.float64)
    sa = gsw.SA_from_SP(sp, p, out[lon].to_numpy(np.float64), out[lat].to_numpy(np.float64))
    ct = gsw.CT_from_t(sa, t, p)
    out["SA"] = sa
    out["CT"] = ct
    out["sigma0"] = gsw.sigma0(sa, ct)
    return out


def mixed_layer_depth(
    levels: pd.DataFrame, threshold: float = MLD_THRESHOLD, reference_pres: float = MLD_REFERENCE_DBAR
) -> pd.DataFrame:
    """Mixed-layer depth per profile from a density threshold (vectorised over all profiles).

    Parameters
    ----------
    levels : DAL ``profile_levels`` frame (``profile_id``, ``pres``, ``temp``, ``psal``, position);
        ``sigma0`` is computed with :func:`add_teos10` when absent
    threshold : σ0 increase that ends the mixed layer, kg/m³ (default 0.03)
    reference_pres : reference pressure, dbar (default 10)

    Returns
    -------
    DataFrame, one row per profile: ``profile_id, platform_number, cycle_number, juld, latitude,
    longitude, mld`` (dbar; NaN when the profile has no reference density or never exceeds the
    threshold), ``sigma0_ref`` (kg/m³), ``mld_found`` (bool), ``n_levels`` (valid levels used).
    """
    df = levels if "sigma0" in levels.columns else add_teos10(levels)
    ok = np.isfinite(df["sigma0"].to_numpy(np.float64)) & np.isfinite(df["pres"].to_numpy(np.float64))
    d = df.loc[ok].sort_values(["profile_id", "pres"], kind="stable")
    pid = d["profile_id"].to_numpy()
    pr = d["pres"].to_numpy(np.float64)
    sg = d["sigma0"].to_numpy(np.float64)
    meta_cols = [
        c
        for c in ("profile_id", "platform_number", "cycle_number", "juld", "latitude", "longitude")
        if c in df.columns
    ]
    all_ids = pd.unique(df["profile_id"])
    result = pd.DataFrame({"profile_id": all_ids})
    if len(d):
        starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
        ends = np.r_[starts[1:], len(pid)]
        group = np.repeat(np.arange(len(starts)), ends - starts)
        idx = np.arange(len(pid))
        big = len(pid) + 1
        # bracketing levels of the reference pressure
        above = np.maximum.reduceat(np.where(pr <= reference_pres, idx, -1), starts)
        below = np.minimum.reduceat(np.where(pr >= reference_pres, idx, big), starts)
        has_above, has_below = above >= 0, below < big
        a = np.where(has_above, above, 0)
        b = np.where(has_below, below, 0)
        frac = np.where(
            has_above & has_below & (pr[b] > pr[a]),
            (reference_pres - pr[a]) / np.where(pr[b] > pr[a], pr[b] - pr[a], 1.0),
            0.0,
        )
        ref = np.where(
            has_above & has_below,
            sg[a] + frac * (sg[b] - sg[a]),
            np.where(has_below & (pr[b] <= reference_pres + _MAX_REF_GAP_DBAR), sg[b], np.nan),
        )
        target = ref + threshold
        exceed = (pr > reference_pres) & (sg > target[group])
        first = np.minimum.reduceat(np.where(exceed, idx, big), starts)
        found = (first < big) & np.isfinite(ref)
        f = np.where(found, first, 0)
        prev = np.maximum(f - 1, 0)
        prev_ok = found & (f > starts) & (pr[prev] >= reference_pres - _MAX_REF_GAP_DBAR)
        dp, ds = pr[f] - pr[prev], sg[f] - sg[prev]
        with np.errstate(invalid="ignore", divide="ignore"):
            interp = pr[prev] + (target - sg[prev]) * np.where(ds != 0, dp / ds, 0.0)
        lo = np.maximum(pr[prev], reference_pres)
        mld = np.where(prev_ok, np.clip(interp, lo, pr[f]), np.where(found, pr[f], np.nan))
        per = pd.DataFrame(
            {
                "profile_id": pid[starts],
                "mld": mld,
                "sigma0_ref": ref,
                "mld_found": found,
                "n_levels": (ends - starts).astype(np.int64),
            }
        )
        result = result.merge(per, on="profile_id", how="left")
    else:
        result = result.assign(mld=np.nan, sigma0_ref=np.nan, mld_found=False, n_levels=0)
    result["mld_found"] = result["mld_found"].fillna(False).astype(bool)
    result["n_levels"] = result["n_levels"].fillna(0).astype(np.int64)
    meta = df[meta_cols].drop_duplicates("profile_id")
    return meta.merge(result, on="profile_id", how="right").reset_index(drop=True)
