"""GDAC index files: ``ar_index_global_prof.txt``, ``argo_bio-profile_index.txt``,
``argo_synthetic-profile_index.txt``, ``ar_index_global_meta.txt``.

They are CSV with ``#`` comment headers. Dates are ``YYYYMMDDHHMISS`` UTC; ``ocean`` is
the Argo ocean code (A Atlantic, I Indian, P Pacific).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .reader import classify, wmo_from_name

_DATE_COLUMNS = ("date", "date_update")


def read_index(path: str | Path) -> pd.DataFrame:
    """One GDAC index file as a DataFrame, with parsed UTC dates and ``platform_number``,
    ``cycle_number``, ``direction`` and ``kind`` derived from the file path."""
    df = pd.read_csv(path, comment="#", dtype={"file": str, "ocean": "string", "institution": "string",
                                               "profiler_type": "Int64"})
    for col in _DATE_COLUMNS:
        if col in df.columns:
            df[col] = pd.to_datetime(df[col].astype("Int64").astype("string"), format="%Y%m%d%H%M%S",
                                     errors="coerce", utc=True)
    name = df["file"].str.rsplit("/", n=1).str[-1]
    df["platform_number"] = name.map(wmo_from_name)
    cyc = name.str.extract(r"_(\d+)(D?)\.nc$")
    df["cycle_number"] = pd.to_numeric(cyc[0], errors="coerce").astype("Int64")
    df["direction"] = cyc[1].map({"D": "D", "": "A"})
    df["kind"] = name.map(_kind_or_none)
    return df


def _kind_or_none(name: str) -> str | None:
    try:
        return classify(name)
    except Exception:  # noqa: BLE001 - index rows of unsupported kinds simply have no kind
        return None
