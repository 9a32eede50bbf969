"""Data Access Layer: every read query of the project, on the read-only engine.

Functions return pandas DataFrames (or plain dicts). Units: latitude/longitude in degrees
(WGS 84, longitudes -180..180), pressure in decibar, time as UTC ``datetime64[ns, UTC]``,
distances and radii in metres (great circle on the mean-radius sphere, 6,371,008.8 m).

Shared filters (``find_profiles``, ``count_profiles``, ``profile_positions``, ``depth_slice``,
``region_profile_values``), all optional and combinable:

``point=(lon, lat)`` + ``radius_m``; ``box=(west, south, east, north)`` (west > east crosses the
antimeridian); ``region`` (a name resolved by ``regions.resolve_region`` — exact, alias, then
fuzzy — or an ``ocean_regions.id``; ``AmbiguousRegionError`` / ``RegionNotFoundError``
otherwise); ``time_start``, ``time_end`` (inclusive, anything ``pd.Timestamp`` takes, UTC when
naive); ``pres_min``, ``pres_max`` (profiles whose pressure range overlaps, dbar);
``parameters`` (Argo names, all must be present); ``platform_numbers``; ``float_type``
(core|bgc|deep); ``data_mode`` (R|A|D); ``dataset_id``; ``direction`` ("A" by default, None for
both); ``limit`` (capped by ``FLOATCHAT_ROW_CAP``); ``primary_only`` (True: the primary sampling
scheme only, so a cycle is one profile).

QC modes (``mode=``), as argopy users know them: ``research`` (delayed-mode adjusted values with
QC 1 only), ``standard`` (adjusted where available else raw, QC 1–2; the default), ``expert``
(everything, raw and adjusted with flags). See ``dalcore.select_values``.

Every call records its SQL for provenance: :func:`last_query`. Results go through the query
cache (``db.cache``) except ``profile_positions`` (possibly millions of rows).
"""
from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..argo.variables import BY_NAME
from ..config import Settings, get_settings
from ..errors import NotFoundError, QueryError
from . import dalcore as core
from . import dallayer as layer
from . import dallevels as levels
from . import dalslice as sl
from .dalcore import QCMode, last_query

log = logging.getLogger(__name__)

__all__ = ["QCMode", "count_profiles", "dataset_stats", "depth_slice", "find_profiles", "float_info",
           "float_trajectory", "floats_by_type", "get_dataset", "last_data_time", "last_query", "latest_positions",
           "list_datasets", "nearest_floats", "profile_levels", "profile_positions", "profiles_with_parameter",
           "region_profile_values"]

_PROFILE_COLS = ("p.id AS profile_id, p.platform_number, p.cycle_number, p.direction, p.juld, p.latitude, "
                 "p.longitude, p.position_qc, p.data_mode, p.parameters, p.n_levels, p.n_bgc_levels, "
                 "p.pres_min, p.pres_max, p.dataset_id")
_PT = "ST_SetSRID(ST_MakePoint(:pt_lon, :pt_lat), 4326)::geography"
#: find_profiles' columns as COPY sends them to ``_copy_read``: the time as exact epoch µs, the
#: parameters as one comma-joined text (Argo names hold no commas)
_PROFILE_COPY_COLS = _PROFILE_COLS.replace(
    "p.juld,", "(extract(epoch FROM p.juld) * 1000000)::int8 AS juld,").replace(
    "p.parameters,", "array_to_string(p.parameters, ',') AS parameters,")
_PROFILE_DTYPES = {"profile_id": None, "platform_number": str, "cycle_number": None, "direction": str,
                   "juld": "Int64", "latitude": None, "longitude": None, "position_qc": None, "data_mode": str,
                   "parameters": str, "n_levels": None, "n_bgc_levels": None, "pres_min": None, "pres_max": None,
                   "dataset_id": None}


def _profiles_frame(c, sql: str, params: dict, with_distance: bool, prefix: str = "") -> pd.DataFrame:
    """``find_profiles``' rows read by COPY and pandas' C parser: a result's per-row Python
    objects (timestamps with time zones, text arrays as lists, then a DataFrame of tuples) cost
    more than the query for 1,000 profiles (~25 of 60 ms at 1 M profiles)."""
    dtypes = dict(_PROFILE_DTYPES, **({"distance_m": None} if with_distance else {}))
    df = _copy_read(c.connection.dbapi_connection, sql.replace(_PROFILE_COLS, _PROFILE_COPY_COLS, 1), params,
                    dtypes, epoch_cols=("juld",), prefix=prefix)
    df["parameters"] = pd.Series([x.split(",") if isinstance(x, str) and x else [] for x in df["parameters"].tolist()],
                                 index=df.index, dtype=object)
    return df


