"""Profile-level frames → an Argo multi-profile NetCDF file (internal module of ``exports``).

Layout (Argo User's Manual 3.1, profile format): dimensions ``N_PROF``, ``N_LEVELS``, ``N_PARAM``,
``STRINGn``, ``DATE_TIME``; per profile ``PLATFORM_NUMBER``, ``CYCLE_NUMBER``, ``DIRECTION``,
``JULD`` (days since 1950-01-01 00:00:00 UTC, ``_FillValue`` 999999.), ``JULD_LOCATION``,
``LATITUDE``/``LONGITUDE`` (``_FillValue`` 99999.), ``POSITION_QC``, ``DATA_MODE``,
``STATION_PARAMETERS``, ``PROFILE_<PARAM>_QC``; per level ``<PARAM>``, ``<PARAM>_QC``,
``<PARAM>_ADJUSTED``, ``<PARAM>_ADJUSTED_QC``, ``<PARAM>_ADJUSTED_ERROR`` (``_FillValue`` 99999.,
QC as characters, blank = missing).

Core-only frames give an "Argo profile" file (``DATA_MODE`` per profile). Frames with BGC levels
give an "Argo synthetic profile" file: core and BGC levels merged on one pressure axis per
profile (equal pressures share a level) with ``PARAMETER_DATA_MODE`` per parameter — the
S-file convention, which the reader splits back into core and BGC groups.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..argo.decode import datetime64_to_juld
from ..argo.variables import BY_COLUMN, PARAMETERS

FILL_FLOAT = np.float32(99999.0)
FILL_DOUBLE = 999999.0
FILL_INT = np.int32(99999)
_MODE_RANK = {"R": 0, "A": 1, "D": 2}
_RANK_MODE = np.array(["R", "A", "D"])


def _text(s: pd.Series, default: str) -> np.ndarray:
    """A text column (object, string or categorical) as a numpy str array, missing → ``default``."""
    o = s.astype(object)
    return o.where(o.notna(), default).astype(str).to_numpy()


def _param_columns(frame: pd.DataFrame) -> list[str]:
    cols = set(frame.columns)
    return [
        p.column for p in PARAMETERS if p.column != "pres" and (p.column in cols or f"{p.column}_raw" in cols)
    ]


def _family(frame: pd.DataFrame, c: str) -> dict[str, np.ndarray]:
    """raw, raw_qc, adjusted, adjusted_qc, adjusted_error, mode (per row) of one parameter."""
    n = len(frame)

    def col(name, default, dtype):
        return (
            frame[name].to_numpy(dtype=dtype, na_value=default)
            if name in frame
            else np.full(n, default, dtype)
        )

    mode = _text(frame[f"{c}_mode"], "") if f"{c}_mode" in frame else np.full(n, "R")
    if f"{c}_raw" in frame:  # expert frame: every twin is there
        return {
            "raw": col(f"{c}_raw", np.nan, np.float64),
            "raw_qc": col(f"{c}_raw_qc", -1, np.int16),
            "adj": col(f"{c}_adjusted", np.nan, np.float64),
            "adj_qc": col(f"{c}_adjusted_qc", -1, np.int16),
            "err": col(f"{c}_adjusted_error", np.nan, np.float64),
            "mode": mode,
        }
    v = col(c, np.nan, np.float64)
    q = col(f"{c}_qc", -1, np.int16)
    is_adj = np.isin(mode, ["A", "D"])
    return {
        "raw": np.where(is_adj, np.nan, v),
        "raw_qc": np.where(is_adj, -1, q),
        "adj": np.where(is_adj, v, np.nan),
        "adj_qc": np.where(is_adj, q, -1),
        "err": np.full(n, np.nan),
        "mode": mode,
    }


def _chars(values, width: int) -> np.ndarray:
    import netCDF4

    a = np.array([str(v)[:width] for v in values], dtype=f"S{width}")
    return netCDF4.stringtochar(a) if len(a) else np.zeros((0, width), "S1")


def _qc_chars(qc: np.ndarray) -> np.ndarray:
    """QC flags 0–9 → b'0'–b'9', anything else (-1 = missing) → b' ' (byte arithmetic, no strings)."""
    q = np.asarray(qc)
    ok = (q >= 0) & (q <= 9)
    codes = np.where(ok, q.astype(np.int64, copy=False) + ord("0"), ord(" ")).astype(np.uint8)
    return codes.view("S1")


def write_argo_profiles(frame: pd.DataFrame, path, prov: dict) -> None:
    """Write a DAL ``profile_levels`` frame (any QC mode, optionally joined with profile metadata)."""
    import netCDF4

    from . import _global_attrs

    df = frame.reset_index(drop=True)
    params = _param_columns(df)
    bgc = [c for c in params if BY_COLUMN[c].is_bgc]
    merged = bool(bgc) and "axis" in df and (df["axis"] == "bgc").any()
    fams = {c: _family(df, c) for c in ["pres", *params]}
    pres_key = np.where(np.isfinite(fams["pres"]["raw"]), fams["pres"]["raw"], fams["pres"]["adj"])
    order = {pid: i for i, pid in enumerate(pd.unique(df["profile_id"]))}
    prof_idx = df["profile_id"].map(order).to_numpy(np.int64)
    n_prof = len(order)
    if merged:
        # S-file convention: one merged pressure axis per profile; equal pressures share a level
        rank_key = np.where(np.isfinite(pres_key), pres_key, 1e12 + np.arange(len(df)))
        lev_idx = (pd.Series(rank_key).groupby(prof_idx).rank(method="dense").to_numpy() - 1).astype(np.int64)
    else:
        lev_idx = pd.Series(prof_idx).groupby(prof_idx).cumcount().to_numpy()
    n_lev = int(lev_idx.max()) + 1 if len(df) else 0
    first = df.loc[~pd.Series(prof_idx).duplicated().to_numpy()].reset_index(drop=True)

    def level_array(values, fill, dtype, present):
        out = np.full((n_prof, n_lev), fill, dtype=dtype)
        out[prof_idx[present], lev_idx[present]] = values[present]
        return out

    def profile_mode(mode: np.ndarray) -> np.ndarray:
        rank = pd.Series(mode).map(_MODE_RANK).fillna(-1).to_numpy()
        best = (
            pd.Series(rank).groupby(prof_idx).max().reindex(range(n_prof)).fillna(-1).to_numpy().astype(int)
        )
        return np.where(best >= 0, _RANK_MODE[np.clip(best, 0, 2)], "R")

    juld_t = pd.to_datetime(first["juld"], utc=True).dt.tz_localize(None).to_numpy("datetime64[us]")
    juld = datetime64_to_juld(juld_t)
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    names = ["PRES", *[BY_COLUMN[c].name for c in params]]
    with netCDF4.Dataset(str(path), "w", format="NETCDF4_CLASSIC") as ds:
        for name, size in (
            ("DATE_TIME", 14),
            ("STRING2", 2),
            ("STRING4", 4),
            ("STRING8", 8),
            ("STRING16", 16),
            ("STRING32", 32),
            ("STRING64", 64),
            ("STRING256", 256),
            ("N_PROF", n_prof),
            ("N_PARAM", len(names)),
            ("N_LEVELS", n_lev),
            ("N_CALIB", 1),
        ):
            ds.createDimension(name, size)
        ds.createDimension("N_HISTORY", None)

        def cvar(name, dims, value, long_name, **attrs):
            v = ds.createVariable(name, "S1", dims)
            v.long_name = long_name
            for k, a in attrs.items():
                v.setncattr(k, a)
            v[:] = value
            return v

        cvar(
            "DATA_TYPE",
            ("STRING16",),
            _chars(["Argo synthetic profile" if merged else "Argo profile"], 16)[0],
            "Data type",
            conventions="Argo reference table 1",
        )
        cvar("FORMAT_VERSION", ("STRING4",), _chars(["3.1"], 4)[0], "File format version")
        cvar("HANDBOOK_VERSION", ("STRING4",), _chars(["1.2"], 4)[0], "Data handbook version")
        cvar(
            "REFERENCE_DATE_TIME",
            ("DATE_TIME",),
            _chars(["19500101000000"], 14)[0],
            "Date of reference for Julian days",
            conventions="YYYYMMDDHHMISS",
        )
        cvar("DATE_CREATION", ("DATE_TIME",), _chars([now], 14)[0], "Date of file creation")
        cvar("DATE_UPDATE", ("DATE_TIME",), _chars([now], 14)[0], "Date of update of this file")
        cvar(
            "PLATFORM_NUMBER",
            ("N_PROF", "STRING8"),
            _chars(first["platform_number"].astype(str), 8),
            "Float unique identifier",
            conventions="WMO float identifier : A9IIIII",
        )
        cvar(
            "STATION_PARAMETERS",
            ("N_PROF", "N_PARAM", "STRING16"),
            np.broadcast_to(_chars(names, 16), (n_prof, len(names), 16)),
            "List of available parameters for the station",
            conventions="Argo reference table 3",
        )
        cyc = ds.createVariable("CYCLE_NUMBER", "i4", ("N_PROF",), fill_value=FILL_INT)
        cyc.long_name = "Float cycle number"
        cyc.conventions = "0...N, 0 : launch cycle (if exists), 1 : first complete cycle"
        cyc[:] = first["cycle_number"].to_numpy(np.int32)
        direction = _text(first["direction"], "A") if "direction" in first else np.full(n_prof, "A")
        cvar(
            "DIRECTION",
            ("N_PROF",),
            np.array(direction, dtype="S1"),
            "Direction of the station profiles",
            conventions="A: ascending profiles, D: descending profiles",
        )
        if not merged:
            if "data_mode" in first and first["data_mode"].notna().all():
                dm = _text(first["data_mode"], "R")
            else:
                core_cols = ["pres", *[c for c in params if not BY_COLUMN[c].is_bgc]]
                ranks = np.stack(
                    [pd.Series(profile_mode(fams[c]["mode"])).map(_MODE_RANK).to_numpy() for c in core_cols],
                    axis=1,
                ).max(axis=1)
                dm = _RANK_MODE[ranks]
            cvar(
                "DATA_MODE",
                ("N_PROF",),
                np.array(dm, dtype="S1"),
                "Delayed mode or real time data",
                conventions="R : real time; D : delayed mode; A : real time with adjustment",
            )
        else:
            pdm = np.stack([profile_mode(fams[c]["mode"]) for c in ["pres", *params]], axis=1)
            cvar(
                "PARAMETER_DATA_MODE",
                ("N_PROF", "N_PARAM"),
                pdm.astype("S1"),
                "Delayed mode or real time data",
                conventions="R : real time; D : delayed mode; A : real time with adjustment",
            )
        for name, values, long_name in (
            ("JULD", juld, ("Julian day (UTC) of the station relative to REFERENCE_DATE_TIME")),
            ("JULD_LOCATION", juld, ("Julian day (UTC) of the location relative to REFERENCE_DATE_TIME")),
        ):
            v = ds.createVariable(name, "f8", ("N_PROF",), fill_value=FILL_DOUBLE)
            v.long_name = long_name
            v.units = "days since 1950-01-01 00:00:00 UTC"
            v.conventions = "Relative julian days with decimal part (as parts of day)"
            v.resolution = 1.0 / 86400.0
            if name == "JULD":
                v.standard_name = "time"
                v.axis = "T"
            v[:] = np.where(np.isfinite(values), values, FILL_DOUBLE)
        cvar(
            "JULD_QC",
            ("N_PROF",),
            np.full(n_prof, b" ", "S1"),
            "Quality on date and time",
            conventions="Argo reference table 2",
        )
        for name, col, units, std, axis in (
            ("LATITUDE", "latitude", "degree_north", "latitude", "Y"),
            ("LONGITUDE", "longitude", "degree_east", "longitude", "X"),
        ):
            v = ds.createVariable(name, "f8", ("N_PROF",), fill_value=float(FILL_FLOAT))
            v.long_name = f"{std.capitalize()} of the station, best estimate"
            v.units, v.standard_name, v.axis = units, std, axis
            a = first[col].to_numpy(np.float64)
            v[:] = np.where(np.isfinite(a), a, float(FILL_FLOAT))
        pos_qc = (
            first["position_qc"].to_numpy(dtype=np.float64, na_value=-1).astype(np.int16)
            if "position_qc" in first
            else np.full(n_prof, -1, np.int16)
        )
        cvar(
            "POSITION_QC",
            ("N_PROF",),
            _qc_chars(pos_qc),
            "Quality on position (latitude and longitude)",
            conventions="Argo reference table 2",
        )
        cvar(
            "VERTICAL_SAMPLING_SCHEME",
            ("N_PROF", "STRING256"),
            _chars([""] * n_prof, 256),
            "Vertical sampling scheme",
            conventions="Argo reference table 16",
        )
        cmn = ds.createVariable("CONFIG_MISSION_NUMBER", "i4", ("N_PROF",), fill_value=FILL_INT)
        cmn.long_name = "Unique number denoting the missions performed by the float"
        cmn[:] = np.full(n_prof, FILL_INT, np.int32)
        for c in ["pres", *params]:
            p = BY_COLUMN[c]
            f = fams[c]
            for suffix, values, is_qc in (
                ("", f["raw"], False),
                ("_QC", f["raw_qc"], True),
                ("_ADJUSTED", f["adj"], False),
                ("_ADJUSTED_QC", f["adj_qc"], True),
                ("_ADJUSTED_ERROR", f["err"], False),
            ):
                name = p.name + suffix
                if is_qc:
                    arr = level_array(_qc_chars(values), b" ", "S1", np.asarray(values) >= 0)
                    v = ds.createVariable(name, "S1", ("N_PROF", "N_LEVELS"), zlib=True)
                    v.long_name = "quality flag"
                    v.conventions = "Argo reference table 2"
                    v[:] = arr
                    continue
                arr = level_array(values.astype(np.float32), FILL_FLOAT, np.float32, np.isfinite(values))
                v = ds.createVariable(name, "f4", ("N_PROF", "N_LEVELS"), fill_value=FILL_FLOAT, zlib=True)
                v.long_name = (
                    p.long_name
                    if suffix != "_ADJUSTED_ERROR"
                    else "Contains the error on the adjusted values as determined by the delayed mode QC "
                    "process"
                )
                v.units = p.units
                if c == "pres":
                    v.axis = "Z"
                if suffix != "_ADJUSTED_ERROR" and c in ("pres", "temp", "psal", "doxy"):
                    v.standard_name = {
                        "pres": "sea_water_pressure",
                        "temp": "sea_water_temperature",
                        "psal": "sea_water_salinity",
                        "doxy": "moles_of_oxygen_per_unit_mass_in_sea_water",
                    }[c]
                v.valid_min, v.valid_max = np.float32(p.valid_min), np.float32(p.valid_max)
                v[:] = arr
            cvar(
                f"PROFILE_{p.name}_QC",
                ("N_PROF",),
                np.full(n_prof, b" ", "S1"),
                f"Global quality flag of {p.name} profile",
                conventions="Argo reference table 2a",
            )
        ds.setncatts(
            {
                "Conventions": "Argo-3.1 CF-1.6",
                "featureType": "trajectoryProfile",
                **_global_attrs(prov, "Argo float vertical profiles (FloatChat Workbench export)"),
            }
        )
