"""Data Access Layer on a real database: the shared INCOIS float 2902269 (real files, real
regions) plus hand-made profiles whose QC flags and data modes are known level by level."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import event, text

from floatchat_core.config import override
from floatchat_core.db import dal, get_engine
from floatchat_core.db.cache import clear_caches
from floatchat_core.db.maintenance import refresh_views, truncate_data
from floatchat_core.errors import AmbiguousRegionError, NotFoundError, QueryError, RegionNotFoundError

R_EARTH = 6_371_008.7714      # PostGIS' mean radius: the sphere the DAL measures on

N = None  # a NULL array element

#: Hand-made profiles. H1: TEMP delayed mode, PSAL real time. H2: TEMP adjusted mode, a bad
#: pressure at level 2, DOXY on a BGC axis. H3/H4: either side of the antimeridian.
HAND = [
    dict(platform_number="9900001", cycle_number=1, juld="2021-01-01T00:00:00Z", lon=-30.0, lat=-30.0,
         data_mode="D",
         pres=[5, 10, 20, 30, 40], pres_qc=[1, 1, 1, 1, 1], pres_adjusted=[5, 10, 20, 30, 40],
         pres_adjusted_qc=[1, 1, 1, 1, 1], pres_data_mode="D",
         temp=[20.0, 19.0, 18.0, 17.0, 16.0], temp_qc=[1, 2, 1, 4, 1],
         temp_adjusted=[20.1, 19.1, N, 17.1, N], temp_adjusted_qc=[1, 2, 4, 1, N], temp_data_mode="D",
         psal=[35.0, 35.1, 35.2, 35.3, 35.4], psal_qc=[1, 2, 3, 1, 9], psal_data_mode="R"),
    dict(platform_number="9900002", cycle_number=1, juld="2021-02-01T00:00:00Z", lon=-31.0, lat=-30.0,
         data_mode="A",
         pres=[5, 10, 20, 30, 40], pres_qc=[1, 1, 1, 1, 1], pres_adjusted=[5, 10, 20, 30, 40],
         pres_adjusted_qc=[1, 1, 4, 1, 1], pres_data_mode="A",
         temp=[10.0, 9.0, 8.0, 7.0, 6.0], temp_qc=[1, 1, 1, 1, 1],
         temp_adjusted=[10.5, 9.5, 8.5, 7.5, 6.5], temp_adjusted_qc=[1, 1, 1, 3, 1], temp_data_mode="A",
         bgc_pres=[10, 50], bgc_pres_qc=[1, 1], bgc_pres_data_mode="R",
         doxy=[200.0, 180.0], doxy_qc=[1, 1], doxy_data_mode="R"),
    dict(platform_number="9900003", cycle_number=1, juld="2021-03-01T00:00:00Z", lon=179.5, lat=0.5,
         data_mode="R", pres=[5, 10], pres_qc=[1, 1], temp=[28.0, 27.0], temp_qc=[1, 1], temp_data_mode="R"),
    dict(platform_number="9900004", cycle_number=1, juld="2021-03-02T00:00:00Z", lon=-179.5, lat=0.2,
         data_mode="R", pres=[5, 10], pres_qc=[1, 1], temp=[28.5, 27.5], temp_qc=[1, 1], temp_data_mode="R"),
]
_ARRAY_TYPES = {"_qc": "smallint[]", "_adjusted_qc": "smallint[]"}


def _insert_hand_made(conn) -> dict[str, int]:
    ids = {}
    for h in HAND:
        cols = {"platform_number": h["platform_number"], "cycle_number": h["cycle_number"], "direction": "A",
                "juld": h["juld"], "latitude": h["lat"], "longitude": h["lon"], "position_qc": 1,
                "data_mode": h["data_mode"], "core_rank": 1}
        casts = {}
        for k, v in h.items():
            if isinstance(v, list):
                cols[k] = v
                casts[k] = "smallint[]" if k.endswith("_qc") else "real[]"
            elif k.endswith("_data_mode"):
                cols[k] = v
        vals = ", ".join(f"CAST(:{k} AS {casts[k]})" if k in casts else f":{k}" for k in cols)
        ids[h["platform_number"]] = conn.execute(text(
            f"INSERT INTO profiles ({', '.join(cols)}) VALUES ({vals}) RETURNING id"), cols).scalar()
        conn.execute(text("""
            INSERT INTO float_positions (platform_number, cycle_number, direction, profile_id, juld, latitude,
                                         longitude, position, position_qc)
            SELECT platform_number, cycle_number, direction, id, juld, latitude, longitude, position, position_qc
            FROM profiles WHERE id = :id"""), {"id": ids[h["platform_number"]]})
    return ids


@pytest.fixture(scope="module")
def db(database, gdac_dir):
    from floatchat_core.db import regions
    from floatchat_core.ingest import ingest

    regions.seed_if_needed()
    truncate_data()
    job = ingest([gdac_dir / "dac" / "incois" / "2902269"], dataset="incois", executor="serial")
    assert job["status"] == "succeeded", job
    with get_engine().begin() as c:
        ids = _insert_hand_made(c)
        c.execute(text("UPDATE app_state SET value = value + 1 WHERE key = 'cache_generation'"))
    refresh_views()
    clear_caches()
    yield {"hand": ids}
    truncate_data()


def _haversine(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(x, dtype=float)) for x in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * R_EARTH * np.arcsin(np.sqrt(a))


# ----------------------------------------------------------------------------- regions, radius, box
def test_region_names_find_the_incois_float(db):
    arabian = dal.find_profiles(region="Arabian Sea")
    assert len(arabian) == 57 and set(arabian.platform_number) == {"2902269"}
    assert arabian.latitude.between(14.8, 17).all() and arabian.longitude.between(61, 65).all()
    assert arabian.attrs["region"]["match"] == "exact"
    typo = dal.find_profiles(region="arabain sea")
    assert typo.attrs["region"] == {**typo.attrs["region"], "name": "Arabian Sea", "match": "fuzzy"}
    assert sorted(typo.profile_id) == sorted(arabian.profile_id)
    assert dal.find_profiles(region="Bay of Bengal").empty
    assert dal.count_profiles(region="Indian Ocean")["n_profiles"] == 57
    assert dal.count_profiles(region="Med")["n_profiles"] == 0
    with pytest.raises(AmbiguousRegionError) as e:
        dal.find_profiles(region="Sea of")
    assert len(e.value.candidates) >= 2
    with pytest.raises(RegionNotFoundError):
        dal.find_profiles(region="xyzzy")


def test_radius_agrees_with_haversine(db):
    everything = dal.find_profiles(platform_numbers=["2902269"])
    lon0, lat0, radius = 63.0, 16.0, 120_000.0
    d = _haversine(lon0, lat0, everything.longitude, everything.latitude)
    assert np.min(np.abs(d - radius)) > 10.0          # no row sits on the boundary
    expected = set(everything.profile_id[d <= radius])
    assert 0 < len(expected) < len(everything)
    got = dal.find_profiles(point=(lon0, lat0), radius_m=radius, order="distance")
    assert set(got.profile_id) == expected
    ref = _haversine(lon0, lat0, got.longitude, got.latitude)
    np.testing.assert_allclose(got.distance_m, ref, rtol=1e-6)
    assert got.distance_m.is_monotonic_increasing


def test_box_time_pressure_and_parameters_combine(db):
    box = dal.find_profiles(box=(61, 14, 65, 17))
    assert len(box) == 57
    first_year = dal.find_profiles(box=(61, 14, 65, 17), time_start="2019-01-01", time_end="2019-12-31 23:59")
    assert 0 < len(first_year) < 57 and (first_year.juld.dt.year == 2019).all()
    assert first_year.juld.is_monotonic_decreasing
    assert str(first_year.juld.dtype) == "datetime64[ns, UTC]"
    asc = dal.find_profiles(box=(61, 14, 65, 17), order="time_asc", limit=3)
    assert len(asc) == 3 and asc.juld.is_monotonic_increasing and asc.attrs["limit"] == 3
    # antimeridian box: west > east
    across = dal.find_profiles(box=(170, -5, -170, 5))
    assert set(across.platform_number) == {"9900003", "9900004"}
    assert set(dal.find_profiles(box=(170, -5, 180, 5)).platform_number) == {"9900003"}
    # pressure overlap: the hand-made profiles reach 40 dbar (H2's BGC axis 50), 2902269 ~2000
    shallow = dal.find_profiles(pres_min=45, pres_max=60, box=(-40, -40, -20, -20))
    assert list(shallow.platform_number) == ["9900002"]
    assert list(dal.find_profiles(parameters=["DOXY"]).platform_number) == ["9900002"]
    assert list(dal.profiles_with_parameter("doxy").platform_number) == ["9900002"]
    assert dal.find_profiles(parameters=["DOXY"], box=(61, 14, 65, 17)).empty
    assert len(dal.find_profiles(data_mode="D", platform_numbers=["2902269"])) == len(
        dal.find_profiles(platform_numbers="2902269").query("data_mode == 'D'"))
    c = dal.count_profiles(box=(61, 14, 65, 17))
    assert c["n_profiles"] == 57 and c["n_floats"] == 1
    assert c["time_start"] == box.juld.min() and c["time_end"] == box.juld.max()
    with pytest.raises(QueryError):
        dal.find_profiles(parameters=["SALINITYX"])
    with pytest.raises(QueryError):
        dal.find_profiles(radius_m=10)
    with pytest.raises(QueryError):
        dal.find_profiles(colour="red")


def _gather_and_walk(limit: int, **filters) -> tuple[list[int], list[int], str]:
    """The same newest-first list by both strategies of ``find_profiles``: gathering the place
    (indexable place tests) and walking the time index (``walk_sql``); and the walk's plan."""
    from floatchat_core.config import get_settings
    from floatchat_core.db import dalcore as core

    f = core.make_filters(filters)
    conds, params = core.where_clause(f, get_settings())
    params["limit"] = limit
    gather = (f"SELECT p.id FROM profiles p WHERE {' AND '.join(conds)} "
              "ORDER BY p.juld DESC NULLS LAST, p.id LIMIT :limit")
    walk = core.walk_sql("p.id", core.where_clause(f, get_settings(), walk=True)[0])
    assert "&&" not in walk and "&&" in gather           # no index serves the walk's place test
    with get_engine(readonly=True).begin() as c:
        a = c.execute(text(gather), params).scalars().all()
        # a table this small would be read whole: make the planner show the walk it takes at scale
        c.execute(text("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off; "
                       + "; ".join(f"SET LOCAL {k} = {v}" for k, v in core.WALK_SETTINGS.items())))
        b = c.execute(text(walk), params).scalars().all()
        plan = "\n".join(c.execute(text("EXPLAIN " + walk), params).scalars())
    return a, b, plan


