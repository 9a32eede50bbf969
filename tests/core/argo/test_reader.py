"""The reader against real GDAC files, checked with independent reads (netCDF4 with its own
CF masking, datetime arithmetic) rather than with the reader's own helpers."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import netCDF4
import numpy as np
import pytest

from floatchat_core.argo import classify, clean, open_profiles, read_meta
from floatchat_core.argo.decode import juld_to_datetime64
from floatchat_core.errors import ArgoFileError, MissingVariableError

EXPECTED = {  # ARGO_NOTES.md: profiles per float, secondary sampling schemes, descending
    "13857": (140, 0, 0), "6901929": (467, 232, 1), "1900857": (387, 193, 1),
    "3902131": (320, 158, 1), "5900865": (80, 0, 0), "2902269": (57, 0, 0),
}


def _profile_files(gdac: Path) -> list[Path]:
    return sorted(p for p in (gdac / "dac").rglob("*.nc") if not p.name.endswith("_meta.nc"))


def _independent_levels(path: Path, var: str) -> list[np.ndarray]:
    """Per-profile non-missing values as xarray's CF decoding sees them (``_FillValue`` → NaN).

    (netCDF4's own auto-masking would also hide values outside ``valid_min``/``valid_max``,
    e.g. a real PRES of -0.3 dbar, which Argo keeps and FloatChat flags instead.)"""
    import xarray as xr

    with xr.open_dataset(path, decode_times=False, mask_and_scale=True) as ds:
        if var not in ds.variables:
            return []
        a = np.atleast_2d(ds[var].values.astype(np.float32))
        return [row[np.isfinite(row)] for row in a]


@pytest.mark.parametrize("rel", [
    "aoml/13857/13857_prof.nc", "coriolis/1900857/1900857_prof.nc", "coriolis/3902131/3902131_Sprof.nc",
    "coriolis/3902131/profiles/BD3902131_010.nc", "coriolis/3902131/profiles/SD3902131_001D.nc",
    "bodc/6901929/profiles/D6901929_001.nc", "incois/2902269/2902269_prof.nc",
])
def test_values_match_an_independent_read(gdac_dir, rel):
    path = gdac_dir / "dac" / rel
    batch = open_profiles(path)
    checked = 0
    for group in batch.groups.values():
        for lv in (group.pressure, *group.parameters.values()):
            for twin, ours_all in (("", lv.values), ("_ADJUSTED", lv.adjusted)):
                ref = _independent_levels(path, lv.parameter.name + twin)
                if not ref:              # e.g. B-files carry no PRES_ADJUSTED
                    assert np.isnan(ours_all).all()
                    continue
                assert len(ref) == len(batch)
                for i, expect in enumerate(ref):
                    ours = ours_all[group.offsets[i]:group.offsets[i + 1]]
                    np.testing.assert_array_equal(ours[np.isfinite(ours)], expect)
                    checked += expect.size
    assert checked > 500


def test_juld_is_exact_to_the_second(gdac_dir):
    path = gdac_dir / "dac/coriolis/1900857/1900857_prof.nc"
    batch = open_profiles(path)
    ours = juld_to_datetime64(batch.juld)
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)
        days = ds["JULD"][:]
        fill = ds["JULD"]._FillValue
    epoch = dt.datetime(1950, 1, 1, tzinfo=dt.UTC)
    for d, t in zip(days, ours):
        if d == fill:
            assert np.isnat(t)
            continue
        ref = epoch + dt.timedelta(days=float(d))
        got = dt.datetime.fromisoformat(str(t.astype("datetime64[us]"))).replace(tzinfo=dt.UTC)
        assert abs((got - ref).total_seconds()) < 1e-3


def test_juld_against_the_gdac_index(gdac_dir):
    """The index's date column (to the second) agrees with JULD of every single-profile core file."""
    from floatchat_core.argo import read_index

    idx = read_index(gdac_dir / "ar_index_global_prof.txt").dropna(subset=["date"])
    idx = idx[idx["kind"] == "core"].head(120)
    for row in idx.itertuples():
        b = open_profiles(gdac_dir / "dac" / row.file)
        t = juld_to_datetime64(b.juld[:1])[0].astype("datetime64[s]")
        assert t == np.datetime64(row.date.tz_convert(None).to_datetime64(), "s"), row.file
        assert b.latitude[0] == pytest.approx(row.latitude, abs=6e-4)


def test_qc_flags_decoded_from_bytes_and_blank_is_missing(gdac_dir):
    path = gdac_dir / "dac/coriolis/3902131/3902131_Sprof.nc"
    batch = open_profiles(path)
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)
        raw = ds["DOXY_QC"][:]
    doxy = batch.groups["bgc"].parameters["DOXY"]
    flat = np.concatenate([raw[i, :n] for i, n in enumerate(batch.groups["bgc"].n_levels)])
    expect = np.array([int(c) if c.strip() else -1 for c in flat.astype(str)], dtype=np.int8)
    np.testing.assert_array_equal(doxy.qc, expect)
    assert (doxy.qc == -1).any() and set(np.unique(doxy.qc)) <= set(range(-1, 10))