def _where(conds: list[str]) -> str:
    return ("WHERE " + " AND ".join(conds)) if conds else ""


# ----------------------------------------------------------------------------- profiles
def find_profiles(*, order: str = "time_desc", settings: Settings | None = None, **filters) -> pd.DataFrame:
    """Profiles matching the filters, one row each.

    Columns: ``profile_id, platform_number, cycle_number, direction, juld`` (UTC), ``latitude,
    longitude`` (degrees), ``position_qc, data_mode, parameters`` (list of Argo names),
    ``n_levels, n_bgc_levels, pres_min, pres_max`` (dbar), ``dataset_id``; plus ``distance_m``
    (metres) when ``point`` is given. ``order``: ``time_desc`` (default), ``time_asc`` or
    ``distance`` (needs ``point``; nearest first).
    """
    settings = settings or get_settings()
    f = core.make_filters(filters)
    with core.reader(settings) as c:            # one connection: the region's name, the estimates, the rows
        conds, params = core.where_clause(f, settings, conn=c)
        return _find_profiles(c, f, conds, params, order, settings)


def _find_profiles(c, f: core.Filters, conds: list[str], params: dict, order: str,
                   settings: Settings) -> pd.DataFrame:
    """``find_profiles`` on the connection ``c`` (read-only), its filters already in SQL."""
    cols = _PROFILE_COLS
    if f.point is not None:
        cols += f", ST_Distance(p.position, {_PT}, false) AS distance_m"
    if order == "time_desc":
        order_sql = "p.juld DESC NULLS LAST, p.id"
    elif order == "time_asc":
        order_sql = "p.juld ASC NULLS LAST, p.id"
    elif order == "distance":
        if f.point is None:
            raise QueryError("order='distance' needs point=(lon, lat)")
        order_sql = f"p.position <-> {_PT}, p.id"
        conds.append("p.position IS NOT NULL")
    else:
        raise QueryError(f"order must be 'time_desc', 'time_asc' or 'distance', not {order!r}")
    params["limit"] = core.limit_of(f, settings)
    sql = f"SELECT {cols} FROM profiles p {_where(conds)} ORDER BY {order_sql} LIMIT :limit"
    def fetch(c):
        run_sql, prefix = sql, ""
        if order == "time_desc" and core.has_place(f):
            # the estimates' round trip sets GATHER_SETTINGS; a walk's further SET LOCALs go
            # ahead of the COPY, in its round trip
            walk = core.walk_time_index(c, f, params, params["limit"], settings, apply=False)
            prefix = core.settings_sql(walk)
            if walk:
                run_sql = core.walk_sql(cols, core.where_clause(f, settings, walk=True)[0])
            core.ran(run_sql, settings=core.WALK_SETTINGS if walk else core.GATHER_SETTINGS)
        return _profiles_frame(c, run_sql, params, with_distance=f.point is not None, prefix=prefix)
    df = core.utc(core.run("find_profiles", sql, params, settings, fetch=fetch, conn=c), "juld")
    if order == "distance" and not df.empty:
        df = df.sort_values(["distance_m", "profile_id"], kind="stable").reset_index(drop=True)
    if f.region_info:
        df.attrs["region"] = f.region_info
    df.attrs["limit"] = params["limit"]
    return df


def profiles_with_parameter(parameter: str, *, settings: Settings | None = None, **filters) -> pd.DataFrame:
    """``find_profiles(parameters=[parameter], ...)``: profiles holding a (BGC) parameter."""
    params = list(filters.pop("parameters", None) or [])
    return find_profiles(parameters=[parameter, *params], settings=settings, **filters)