@pytest.mark.parametrize("filters", [
    dict(region="Arabian Sea"), dict(region="Indian Ocean", time_start="2019-06-01"),
    dict(region="Equatorial Pacific"), dict(box=(170, -5, -170, 5)), dict(box=(61, 14, 65, 17)),
    dict(box=(179.5, 0.5, 180, 1)),                     # H3 sits on the box's corner: edges count
    dict(box=(-40, -40, -20, -20), data_mode="A"),
])
def test_time_walk_and_gather_agree(db, filters):
    for limit in (3, 1000):
        gathered, walked, plan = _gather_and_walk(limit, **filters)
        assert gathered and walked == gathered, (filters, limit)
        assert "Index Only Scan using profiles_juld_desc_cover_idx" in plan, plan
    got = dal.find_profiles(**filters, limit=3)
    assert list(got.profile_id) == _gather_and_walk(3, **filters)[0]
    assert dal.last_query()["settings"]["max_parallel_workers_per_gather"] == "0"   # either way


def test_region_fill_is_the_share_of_the_box():
    from floatchat_core.db.dalcore import region_fill

    # a 10° x 10° box on the equator is 1.2352e6 km² on the sphere
    box = [0.0, -5.0, 10.0, 5.0]
    assert region_fill({"bbox": box, "area_km2": 1.2352e6 / 2}) == pytest.approx(0.5, rel=1e-3)
    assert region_fill({"bbox": [175.0, -5.0, -175.0, 5.0], "area_km2": 1.2352e6}) == pytest.approx(1.0, rel=1e-3)
    assert region_fill({"bbox": box}) == 1.0 and region_fill({}) == 1.0


