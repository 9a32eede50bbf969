"""Exports: CSV/Parquet with provenance, CF tables, and Argo NetCDF that re-ingests to the same content."""

from __future__ import annotations

import json
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest

from floatchat_core.exports import export, export_profiles, to_csv, to_netcdf, to_parquet

SAMPLE = Path(__file__).resolve().parents[2] / "floatchat_core" / "data" / "sample"
PROV = {"query": "temperature of float 5900865", "qc_mode": "expert", "source": "local", "sql": ["SELECT 1"]}

KEY = ["platform_number", "cycle_number", "axis", "level"]


def _levels(wmo: str, mode: str = "expert") -> tuple[pd.DataFrame, pd.DataFrame]:
    from floatchat_core.db import dal

    prof = dal.find_profiles(platform_numbers=[wmo], limit=None)
    lv = dal.profile_levels(prof["profile_id"].tolist(), mode=mode)
    return prof, lv.sort_values(KEY, ignore_index=True)


def _ingest(path: Path, dataset: str) -> dict:
    from floatchat_core.ingest import ingest

    job = ingest([path], dataset=dataset, executor="serial")
    assert job["status"] == "succeeded", job.get("errors")
    return job


def _compare(a: pd.DataFrame, b: pd.DataFrame, params: list[str]) -> None:
    assert len(a) == len(b) > 0
    for c in ("platform_number", "cycle_number", "axis", "level"):
        assert (a[c].astype(str).to_numpy() == b[c].astype(str).to_numpy()).all(), c
    assert (a["juld"].to_numpy() == b["juld"].to_numpy()).all()
    np.testing.assert_array_equal(a["latitude"].to_numpy(), b["latitude"].to_numpy())
    np.testing.assert_array_equal(a["longitude"].to_numpy(), b["longitude"].to_numpy())
    for p in params:
        for suffix in ("", "_raw", "_adjusted", "_adjusted_error"):
            np.testing.assert_array_equal(
                a[p + suffix].to_numpy(np.float32), b[p + suffix].to_numpy(np.float32), err_msg=p + suffix
            )
        for suffix in ("_qc", "_raw_qc", "_adjusted_qc", "_mode"):
            assert (a[p + suffix].astype(str).to_numpy() == b[p + suffix].astype(str).to_numpy()).all(), (
                p + suffix
            )