def test_per_parameter_data_mode_in_bgc_files(gdac_dir):
    batch = open_profiles(gdac_dir / "dac/coriolis/3902131/profiles/SD3902131_001.nc")
    assert batch.groups["core"].parameters["TEMP"].data_mode.tolist() == ["D"]
    assert batch.groups["bgc"].parameters["DOXY"].data_mode.tolist() == ["R"]
    core = open_profiles(gdac_dir / "dac/bodc/6901929/profiles/D6901929_001.nc")
    assert core.data_mode.tolist() == ["D", "R"]   # per profile in core files
    assert core.groups["core"].parameters["PSAL"].data_mode.tolist() == ["D", "R"]


def test_float_13857_has_no_psal_and_reads_fine(gdac_dir):
    batch = clean(open_profiles(gdac_dir / "dac/aoml/13857/13857_prof.nc"))
    assert len(batch) == 140
    assert "PSAL" not in batch.parameters_present()
    assert "TEMP" in batch.groups["core"].parameters


def test_union_of_all_files_gives_the_documented_keys(gdac_dir):
    keys: dict[str, set] = {}
    for path in _profile_files(gdac_dir):
        b = open_profiles(path)
        for k in zip(b.platform_number.tolist(), b.cycle_number.tolist(), b.direction.tolist(),
                     b.scheme_index.tolist()):
            keys.setdefault(k[0], set()).add(k)
    assert sum(len(v) for v in keys.values()) == 1451
    for wmo, (n, secondary, desc) in EXPECTED.items():
        ks = keys[wmo]
        assert len(ks) == n, wmo
        assert sum(1 for k in ks if k[3] > 0) == secondary, wmo
        assert sum(1 for k in ks if k[2] == "D") == desc, wmo


def test_single_profile_schemes_are_kept_apart(gdac_dir):
    b = open_profiles(gdac_dir / "dac/coriolis/3902131/profiles/BR3902131_001.nc")
    assert b.scheme_index.tolist() == [0, 1]
    assert b.vertical_sampling_scheme[0].startswith("Primary sampling")
    assert b.vertical_sampling_scheme[1].startswith("Near-surface sampling")
    d = open_profiles(gdac_dir / "dac/coriolis/3902131/profiles/BR3902131_001D.nc")
    assert set(d.direction.tolist()) == {"D"}


def test_delayed_files_outrank_realtime_files(gdac_dir):
    prof = gdac_dir / "dac/coriolis/3902131/profiles"
    assert open_profiles(prof / "BD3902131_002.nc").groups["bgc"].rank > \
        open_profiles(prof / "BR3902131_002.nc").groups["bgc"].rank


def test_meta_file(gdac_dir):
    m = read_meta(gdac_dir / "dac/coriolis/3902131/3902131_meta.nc")
    assert m["platform_number"] == "3902131"
    assert m["platform_type"] == "ARVOR_D"
    assert m["dac"] == "coriolis"
    assert "OPTODE_DOXY" in m["sensors"] and "DOXY" in m["parameters"]
    assert m["launch_date"] == np.datetime64("2018-03-13T03:44:00")
    assert m["launch_latitude"] == pytest.approx(-6.6326)


def test_bytes_and_path_give_the_same_batch(gdac_dir):
    path = gdac_dir / "dac/incois/2902269/2902269_prof.nc"
    a, b = open_profiles(path), open_profiles(path.read_bytes(), name=path.name)
    np.testing.assert_array_equal(a.groups["core"].parameters["TEMP"].values,
                                  b.groups["core"].parameters["TEMP"].values)
    np.testing.assert_array_equal(a.juld, b.juld)


@pytest.mark.parametrize("name,kind", [
    ("6901929_prof.nc", "prof"), ("3902131_Sprof.nc", "Sprof"), ("D6901929_001D.nc", "core"),
    ("R13857_001.nc", "core"), ("SD3902131_001.nc", "S"), ("BR3902131_001D.nc", "B"),
    ("3902131_meta.nc", "meta"), ("upload.nc", "unknown"),
])
def test_classify(name, kind):
    assert classify(name) == kind


def test_classify_refuses_trajectories_and_non_netcdf():
    with pytest.raises(ArgoFileError, match="trajectory"):
        classify("6901929_Rtraj.nc")
    with pytest.raises(ArgoFileError, match="not an Argo NetCDF"):
        classify("notes.txt")


