"""Internal machinery of the Data Access Layer (``dal``): filters → SQL, execution with the
query cache and provenance, binary array decoding, QC-mode selection.

Nothing here is public API; ``dal`` is. All SQL of the DAL is assembled from the fragments
below with bound parameters only — user values never reach the SQL text.
"""
from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..argo.variables import BY_NAME, PARAMETERS
from ..config import Settings, get_settings
from ..errors import AmbiguousRegionError, QueryError, RegionNotFoundError
from . import cache as qcache
from .engine import database_urls, get_engine

log = logging.getLogger(__name__)

QCMode = Literal["research", "standard", "expert"]
QC_MODES = ("research", "standard", "expert")
FILTER_NAMES = ("point", "radius_m", "box", "region", "time_start", "time_end", "pres_min", "pres_max",
                "parameters", "platform_numbers", "float_type", "data_mode", "dataset_id", "direction",
                "limit", "primary_only")

_LAST: contextvars.ContextVar[dict | None] = contextvars.ContextVar("floatchat_dal_last_query", default=None)


# ----------------------------------------------------------------------------- filters
@dataclass
class Filters:
    """The shared, combinable filters of the DAL (see ``dal`` for their meaning and units)."""

    point: tuple[float, float] | None = None
    radius_m: float | None = None
    box: tuple[float, float, float, float] | None = None
    region: str | int | None = None
    time_start: Any = None
    time_end: Any = None
    pres_min: float | None = None
    pres_max: float | None = None
    parameters: Sequence[str] | None = None
    platform_numbers: Sequence[str] | None = None
    float_type: str | None = None
    data_mode: str | None = None
    dataset_id: int | None = None
    direction: str | None = "A"
    limit: int | None = None
    primary_only: bool = True
    region_info: dict | None = field(default=None, repr=False)



#: What each float type selects. Not the exclusive ``floats.float_type`` label: a Deep Arvor with
#: an oxygen sensor (3902131) is both a deep and a BGC float, and must answer to either.
FLOAT_TYPE_SQL = {"bgc": "f.is_bgc", "deep": "f.is_deep", "core": "NOT f.is_bgc AND NOT f.is_deep"}

def make_filters(kwargs: dict[str, Any]) -> Filters:
    unknown = set(kwargs) - set(FILTER_NAMES)
    if unknown:
        raise QueryError(f"unknown filter(s) {sorted(unknown)}; allowed: {list(FILTER_NAMES)}")
    return Filters(**kwargs)


def parameter_names(names: Sequence[str] | str | None) -> list[str]:
    """Validated Argo parameter names (upper case); ``QueryError`` lists the known ones."""
    if names is None:
        return []
    if isinstance(names, str):
        names = [names]
    out = []
    for n in names:
        key = str(n).strip().upper()
        if key not in BY_NAME:
            raise QueryError(f"unknown Argo parameter {n!r}; known: {', '.join(p.name for p in PARAMETERS)}")
        if key not in out:
            out.append(key)
    return out


