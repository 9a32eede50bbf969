"""Synthetic floats written straight into ``floats``/``profiles``/``float_positions`` for the
search labelled set and benchmark (20,000 floats in seconds, no NetCDF round trip).

Each float is a spec row; its profiles are generated in SQL (``generate_series``): positions
move linearly from (``lon0``, ``lat0``) to (``lon1``, ``lat1``), times from ``t0`` to ``t1``,
and every profile holds three levels of each parameter in ``parameters`` (so the generated
``profiles.parameters`` column is right). Values are placeholders, *not* data. Platform
numbers should not collide with real WMO numbers (use 7,000,000+ / 9,000,000+).
"""
from __future__ import annotations

import pandas as pd

from ..config import Settings
from .engine import get_engine

SPEC_COLUMNS = ("platform_number", "dac", "data_centre", "project_name", "pi_name", "platform_type",
                "platform_maker", "is_bgc", "is_deep", "parameters", "lon0", "lat0", "lon1", "lat1", "t0", "t1",
                "n_profiles", "data_mode")

_PROFILES = """
INSERT INTO profiles (platform_number, cycle_number, direction, scheme_index, dataset_id, juld, juld_qc,
                      latitude, longitude, position_qc, data_mode, data_centre, project_name, pi_name,
                      platform_type, header_rank, header_source, core_rank, core_source, bgc_rank, bgc_source,
                      pres, temp, psal, bgc_pres, doxy, chla, nitrate, ph_in_situ_total, bbp700, downwelling_par)
SELECT s.platform_number, g.i, 'A', 0, %(ds)s,
       s.t0 + (s.t1 - s.t0) * ((g.i - 1)::float8 / greatest(s.n_profiles - 1, 1)), 1,
       s.lat0 + (s.lat1 - s.lat0) * ((g.i - 1)::float8 / greatest(s.n_profiles - 1, 1)),
       ((s.lon0 + (s.lon1 - s.lon0) * ((g.i - 1)::float8 / greatest(s.n_profiles - 1, 1)) + 180.0)
         - 360.0 * floor((s.lon0 + (s.lon1 - s.lon0) * ((g.i - 1)::float8 / greatest(s.n_profiles - 1, 1))
                          + 180.0) / 360.0)) - 180.0,
       1, s.data_mode, s.data_centre, s.project_name, s.pi_name, s.platform_type,
       1, 'synthetic', 1, 'synthetic', CASE WHEN s.has_bgc THEN 1 ELSE 0 END, 'synthetic',
       '{5,100,1000}'::real[],
       CASE WHEN 'TEMP' = ANY(s.parameters) THEN '{20,12,4}'::real[] END,
       CASE WHEN 'PSAL' = ANY(s.parameters) THEN '{35.1,35.0,34.8}'::real[] END,
       CASE WHEN s.has_bgc THEN '{5,100,1000}'::real[] END,
       CASE WHEN 'DOXY' = ANY(s.parameters) THEN '{240,200,150}'::real[] END,
       CASE WHEN 'CHLA' = ANY(s.parameters) THEN '{0.3,0.1,0.01}'::real[] END,
       CASE WHEN 'NITRATE' = ANY(s.parameters) THEN '{2,15,30}'::real[] END,
       CASE WHEN 'PH_IN_SITU_TOTAL' = ANY(s.parameters) THEN '{8.05,7.95,7.8}'::real[] END,
       CASE WHEN 'BBP700' = ANY(s.parameters) THEN '{0.001,0.0005,0.0001}'::real[] END,
       CASE WHEN 'DOWNWELLING_PAR' = ANY(s.parameters) THEN '{1000,10,0}'::real[] END
FROM _fc_spec s CROSS JOIN LATERAL generate_series(1, s.n_profiles) AS g(i)
ON CONFLICT (platform_number, cycle_number, direction, scheme_index) DO NOTHING
"""

_POSITIONS = """
INSERT INTO float_positions (platform_number, cycle_number, direction, profile_id, juld, latitude, longitude,
                             position, position_qc, position_invalid)
SELECT p.platform_number, p.cycle_number, p.direction, p.id, p.juld, p.latitude, p.longitude, p.position,
       p.position_qc, p.position_invalid
FROM profiles p JOIN _fc_spec s USING (platform_number)
ON CONFLICT (platform_number, cycle_number, direction) DO NOTHING
"""

_FLOATS = """
INSERT INTO floats (platform_number, dac, project_name, pi_name, platform_type, platform_maker, is_bgc, is_deep,
                    parameters, meta_source)
SELECT platform_number, dac, project_name, pi_name, platform_type, platform_maker, is_bgc, is_deep,
       parameters, 'synthetic'
FROM _fc_spec
ON CONFLICT (platform_number) DO NOTHING
"""


def insert_synthetic_floats(spec: pd.DataFrame, dataset: str = "synthetic-search", description: str | None = None,
                            settings: Settings | None = None) -> dict:
    """Write the floats of ``spec`` (columns :data:`SPEC_COLUMNS`; ``t0``/``t1`` UTC timestamps,
    longitudes/latitudes in degrees) with their profiles and positions into dataset ``dataset``;
    then refresh dataset metadata and the materialized views. Existing rows are kept
    (idempotent). Returns ``{"dataset_id", "n_floats", "n_profiles"}``.
    """
    from psycopg2.extras import execute_values

    from .datasets import update_dataset_metadata
    from .jobs import get_or_create_dataset
    from .maintenance import refresh_views

    missing = set(SPEC_COLUMNS) - set(spec.columns)
    if missing:
        raise ValueError(f"synthetic float spec lacks columns {sorted(missing)}")
    ds = get_or_create_dataset(dataset, source="synthetic", description=description, settings=settings)
    bgc_names = {"DOXY", "CHLA", "NITRATE", "PH_IN_SITU_TOTAL", "BBP700", "DOWNWELLING_PAR"}
    rows = [(str(r.platform_number), r.dac, r.data_centre, r.project_name, r.pi_name, r.platform_type,
             r.platform_maker, bool(r.is_bgc), bool(r.is_deep), list(r.parameters), float(r.lon0), float(r.lat0),
             float(r.lon1), float(r.lat1), pd.Timestamp(r.t0).to_pydatetime(), pd.Timestamp(r.t1).to_pydatetime(),
             int(r.n_profiles), r.data_mode, bool(bgc_names & set(r.parameters)))
            for r in spec.itertuples(index=False)]
    raw = get_engine(settings=settings).raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("""CREATE TEMP TABLE _fc_spec (platform_number text PRIMARY KEY, dac text, data_centre text,
                       project_name text, pi_name text, platform_type text, platform_maker text, is_bgc boolean,
                       is_deep boolean, parameters text[], lon0 float8, lat0 float8, lon1 float8, lat1 float8,
                       t0 timestamptz, t1 timestamptz, n_profiles int, data_mode char(1), has_bgc boolean)
                       ON COMMIT DROP""")
        execute_values(cur, "INSERT INTO _fc_spec VALUES %s", rows, page_size=2000)
        cur.execute(_FLOATS)
        cur.execute(_PROFILES, {"ds": ds})
        n_profiles = cur.rowcount
        cur.execute(_POSITIONS)
        cur.execute("UPDATE app_state SET value = value + 1 WHERE key = 'cache_generation'")
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
    update_dataset_metadata(ds, settings=settings)
    refresh_views(settings=settings)
    return {"dataset_id": ds, "n_floats": len(rows), "n_profiles": n_profiles}