def count_profiles(*, settings: Settings | None = None, **filters) -> dict[str, Any]:
    """``{n_profiles, n_floats, time_start, time_end}`` of the profiles matching the filters
    (``limit`` is ignored; times are UTC ``pd.Timestamp`` or None)."""
    settings = settings or get_settings()
    filters.pop("limit", None)
    f = core.make_filters(filters)
    with core.reader(settings) as c:
        conds, params = core.where_clause(f, settings, conn=c)
        sql = (f"SELECT count(*) AS n_profiles, count(DISTINCT p.platform_number) AS n_floats, "
               f"min(p.juld) AS time_start, max(p.juld) AS time_end FROM profiles p {_where(conds)}")
        row = core.run("count_profiles", sql, params, settings, conn=c).iloc[0]
    out = {"n_profiles": int(row.n_profiles), "n_floats": int(row.n_floats),
           "time_start": None if pd.isna(row.time_start) else pd.Timestamp(row.time_start).tz_convert("UTC"),
           "time_end": None if pd.isna(row.time_end) else pd.Timestamp(row.time_end).tz_convert("UTC")}
    if f.region_info:
        out["region"] = f.region_info
    return out


def last_data_time(*, settings: Settings | None = None) -> pd.Timestamp | None:
    """The newest profile time (UTC) in the database; "the last 6 months" is relative to it."""
    df = core.run("last_data_time", "SELECT max(juld) AS t FROM profiles", {}, settings)
    t = df.iloc[0]["t"]
    return None if t is None or pd.isna(t) else pd.Timestamp(t).tz_convert("UTC")


def profile_positions(*, settings: Settings | None = None, **filters) -> pd.DataFrame:
    """Valid positions of profiles: ``platform_number, cycle_number, juld, latitude, longitude``.

    What the float map rasterizes: may be millions of rows, so it is fetched column-wise
    (``COPY … TO STDOUT``) and never cached. Without filters it reads ``float_positions``
    (one primary-scheme position per cycle); with filters, ``profiles`` (``limit`` applies
    when given).
    """
    settings = settings or get_settings()
    if not filters:
        sql = ("SELECT platform_number, cycle_number, (extract(epoch FROM juld) * 1000000)::int8 AS juld, latitude, longitude "
               "FROM float_positions WHERE NOT position_invalid")
        params: dict[str, Any] = {}
    else:
        f = core.make_filters(filters)
        conds, params = core.where_clause(f, settings)
        conds.append("p.position IS NOT NULL")
        lim = f" LIMIT {int(core.limit_of(f, settings))}" if f.limit is not None else ""
        sql = (f"SELECT p.platform_number, p.cycle_number, (extract(epoch FROM p.juld) * 1000000)::int8 AS juld, p.latitude, "
               f"p.longitude FROM profiles p {_where(conds)}{lim}")
    return _copy_frame("profile_positions", sql, params, settings,
                       {"platform_number": str, "cycle_number": "int32", "juld": "Int64",
                        "latitude": "float64", "longitude": "float64"}, epoch_cols=("juld",))


def _copy_read(dbapi_conn, sql: str, params: dict, dtypes: dict, epoch_cols: Sequence[str] = (),
               prefix: str = "") -> pd.DataFrame:
    """``COPY (sql) TO STDOUT`` as CSV on a psycopg2 connection, parsed by pandas' C reader.
    ``dtypes``: every column's dtype in order (None: inferred, as a query result's would be —
    int64, or float64 when it holds NULLs). ``epoch_cols`` hold microseconds since 1970 (int8:
    exact, unlike float seconds). ``prefix``: statements run first in the same round trip
    (``SET LOCAL``s, ``dalcore.settings_sql``)."""
    cur = dbapi_conn.cursor()
    inner = cur.mogrify(core.pyformat(sql), params).decode()
    buf = io.StringIO()
    cur.copy_expert(f"{prefix}COPY ({inner}) TO STDOUT WITH (FORMAT csv)", buf)
    buf.seek(0)
    df = pd.read_csv(buf, header=None, names=list(dtypes), dtype={k: v for k, v in dtypes.items() if v is not None},
                     keep_default_na=False, na_values={c: [""] for c in dtypes if dtypes[c] is not str})
    for c in epoch_cols:
        df[c] = pd.to_datetime(df[c], unit="us", utc=True).astype("datetime64[ns, UTC]")
    return df


def _copy_frame(name: str, sql: str, params: dict, settings: Settings, dtypes: dict,
                epoch_cols: Sequence[str] = ()) -> pd.DataFrame:
    """Columnar fetch, uncached (for results too large to cache): see ``_copy_read``."""
    import time

    from .engine import raw_connection

    t0 = time.perf_counter()
    conn = raw_connection(readonly=True, settings=settings)
    try:
        df = _copy_read(conn, sql, params, dtypes, epoch_cols)
        conn.rollback()
    finally:
        conn.close()
    core.record(sql, params, len(df), (time.perf_counter() - t0) * 1000.0, False, function=name)
    return df


