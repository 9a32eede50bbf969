"""Data Access Layer: every read query of the project (read-only engine).

Functions return pandas DataFrames (or plain dicts) with documented units:
latitude/longitude in degrees, pressure in decibar, time as UTC timestamps.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from ..config import Settings
from ..errors import NotFoundError
from .engine import get_engine


def _frame(sql: str, params: dict[str, Any] | None = None, settings: Settings | None = None) -> pd.DataFrame:
    from sqlalchemy import text

    with get_engine(readonly=True, settings=settings).connect() as c:
        res = c.execute(text(sql), params or {})
        return pd.DataFrame(res.fetchall(), columns=list(res.keys()))


def list_datasets(settings: Settings | None = None) -> pd.DataFrame:
    """Active datasets with their statistics (materialized view ``mv_dataset_stats``)."""
    return _frame("""
        SELECT d.id, d.name, d.source, d.summary, d.parameters, s.n_profiles, s.n_floats, s.n_levels,
               s.time_start, s.time_end, s.lat_min, s.lat_max, s.lon_min, s.lon_max,
               s.n_delayed_mode, s.n_bgc_profiles, d.updated_at
        FROM datasets d JOIN mv_dataset_stats s ON s.dataset_id = d.id
        WHERE d.status = 'active' ORDER BY d.name""", settings=settings)


def get_dataset(dataset_id: int, settings: Settings | None = None) -> dict[str, Any]:
    """One dataset's row; ``NotFoundError`` when there is none."""
    df = _frame("SELECT id, name, source, status, summary, description, time_start, time_end, n_floats, "
                "n_profiles, n_levels, parameters, ST_AsGeoJSON(bbox) AS bbox_geojson, created_at, updated_at "
                "FROM datasets WHERE id = :id", {"id": int(dataset_id)}, settings)
    if df.empty:
        raise NotFoundError(f"no dataset with id {dataset_id}")
    return df.iloc[0].to_dict()


def latest_positions(settings: Settings | None = None) -> pd.DataFrame:
    """The latest valid position of every float (materialized view), with its float type."""
    return _frame("""
        SELECT m.platform_number, m.cycle_number, m.juld, m.latitude, m.longitude,
               coalesce(f.float_type, 'core') AS float_type
        FROM mv_latest_float_positions m LEFT JOIN floats f USING (platform_number)""", settings=settings)


def profile_positions(settings: Settings | None = None) -> pd.DataFrame:
    """Every valid primary-scheme profile position: what the float map rasterizes."""
    return _frame("""
        SELECT platform_number, cycle_number, juld, latitude, longitude FROM float_positions
        WHERE NOT position_invalid""", settings=settings)


def float_trajectory(platform_number: str, settings: Settings | None = None) -> pd.DataFrame:
    """A float's positions in time order (cycle, time, latitude, longitude)."""
    return _frame("""
        SELECT platform_number, cycle_number, direction, juld, latitude, longitude, position_qc
        FROM float_positions WHERE platform_number = :p AND NOT position_invalid
        ORDER BY juld NULLS LAST, cycle_number""", {"p": str(platform_number)}, settings)