def timestamp(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise QueryError(f"{name}={value!r} is not a time: {exc}") from None
    if ts is pd.NaT:
        raise QueryError(f"{name} is not a time")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _lon(v: float) -> float:
    return ((float(v) + 180.0) % 360.0) - 180.0 if not -180.0 <= float(v) <= 180.0 else float(v)


def resolve_region_id(region: str | int, settings: Settings) -> dict:
    """``{"id", "name", "match"}`` for a region name or id; clear errors when unknown/ambiguous."""

    from .regions import resolve_region

    from .regions import _region

    if isinstance(region, int | np.integer) or (isinstance(region, str) and region.strip().isdigit()):
        with get_engine(readonly=True, settings=settings).connect() as c:
            info = _region(c, int(region))
        if info is None:
            raise RegionNotFoundError(str(region))
        return {"id": int(region), "name": info["name"], "match": "id", "bbox": info["bbox"]}
    r = resolve_region(str(region), settings=settings)
    if r["status"] == "ambiguous":
        raise AmbiguousRegionError(str(region), r["candidates"])
    if r["region"] is None:
        raise RegionNotFoundError(str(region), r["candidates"])
    return {"id": r["region"]["id"], "name": r["region"]["name"], "match": r["status"],
            "score": r["candidates"][0]["score"] if r["candidates"] else None, "bbox": r["region"]["bbox"]}


def where_clause(f: Filters, settings: Settings, alias: str = "p") -> tuple[list[str], dict[str, Any]]:
    """SQL conditions (ANDed) and bound parameters for the filters, on ``profiles AS alias``."""
    a = alias
    conds: list[str] = []
    params: dict[str, Any] = {}
    if f.primary_only:
        conds.append(f"{a}.scheme_index = 0")
    if f.direction is not None:
        d = str(f.direction).upper()
        if d not in ("A", "D"):
            raise QueryError(f"direction must be 'A' (ascending) or 'D' (descending), not {f.direction!r}")
        conds.append(f"{a}.direction = :direction")
        params["direction"] = d
    if f.point is not None:
        lon, lat = (float(x) for x in f.point)
        if not -90 <= lat <= 90:
            raise QueryError(f"latitude {lat} is outside -90..90")
        params.update(pt_lon=_lon(lon), pt_lat=lat)
        if f.radius_m is not None:
            if float(f.radius_m) <= 0:
                raise QueryError("radius_m must be positive (metres)")
            conds.append(f"ST_DWithin({a}.position, ST_SetSRID(ST_MakePoint(:pt_lon, :pt_lat), 4326)::geography,"
                         " :radius_m, false)")
            params["radius_m"] = float(f.radius_m)
    elif f.radius_m is not None:
        raise QueryError("radius_m needs point=(lon, lat)")
    if f.box is not None:
        try:
            west, south, east, north = (float(x) for x in f.box)
        except (TypeError, ValueError):
            raise QueryError(f"box must be (west, south, east, north) in degrees, not {f.box!r}") from None
        if not (-90 <= south <= north <= 90):
            raise QueryError(f"box latitudes must satisfy -90 <= south <= north <= 90, got {south}, {north}")
        conds.append(_box_condition(a, "b", west, south, east, north, params))
    if f.region is not None:
        info = f.region_info or resolve_region_id(f.region, settings)
        f.region_info = info
        params["region_id"] = info["id"]
        # the region's bounding box as literal numbers lets the planner estimate how many rows the
        # region holds (it cannot for the geometry fetched at run time) and pick the time index
        # for narrow time windows; the exact test is ST_Intersects with the (prepared) polygon
        if info.get("bbox"):
            conds.append(_box_condition(a, "rb", *info["bbox"], params))
        conds.append(f"_ST_Intersects({a}.position_geom, "
                     "(SELECT geog::geometry FROM ocean_regions WHERE id = :region_id))")
    if f.time_start is not None:
        params["time_start"] = timestamp(f.time_start, "time_start").to_pydatetime()
        conds.append(f"{a}.juld >= :time_start")
    if f.time_end is not None:
        params["time_end"] = timestamp(f.time_end, "time_end").to_pydatetime()
        conds.append(f"{a}.juld <= :time_end")
    if f.pres_min is not None:
        params["f_pres_min"] = float(f.pres_min)
        conds.append(f"{a}.pres_max >= :f_pres_min")
    if f.pres_max is not None:
        params["f_pres_max"] = float(f.pres_max)
        conds.append(f"{a}.pres_min <= :f_pres_max")
    names = parameter_names(f.parameters)
    if names:
        params["parameters"] = names
        conds.append(f"{a}.parameters @> CAST(:parameters AS text[])")
    if f.platform_numbers is not None:
        pns = [str(x).strip() for x in ([f.platform_numbers] if isinstance(f.platform_numbers, str | int)
                                        else f.platform_numbers)]
        params["platform_numbers"] = pns
        conds.append(f"{a}.platform_number = ANY(CAST(:platform_numbers AS text[]))")
    if f.float_type is not None:
        ft = str(f.float_type).lower()
        if ft not in ("core", "bgc", "deep"):
            raise QueryError(f"float_type must be 'core', 'bgc' or 'deep', not {f.float_type!r}")
        conds.append(f"EXISTS (SELECT 1 FROM floats f WHERE f.platform_number = {a}.platform_number"
                     f" AND {FLOAT_TYPE_SQL[ft]})")
    if f.data_mode is not None:
        dm = str(f.data_mode).upper()
        if dm not in ("R", "A", "D"):
            raise QueryError(f"data_mode must be 'R', 'A' or 'D', not {f.data_mode!r}")
        params["data_mode"] = dm
        conds.append(f"{a}.data_mode = :data_mode")
    if f.dataset_id is not None:
        params["dataset_id"] = int(f.dataset_id)
        conds.append(f"{a}.dataset_id = :dataset_id")
    return conds, params


def _box_condition(a: str, key: str, west: float, south: float, east: float, north: float, params: dict) -> str:
    west, east = _lon(west), _lon(east)
    params.update({f"{key}w": west, f"{key}s": float(south), f"{key}e": east, f"{key}n": float(north)})
    g = f"{a}.position_geom"          # stored planar point: its statistics size box estimates
    w, s, e, n = (f":{key}{c}" for c in "wsen")
    if west <= east:
        return f"{g} && ST_MakeEnvelope({w}, {s}, {e}, {n}, 4326)"
    # crosses the antimeridian
    return f"({g} && ST_MakeEnvelope({w}, {s}, 180, {n}, 4326) OR {g} && ST_MakeEnvelope(-180, {s}, {e}, {n}, 4326))"


#: A place filter whose bounding box covers more square degrees than this is "large": its
#: newest-first lists walk the time index instead of gathering the place's profiles first.
LARGE_AREA_DEG2 = 2000.0


def _bbox_area(w: float, s: float, e: float, n: float) -> float:
    width = (e - w) if e >= w else (e + 360.0 - w)
    return max(width, 0.0) * max(n - s, 0.0)


def large_area(f: Filters) -> bool:
    """Whether the filters' place (region or box; set by ``where_clause``) is an ocean-scale area.

    PostgreSQL cannot know that newest-first ``LIMIT`` lists over such an area fill up after a
    few thousand rows of the time index, and gathers every profile of the place instead (a
    bitmap scan: 160 ms for the South Pacific over one year at 1 M profiles, against 22 ms);
    callers then ask ``walk_time_index`` whether to switch bitmap scans off for the statement."""
    if f.point is not None and f.radius_m is not None:
        return False                        # a radius is never ocean-scale
    boxes = []
    if f.region_info and f.region_info.get("bbox"):
        boxes.append(f.region_info["bbox"])
    if f.box is not None:
        boxes.append(tuple(float(x) for x in f.box))
    return bool(boxes) and min(_bbox_area(*b) for b in boxes) > LARGE_AREA_DEG2


def walk_time_index(c, where_sql: str, params: dict, limit: int) -> bool:
    """For a newest-first ``LIMIT`` list over a large area (``large_area``): switch bitmap scans off
    for this transaction (``SET LOCAL``) when the planner expects the place and period to hold
    well over ``limit`` profiles — then walking the time index fills the list early. A sparse
    place (few floats in the Southern Ocean, say) keeps the bitmap plan, which reads only its own
    rows. The planner's row estimate (an ``EXPLAIN``, ~1 ms) is reliable here: the box tests
    are on a stored column with statistics. Returns whether it switched."""
    from sqlalchemy import text

    plan = c.execute(text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM profiles p {where_sql}"), params).scalar()
    plan = plan[0] if isinstance(plan, list) else plan
    rows = float(plan["Plan"].get("Plan Rows", 0))
    if rows > max(int(limit), 1):
        c.execute(text("SET LOCAL enable_bitmapscan = off"))
        # each parallel worker would first rebuild the region's prepared polygon (~40 ms for an
        # ocean) to save a few milliseconds of a walk that stops at ``limit``
        c.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        return True
    return False


def limit_of(f: Filters, settings: Settings) -> int:
    if f.limit is None:
        return int(settings.row_cap)
    if int(f.limit) < 0:
        raise QueryError("limit must be >= 0")
    return min(int(f.limit), int(settings.row_cap))


# ----------------------------------------------------------------------------- execution
def _jsonable(params: dict) -> dict:
    out = {}
    for k, v in params.items():
        if hasattr(v, "isoformat"):
            v = v.isoformat()
        elif isinstance(v, np.generic):
            v = v.item()
        elif isinstance(v, tuple):
            v = list(v)
        out[k] = v
    return out


def record(sql: str, params: dict, rows: int, elapsed_ms: float, cached: bool, **extra) -> None:
    _LAST.set({"sql": " ".join(sql.split()), "params": _jsonable(params), "rows": int(rows),
               "elapsed_ms": round(float(elapsed_ms), 3), "cached": bool(cached), **extra})


def last_query() -> dict | None:
    """The last DAL query of this thread / context (a copy)."""
    v = _LAST.get()
    return dict(v) if v is not None else None


def frame_of(result) -> pd.DataFrame:
    """A DataFrame of a SQLAlchemy result. Rows are handed over as plain tuples: given Row
    objects, pandas probes each for namedtuple fields, and every probe of a SQLAlchemy Row
    raises and catches an exception internally (0.2 s for 17,000 rows)."""
    cols = list(result.keys())
    return pd.DataFrame.from_records([tuple(r) for r in result.fetchall()], columns=cols, coerce_float=False)


def utc(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    for c in cols:
        if c in df.columns:
            df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[ns, UTC]")
    return df


def run(name: str, sql: str, params: dict, settings: Settings | None,
        fetch: Callable[[Any], Any] | None = None, use_cache: bool = True) -> Any:
    """Run ``fetch(connection)`` (default: ``sql`` as a DataFrame) on the read-only engine,
    through the query cache, and record it for ``last_query``."""
    from sqlalchemy import text

    settings = settings or get_settings()
    if fetch is None:
        def fetch(c):
            return frame_of(c.execute(text(sql), params))
    t0 = time.perf_counter()
    with get_engine(readonly=True, settings=settings).connect() as c:
        if use_cache and settings.cache_ttl_s > 0:
            cache = qcache.get_cache(settings)
            key = cache.make_key(database_urls(settings)["reader"], name, sql, _jsonable(params),
                                 qcache.current_generation(c))
            value, cached = cache.get_or_compute(key, lambda: fetch(c))
        else:
            value, cached = fetch(c), False
    rows = len(value) if hasattr(value, "__len__") and not isinstance(value, dict) else 1
    record(sql, params, rows, (time.perf_counter() - t0) * 1000.0, cached, function=name.split(":")[0])
    return value


# ----------------------------------------------------------------------------- binary arrays
_F4 = np.dtype([("len", ">i4"), ("v", ">f4")])
_I2 = np.dtype([("len", ">i4"), ("v", ">i2")])


def send_real(col: str) -> str:
    """SQL: the real[] column as ``array_send`` bytes with NULL elements replaced by NaN."""
    return f"array_send(array_replace({col}, NULL, 'NaN'::real))"


def send_qc(col: str) -> str:
    return f"array_send(array_replace({col}, NULL, (-1)::smallint))"


def decode_many(bufs: Sequence, kind: str, n: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Many ``array_send`` values (1-D, no NULL elements; see ``send_real``/``send_qc``; None for a
    NULL array) → all their elements as one flat numpy array (float32 / int16) and each value's
    element count. The element bytes of every value (past its 20-byte array header) are joined
    once and decoded by one ``frombuffer``: no decode per row.

    With ``n`` (the expected length of each), a missing value, or one of another length (never
    written so; logged), contributes ``n[i]`` fill values (NaN / -1) instead."""
    dt, out_t, fill = (_F4, np.float32, np.nan) if kind == "real" else (_I2, np.int16, -1)
    blen = np.array([len(b) if b is not None and len(b) >= 20 else 0 for b in bufs], dtype=np.int64)
    counts = np.maximum(blen - 20, 0) // dt.itemsize
    if n is None:
        parts = [memoryview(b)[20:] for b, k in zip(bufs, blen.tolist()) if k]
    else:
        filler = np.zeros(1, dt)                 # one element holding the fill value
        filler["len"] = dt.itemsize - 4
        filler["v"] = fill
        one = filler.tobytes()
        odd = (counts != n) & (counts > 0)
        if odd.any():
            log.warning("dal: %d arrays whose length differs from their axis", int(odd.sum()))
        parts = [memoryview(b)[20:] if k == m and k else one * m for b, k, m in zip(bufs, counts.tolist(), n.tolist())]
        counts = np.asarray(n, np.int64)
    joined = b"".join(parts)
    if not joined:
        return np.empty(0, out_t), counts
    return np.frombuffer(joined, dt)["v"].astype(out_t), counts


# ----------------------------------------------------------------------------- QC modes
def check_mode(mode: str) -> str:
    if mode not in QC_MODES:
        raise QueryError(f"QC mode must be one of {QC_MODES}, not {mode!r}")
    return mode


def select_values(raw, raw_qc, adj, adj_qc, dm, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-level QC-mode selection (numpy, vectorised). Returns (value, qc, data_mode_of_value).

    ``dm`` is the parameter's data mode per level ('R', 'A', 'D' or '').

    * research: the adjusted value where the data mode is D and the adjusted QC is 1, else NaN;
    * standard: the adjusted value where the data mode is A or D and the adjusted value exists,
      else the raw value; kept when the chosen value's QC is 1 or 2. An adjusted value the
      delayed-mode operator explicitly flagged (fill value with an adjusted QC) counts as
      "available": a bad delayed-mode value never falls back to its raw twin;
    * expert: the same choice as standard, nothing masked.
    """
    adj_avail = ((dm == "A") | (dm == "D")) & (~np.isnan(adj) | (adj_qc >= 0))
    if mode == "research":
        ok = (dm == "D") & (adj_qc == 1) & ~np.isnan(adj)
        return np.where(ok, adj, np.nan).astype(np.float32), adj_qc.astype(np.int16), np.where(
            dm == "", "R", dm)
    value = np.where(adj_avail, adj, raw).astype(np.float32)
    qc = np.where(adj_avail, adj_qc, raw_qc).astype(np.int16)
    vmode = np.where(adj_avail, dm, "R")
    if mode == "standard":
        value = np.where(((qc == 1) | (qc == 2)), value, np.nan).astype(np.float32)
    return value, qc, vmode


def sql_select(prefix: str, cols: tuple[str, str, str, str], dm: str, mode: str) -> tuple[str, str]:
    """SQL expressions (value, passes) of the QC-mode selection for one level, given the unnested
    column names ``(raw, raw_qc, adjusted, adjusted_qc)`` and the data-mode expression ``dm``."""
    raw, rq, adj, aq = cols
    if mode == "research":
        return adj, f"({dm} = 'D' AND {aq} = 1 AND {adj} IS NOT NULL AND {adj} <> 'NaN')"
    avail = f"({dm} IN ('A', 'D') AND ({adj} IS NOT NULL OR {aq} IS NOT NULL))"
    value = f"(CASE WHEN {avail} THEN {adj} ELSE {raw} END)"
    if mode == "expert":
        return value, f"({value} IS NOT NULL AND {value} <> 'NaN')"
    qc = f"(CASE WHEN {avail} THEN {aq} ELSE {rq} END)"
    return value, f"({qc} IN (1, 2) AND {value} IS NOT NULL AND {value} <> 'NaN')"
