"""ERDDAP answers → frames (internal module): pure functions, no I/O beyond the bytes given.

* :func:`read_nc` — a tabledap ``.nc`` answer (NetCDF classic, one ``row`` dimension) →
  a DataFrame of ERDDAP's own columns, decoded without CF guessing: fill values from each
  variable's ``_FillValue``, QC characters → ints (-1 blank), strings stripped, ``time`` →
  UTC timestamps.
* :func:`read_csv` — the same from a ``.csv`` answer (header row + units row).
* :func:`to_levels` — ERDDAP columns → the DAL's long ``profile_levels`` frame, through
  :func:`floatchat_core.argo.qc.apply_qc_mode` (the same QC modes as local data).
* :func:`read_nc_header_rows` — the row count of a ``.ncHeader`` answer (request sizing).
"""

from __future__ import annotations

import io
import os
import re

import numpy as np
import pandas as pd

from ..argo.decode import classic_expected_size, decode_char1, decode_chars, decode_qc, to_float
from ..errors import ErddapError
from .qcframe import apply_qc_mode

_NO_RESULTS = re.compile(r"no matching results|nRows = 0", re.IGNORECASE)
_ROWS = re.compile(r"\brow\s*=\s*(\d+)\s*;")
_QC_SUFFIX = "_qc"

__all__ = ["is_no_results", "profile_ids", "read_csv", "read_nc", "read_nc_header_rows", "to_levels"]


def is_no_results(body: bytes) -> bool:
    """True when an ERDDAP error body says the query matched nothing (an empty answer, not a failure)."""
    head = body[:2000].decode("latin-1", "replace")
    return head.lstrip().startswith("Error") and bool(_NO_RESULTS.search(head))


def check_not_html(body: bytes, what: str) -> None:
    head = body[:200].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml")):
        title = re.search(rb"<title>(.*?)</title>", body[:4000], re.IGNORECASE | re.DOTALL)
        raise ErddapError(
            f"{what}: the server answered an HTML page instead of data"
            + (f" ({title.group(1).decode('latin-1').strip()})" if title else "")
        )


def read_nc_header_rows(body: bytes) -> int:
    """Rows a request would return, from its ``.ncHeader`` (CDL text: ``row = 1234 ;``)."""
    if is_no_results(body):
        return 0
    check_not_html(body, ".ncHeader")
    m = _ROWS.search(body.decode("latin-1", "replace"))
    if not m:
        raise ErddapError(".ncHeader answer has no 'row' dimension")
    return int(m.group(1))


def read_nc(body: bytes, what: str = "ERDDAP .nc answer") -> pd.DataFrame:
    """Decode a tabledap ``.nc`` answer into a DataFrame of ERDDAP columns.

    Raises :class:`ErddapError` for HTML pages, truncated or unreadable files.
    """
    import netCDF4

    check_not_html(body, what)
    if not body.startswith((b"CDF\x01", b"CDF\x02", b"\x89HDF")):
        raise ErddapError(f"{what}: not a NetCDF file (starts with {body[:16]!r})")
    expected = classic_expected_size(body[: 1 << 20])
    if expected is not None and len(body) < expected:
        raise ErddapError(f"{what}: truncated ({len(body):,} bytes, its header needs {expected:,})")
    tmp = None
    try:
        ds = netCDF4.Dataset("erddap.nc", mode="r", memory=body)
    except OSError:
        # netCDF-C refuses some classic files from memory (trailing padding after the last
        # record); the same bytes read fine from a file
        import tempfile

        tmp = tempfile.NamedTemporaryFile(suffix=".nc", delete=False)  # noqa: SIM115 — closed below
        tmp.write(body)
        tmp.close()
        try:
            ds = netCDF4.Dataset(tmp.name, mode="r")
        except OSError as exc:
            os.unlink(tmp.name)
            raise ErddapError(f"{what}: unreadable NetCDF ({exc})") from exc
    try:
        ds.set_auto_maskandscale(False)
        ds.set_always_mask(False)
        ds.set_auto_chartostring(False)
        cols: dict[str, np.ndarray] = {}
        for name, var in ds.variables.items():
            raw = var[:]
            if var.dtype.kind == "S" or getattr(raw, "dtype", np.dtype("f")).kind == "S":
                if name.endswith(_QC_SUFFIX):
                    a = np.asarray(raw)
                    cols[name] = decode_qc(a[:, 0] if a.ndim == 2 else a).astype(np.int8)
                elif var.ndim == 2 and var.shape[1] > 1:
                    cols[name] = _decode_rows(np.asarray(raw))
                else:
                    a = np.asarray(raw)
                    cols[name] = decode_char1(a[:, 0] if a.ndim == 2 else a).astype(object)
            elif var.dtype.kind == "f":
                cols[name] = to_float(var, raw, dtype=np.float64 if var.dtype.itemsize == 8 else np.float32)
            else:
                a = to_float(var, raw, dtype=np.float64)
                cols[name] = a
        return _finish(pd.DataFrame(cols))
    finally:
        ds.close()
        if tmp is not None:
            os.unlink(tmp.name)


