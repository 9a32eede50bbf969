"""Random synthetic float specs for the search benchmark and the labelled set's background.

Pure numpy/pandas (vectorised); written to the database by
``floatchat_core.db.searchsynth.insert_synthetic_floats``. Values are placeholders, not data.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DACS = (("aoml", "AO"), ("coriolis", "IF"), ("jma", "JA"), ("kma", "KM"), ("meds", "ME"), ("csio", "HZ"),
        ("csiro", "CS"), ("incois", "IN"), ("bodc", "BO"), ("kordi", "KO"))
PLATFORMS = (("APEX", "TWR"), ("ARVOR", "NKE"), ("SOLO_II", "MRV"), ("NAVIS_A", "SBE"), ("PROVOR_III", "NKE"),
             ("HM2000", "HSOE"))
BGC_SETS = (("DOXY",), ("DOXY", "CHLA", "BBP700"), ("DOXY", "NITRATE", "PH_IN_SITU_TOTAL"),
            ("DOXY", "CHLA", "BBP700", "DOWNWELLING_PAR", "NITRATE", "PH_IN_SITU_TOTAL"))


def random_floats(n: int, seed: int = 0, *, base: int = 9_500_000, dacs=DACS, boxes=None,
                  bgc_fraction: float = 0.2, deep_fraction: float = 0.05, years=(2000, 2024),
                  profiles=(5, 15), label: str = "Synthetic") -> pd.DataFrame:
    """``n`` float specs (see ``searchsynth.SPEC_COLUMNS``) with random DAC, platform, project,
    PI, type, parameters, a straight ~2–6° track and a 1–5 year life.

    ``boxes``: optional ``[(west, south, east, north), …]`` the tracks start in (default: the
    whole ocean band 70°S–70°N, wrapped at ±180°).
    """
    rng = np.random.default_rng(seed)
    dac_i = rng.integers(0, len(dacs), n)
    plat_i = rng.integers(0, len(PLATFORMS), n)
    is_bgc = rng.random(n) < bgc_fraction
    is_deep = rng.random(n) < deep_fraction
    if boxes:
        b = np.asarray(boxes, dtype=float)[rng.integers(0, len(boxes), n)]
        lon0 = rng.uniform(b[:, 0], b[:, 2])
        lat0 = rng.uniform(b[:, 1], b[:, 3])
    else:
        lon0 = rng.uniform(-180, 180, n)
        lat0 = rng.uniform(-70, 70, n)
    lon1 = lon0 + rng.normal(0, 2.0, n)
    lat1 = np.clip(lat0 + rng.normal(0, 1.5, n), -78, 85)
    start = rng.integers(years[0], years[1] + 1, n)
    t0 = pd.to_datetime(start.astype(str) + "-01-01", utc=True) + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    t1 = t0 + pd.to_timedelta(rng.integers(365, 5 * 365, n), unit="D")
    bgc_set = rng.integers(0, len(BGC_SETS), n)
    params = [["PRES", "TEMP", "PSAL"] + (list(BGC_SETS[k]) if bgc else []) for k, bgc in zip(bgc_set, is_bgc)]
    project_i = rng.integers(0, 40, n)
    pi_i = rng.integers(0, 200, n)
    return pd.DataFrame({
        "platform_number": [str(base + i) for i in range(n)],
        "dac": [dacs[i][0] for i in dac_i], "data_centre": [dacs[i][1] for i in dac_i],
        "project_name": [f"{label} project {k}" for k in project_i],
        "pi_name": [f"{label} PI {k}" for k in pi_i],
        "platform_type": [PLATFORMS[i][0] + ("_D" if d else "") for i, d in zip(plat_i, is_deep)],
        "platform_maker": [PLATFORMS[i][1] for i in plat_i],
        "is_bgc": is_bgc, "is_deep": is_deep, "parameters": params,
        "lon0": lon0, "lat0": lat0, "lon1": lon1, "lat1": lat1, "t0": t0, "t1": t1,
        "n_profiles": rng.integers(profiles[0], profiles[1] + 1, n),
        "data_mode": np.where(rng.random(n) < 0.6, "D", "R"),
    })