# ----------------------------------------------------------------------------- levels
def _ids(profile_ids) -> list[int]:
    if isinstance(profile_ids, int | np.integer):
        return [int(profile_ids)]
    return [int(x) for x in pd.unique(np.asarray(list(profile_ids), dtype=np.int64))]


def profile_levels(profile_ids, parameters: Sequence[str] | None = None, pres_min: float | None = None,
                   pres_max: float | None = None, mode: QCMode = "standard", *,
                   settings: Settings | None = None) -> pd.DataFrame:
    """Levels of one or many profiles, long format (one row per level), in one query.

    Columns: ``profile_id, platform_number, cycle_number, juld, latitude, longitude, axis``
    ('core' = PRES/TEMP/PSAL axis, 'bgc' = the B-file pressure axis), ``level`` (0-based index
    on its axis), ``pres`` (dbar) with ``pres_qc``/``pres_mode``, and per parameter ``<param>``
    (lower case: ``temp`` °C, ``psal`` PSU, ``doxy`` µmol/kg…), ``<param>_qc`` (QC flag of the
    chosen value, -1 = blank) and ``<param>_mode`` ('R'|'A'|'D'). ``expert`` adds ``<param>_raw``,
    ``_raw_qc``, ``_adjusted``, ``_adjusted_qc``, ``_adjusted_error``.

    Values failing the mode's selection are NaN; levels are kept so pressure stays aligned. In
    ``research``/``standard`` a value whose pressure fails the selection is NaN too (a value at
    an untrusted depth is unusable). ``pres_min``/``pres_max`` (dbar) keep levels whose selected
    pressure lies in the range. ``parameters`` default to every parameter the profiles hold.
    """

    settings = settings or get_settings()
    core.check_mode(mode)
    ids = _ids(profile_ids)
    names = [n for n in core.parameter_names(parameters) if n != "PRES"]
    sql_params: dict[str, Any] = {"ids": ids}
    range_sql = ""
    if pres_min is not None:
        sql_params["lv_pres_min"] = float(pres_min)
        range_sql += " AND p.pres_max >= :lv_pres_min"
    if pres_max is not None:
        sql_params["lv_pres_max"] = float(pres_max)
        range_sql += " AND p.pres_min <= :lv_pres_max"

    def fetch(c):
        return levels.fetch(c, ids, names, parameters is None, mode, range_sql, sql_params, pres_min, pres_max,
                            settings)

    key_sql = f"profile_levels {names} {mode} {range_sql} {pres_min} {pres_max}"
    return core.run("profile_levels", key_sql, sql_params, settings, fetch=fetch)