# ----------------------------------------------------------------------------- QC modes
def _levels(db, pn, mode, **kw):
    lv = dal.profile_levels([db["hand"][pn]], mode=mode, **kw)
    return lv[lv.axis == "core"].reset_index(drop=True)


def test_qc_modes_select_exactly_their_definition(db):
    nan = np.nan
    r = _levels(db, "9900001", "research")
    np.testing.assert_allclose(r.temp, [20.1, nan, nan, 17.1, nan], rtol=1e-6)
    assert r.psal.isna().all()                                    # real-time PSAL: never research
    s = _levels(db, "9900001", "standard")
    # adjusted where available; the flagged fill at level 2 does not fall back to raw;
    # level 4 has no adjusted value nor flag -> raw 16.0 (QC 1)
    np.testing.assert_allclose(s.temp, [20.1, 19.1, nan, 17.1, 16.0], rtol=1e-6)
    assert list(s.temp_mode) == ["D", "D", "D", "D", "R"] and list(s.temp_qc) == [1, 2, 4, 1, 1]
    np.testing.assert_allclose(s.psal, [35.0, 35.1, nan, 35.3, nan], rtol=1e-6)
    e = _levels(db, "9900001", "expert")
    np.testing.assert_allclose(e.temp, [20.1, 19.1, nan, 17.1, 16.0], rtol=1e-6)
    np.testing.assert_allclose(e.psal, [35.0, 35.1, 35.2, 35.3, 35.4], rtol=1e-6)
    np.testing.assert_allclose(e.temp_raw, [20, 19, 18, 17, 16])
    assert list(e.temp_raw_qc) == [1, 2, 1, 4, 1] and list(e.temp_adjusted_qc) == [1, 2, 4, 1, -1]
    assert {"temp_adjusted_error", "psal_adjusted", "pres_raw"} <= set(e.columns)
    assert not {"temp_raw", "temp_adjusted"} & set(s.columns)
    # H2: adjusted (A) mode -> nothing in research; the bad pressure at level 2 masks TEMP there
    assert _levels(db, "9900002", "research").temp.isna().all()
    s2 = _levels(db, "9900002", "standard")
    np.testing.assert_allclose(s2.temp, [10.5, 9.5, nan, nan, 6.5], rtol=1e-6)
    np.testing.assert_allclose(s2.pres, [5, 10, nan, 30, 40])
    np.testing.assert_allclose(_levels(db, "9900002", "expert").temp, [10.5, 9.5, 8.5, 7.5, 6.5], rtol=1e-6)
    with pytest.raises(QueryError):
        dal.profile_levels([db["hand"]["9900001"]], mode="paranoid")