def read_csv(body: bytes, what: str = "ERDDAP .csv answer") -> pd.DataFrame:
    """Decode a tabledap ``.csv`` answer (second line = units) into the same columns as :func:`read_nc`."""
    check_not_html(body, what)
    try:
        df = pd.read_csv(io.BytesIO(body), skiprows=[1], dtype=str, keep_default_na=False)
    except Exception as exc:  # pandas raises several parser errors
        raise ErddapError(f"{what}: unreadable CSV ({exc})") from exc
    cols: dict[str, np.ndarray] = {}
    for name in df.columns:
        s = df[name].str.strip()
        if name.endswith(_QC_SUFFIX):
            cols[name] = pd.to_numeric(s, errors="coerce").fillna(-1).astype(np.int8).to_numpy()
        elif name == "time":
            cols[name] = s.to_numpy()
        else:
            num = pd.to_numeric(s.replace({"NaN": None, "": None}), errors="coerce")
            is_text = name in ("platform_number", "direction", "data_mode", "vertical_sampling_scheme")
            cols[name] = s.to_numpy(dtype=object) if is_text else num.to_numpy(dtype=np.float64)
    out = pd.DataFrame(cols)
    if "time" in out:
        out["time"] = pd.to_datetime(out["time"], utc=True, errors="coerce")
    return _finish(out, time_done=True)


def _decode_rows(a: np.ndarray) -> np.ndarray:
    """A (row, strlen) char array → object array of stripped str, decoding each distinct row once
    (ERDDAP repeats profile strings such as the 200-character sampling scheme on every level)."""
    if a.ndim != 2 or a.shape[0] == 0:
        return decode_chars(a).astype(object)
    rows = np.ascontiguousarray(a).view(f"S{a.shape[1]}").reshape(-1)
    uniq, inverse = np.unique(rows, return_inverse=True)
    text = np.array([u.decode("latin-1").strip(" \x00") for u in uniq], dtype=object)
    return text[inverse.reshape(-1)]


def _finish(df: pd.DataFrame, time_done: bool = False) -> pd.DataFrame:
    if "time" in df and not time_done:
        secs = df["time"].to_numpy(dtype=np.float64)
        ok = np.isfinite(secs)
        ns = np.where(ok, np.rint(secs * 1e9), 0).astype(np.int64).view("datetime64[ns]")
        ns[~ok] = np.datetime64("NaT")
        df["time"] = pd.DatetimeIndex(ns).tz_localize("UTC")
    for c in ("cycle_number", "config_mission_number"):
        if c in df:
            df[c] = (
                pd.array(np.where(np.isfinite(df[c].astype(float)), df[c], np.nan), dtype="Int64")
                if df[c].isna().any()
                else df[c].astype(np.int64)
            )
    if "platform_number" in df:
        df["platform_number"] = df["platform_number"].astype(str).str.strip()
    return df