def depth_slice(parameter: str, pres: float, mode: QCMode = "standard", *, settings: Settings | None = None,
                **filters) -> pd.DataFrame:
    """The value of ``parameter`` at pressure ``pres`` (dbar) in each matching profile.

    One row per profile: ``profile_id, platform_number, cycle_number, juld, latitude, longitude,
    pres_target`` (dbar), ``value`` (the parameter's unit): linearly interpolated between the two
    nearest QC-passing levels (``mode``) bracketing ``pres`` — the level itself when one sits
    exactly there; no extrapolation, so profiles not spanning ``pres`` are left out. Newest first.

    How: the database binary-searches each profile's pressure array (``width_bucket``) and sends
    only a window of levels around the target; the QC selection and interpolation run in numpy.
    A profile whose window holds no QC-passing level on one side is fetched whole, so the result
    is exactly that of a full scan.
    """
    from sqlalchemy import text

    settings = settings or get_settings()
    core.check_mode(mode)
    name = core.parameter_names([parameter])[0]
    if name == "PRES":
        raise QueryError("depth_slice needs a parameter other than PRES")
    target = float(pres)
    f = core.make_filters(filters)
    conds, params = core.where_clause(f, settings)
    params.update(target=target, slice_param=[name], limit=core.limit_of(f, settings))
    slice_conds = ["p.pres_min <= :target", "p.pres_max >= :target", "p.parameters @> CAST(:slice_param AS text[])"]
    conds += slice_conds
    # candidates first (cheap columns, index-ordered, limited); arrays only for those
    cols = sl.slice_columns(name)

    def ids_sql(where: list[str]) -> str:
        return f"SELECT p.id FROM profiles p {_where(where)} ORDER BY p.juld DESC NULLS LAST, p.id LIMIT :limit"

    sql = sl.slice_sql(name, f"SELECT {cols}, o.ord FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS o(id, ord) "
                           f"JOIN profiles p ON p.id = o.id", window=True)
    full_sql = sl.slice_sql(name, f"SELECT {cols}, p.id AS ord FROM profiles p WHERE p.id = ANY(:ids)",
                          window=False)

    def fetch(c):
        where = conds
        if core.has_place(f) and core.walk_time_index(c, f, params, params["limit"], settings, extra=slice_conds):
            where = core.where_clause(f, settings, walk=True)[0] + slice_conds
        ids = c.execute(text(ids_sql(where)), params).scalars().all()
        if len(ids) < sl.SPLIT:
            rows = c.execute(text(sql), {"ids": ids, "target": target}).all()
        else:
            # the windows cost the server ~30 µs a profile (detoasting): the newer half is cut
            # on this connection while a second pooled connection cuts the older half
            half = len(ids) // 2
            older = {"ids": ids[half:], "target": target}
            fut = core.side_pool().submit(core.on_reader, settings, lambda c2: c2.execute(text(sql), older).all())
            rows = c.execute(text(sql), {"ids": ids[:half], "target": target}).all() + fut.result()
        values, unsure = sl.brackets(rows, target, mode)
        if unsure:
            again = c.execute(text(full_sql), {"ids": sorted(unsure), "target": target}).all()
            values = pd.concat([values, sl.brackets(again, target, mode)[0]])
        cols = list(zip(*rows)) if rows else [()] * 6
        ids = np.array(cols[0], dtype=np.int64)
        keep = np.isin(ids, values.index.to_numpy())
        juld = pd.array(cols[3], dtype="Int64")[keep] if ids.size else pd.array([], dtype="Int64")
        df = pd.DataFrame({"profile_id": ids[keep],
                           "platform_number": np.array(cols[1], dtype=object)[keep] if ids.size else [],
                           "cycle_number": np.array(cols[2], dtype=np.int64)[keep] if ids.size else [],
                           "juld": pd.to_datetime(juld, unit="us", utc=True),
                           "latitude": np.array(cols[4], dtype=np.float64)[keep] if ids.size else [],
                           "longitude": np.array(cols[5], dtype=np.float64)[keep] if ids.size else [],
                           "pres_target": np.full(int(keep.sum()), target),
                           "value": values.reindex(ids[keep]).to_numpy(np.float64)})
        return core.utc(df, "juld")

    df = core.run(f"depth_slice:{mode}", sql, params, settings, fetch=fetch)    # the mode acts in numpy: key it
    df.attrs.update(parameter=name, mode=mode, unit=BY_NAME[name].units)
    return df


def region_profile_values(parameter: str, pres_min: float, pres_max: float, mode: QCMode = "standard", *,
                          settings: Settings | None = None, **filters) -> pd.DataFrame:
    """Per profile, the mean of the QC-selected values of ``parameter`` with pressure in
    [``pres_min``, ``pres_max``] (dbar): ``profile_id, platform_number, juld, latitude, longitude,
    value, n_levels`` (levels averaged). What time series, trends and regional means use.
    Profiles with no selected level in the layer are left out; oldest first."""
    settings = settings or get_settings()
    core.check_mode(mode)
    name = core.parameter_names([parameter])[0]
    lo, hi = float(pres_min), float(pres_max)
    if lo > hi:
        raise QueryError(f"pres_min {lo} > pres_max {hi}")
    filters.pop("pres_min", None)
    filters.pop("pres_max", None)
    f = core.make_filters({**filters, "pres_min": lo, "pres_max": hi})
    with core.reader(settings) as c:
        conds, params = core.where_clause(f, settings, conn=c)
        limit = core.limit_of(f, settings)
        # layer and mode act in numpy: bound here, they are in the cache key (and the provenance)
        params.update(slice_param=[name], layer_lo=lo, layer_hi=hi, mode=mode, limit=limit, offset=0)
        conds.append("p.parameters @> CAST(:slice_param AS text[])")
        ids_sql = (f"SELECT p.id FROM profiles p {_where(conds)} ORDER BY p.juld ASC NULLS LAST, p.id "
                   "LIMIT :limit OFFSET :offset")
        df = core.run("region_profile_values", ids_sql, params, settings, conn=c, fetch=lambda c: layer.fetch(
            c, ids_sql, params, name, lo, hi, mode, limit, settings))
    df.attrs.update(parameter=name, mode=mode, unit=BY_NAME[name].units, pres_min=lo, pres_max=hi)
    if f.region_info:
        df.attrs["region"] = f.region_info
    return df