def _copy_without(src: Path, dst: Path, drop: str) -> Path:
    with netCDF4.Dataset(src) as s, netCDF4.Dataset(dst, "w", format=s.data_model) as d:
        s.set_auto_maskandscale(False)
        for name, dim in s.dimensions.items():
            d.createDimension(name, None if dim.isunlimited() else len(dim))
        for name, var in s.variables.items():
            if name == drop:
                continue
            fv = var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None
            v = d.createVariable(name, var.dtype, var.dimensions, fill_value=fv)
            v.set_auto_maskandscale(False)
            v.setncatts({k: var.getncattr(k) for k in var.ncattrs() if k != "_FillValue"})
            v[:] = var[:]
    return dst


@pytest.mark.parametrize("missing", ["LATITUDE", "JULD", "PRES", "CYCLE_NUMBER", "PLATFORM_NUMBER"])
def test_missing_required_variable_is_named(gdac_dir, tmp_path, missing):
    bad = _copy_without(gdac_dir / "dac/incois/2902269/2902269_prof.nc", tmp_path / "2902269_prof.nc", missing)
    with pytest.raises(MissingVariableError, match=missing) as err:
        open_profiles(bad)
    assert err.value.variable == missing


def test_psal_is_optional(gdac_dir, tmp_path):
    f = _copy_without(gdac_dir / "dac/incois/2902269/2902269_prof.nc", tmp_path / "2902269_prof.nc", "PSAL")
    b = open_profiles(f)
    assert "PSAL" not in b.groups["core"].parameters and len(b) == 57


def test_fill_value_comes_from_the_attribute(tmp_path):
    """A file whose TEMP fill is -999 (not 99999): -999 becomes missing, 99999 stays a value
    (and is then flagged out of range by cleaning, never silently dropped)."""
    from floatchat_core.argo.synth import make_prof_file

    src = make_prof_file(tmp_path / "9000001_prof.nc", 9000001, n_prof=3, n_levels=5, seed=3)
    with netCDF4.Dataset(src, "a") as ds:
        ds.set_auto_maskandscale(False)
        temp = ds["TEMP"][:]
        temp[0, 0] = 99999.0
        ds["TEMP"][:] = temp
    dst = tmp_path / "copy" / "9000001_prof.nc"
    dst.parent.mkdir()
    with netCDF4.Dataset(src) as s, netCDF4.Dataset(dst, "w", format="NETCDF4_CLASSIC") as d:
        s.set_auto_maskandscale(False)
        for name, dim in s.dimensions.items():
            d.createDimension(name, len(dim))
        for name, var in s.variables.items():
            data = var[:]
            fv = var.getncattr("_FillValue")
            if name == "TEMP":
                fv = np.float32(-999.0)
                data[0, 1] = -999.0
            v = d.createVariable(name, var.dtype, var.dimensions, fill_value=fv)
            v.set_auto_maskandscale(False)
            v[:] = data
    b = clean(open_profiles(dst))
    t = b.groups["core"].parameters["TEMP"]
    first = t.values[b.groups["core"].offsets[0]:b.groups["core"].offsets[1]]
    assert first[0] == 99999.0 and np.isnan(first[1])
    assert t.out_of_range[0] and not t.out_of_range[1]


def test_cleaning_flags_and_never_deletes(gdac_dir):
    b = open_profiles(gdac_dir / "dac/incois/2902269/2902269_prof.nc")
    n_levels = b.n_levels_total
    b.latitude[0] = np.nan
    b.longitude[1] = 200.0           # 0…360 convention → -160
    b.longitude[2] = 400.0           # nonsense
    b.juld[3] = np.nan
    b.data_mode[4] = "X"
    temp = b.groups["core"].parameters["TEMP"]
    temp.values[5] = 45.0
    b = clean(b)
    assert b.position_invalid[0] and not b.position_invalid[1] and b.position_invalid[2]
    assert b.longitude[1] == pytest.approx(-160.0)
    assert b.timestamp_missing[3] and b.timestamp_missing.sum() == 1
    assert b.data_mode[4] == "R" and any("unknown data mode" in w for w in b.warnings)
    assert temp.out_of_range[5] and temp.values[5] == 45.0
    assert b.n_levels_total == n_levels and len(b) == 57


def test_truncated_file_is_a_clear_error(gdac_dir, tmp_path):
    src = gdac_dir / "dac/incois/2902269/2902269_prof.nc"
    bad = tmp_path / src.name
    bad.write_bytes(src.read_bytes()[:5000])
    with pytest.raises(ArgoFileError, match="2902269_prof.nc"):
        open_profiles(bad)


def test_every_shared_file_reads_and_cleans(gdac_dir):
    failures = []
    for path in _profile_files(gdac_dir):
        try:
            clean(open_profiles(path))
        except Exception as exc:  # noqa: BLE001
            failures.append((path.name, exc))
    assert not failures
