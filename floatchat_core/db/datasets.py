"""Dataset metadata kept in step with the profiles: time range, counts, parameters,
bounding hull and a summary text (a template; an LLM summary only when configured)."""
from __future__ import annotations

import logging
from typing import Any

from ..config import Settings
from .engine import get_engine

log = logging.getLogger(__name__)

# Only touch the row when something changed, so re-ingesting a file leaves it as it was.
_UPDATE_SQL = """
WITH s AS (
  SELECT count(*) AS n_profiles,
         count(DISTINCT platform_number) AS n_floats,
         coalesce(sum(n_levels + n_bgc_levels), 0)::bigint AS n_levels,
         min(juld) AS time_start, max(juld) AS time_end,
         coalesce((SELECT array_agg(DISTINCT x ORDER BY x) FROM profiles p2, unnest(p2.parameters) x
                   WHERE p2.dataset_id = :id), '{}') AS parameters,
         ST_ConvexHull(ST_Collect(position::geometry))::geography AS bbox
  FROM profiles WHERE dataset_id = :id
)
UPDATE datasets d SET n_profiles = s.n_profiles, n_floats = s.n_floats, n_levels = s.n_levels,
       time_start = s.time_start, time_end = s.time_end, parameters = s.parameters, bbox = s.bbox,
       summary = :summary_placeholder, updated_at = now()
FROM s
WHERE d.id = :id AND (d.n_profiles, d.n_floats, d.n_levels, d.time_start, d.time_end, d.parameters,
                      ST_AsEWKB(d.bbox::geometry))
      IS DISTINCT FROM (s.n_profiles, s.n_floats, s.n_levels, s.time_start, s.time_end, s.parameters,
                        ST_AsEWKB(s.bbox::geometry))
RETURNING d.id
"""


def dataset_stats(dataset_id: int, conn=None, settings: Settings | None = None) -> dict[str, Any]:
    from sqlalchemy import text

    sql = text("""
      SELECT d.id, d.name, d.source, d.n_profiles, d.n_floats, d.n_levels, d.time_start, d.time_end, d.parameters,
             ST_XMin(d.bbox::geometry) AS lon_min, ST_XMax(d.bbox::geometry) AS lon_max,
             ST_YMin(d.bbox::geometry) AS lat_min, ST_YMax(d.bbox::geometry) AS lat_max,
             (SELECT array_agg(DISTINCT f.dac) FROM floats f JOIN profiles p USING (platform_number)
               WHERE p.dataset_id = d.id AND f.dac IS NOT NULL) AS dacs,
             (SELECT array_agg(DISTINCT data_mode) FROM profiles p WHERE p.dataset_id = d.id
               AND data_mode IS NOT NULL) AS data_modes
      FROM datasets d WHERE d.id = :id""")
    if conn is None:
        with get_engine(settings=settings).connect() as c:
            return dict(c.execute(sql, {"id": dataset_id}).mappings().one())
    return dict(conn.execute(sql, {"id": dataset_id}).mappings().one())


def summary_text(stats: dict[str, Any]) -> str:
    """A plain template summary: what, where, when, which parameters."""
    if not stats.get("n_profiles"):
        return f"Dataset {stats['name']}: no profiles yet."
    t0, t1 = stats["time_start"], stats["time_end"]
    span = f"from {t0:%Y-%m-%d} to {t1:%Y-%m-%d}" if t0 is not None and t1 is not None else "with unknown dates"
    box = ""
    if stats.get("lat_min") is not None:
        box = (f" within {stats['lat_min']:.1f}..{stats['lat_max']:.1f}°N, "
               f"{stats['lon_min']:.1f}..{stats['lon_max']:.1f}°E")
    params = ", ".join(stats.get("parameters") or []) or "no parameters"
    dacs = ", ".join(x for x in (stats.get("dacs") or []) if x)
    modes = {"R": "real-time", "A": "adjusted", "D": "delayed-mode"}
    dm = ", ".join(modes.get(m, m) for m in sorted(stats.get("data_modes") or []))
    return (f"Argo dataset {stats['name']}: {stats['n_profiles']:,} profiles from {stats['n_floats']:,} "
            f"float(s) {span}{box}. Parameters: {params}."
            + (f" Data assembly centre(s): {dacs}." if dacs else "")
            + (f" Data modes: {dm}." if dm else ""))


def update_dataset_metadata(dataset_id: int, settings: Settings | None = None) -> bool:
    """Recompute a dataset's metadata from its profiles. Returns whether anything changed."""
    from sqlalchemy import text

    with get_engine(settings=settings).begin() as c:
        changed = c.execute(text(_UPDATE_SQL.replace(":summary_placeholder", "d.summary")),
                            {"id": dataset_id}).scalar() is not None
        if changed:
            stats = dataset_stats(dataset_id, conn=c)
            c.execute(text("UPDATE datasets SET summary = :s WHERE id = :id"),
                      {"s": summary_text(stats), "id": dataset_id})
    return changed


def update_all_dataset_metadata(settings: Settings | None = None) -> list[int]:
    """Recompute every dataset's metadata; returns the ids that changed.

    A profile belongs to the dataset of the file that last supplied its header, so an
    ingestion can take profiles away from other datasets: all of them are checked (a
    no-op for datasets whose figures did not move).
    """
    from sqlalchemy import text

    with get_engine(settings=settings).connect() as c:
        ids = [r[0] for r in c.execute(text("SELECT id FROM datasets ORDER BY id"))]
    return [i for i in ids if update_dataset_metadata(i, settings)]


def set_summary(dataset_id: int, summary: str, *, source: str = "template", settings: Settings | None = None) -> None:
    """Store a dataset's summary text and where it came from (``metadata.summary_source``)."""
    from sqlalchemy import text

    with get_engine(settings=settings).begin() as c:
        c.execute(text("UPDATE datasets SET summary = :s, updated_at = now(), "
                       "metadata = metadata || jsonb_build_object('summary_source', CAST(:src AS text)) "
                       "WHERE id = :id"), {"s": summary, "src": source, "id": int(dataset_id)})
