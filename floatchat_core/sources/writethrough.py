"""Live results into the local database (write-through), so the local fallback improves over time.

ERDDAP rows (its own columns, as :func:`.processors.read_nc` returns them) become a
:class:`~floatchat_core.argo.batch.ProfileBatch` and go through the ordinary COPY writer into
their own dataset (``erddap-live`` by default). Their group rank (:data:`ERDDAP_RANK`) is below
every Argo file kind, so a profile already ingested from a GDAC file is never overwritten by
its ERDDAP copy, and writing the same answer twice changes nothing (idempotent upsert on the
profile key).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..argo.batch import LevelGroup, ParameterLevels, ProfileBatch
from ..argo.decode import datetime64_to_juld
from ..argo.variables import BY_COLUMN
from ..config import Settings

log = logging.getLogger(__name__)

#: Precedence of ERDDAP-served levels: below every file kind (Sprof = 10).
ERDDAP_RANK = 5
DEFAULT_DATASET = "erddap-live"

__all__ = ["DEFAULT_DATASET", "ERDDAP_RANK", "batch_from_erddap", "write_through"]


def _f32(df: pd.DataFrame, name: str, n: int) -> np.ndarray:
    return df[name].to_numpy(dtype=np.float32) if name in df else np.full(n, np.nan, np.float32)


def _qc(df: pd.DataFrame, name: str, n: int) -> np.ndarray:
    return df[name].to_numpy().astype(np.int8) if name in df else np.full(n, -1, np.int8)


def batch_from_erddap(raw: pd.DataFrame, dataset: str) -> ProfileBatch:
    """ERDDAP rows → one columnar batch (profiles keyed by platform, cycle, direction).

    ``ArgoFloats`` rows fill the core group with the profile ``data_mode``; synthetic-BGC rows
    fill the core group and a BGC group on the same (merged) axis, with the parameter data
    mode inferred as ``'A'`` where the profile has adjusted values and ``'R'`` otherwise
    (that dataset serves none).
    """
    df = raw.copy()
    df["direction"] = df["direction"].astype(str).replace("", "A") if "direction" in df else "A"
    df = df.sort_values(["platform_number", "cycle_number", "direction"], kind="stable", ignore_index=True)
    n_rows = len(df)
    key = df["platform_number"].astype(str) + "|" + df["cycle_number"].astype(str) + "|" + df["direction"]
    starts = (
        np.flatnonzero(np.r_[True, key.to_numpy()[1:] != key.to_numpy()[:-1]])
        if n_rows
        else np.array([], int)
    )
    n = len(starts)
    offsets = np.r_[starts, n_rows].astype(np.int64)
    first = df.iloc[starts]
    prof_of_row = np.repeat(np.arange(n), np.diff(offsets))

    def per_profile_mode(col: str) -> np.ndarray:
        if "data_mode" in df:
            return first["data_mode"].astype(str).to_numpy().astype("<U1")
        has = np.zeros(n, bool)
        if f"{col}_adjusted" in df:
            np.logical_or.at(has, prof_of_row, np.isfinite(df[f"{col}_adjusted"].to_numpy(dtype=np.float64)))
        return np.where(has, "A", "R").astype("<U1")

    def levels(col: str) -> ParameterLevels:
        return ParameterLevels(
            BY_COLUMN[col],
            _f32(df, col, n_rows),
            _qc(df, f"{col}_qc", n_rows),
            _f32(df, f"{col}_adjusted", n_rows),
            _qc(df, f"{col}_adjusted_qc", n_rows),
            _f32(df, f"{col}_adjusted_error", n_rows),
            per_profile_mode(col),
            np.full(n, "", "<U1"),
        )

    is_bgc = "BGC" in dataset
    core = LevelGroup(
        "core",
        ERDDAP_RANK,
        offsets,
        levels("pres"),
        {BY_COLUMN[c].name: levels(c) for c in ("temp", "psal") if c in df or f"{c}_adjusted" in df},
    )
    groups = {"core": core}
    if is_bgc:
        bgc_cols = [
            p.column
            for p in BY_COLUMN.values()
            if p.is_bgc and (p.column in df or f"{p.column}_adjusted" in df)
        ]
        if bgc_cols:
            groups["bgc"] = LevelGroup(
                "bgc", ERDDAP_RANK, offsets, levels("pres"), {BY_COLUMN[c].name: levels(c) for c in bgc_cols}
            )
    t = (
        pd.to_datetime(first["time"], utc=True).dt.tz_localize(None).to_numpy("datetime64[us]")
        if "time" in first
        else np.full(n, np.datetime64("NaT"), "datetime64[us]")
    )
    juld = datetime64_to_juld(t)
    empty = np.full(n, "", dtype=object)
    cmn = first["config_mission_number"] if "config_mission_number" in first else pd.Series(np.full(n, -1))
    return ProfileBatch(
        source_file=f"erddap:{dataset}",
        file_kind="Sprof" if is_bgc else "prof",
        platform_number=first["platform_number"].astype(str).to_numpy().astype("<U12"),
        cycle_number=first["cycle_number"].to_numpy(dtype=np.int32),
        direction=first["direction"].astype(str).to_numpy().astype("<U1"),
        scheme_index=np.zeros(n, np.int16),
        juld=juld,
        juld_qc=_qc(first, "time_qc", n),
        juld_location=juld.copy(),
        latitude=first["latitude"].to_numpy(dtype=np.float64),
        longitude=first["longitude"].to_numpy(dtype=np.float64),
        position_qc=_qc(first, "position_qc", n),
        data_mode=(
            first["data_mode"].astype(str).to_numpy().astype("<U1")
            if "data_mode" in first
            else np.full(n, "", "<U1")
        ),
        vertical_sampling_scheme=(
            first["vertical_sampling_scheme"].astype(str).to_numpy(dtype=object)
            if "vertical_sampling_scheme" in first
            else empty
        ),
        config_mission_number=pd.to_numeric(cmn, errors="coerce").fillna(-1).to_numpy().astype(np.int32),
        positioning_system=empty,
        data_centre=empty,
        dc_reference=empty,
        project_name=empty,
        pi_name=empty,
        platform_type=empty,
        groups=groups,
    )


def write_through(
    raw: pd.DataFrame, dataset: str, dataset_name: str = DEFAULT_DATASET, settings: Settings | None = None
) -> dict:
    """Store ERDDAP rows in the local database (own dataset, one transaction). Returns counts.

    Never raises for a database problem: the live answer is already served; the failure is
    logged and reported in the result (``ok=False``).
    """
    if raw is None or raw.empty:
        return {"ok": True, "n_profiles": 0, "n_levels": 0, "dataset": dataset_name}
    from ..argo.cleaning import clean
    from ..db.datasets import update_dataset_metadata
    from ..db.engine import raw_connection
    from ..db.jobs import get_or_create_dataset
    from ..db.maintenance import refresh_views
    from ..db.writer import bump_cache_generation, write_batch

    try:
        batch = clean(batch_from_erddap(raw, dataset))
        ds_id = get_or_create_dataset(
            dataset_name,
            source="erddap",
            description="Profiles served live by ERDDAP, written through",
            settings=settings,
        )
        conn = raw_connection(settings=settings)
        try:
            res = write_batch(conn, batch, ds_id)
            bump_cache_generation(conn)
            conn.commit()
        except Exception:
            conn.rollback()
            raise
        finally:
            conn.close()
        update_dataset_metadata(ds_id, settings=settings)
        refresh_views(settings=settings)
        log.info(
            "erddap.write_through dataset=%s profiles=%d levels=%d",
            dataset_name,
            res.n_profiles,
            res.n_levels,
        )
        return {
            "ok": True,
            "n_profiles": res.n_profiles,
            "n_levels": res.n_levels,
            "dataset": dataset_name,
            "dataset_id": ds_id,
        }
    except Exception as exc:  # noqa: BLE001 — the answer is served; storing it is best effort
        log.warning("erddap.write_through_failed error=%s", exc)
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "dataset": dataset_name}
