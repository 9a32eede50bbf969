#!/usr/bin/env python
"""Live-source parsing, analytics and export throughput (no database, no network).

    python benchmarks/analytics_exports.py            # full sizes
    python benchmarks/analytics_exports.py --smoke    # small sizes, < 60 s (CI)

Measured (median of ``--repeat`` runs):

* ``erddap_parse``   — the largest recorded ERDDAP ``.nc`` answer (float 1901393, ~25,000 rows)
  decoded and QC-selected into the long levels frame, rows/s;
* ``teos10``         — ``add_teos10`` (SA, CT, σ0) on N levels, levels/s;
* ``mld``            — ``mixed_layer_depth`` on P profiles × 100 levels, profiles/s;
* ``trend``          — ``trend`` (OLS + Theil–Sen + Mann–Kendall) on a 30-year monthly series (360 points)
  and ``monthly_series`` on M per-profile values, values/s;
* ``netcdf_export``  — an Argo multi-profile NetCDF of P profiles × 100 levels (expert frame), profiles/s.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "erddap"


def _timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _levels(n_prof: int, n_lev: int = 100, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pres = np.tile(np.linspace(2, 2000, n_lev), n_prof)
    pid = np.repeat(np.arange(n_prof), n_lev)
    temp = 28 * np.exp(-pres / 600) + 2 + rng.normal(0, 0.05, pres.size)
    psal = 34.5 + 0.5 * np.exp(-pres / 300) + rng.normal(0, 0.01, pres.size)
    t = pd.Timestamp("2015-01-01", tz="UTC") + pd.to_timedelta(pid * 10, unit="D")
    df = pd.DataFrame({"profile_id": pid, "platform_number": "9999999", "cycle_number": pid, "juld": t,
                       "latitude": 15.0, "longitude": 65.0, "axis": "core",
                       "level": np.tile(np.arange(n_lev), n_prof), "direction": "A", "position_qc": 1,
                       "data_mode": "D"})
    for name, v in (("pres", pres), ("temp", temp), ("psal", psal)):
        df[name] = v
        df[f"{name}_qc"] = 1
        df[f"{name}_mode"] = "D"
        df[f"{name}_raw"] = v
        df[f"{name}_raw_qc"] = 1
        df[f"{name}_adjusted"] = v
        df[f"{name}_adjusted_qc"] = 1
        df[f"{name}_adjusted_error"] = 0.01
    return df


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    from floatchat_core.analytics import add_teos10, mixed_layer_depth, monthly_series, trend
    from floatchat_core.exports import to_netcdf
    from floatchat_core.sources import processors as P

    n_prof = 2_000 if a.smoke else 20_000
    n_values = 100_000 if a.smoke else 2_000_000
    out: dict = {"smoke": a.smoke}
    idx = json.loads((SHARED / "index.json").read_text())
    big = max((e for e in idx if e["file"].endswith(".nc") and "/tabledap/ArgoFloats.nc?" in e["url"]),
              key=lambda e: e["bytes"])
    body = (SHARED / big["file"]).read_bytes()
    rows = len(P.read_nc(body))
    s = _timed(lambda: P.to_levels(P.read_nc(body), "ArgoFloats", "standard"), a.repeat)
    out["erddap_parse"] = {"rows": rows, "seconds": round(s, 4), "rows_per_s": round(rows / s)}

    lv = _levels(n_prof)
    s = _timed(lambda: add_teos10(lv), a.repeat)
    out["teos10"] = {"levels": len(lv), "seconds": round(s, 3), "levels_per_s": round(len(lv) / s)}
    with_sigma = add_teos10(lv)
    s = _timed(lambda: mixed_layer_depth(with_sigma), a.repeat)
    out["mld"] = {"profiles": n_prof, "seconds": round(s, 3), "profiles_per_s": round(n_prof / s)}

    rng = np.random.default_rng(1)
    vals = pd.DataFrame({"juld": pd.Timestamp("1995-01-01", tz="UTC")
                         + pd.to_timedelta(rng.uniform(0, 30 * 365.25, n_values), unit="D"),
                         "value": rng.normal(15, 1, n_values)})
    s_m = _timed(lambda: monthly_series(vals), a.repeat)
    monthly = monthly_series(vals)
    s_t = _timed(lambda: trend(monthly), a.repeat)
    out["trend"] = {"values": n_values, "monthly_series_s": round(s_m, 3),
                    "values_per_s": round(n_values / s_m), "months": len(monthly), "trend_s": round(s_t, 4)}

    exp = lv if a.smoke else _levels(n_prof // 4)
    with tempfile.TemporaryDirectory() as d:
        s = _timed(lambda: to_netcdf(exp, Path(d) / "x.nc", {"query": "benchmark"}), a.repeat)
        size = (Path(d) / "x.nc").stat().st_size
    n_exp = int(exp["profile_id"].nunique())
    out["netcdf_export"] = {"profiles": n_exp, "levels": len(exp), "seconds": round(s, 3),
                            "profiles_per_s": round(n_exp / s), "bytes": size}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