# ----------------------------------------------------------------------------- floats
def float_trajectory(platform_number: str, *, settings: Settings | None = None) -> pd.DataFrame:
    """A float's valid positions in time order: ``platform_number, cycle_number, direction, juld,
    latitude, longitude, position_qc``."""
    df = core.run("float_trajectory", """
        SELECT platform_number, cycle_number, direction, juld, latitude, longitude, position_qc
        FROM float_positions WHERE platform_number = :p AND NOT position_invalid
        ORDER BY juld NULLS LAST, cycle_number""", {"p": str(platform_number).strip()}, settings)
    return core.utc(df, "juld")


def latest_positions(*, settings: Settings | None = None) -> pd.DataFrame:
    """The latest valid position of every float (materialized view ``mv_latest_float_positions``):
    ``platform_number, cycle_number, juld, latitude, longitude, float_type``."""
    settings = settings or get_settings()
    sql = """
        SELECT m.platform_number, m.cycle_number, (extract(epoch FROM m.juld) * 1000000)::int8 AS juld, m.latitude,
               m.longitude, coalesce(f.float_type, 'core') AS float_type
        FROM mv_latest_float_positions m LEFT JOIN floats f USING (platform_number)"""
    # columnar: COPY as CSV through pandas' C parser (tz-aware datetimes built per row by the
    # driver cost more than the query)
    dtypes = {"platform_number": str, "cycle_number": "int32", "juld": "Int64", "latitude": "float64",
              "longitude": "float64", "float_type": str}
    return core.run("latest_positions", sql, {}, settings, fetch=lambda c: _copy_read(
        c.connection.dbapi_connection, sql, {}, dtypes, epoch_cols=("juld",)))


def nearest_floats(lon: float, lat: float, k: int = 10, max_distance_m: float | None = None, *,
                   settings: Settings | None = None) -> pd.DataFrame:
    """The ``k`` floats whose latest position is nearest to (lon, lat) (degrees): the
    ``latest_positions`` columns plus ``distance_m`` (metres), nearest first; only within
    ``max_distance_m`` when given. Index-assisted (KNN on the materialized view)."""
    settings = settings or get_settings()
    if not -90 <= float(lat) <= 90:
        raise QueryError(f"latitude {lat} is outside -90..90")
    params: dict[str, Any] = {"pt_lon": core._lon(lon), "pt_lat": float(lat), "k": max(0, int(k))}
    cond = ""
    if max_distance_m is not None:
        params["maxd"] = float(max_distance_m)
        cond = f"WHERE ST_DWithin(m.position, {_PT}, :maxd, false)"
    params["k_knn"] = 2 * params["k"] + 10
    # the KNN walk of the view's GiST index comes first, on the view alone (a join or a second
    # sort key above it made PostgreSQL sort all 17,000 floats); a few spare candidates keep the
    # exact (distance, platform number) order at the k-th place
    df = core.run("nearest_floats", f"""
        SELECT m.platform_number, m.cycle_number, m.juld, m.latitude, m.longitude,
               coalesce(f.float_type, 'core') AS float_type, ST_Distance(m.position, {_PT}, false) AS distance_m
        FROM (SELECT * FROM mv_latest_float_positions m {cond}
              ORDER BY m.position <-> {_PT} LIMIT :k_knn) m
        LEFT JOIN floats f USING (platform_number)
        ORDER BY distance_m, m.platform_number LIMIT :k""", params, settings)
    df = core.utc(df, "juld")
    return df.sort_values(["distance_m", "platform_number"], kind="stable").reset_index(drop=True)