def test_netcdf_roundtrip_core_float(clean_db, tmp_path):
    from floatchat_core.argo import open_profiles
    from floatchat_core.db.maintenance import truncate_data

    _ingest(SAMPLE / "5900865_prof.nc", "original")
    prof, before = _levels("5900865")
    _, before_std = _levels("5900865", "standard")
    out = export_profiles(
        tmp_path / "export.nc",
        platform_numbers=["5900865"],
        mode="expert",
        provenance={"question": "float 5900865"},
    )
    batch = open_profiles(out)
    assert len(batch) == len(prof) and batch.file_kind == "prof"
    with netCDF4.Dataset(out) as ds:
        assert ds.Conventions.startswith("Argo-3.1") and ds.featureType == "trajectoryProfile"
        assert (
            ds.qc_mode == "expert" and ds.data_source == "local" and "floatchat_exported_at" in ds.ncattrs()
        )
        assert ds["JULD"].units == "days since 1950-01-01 00:00:00 UTC" and ds["JULD"]._FillValue == 999999.0
        assert ds["TEMP"]._FillValue == np.float32(99999.0) and ds["TEMP"].units == "degree_Celsius"
        assert ds["PSAL_ADJUSTED_QC"].dtype == "S1" and ds.dimensions["N_PROF"].size == len(prof)
    truncate_data()
    _ingest(out, "roundtrip")
    prof2, after = _levels("5900865")
    _, after_std = _levels("5900865", "standard")
    params = [c for c in ("temp", "psal") if c in before]
    _compare(before, after, ["pres", *params])
    _compare(
        before_std.assign(
            **{
                f"{p}{s}": 0
                for p in ["pres", *params]
                for s in ("_raw", "_adjusted", "_adjusted_error", "_raw_qc", "_adjusted_qc")
            }
        ),
        after_std.assign(
            **{
                f"{p}{s}": 0
                for p in ["pres", *params]
                for s in ("_raw", "_adjusted", "_adjusted_error", "_raw_qc", "_adjusted_qc")
            }
        ),
        ["pres", *params],
    )
    cols = [
        "platform_number",
        "cycle_number",
        "direction",
        "juld",
        "latitude",
        "longitude",
        "position_qc",
        "data_mode",
        "n_levels",
        "pres_min",
        "pres_max",
    ]
    a = prof[cols].sort_values(["cycle_number", "direction"], ignore_index=True)
    b = prof2[cols].sort_values(["cycle_number", "direction"], ignore_index=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert sorted(prof["parameters"].iloc[0]) == sorted(prof2["parameters"].iloc[0])


def test_netcdf_bgc_float_exports_as_synthetic_profile(clean_db, tmp_path):
    from floatchat_core.argo import open_profiles
    from floatchat_core.db.maintenance import truncate_data

    _ingest(SAMPLE / "3902131_Sprof.nc", "bgc")
    _prof, before = _levels("3902131")
    out = export_profiles(tmp_path / "bgc.nc", platform_numbers=["3902131"], mode="expert")
    batch = open_profiles(out)
    assert batch.file_kind == "Sprof" and set(batch.groups) == {"core", "bgc"}
    truncate_data()
    _ingest(out, "bgc-roundtrip")
    _prof2, after = _levels("3902131")
    # every non-missing value comes back at its pressure, with its QC and mode
    for p in [c for c in ("temp", "psal", "doxy", "chla", "nitrate", "bbp700") if c in before]:
        x = before.dropna(subset=[p + "_raw"])[
            ["cycle_number", "pres", p + "_raw", p + "_raw_qc", p + "_mode"]
        ]
        y = after.dropna(subset=[p + "_raw"])[
            ["cycle_number", "pres", p + "_raw", p + "_raw_qc", p + "_mode"]
        ]
        x = x.sort_values(["cycle_number", "pres", p + "_raw"], ignore_index=True)
        y = y.sort_values(["cycle_number", "pres", p + "_raw"], ignore_index=True)
        pd.testing.assert_frame_equal(x, y, check_dtype=False, obj=p)


def test_csv_and_parquet_carry_provenance_and_units(tmp_path):
    df = pd.DataFrame(
        {
            "profile_id": [1, 1],
            "juld": pd.to_datetime(["2020-01-01T00:00:00Z"] * 2),
            "pres": [5.0, 10.0],
            "temp": [20.1, np.nan],
            "temp_qc": [1, -1],
            "parameters": [["PRES", "TEMP"], ["PRES", "TEMP"]],
        }
    )
    p = to_csv(df, tmp_path / "a.csv", PROV)
    text = p.read_text()
    assert text.startswith("# query: temperature of float 5900865\n") and "# exported_at: " in text
    assert '"temp": "degree_Celsius"' in text
    back = pd.read_csv(p, comment="#")
    assert list(back.columns) == list(df.columns) and back["juld"][0] == "2020-01-01T00:00:00Z"
    assert back["temp"][0] == 20.1 and np.isnan(back["temp"][1]) and back["parameters"][0] == "PRES,TEMP"
    q = to_parquet(df, tmp_path / "a.parquet", PROV)
    import pyarrow.parquet as pq

    t = pq.read_table(q)
    meta = json.loads(t.schema.metadata[b"floatchat_provenance"])
    assert meta["query"] == PROV["query"] and meta["qc_mode"] == "expert" and "exported_at" in meta
    assert json.loads(t.schema.metadata[b"floatchat_units"])["pres"]["units"] == "decibar"
    back = pd.read_parquet(q)
    assert back["temp"][0] == 20.1 and str(back["juld"].dt.tz) == "UTC"


def test_cf_table_netcdf_for_non_profile_frames(tmp_path):
    monthly = pd.DataFrame(
        {
            "month": pd.date_range("2020-01-01", periods=3, freq="MS", tz="UTC"),
            "mean": [20.0, 20.5, np.nan],
            "n": [3, 4, 0],
            "label": ["a", "b", "c"],
        }
    )
    out = to_netcdf(monthly, tmp_path / "m.nc", PROV)
    with netCDF4.Dataset(out) as ds:
        assert ds.Conventions == "CF-1.10" and ds.dimensions["row"].size == 3 and ds.query == PROV["query"]
        assert ds["month"].units.startswith("seconds since 1970-01-01")
        ds.set_auto_mask(True)
        assert ds["mean"][2] is np.ma.masked and float(ds["mean"][1]) == 20.5
    import xarray as xr

    with xr.open_dataset(out) as x:
        assert pd.Timestamp(x["month"].values[1]) == pd.Timestamp("2020-02-01")


def test_export_dispatch_and_bad_format(tmp_path):
    df = pd.DataFrame({"a": [1]})
    assert export(df, tmp_path / "x.csv").read_text().count("# exported_at") == 1
    with pytest.raises(ValueError, match="export format"):
        export(df, tmp_path / "x.xlsx")


def test_export_cli_float_to_netcdf_and_csv(clean_db, tmp_path):
    import os
    import subprocess
    import sys

    _ingest(SAMPLE / "5900865_prof.nc", "original")
    nc = tmp_path / "f.nc"
    p = subprocess.run(
        [sys.executable, "-m", "floatchat_core.cli", "export", "--float", "5900865", "--out", str(nc)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
        check=False,
    )
    assert p.returncode == 0, p.stderr
    assert "5900865" in p.stdout
    prof, _ = _levels("5900865")
    with netCDF4.Dataset(nc) as ds:
        assert ds.dimensions["N_PROF"].size == len(prof)
    csv = tmp_path / "f.csv"
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "floatchat_core.cli",
            "export",
            "--float",
            "5900865",
            "--out",
            str(csv),
            "--mode",
            "standard",
            "--parameter",
            "TEMP",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    back = pd.read_csv(csv, comment="#")
    assert {"temp", "temp_qc", "temp_mode", "pres"} <= set(back.columns) and "psal" not in back.columns
    assert back["platform_number"].astype(str).unique().tolist() == ["5900865"]
    bad = subprocess.run(
        [sys.executable, "-m", "floatchat_core.cli", "export", "--out", str(csv)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bad.returncode == 2 and "--float" in bad.stderr


def test_to_bytes_for_download_buttons():
    from floatchat_core.exports import to_bytes

    df = pd.DataFrame({"pres": [1.0, 2.0], "temp": [20.0, 19.5]})
    assert to_bytes(df, "csv", PROV).startswith(b"# query: ")
    assert to_bytes(df, "parquet")[:4] == b"PAR1"
    assert to_bytes(df, "netcdf")[:4] == b"\x89HDF"
    with pytest.raises(ValueError):
        to_bytes(df, "xls")


def test_question_answers_export_through_the_chat_engine(clean_db, tmp_path):
    from floatchat_core.argo import open_profiles
    from floatchat_core.chat import ask
    from floatchat_core.exports import export_command, is_profile_frame

    _ingest(SAMPLE / "5900865_prof.nc", "original")
    prof, _ = _levels("5900865")
    a = ask("export temperature profiles of float 5900865 as netcdf")
    path = Path(a.provenance["export_path"])
    b = open_profiles(path)
    assert len(b) == len(prof) and set(b.platform_number) == {"5900865"}
    with netCDF4.Dataset(path) as ds:
        assert "floatchat_sql" in ds.ncattrs() and ds.qc_mode == "standard"
    out, summary = export_command(tmp_path / "q.nc", question="temperature profiles of float 5900865")
    assert out.is_file() and "rows" in summary
    with netCDF4.Dataset(out) as ds:
        assert ds.Conventions.startswith("Argo") or ds.Conventions == "CF-1.10"
    answer = ask("temperature profiles of float 5900865")
    if is_profile_frame(answer.frame):
        assert len(open_profiles(answer.to_netcdf(tmp_path / "a.nc"))) > 0
