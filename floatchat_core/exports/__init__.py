"""Exports of answers and DAL results: CSV, Parquet and NetCDF with provenance.

* :func:`to_csv` — ``#``-prefixed provenance lines, then the table (read back with
  ``pd.read_csv(path, comment="#")``); times in ISO 8601 UTC.
* :func:`to_parquet` — the table with the provenance (JSON) and per-column units in the schema
  metadata (``floatchat_provenance``, ``floatchat_units``).
* :func:`to_netcdf` — profile-level frames (``profile_id``, ``pres`` and Argo parameters) become
  an Argo multi-profile file (``N_PROF × N_LEVELS``: ``PLATFORM_NUMBER``, ``CYCLE_NUMBER``,
  ``DIRECTION``, ``JULD`` in days since 1950-01-01, ``LATITUDE``/``LONGITUDE``, ``POSITION_QC``,
  ``DATA_MODE``, ``<PARAM>``, ``<PARAM>_QC``, ``<PARAM>_ADJUSTED``…, fill values, units, long
  names) that :func:`floatchat_core.argo.open_profiles` reads back and the ingestion re-ingests
  to the same content; any other frame becomes a CF table (dimension ``row``).

Provenance (``query``, ``qc_mode``, ``source``, ``sql``…, whatever the caller gives) is written
with the time of export in every format. Expert-mode level frames (``<p>_raw``, ``<p>_adjusted``
twins) export with full fidelity; other modes export the chosen values (adjusted values go to
``<PARAM>_ADJUSTED`` when their mode is A or D, raw values to ``<PARAM>``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..argo.variables import BY_COLUMN, CORE_PARAMETERS

log = logging.getLogger(__name__)

__all__ = [
    "column_attributes",
    "export",
    "export_command",
    "export_profiles",
    "is_profile_frame",
    "to_bytes",
    "to_csv",
    "to_netcdf",
    "to_parquet",
]

FILL_FLOAT = np.float32(99999.0)
FILL_DOUBLE = 999999.0
FILL_INT = np.int32(99999)

_EXTRA_ATTRS: dict[str, dict[str, str]] = {
    "juld": {"long_name": "Julian day (UTC) of the station", "standard_name": "time"},
    "time": {"long_name": "Time (UTC)", "standard_name": "time"},
    "month": {"long_name": "Month (UTC month start)", "standard_name": "time"},
    "latitude": {
        "units": "degree_north",
        "long_name": "Latitude of the station, best estimate",
        "standard_name": "latitude",
    },
    "longitude": {
        "units": "degree_east",
        "long_name": "Longitude of the station, best estimate",
        "standard_name": "longitude",
    },
    "platform_number": {"long_name": "Float unique identifier (WMO)"},
    "cycle_number": {"long_name": "Float cycle number"},
    "distance_m": {"units": "m", "long_name": "Distance from the query point"},
    "SA": {
        "units": "g/kg",
        "long_name": "Absolute Salinity (TEOS-10)",
        "standard_name": "sea_water_absolute_salinity",
    },
    "CT": {
        "units": "degree_Celsius",
        "long_name": "Conservative Temperature (TEOS-10)",
        "standard_name": "sea_water_conservative_temperature",
    },
    "sigma0": {"units": "kg/m^3", "long_name": "Potential density anomaly referenced to 0 dbar (TEOS-10)"},
    "mld": {"units": "decibar", "long_name": "Mixed-layer depth (0.03 kg/m3 sigma0 threshold from 10 dbar)"},
}
_STANDARD_NAMES = {
    "pres": "sea_water_pressure",
    "temp": "sea_water_temperature",
    "psal": "sea_water_practical_salinity",
    "doxy": "moles_of_oxygen_per_unit_mass_in_sea_water",
}


def column_attributes(name: str) -> dict[str, str]:
    """CF attributes (``units``, ``long_name``, ``standard_name``) of a frame column, when known."""
    if name in _EXTRA_ATTRS:
        return dict(_EXTRA_ATTRS[name])
    base = name
    for suffix in ("_adjusted_error", "_adjusted_qc", "_adjusted", "_raw_qc", "_raw", "_qc", "_mode"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            break
    p = BY_COLUMN.get(base)
    if p is None:
        return {}
    if name.endswith("_qc"):
        return {"long_name": f"quality flag of {p.long_name}", "conventions": "Argo reference table 2"}
    if name.endswith("_mode"):
        return {"long_name": f"data mode of the chosen {p.name} value", "conventions": "R, A or D"}
    out = {"units": p.units, "long_name": p.long_name}
    if base in _STANDARD_NAMES and not name.endswith("_error"):
        out["standard_name"] = _STANDARD_NAMES[base]
    if name.endswith("_adjusted_error"):
        out["long_name"] = f"error on the adjusted {p.name} values"
    return out


def _provenance(provenance: Mapping[str, Any] | None) -> dict[str, Any]:
    prov = dict(provenance or {})
    prov.setdefault("exported_at", dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    prov.setdefault("software", f"FloatChat Workbench {__version__}")
    return prov


def _json(v: Any) -> str:
    return json.dumps(v, default=str, ensure_ascii=False)


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    t = frame.copy()
    t.attrs = {}
    for c in t.columns:
        if t[c].dtype == object and t[c].map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any():
            t[c] = t[c].map(
                lambda v: ",".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray)) else v
            )
    return t


def to_csv(frame: pd.DataFrame, path, provenance: Mapping[str, Any] | None = None) -> Path:
    """CSV with ``# key: value`` provenance lines and a ``# units:`` line; returns the path."""
    path = Path(path)
    prov = _provenance(provenance)
    t = _prepare(frame)
    for c in t.columns:
        if isinstance(t[c].dtype, pd.DatetimeTZDtype):
            t[c] = t[c].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").str.replace(".000000Z", "Z")
    units = {c: column_attributes(str(c)).get("units") for c in t.columns}
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for k, v in prov.items():
            text = v if isinstance(v, str) else _json(v)
            fh.write(f"# {k}: {' '.join(str(text).split())}\n")
        fh.write("# units: " + _json({k: v for k, v in units.items() if v}) + "\n")
        t.to_csv(fh, index=False)
    return path


