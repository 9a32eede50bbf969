"""``synthdb.populate``: an archive-shaped synthetic population written by binary COPY."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from floatchat_core.db import dal, get_engine
from floatchat_core.db.maintenance import cache_generation, truncate_data
from floatchat_core.db.synthdb import populate
from floatchat_core.errors import IngestError


@pytest.fixture(scope="module")
def synth(database):
    from floatchat_core.db import regions

    regions.seed_if_needed()
    truncate_data()
    gen = cache_generation()
    info = populate(3000, n_floats=60, bgc_fraction=0.25, seed=3, dataset="synth-test")
    yield info, gen
    truncate_data()


def test_counts_and_metadata(synth):
    info, gen = synth
    assert info["n_profiles"] == 3000 and info["n_floats"] == 60
    with get_engine().connect() as c:
        row = c.execute(text("SELECT count(*), count(DISTINCT platform_number), min(juld), max(juld), "
                             "min(n_levels), max(n_levels), sum(n_levels + n_bgc_levels) FROM profiles")).one()
        n_pos = c.execute(text("SELECT count(*) FROM float_positions")).scalar()
        n_floats = c.execute(text("SELECT count(*) FROM floats")).scalar()
    assert row[0] == 3000 and row[1] == 60 and n_pos == 3000 and n_floats == 60
    assert row[2] >= pd.Timestamp("2000-01-01", tz="UTC") and row[3] <= pd.Timestamp("2026-01-01", tz="UTC")
    assert 70 <= row[4] and row[5] <= 1000 and row[6] == info["n_levels"]
    assert cache_generation() > gen
    ds = dal.list_datasets().set_index("name").loc["synth-test"]
    assert ds.n_profiles == 3000 and ds.n_floats == 60                 # views refreshed
    assert len(dal.latest_positions()) == 60
    with pytest.raises(IngestError, match="already"):
        populate(100, n_floats=2, seed=3, dataset="synth-test")


def test_positions_are_oceanic_and_drift_plausibly(synth):
    with get_engine().connect() as c:
        in_basins = c.execute(text("""
            SELECT avg((EXISTS (SELECT 1 FROM ocean_regions r WHERE r.argo_code IS NOT NULL
                                 AND ST_Intersects(r.geog::geometry, p.position::geometry)))::int)
            FROM (SELECT position FROM profiles ORDER BY id LIMIT 600) p""")).scalar()
    assert in_basins > 0.95                            # 1° cells decide, so a few coastal points may fall on land
    pos = dal.profile_positions().sort_values(["platform_number", "cycle_number"])
    lon, lat = np.radians(pos.longitude.to_numpy()), np.radians(pos.latitude.to_numpy())
    same = pos.platform_number.to_numpy()[1:] == pos.platform_number.to_numpy()[:-1]
    step = 6371.0 * np.arccos(np.clip(np.sin(lat[1:]) * np.sin(lat[:-1]) + np.cos(lat[1:]) * np.cos(lat[:-1])
                                      * np.cos(lon[1:] - lon[:-1]), -1, 1))[same]
    assert np.median(step) < 40 and np.percentile(step, 99) < 150     # km per cycle
    # not uniform: latitudes thin out towards the poles
    assert (np.abs(pos.latitude) < 45).mean() > 0.6


def test_levels_qc_and_modes_are_argo_like(synth):
    prof = dal.find_profiles(limit=None)
    assert set(prof.data_mode) <= {"R", "A", "D"} and (prof.data_mode == "D").mean() > 0.5
    bgc = dal.find_profiles(parameters=["DOXY"], limit=None)
    assert 0.1 < len(bgc) / len(prof) < 0.45
    lv = dal.profile_levels(prof.profile_id[:20].tolist(), parameters=["TEMP", "PSAL"], mode="expert")
    assert lv.pres.groupby(lv.profile_id).apply(lambda s: s.is_monotonic_increasing).all()
    assert lv.temp.between(-2.5, 35).all() and lv.psal.between(30, 38).all()
    assert set(lv.temp_raw_qc.unique()) <= {1, 2, 3, 4} and (lv.temp_raw_qc == 1).mean() > 0.9
    d = lv[lv.temp_mode == "D"]
    assert d.temp_adjusted_error.dropna().eq(np.float32(0.002)).all()
    sl = dal.depth_slice("TEMP", 500, limit=200)
    assert len(sl) > 100 and sl.value.between(0, 20).all()