def test_profile_levels_axes_filters_and_one_query(db, monkeypatch):
    h2 = db["hand"]["9900002"]
    lv = dal.profile_levels([h2])
    assert list(lv.axis) == ["core"] * 5 + ["bgc"] * 2
    bgc = lv[lv.axis == "bgc"]
    np.testing.assert_allclose(bgc.pres, [10, 50])
    np.testing.assert_allclose(bgc.doxy, [200, 180])
    assert lv[lv.axis == "core"].doxy.isna().all() and bgc.temp.isna().all()
    assert list(dal.profile_levels([h2], parameters=["DOXY"]).axis) == ["bgc", "bgc"]
    # a profile without a BGC axis beside one with it: its missing arrays are no levels, not an error
    mixed = dal.profile_levels([db["hand"]["9900001"], h2])
    assert list(mixed.axis) == ["core"] * 10 + ["bgc"] * 2
    np.testing.assert_allclose(mixed.doxy.dropna(), [200, 180])
    cut = dal.profile_levels([h2], pres_min=8, pres_max=35)
    assert cut.pres.between(8, 35).all() and len(cut) == 3      # 10, 30 (core; 20 is bad) + 10 (bgc)
    # many profiles: one statement for the arrays (a binary COPY) per share read at once
    # (dallevels.SPLIT, WAYS), whatever their number
    from floatchat_core.db import dalcore, dallevels

    ids = dal.find_profiles(platform_numbers=["2902269"]).profile_id.tolist()
    statements, copies = [], []
    eng = get_engine(readonly=True)
    listener = lambda *a: statements.append(a[2])              # noqa: E731
    real_copy = dalcore.copy_binary
    monkeypatch.setattr(dalcore, "copy_binary", lambda *a, **k: copies.append(a[1]) or real_copy(*a, **k))
    event.listen(eng, "before_cursor_execute", listener)
    try:
        with override(cache_ttl_s=0):
            many = dal.profile_levels(ids, parameters=["TEMP"], pres_max=100)
    finally:
        event.remove(eng, "before_cursor_execute", listener)
    assert statements == [] and len(copies) == 1
    # in shares over two connections at once (smaller shares here): the same frame
    copies.clear()
    monkeypatch.setattr(dallevels, "SPLIT", 20)
    with override(cache_ttl_s=0):
        shared = dal.profile_levels(ids, parameters=["TEMP"], pres_max=100)
    assert len(copies) == 2
    pd.testing.assert_frame_equal(shared, many)
    monkeypatch.undo()
    assert list(pd.unique(many.profile_id)) == ids               # in the order asked for
    assert many.pres.max() <= 100 and many.temp.notna().sum() > 100
    q = dal.last_query()
    assert q["function"] == "profile_levels" and "vector_send" in q["sql"] and q["rows"] == len(many)
    # every parameter by default: those the profiles hold
    every = dal.profile_levels(ids[:3])
    assert [c for c in every.columns if c.endswith("_mode")] == ["pres_mode", "temp_mode", "psal_mode"]
    assert every.temp.notna().sum() > 100 and set(every.axis) == {"core"}


