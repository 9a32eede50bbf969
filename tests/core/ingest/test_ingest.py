"""Ingestion end to end: real GDAC files → staging → reader → COPY writer → PostGIS,
on a real Dask LocalCluster and serially, checked against independent reads."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from sqlalchemy import text

from floatchat_core.ingest import get_job, ingest

EXPECTED = {"13857": 140, "6901929": 467, "1900857": 387, "3902131": 320, "5900865": 80, "2902269": 57}


def _checksum(engine) -> str:
    """md5 over every stored profile value, in key order (ids and creation times excluded)."""
    with engine.connect() as c:
        cols = [r[0] for r in c.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'profiles' "
            "AND column_name NOT IN ('id', 'dataset_id', 'created_at') ORDER BY ordinal_position"))]
        sel = ", ".join(cols)
        return c.execute(text(
            f"SELECT md5(string_agg(t::text, '|' ORDER BY platform_number, cycle_number, direction, scheme_index)) "
            f"FROM (SELECT {sel} FROM profiles) t")).scalar()


def _counts(engine) -> dict[str, int]:
    with engine.connect() as c:
        return dict(c.execute(text("SELECT platform_number, count(*) FROM profiles GROUP BY 1")).all())


def _nc_files(gdac: Path) -> list[Path]:
    return sorted((gdac / "dac").rglob("*.nc"))


@pytest.fixture(scope="module")
def gdac_ingested(database, gdac_dir):
    """The whole shared corpus ingested once on a 2-worker LocalCluster."""
    from floatchat_core.db import get_engine
    from floatchat_core.db.maintenance import truncate_data

    truncate_data()
    job = ingest([gdac_dir / "dac"], name="gdac", dataset="gdac", workers=2, executor="dask")
    yield job, _checksum(get_engine())
    truncate_data()


def test_whole_corpus_on_dask(gdac_ingested, gdac_dir, engine):
    job, _ = gdac_ingested
    n_files = len(_nc_files(gdac_dir))
    assert job["status"] == "succeeded", job["errors"]
    assert job["files_ok"] == n_files and job["files_failed"] == 0
    assert job["progress"] == 100.0
    assert _counts(engine) == EXPECTED
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM profiles")).scalar() == 1451
        # secondary sampling schemes and descending profiles kept apart
        assert c.execute(text("SELECT count(*) FROM profiles WHERE scheme_index > 0")).scalar() == 232 + 193 + 158
        assert c.execute(text("SELECT count(*) FROM profiles WHERE direction = 'D'")).scalar() == 3
        # every float got its meta file
        assert c.execute(text("SELECT count(*) FROM floats WHERE meta_source IS NOT NULL")).scalar() == 6
        row = c.execute(text("SELECT float_type, platform_type, dac FROM floats WHERE platform_number='3902131'")).one()
        assert row == ("deep", "ARVOR_D", "coriolis")
        assert c.execute(text("SELECT float_type FROM floats WHERE platform_number='13857'")).scalar() == "core"


def test_counts_agree_with_the_gdac_index(gdac_ingested, gdac_dir, engine):
    from floatchat_core.argo import read_index

    idx = read_index(gdac_dir / "ar_index_global_prof.txt")
    idx = idx[idx["kind"] == "core"]
    with engine.connect() as c:
        stored = c.execute(text("SELECT platform_number, cycle_number, direction, latitude, "
                                "extract(epoch from juld) FROM profiles WHERE scheme_index = 0")).all()
    by_key = {(r[0], r[1], r[2]): r for r in stored}
    missing = [(r.platform_number, r.cycle_number, r.direction) for r in idx.itertuples()
               if (r.platform_number, int(r.cycle_number), r.direction) not in by_key]
    assert not missing
    for r in idx.dropna(subset=["date", "latitude"]).itertuples():
        s = by_key[(r.platform_number, int(r.cycle_number), r.direction)]
        assert abs(float(s[4]) - r.date.timestamp()) < 1.0, r.file
        assert s[3] == pytest.approx(r.latitude, abs=6e-4), r.file


def test_values_spot_checked_against_the_files(gdac_ingested, gdac_dir, engine):
    """Values, QC, adjusted twins and data modes in the database equal an independent read."""
    import xarray as xr

    cases = [  # (file that must win the core group, wmo, cycle, n_prof index)
        ("bodc/6901929/profiles/D6901929_010.nc", "6901929", 10, 0),
        ("bodc/6901929/profiles/D6901929_010.nc", "6901929", 10, 1),
        ("aoml/13857/profiles/R13857_050.nc", "13857", 50, 0),
    ]
    for rel, wmo, cyc, i in cases:
        path = gdac_dir / "dac" / rel
        if not path.exists():
            pytest.skip(f"{rel} not in the shared corpus")
        with xr.open_dataset(path, decode_times=False) as ds, engine.connect() as c:
            row = c.execute(text(
                "SELECT temp, temp_qc, temp_adjusted, temp_data_mode, core_source, pres FROM profiles "
                "WHERE platform_number=:w AND cycle_number=:c AND direction='A' AND scheme_index=:i"),
                {"w": wmo, "c": cyc, "i": i}).one()
            assert row.core_source == path.name
            t = ds["TEMP"].values[i]
            n = len(row.temp)
            np.testing.assert_array_equal(np.array(row.temp, dtype=np.float32)[np.isfinite(t[:n])],
                                          t[:n][np.isfinite(t[:n])].astype(np.float32))
            qc = [int(x) if x.strip() else None for x in ds["TEMP_QC"].values[i][:n].astype(str)]
            assert list(row.temp_qc) == qc
            assert row.temp_data_mode == ds["DATA_MODE"].values[i].decode()
    # BGC: the SD file wins the bgc group of its cycle; DOXY equals the file's, data mode per parameter
    sd = gdac_dir / "dac/coriolis/3902131/profiles/SD3902131_005.nc"
    with netCDF4.Dataset(sd) as ds, engine.connect() as c:
        ds.set_auto_maskandscale(False)
        doxy, fill = ds["DOXY"][0], ds["DOXY"]._FillValue
        pdm = ds["PARAMETER_DATA_MODE"][0].tobytes().decode()
        row = c.execute(text("SELECT doxy, doxy_data_mode, bgc_source, bgc_pres FROM profiles WHERE "
                             "platform_number='3902131' AND cycle_number=5 AND direction='A' AND scheme_index=0")).one()
    assert row.bgc_source == sd.name
    stored = np.array([np.nan if v is None else v for v in row.doxy], np.float32)
    expect = np.where(doxy == fill, np.nan, doxy)[:len(stored)].astype(np.float32)
    np.testing.assert_array_equal(stored, expect)
    assert row.doxy_data_mode == pdm[3]


def test_float_without_psal(gdac_ingested, engine):
    with engine.connect() as c:
        r = c.execute(text("SELECT count(*), count(*) FILTER (WHERE 'PSAL' = ANY(parameters)), "
                           "count(*) FILTER (WHERE 'TEMP' = ANY(parameters)) FROM profiles "
                           "WHERE platform_number='13857'")).one()
    assert r == (140, 0, 140)


def test_reingest_is_idempotent(gdac_ingested, gdac_dir, engine):
    _, before = gdac_ingested
    job = ingest([gdac_dir / "dac" / "coriolis"], name="again", dataset="gdac", executor="serial")
    assert job["status"] == "succeeded"
    assert _checksum(engine) == before
    assert sum(_counts(engine).values()) == 1451


def test_serial_reverse_order_equals_dask(gdac_ingested, gdac_dir, engine, tmp_path):
    """Order independence: files one by one, in reverse order, give the same database."""
    from floatchat_core.db.maintenance import truncate_data

    _, dask_sum = gdac_ingested
    files = list(reversed(_nc_files(gdac_dir)))
    truncate_data()
    try:
        job = ingest(files, name="reverse", dataset="gdac", executor="serial")
        assert job["files_ok"] == len(files)
        assert _checksum(engine) == dask_sum
    finally:
        truncate_data()
        ingest([gdac_dir / "dac"], name="restore", dataset="gdac", workers=2)


# ----------------------------------------------------------------------------- bad input
def test_malformed_files_fail_with_reasons_and_write_nothing(clean_db, gdac_dir, tmp_path, engine):
    good = gdac_dir / "dac/incois/2902269/2902269_prof.nc"
    truncated = tmp_path / "5900865_prof.nc"
    truncated.write_bytes((gdac_dir / "dac/csiro/5900865/5900865_prof.nc").read_bytes()[:20_000])
    not_nc = tmp_path / "R1234567_001.nc"
    not_nc.write_text("this is not NetCDF")
    job = ingest([good, truncated, not_nc], name="mixed", executor="serial")
    assert job["status"] == "succeeded" and job["files_ok"] == 1 and job["files_failed"] == 2
    reasons = {e["file"]: e["error"] for e in job["errors"]}
    assert "5900865_prof.nc" in reasons["5900865_prof.nc"] and "R1234567_001.nc" in reasons
    assert _counts(engine) == {"2902269": 57}
    stored = get_job(job["id"])
    assert len(stored["errors"]) == 2


def test_missing_required_variable_job_names_it(clean_db, gdac_dir, tmp_path, engine):
    src = gdac_dir / "dac/incois/2902269/2902269_prof.nc"
    dst = tmp_path / src.name
    with netCDF4.Dataset(src) as s, netCDF4.Dataset(dst, "w", format=s.data_model) as d:
        s.set_auto_maskandscale(False)
        for name, dim in s.dimensions.items():
            d.createDimension(name, len(dim))
        for name, var in s.variables.items():
            if name == "LONGITUDE":
                continue
            fv = var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None
            v = d.createVariable(name, var.dtype, var.dimensions, fill_value=fv)
            v.set_auto_maskandscale(False)
            v[:] = var[:]
    job = ingest([dst], name="no-lon", executor="serial")
    assert job["status"] == "failed"
    assert "LONGITUDE" in job["errors"][0]["error"]
    assert _counts(engine) == {}


def test_failure_mid_write_rolls_back(clean_db, gdac_dir, engine, monkeypatch):
    """A failure after the COPY (here: in the floats upsert) leaves no partial rows."""
    from floatchat_core.db import writer

    monkeypatch.setattr(writer, "_FLOATS_SQL", "SELECT no_such_function()")
    job = ingest([gdac_dir / "dac/incois/2902269/2902269_prof.nc"], name="boom", executor="serial")
    assert job["files_failed"] == 1
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM profiles")).scalar() == 0
        assert c.execute(text("SELECT count(*) FROM float_positions")).scalar() == 0
        assert c.execute(text("SELECT count(*) FROM dataset_versions")).scalar() == 0


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_zip_upload(clean_db, gdac_dir, tmp_path, engine):
    a = gdac_dir / "dac/incois/2902269/2902269_prof.nc"
    b = gdac_dir / "dac/incois/2902269/2902269_meta.nc"
    z = tmp_path / "upload.zip"
    z.write_bytes(_zip({"x/" + a.name: a.read_bytes(), "x/" + b.name: b.read_bytes(), "readme.txt": b"hi"}))
    job = ingest([z], name="zip", executor="serial")
    assert job["status"] == "succeeded" and job["files_ok"] == 2
    assert _counts(engine) == {"2902269": 57}


def test_zip_slip_and_empty_zip_are_refused(clean_db, gdac_dir, tmp_path, engine):
    a = gdac_dir / "dac/incois/2902269/2902269_prof.nc"
    evil = tmp_path / "evil.zip"
    evil.write_bytes(_zip({"../../etc/" + a.name: a.read_bytes()}))
    job = ingest([evil], name="evil", executor="serial")
    assert job["status"] == "failed" and job["files_ok"] == 0
    assert any("zip-slip" in e["error"] for e in job["errors"])
    empty = tmp_path / "empty.zip"
    empty.write_bytes(_zip({}))
    job = ingest([empty], name="empty", executor="serial")
    assert job["status"] == "failed"
    assert _counts(engine) == {}


def test_dataset_metadata_and_views_after_ingest(clean_db, gdac_dir, engine):
    ingest([gdac_dir / "dac/coriolis/3902131"], name="bgc", dataset="bgc-float", executor="serial")
    with engine.connect() as c:
        ds = c.execute(text("SELECT name, n_profiles, n_floats FROM datasets WHERE name='bgc-float'")).one()
        assert ds.n_profiles == 320 and ds.n_floats == 1
        latest = c.execute(text("SELECT count(*) FROM mv_latest_float_positions")).scalar()
        assert latest == 1