def floats_by_type(float_type: str, *, settings: Settings | None = None) -> pd.DataFrame:
    """Floats of a type (``core``, ``bgc`` or ``deep``) with their latest position:
    ``platform_number, float_type, is_bgc, is_deep, platform_type, dac, project_name, pi_name, juld,
    latitude, longitude``. A deep float with BGC sensors answers to both ``deep`` and ``bgc``
    (``float_type`` is its single display label, deep first)."""
    ft = str(float_type).lower()
    if ft not in ("core", "bgc", "deep"):
        raise QueryError(f"float_type must be 'core', 'bgc' or 'deep', not {float_type!r}")
    df = core.run("floats_by_type", f"""
        SELECT f.platform_number, f.float_type, f.is_bgc, f.is_deep, f.platform_type, f.dac, f.project_name, f.pi_name,
               m.juld, m.latitude, m.longitude
        FROM floats f LEFT JOIN mv_latest_float_positions m USING (platform_number)
        WHERE {core.FLOAT_TYPE_SQL[ft]} ORDER BY f.platform_number""", {}, settings)
    return core.utc(df, "juld")


def float_info(platform_number: str, *, settings: Settings | None = None) -> dict[str, Any]:
    """A float's ``floats`` row plus ``n_profiles``, ``first_juld``, ``last_juld`` (UTC) and
    ``parameters`` (every parameter of its profiles). ``NotFoundError`` when unknown."""
    pn = str(platform_number).strip()
    df = core.run("float_info", """
        SELECT f.platform_number AS f_platform_number, f.dac, f.wmo_inst_type, f.platform_type, f.platform_maker,
               f.float_serial_no, f.firmware_version, f.project_name, f.pi_name, f.operating_institution,
               f.positioning_system, f.launch_date, f.launch_latitude, f.launch_longitude, f.start_date,
               f.sensors, f.is_bgc, f.is_deep, f.float_type,
               s.n_profiles, s.first_juld, s.last_juld, s.parameters
        FROM (SELECT count(*) AS n_profiles, min(juld) AS first_juld, max(juld) AS last_juld,
                     coalesce((SELECT array_agg(DISTINCT x ORDER BY x) FROM profiles p2, unnest(p2.parameters) x
                               WHERE p2.platform_number = :p), '{}') AS parameters
              FROM profiles WHERE platform_number = :p) s
        LEFT JOIN floats f ON f.platform_number = :p""", {"p": pn}, settings)
    row = df.iloc[0].to_dict()
    if row.pop("f_platform_number") is None and not row["n_profiles"]:
        raise NotFoundError(f"no float with platform number {pn}")
    row["platform_number"] = pn
    row["n_profiles"] = int(row["n_profiles"])
    for c in ("launch_date", "start_date", "first_juld", "last_juld"):
        v = row.get(c)
        row[c] = None if v is None or pd.isna(v) else pd.Timestamp(v).tz_convert("UTC")
    row["float_type"] = row["float_type"] or "core"
    return row


# ----------------------------------------------------------------------------- datasets
def list_datasets(*, settings: Settings | None = None) -> pd.DataFrame:
    """Active datasets with their statistics (materialized view ``mv_dataset_stats``)."""
    df = core.run("list_datasets", """
        SELECT d.id, d.name, d.source, d.summary, d.parameters, s.n_profiles, s.n_floats, s.n_levels,
               s.time_start, s.time_end, s.lat_min, s.lat_max, s.lon_min, s.lon_max,
               s.n_delayed_mode, s.n_bgc_profiles, d.updated_at
        FROM datasets d JOIN mv_dataset_stats s ON s.dataset_id = d.id
        WHERE d.status = 'active' ORDER BY d.name""", {}, settings)
    return core.utc(df, "time_start", "time_end", "updated_at")


def get_dataset(dataset_id: int, *, settings: Settings | None = None) -> dict[str, Any]:
    """One dataset's row (``bbox_geojson`` as GeoJSON text); ``NotFoundError`` when there is none."""
    df = core.run("get_dataset", """
        SELECT id, name, source, status, summary, description, time_start, time_end, n_floats, n_profiles,
               n_levels, parameters, ST_AsGeoJSON(bbox) AS bbox_geojson, created_at, updated_at
        FROM datasets WHERE id = :id""", {"id": int(dataset_id)}, settings)
    if df.empty:
        raise NotFoundError(f"no dataset with id {dataset_id}")
    return df.iloc[0].to_dict()


def dataset_stats(*, settings: Settings | None = None) -> pd.DataFrame:
    """Per-dataset statistics, read from the materialized view ``mv_dataset_stats`` (refreshed
    after ingestion, never recomputed here): counts, time range, bounding box (degrees)."""
    df = core.run("dataset_stats", "SELECT * FROM mv_dataset_stats ORDER BY dataset_id", {}, settings)
    return core.utc(df, "time_start", "time_end")