def test_depth_slice_interpolates_qc_passing_levels(db):
    h1 = db["hand"]["9900001"]
    box = (-40, -40, -20, -20)
    std = dal.depth_slice("TEMP", 25, box=box).set_index("profile_id")
    # standard, H1: levels (10, 19.1) and (30, 17.1) bracket 25 dbar
    assert std.loc[h1, "value"] == pytest.approx(19.1 + (17.1 - 19.1) * 15 / 20, rel=1e-6)
    res = dal.depth_slice("TEMP", 25, mode="research", box=box).set_index("profile_id")
    assert res.loc[h1, "value"] == pytest.approx(20.1 + (17.1 - 20.1) * 20 / 25, rel=1e-6)
    assert db["hand"]["9900002"] not in res.index                # adjusted mode: no research values
    # H2 standard: level 2 (bad pressure) and level 3 (QC 3) drop out: 9.5 @ 10 and 6.5 @ 40
    assert std.loc[db["hand"]["9900002"], "value"] == pytest.approx(9.5 + (6.5 - 9.5) * 15 / 30, rel=1e-6)
    exact = dal.depth_slice("TEMP", 10, box=box).set_index("profile_id")
    assert exact.loc[h1, "value"] == pytest.approx(19.1, rel=1e-6) and (exact.pres_target == 10).all()
    assert dal.depth_slice("TEMP", 45, box=box).empty             # no extrapolation below 40 dbar
    # real float: agrees with an interpolation of profile_levels in numpy
    real = dal.depth_slice("TEMP", 500, platform_numbers=["2902269"])
    assert len(real) > 40
    lv = dal.profile_levels(real.profile_id.tolist(), parameters=["TEMP"])
    for pid, g in list(lv.groupby("profile_id"))[:10]:
        g = g.dropna(subset=["pres", "temp"]).sort_values("pres")
        assert real.set_index("profile_id").loc[pid, "value"] == pytest.approx(
            np.interp(500, g.pres, g.temp), rel=1e-5)
    vals = dal.region_profile_values("TEMP", 0, 15, box=box).set_index("profile_id")
    assert vals.loc[h1, "value"] == pytest.approx((20.1 + 19.1) / 2, rel=1e-6) and vals.loc[h1, "n_levels"] == 2
    arab = dal.region_profile_values("TEMP", 0, 50, region="Arabian Sea")
    assert len(arab) == 57 and arab.value.between(20, 35).all() and arab.juld.is_monotonic_increasing