def to_parquet(frame: pd.DataFrame, path, provenance: Mapping[str, Any] | None = None) -> Path:
    """Parquet with provenance and units in the schema metadata; returns the path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    prov = _provenance(provenance)
    table = pa.Table.from_pandas(_prepare(frame), preserve_index=False)
    units = {str(c): column_attributes(str(c)) for c in frame.columns if column_attributes(str(c))}
    meta = dict(table.schema.metadata or {})
    meta[b"floatchat_provenance"] = _json(prov).encode()
    meta[b"floatchat_units"] = _json(units).encode()
    pq.write_table(table.replace_schema_metadata(meta), path, compression="zstd")
    return path


def is_profile_frame(frame: pd.DataFrame) -> bool:
    """True for profile-level frames (one row per level): what an Argo profile file can hold."""
    need = {"profile_id", "platform_number", "cycle_number", "juld", "latitude", "longitude", "pres"}
    return need <= set(frame.columns)


def to_netcdf(frame: pd.DataFrame, path, provenance: Mapping[str, Any] | None = None) -> Path:
    """NetCDF: an Argo multi-profile file for level frames, a CF table otherwise; returns the path."""
    path = Path(path)
    prov = _provenance(provenance)
    if is_profile_frame(frame):
        from .argo_netcdf import write_argo_profiles

        write_argo_profiles(frame, path, prov)
    else:
        _write_cf_table(frame, path, prov)
    return path


def _global_attrs(prov: dict[str, Any], title: str) -> dict[str, str]:
    attrs = {
        "title": title,
        "institution": "FloatChat Workbench export",
        "source": "Argo float",
        "references": "http://www.argodatamgt.org/Documentation",
        "history": f"{prov['exported_at']} exported by {prov['software']}",
        "date_created": prov["exported_at"],
        "user_manual_version": "3.1",
    }
    for k, v in prov.items():
        attrs[f"floatchat_{k}"] = v if isinstance(v, str) else _json(v)
    for key in ("query", "question", "qc_mode", "source"):
        if key in prov:
            attrs[key if key != "source" else "data_source"] = (
                str(prov[key]) if not isinstance(prov[key], str) else prov[key]
            )
    return attrs


def _write_cf_table(frame: pd.DataFrame, path: Path, prov: dict[str, Any]) -> None:
    import netCDF4

    t = _prepare(frame).reset_index(drop=True)
    with netCDF4.Dataset(str(path), "w", format="NETCDF4") as ds:
        ds.createDimension("row", len(t))
        for c in t.columns:
            name = str(c)
            s = t[c]
            attrs = column_attributes(name)
            if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s):
                ts = pd.to_datetime(s, utc=True)
                v = ds.createVariable(name, "f8", ("row",), fill_value=FILL_DOUBLE)
                secs = (ts - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds().to_numpy()
                v[:] = np.where(np.isfinite(secs), secs, FILL_DOUBLE)
                attrs.update(units="seconds since 1970-01-01T00:00:00Z", calendar="standard")
            elif pd.api.types.is_bool_dtype(s):
                v = ds.createVariable(name, "i1", ("row",))
                v[:] = s.to_numpy().astype(np.int8)
            elif pd.api.types.is_integer_dtype(s):
                v = ds.createVariable(name, "i8", ("row",), fill_value=np.int64(-(2**63) + 1))
                v[:] = s.fillna(-(2**63) + 1).to_numpy(np.int64)
            elif pd.api.types.is_float_dtype(s):
                v = ds.createVariable(name, "f8", ("row",), fill_value=FILL_DOUBLE, zlib=True)
                a = s.to_numpy(np.float64)
                v[:] = np.where(np.isfinite(a), a, FILL_DOUBLE)
            else:
                v = ds.createVariable(name, str, ("row",))
                o = s.astype(object)
                v[:] = o.where(o.notna(), "").astype(str).to_numpy(dtype=object)
            for k, val in attrs.items():
                v.setncattr(k, val)
        ds.setncatts(
            {
                "Conventions": "CF-1.10",
                "featureType": "point" if "latitude" in t else "",
                **_global_attrs(prov, "FloatChat Workbench export"),
            }
        )


def export_profiles(
    path,
    fmt: str | None = None,
    *,
    platform_numbers: list[str] | None = None,
    parameters: list[str] | None = None,
    mode: str = "expert",
    provenance: dict | None = None,
    settings=None,
    **filters,
) -> Path:
    """Profiles from the local database (DAL filters) with their levels → file.

    Profile metadata (direction, position QC, data mode) from ``find_profiles`` is joined to the
    levels so the NetCDF export is a complete Argo file.
    """
    from ..db import dal

    if platform_numbers:
        filters["platform_numbers"] = [str(p) for p in platform_numbers]
    filters.setdefault("limit", None)
    prof = dal.find_profiles(settings=settings, **filters)
    levels = dal.profile_levels(
        prof["profile_id"].tolist(), parameters=parameters, mode=mode, settings=settings
    )
    meta = prof[["profile_id", "direction", "position_qc", "data_mode"]]
    frame = levels.merge(meta, on="profile_id", how="left")
    prov = {
        "query": _json({k: v for k, v in filters.items() if v is not None}),
        "qc_mode": mode,
        "source": "local",
        "n_profiles": len(prof),
        **(provenance or {}),
    }
    return export(frame, path, fmt, prov)


def export(
    frame: pd.DataFrame, path, fmt: str | None = None, provenance: Mapping[str, Any] | None = None
) -> Path:
    """Write ``frame`` as ``fmt`` (``csv | parquet | netcdf``; default from the file suffix)."""
    path = Path(path)
    fmt = fmt or {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".nc": "netcdf"}.get(
        path.suffix.lower()
    )
    writers = {"csv": to_csv, "parquet": to_parquet, "netcdf": to_netcdf}
    if fmt not in writers:
        raise ValueError(
            f"export format must be one of {sorted(writers)} (or a .csv/.parquet/.nc path), not {fmt!r}"
        )
    return writers[fmt](frame, path, provenance)


CORE_COLUMNS = tuple(p.column for p in CORE_PARAMETERS)


def export_command(
    out,
    fmt: str | None = None,
    *,
    platform_numbers: list[str] | None = None,
    question: str | None = None,
    mode: str = "expert",
    parameters: list[str] | None = None,
    settings=None,
) -> tuple[Path, str]:
    """What ``floatchat export`` does: floats from the database, or the answer to a question → file.

    Returns the written path and a one-line summary.
    """
    out = Path(out)
    if bool(platform_numbers) == bool(question):
        raise ValueError("give either --float WMO (one or more) or --question TEXT")
    if platform_numbers:
        path = export_profiles(
            out, fmt, platform_numbers=platform_numbers, parameters=parameters, mode=mode, settings=settings
        )
        return path, f"exported float(s) {', '.join(platform_numbers)} ({mode} QC) to {path}"
    from ..chat import ask

    answer = ask(question, settings=settings)
    if answer.clarification:
        raise ValueError(f"the question needs a clarification: {answer.clarification}")
    if answer.frame is None or answer.frame.empty:
        raise ValueError(f"nothing to export: {answer.text}")
    prov = dict(answer.provenance or {})
    prov.setdefault("question", question)
    path = export(answer.frame, out, fmt, prov)
    return path, f"exported {len(answer.frame):,} rows ({answer.text[:120]}) to {path}"


def to_bytes(frame: pd.DataFrame, fmt: str, provenance: Mapping[str, Any] | None = None) -> bytes:
    """The export as bytes (for download buttons: ``pn.widgets.FileDownload(callback=…)`` wants a
    file-like object — wrap the result in ``io.BytesIO``)."""
    import tempfile

    suffix = {"csv": ".csv", "parquet": ".parquet", "netcdf": ".nc"}.get(fmt)
    if suffix is None:
        raise ValueError(f"export format must be csv, parquet or netcdf, not {fmt!r}")
    with tempfile.TemporaryDirectory(prefix="floatchat-export-") as d:
        path = export(frame, Path(d) / f"export{suffix}", fmt, provenance)
        return path.read_bytes()