def profile_ids(platform_number: np.ndarray, cycle_number: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Deterministic ids for live profiles: ``-(wmo * 100000 + cycle * 2 + descending)``.

    Negative so they can never be mistaken for database ids; stable across requests.
    """
    uniq, inverse = np.unique(np.asarray(platform_number).astype(str), return_inverse=True)
    wmo = (
        pd.to_numeric(pd.Series(uniq), errors="coerce")
        .fillna(0)
        .astype(np.int64)
        .to_numpy()[inverse.reshape(-1)]
    )
    cyc = np.asarray(cycle_number, dtype=np.int64)
    desc = (np.asarray(direction).astype(str) == "D").astype(np.int64)
    return -(wmo * 100_000 + cyc * 2 + desc)


def _families(df: pd.DataFrame) -> list[str]:
    """Parameter prefixes present (``pres`` first) — any column with an ``_adjusted`` twin or a QC twin."""
    names = set(df.columns)
    fams = sorted(
        {
            c
            for c in names
            if f"{c}_adjusted" in names or (f"{c}_qc" in names and c not in ("time", "position"))
        }
        | {c[: -len("_adjusted")] for c in names if c.endswith("_adjusted")}
    )
    fams = [f for f in fams if not f.endswith(("_adjusted", "_adjusted_error"))]
    return (["pres"] if "pres" in fams else []) + [f for f in fams if f != "pres"]


def to_levels(
    df: pd.DataFrame, dataset: str, mode: str = "standard", parameters: list[str] | None = None
) -> pd.DataFrame:
    """ERDDAP columns → the DAL's long ``profile_levels`` frame, QC mode applied.

    Columns: ``profile_id, platform_number, cycle_number, direction, juld, latitude, longitude,
    position_qc, axis, pres, <param>, <param>_qc, <param>_mode`` (+ raw/adjusted twins in expert
    mode). ``ArgoFloats`` gives each parameter the profile's ``data_mode``. The synthetic-BGC
    dataset serves no data mode: it is inferred as ``'A'`` where an adjusted value exists and
    ``'R'`` elsewhere (so research mode, which needs ``'D'``, never accepts them; the frame's
    ``attrs['data_mode_inferred']`` says so).
    """
    n = len(df)
    fams = _families(df)
    if parameters:
        keep = {"pres", *[p.lower() for p in parameters]}
        fams = [f for f in fams if f in keep]
    out = pd.DataFrame(
        {
            "profile_id": profile_ids(
                df["platform_number"].to_numpy(),
                df["cycle_number"].to_numpy(dtype=np.int64),
                df["direction"].to_numpy() if "direction" in df else np.full(n, "A"),
            ),
            "platform_number": df["platform_number"].astype(str).to_numpy(),
            "cycle_number": df["cycle_number"].to_numpy(dtype=np.int64),
            "direction": (
                df["direction"].astype(str).replace("", "A")
                if "direction" in df
                else pd.Series(np.full(n, "A"))
            ).to_numpy(),
            "juld": df["time"].array if "time" in df else pd.NaT,
            "latitude": df["latitude"].to_numpy(dtype=np.float64),
            "longitude": df["longitude"].to_numpy(dtype=np.float64),
            "position_qc": df["position_qc"].to_numpy() if "position_qc" in df else np.full(n, -1, np.int8),
            "axis": "bgc" if "BGC" in dataset else "core",
        }
    )
    out["juld"] = pd.to_datetime(out["juld"], utc=True)
    inferred = "data_mode" not in df
    for f in fams:
        raw = df[f].to_numpy(dtype=np.float64) if f in df else np.full(n, np.nan)
        adj = df[f"{f}_adjusted"].to_numpy(dtype=np.float64) if f"{f}_adjusted" in df else np.full(n, np.nan)
        out[f"{f}_raw"] = raw
        out[f"{f}_raw_qc"] = df[f"{f}_qc"].to_numpy() if f"{f}_qc" in df else np.full(n, -1, np.int8)
        out[f"{f}_adjusted"] = adj
        out[f"{f}_adjusted_qc"] = (
            df[f"{f}_adjusted_qc"].to_numpy() if f"{f}_adjusted_qc" in df else np.full(n, -1, np.int8)
        )
        out[f"{f}_adjusted_error"] = (
            df[f"{f}_adjusted_error"].to_numpy(dtype=np.float64)
            if f"{f}_adjusted_error" in df
            else np.full(n, np.nan)
        )
        if inferred:
            out[f"{f}_data_mode"] = np.where(np.isfinite(adj), "A", "R")
        else:
            out[f"{f}_data_mode"] = df["data_mode"].astype(str).to_numpy()
    levels = apply_qc_mode(out, mode, parameters=fams)
    levels.attrs["data_mode_inferred"] = inferred
    levels.attrs["dataset"] = dataset
    levels = levels.sort_values(["juld", "profile_id"], kind="stable", ignore_index=True)
    levels.insert(
        levels.columns.get_loc("axis") + 1,
        "level",
        levels.groupby("profile_id", sort=False).cumcount().to_numpy(np.int32),
    )
    return levels