# ----------------------------------------------------------------------------- floats, views, datasets
def test_floats_views_and_datasets(db):
    traj = dal.float_trajectory("2902269")
    assert len(traj) == 57 and traj.juld.is_monotonic_increasing
    latest = dal.latest_positions().set_index("platform_number")
    assert latest.loc["2902269", "juld"] == traj.juld.max()
    near = dal.nearest_floats(63.0, 16.0, k=2)
    assert near.platform_number.iloc[0] == "2902269" and len(near) == 2
    row = latest.loc["2902269"]
    assert near.distance_m.iloc[0] == pytest.approx(
        float(_haversine(63.0, 16.0, row.longitude, row.latitude)), rel=1e-6)
    assert dal.nearest_floats(63.0, 16.0, k=5, max_distance_m=500_000).platform_number.tolist() == ["2902269"]
    info = dal.float_info("2902269")
    assert info["n_profiles"] == 57 and info["dac"] == "incois" and info["parameters"] == ["PRES", "PSAL", "TEMP"]
    assert info["first_juld"] == traj.juld.min()
    with pytest.raises(NotFoundError):
        dal.float_info("1234567")
    assert "2902269" in set(dal.floats_by_type("core").platform_number)
    stats = dal.dataset_stats()
    ds = dal.list_datasets()
    incois = ds.set_index("name").loc["incois"]
    assert incois.n_profiles == 57
    assert dal.get_dataset(int(incois.id))["name"] == "incois"
    with pytest.raises(NotFoundError):
        dal.get_dataset(999_999)
    assert int(stats.set_index("name").loc["incois", "n_profiles"]) == 57
    assert dal.last_data_time() == pd.Timestamp("2021-03-02T00:00:00Z")
    pos = dal.profile_positions()
    assert len(pos) == 57 + len(HAND) and str(pos.juld.dtype) == "datetime64[ns, UTC]"
    arab = dal.profile_positions(region="Arabian Sea")
    assert len(arab) == 57 and set(arab.platform_number) == {"2902269"}


def test_materialized_views_are_read_not_recomputed(db):
    before = dal.dataset_stats()
    with get_engine().begin() as c:
        c.execute(text("UPDATE profiles SET dataset_id = NULL WHERE platform_number = '2902269' AND cycle_number = 1"))
        c.execute(text("UPDATE app_state SET value = value + 1 WHERE key = 'cache_generation'"))
    try:
        assert dal.dataset_stats().n_profiles.tolist() == before.n_profiles.tolist()   # view not refreshed yet
        refresh_views()
        assert dal.dataset_stats().n_profiles.sum() == before.n_profiles.sum() - 1
    finally:
        with get_engine().begin() as c:
            c.execute(text("UPDATE profiles SET dataset_id = (SELECT id FROM datasets WHERE name = 'incois') "
                           "WHERE platform_number = '2902269' AND cycle_number = 1"))
            c.execute(text("UPDATE app_state SET value = value + 1 WHERE key = 'cache_generation'"))
        refresh_views()


# ----------------------------------------------------------------------------- engine
def test_readonly_engine_cannot_write_and_has_a_timeout(db):
    from sqlalchemy.exc import DBAPIError

    eng = get_engine(readonly=True)
    with pytest.raises(DBAPIError) as e:
        with eng.begin() as c:
            c.execute(text("UPDATE app_state SET value = value + 1 WHERE key = 'cache_generation'"))
    assert "read-only" in str(e.value) or "permission denied" in str(e.value)
    with pytest.raises(DBAPIError):
        with eng.begin() as c:
            c.execute(text("CREATE TABLE sneaky (x int)"))
    with override(statement_timeout_ms=150):
        with get_engine(readonly=True).connect() as c:
            assert c.execute(text("SHOW statement_timeout")).scalar() == "150ms"
            with pytest.raises(DBAPIError, match="statement timeout"):
                c.execute(text("SELECT pg_sleep(2)"))
    assert math.isfinite(dal.last_query()["elapsed_ms"])


def test_float_types_are_not_exclusive(clean_db, gdac_dir):
    """3902131 is a Deep Arvor (ARVOR_D, 4,000 dbar) with an oxygen optode: deep AND BGC."""
    from floatchat_core.db import dal
    from floatchat_core.ingest import ingest

    folder = gdac_dir / "dac" / "coriolis" / "3902131"
    job = ingest([folder / "3902131_meta.nc", folder / "3902131_Sprof.nc"], dataset="types", executor="serial")
    assert job["status"] == "succeeded"
    assert set(dal.floats_by_type("bgc")["platform_number"]) == {"3902131"}
    assert set(dal.floats_by_type("deep")["platform_number"]) == {"3902131"}
    assert dal.floats_by_type("core").empty
    bgc = dal.find_profiles(float_type="bgc", limit=None)
    assert len(bgc) > 0 and set(bgc["platform_number"]) == {"3902131"}
    assert dal.find_profiles(float_type="core", limit=None).empty
