"""Internal machinery of the Data Access Layer (``dal``): filters → SQL, execution with the
query cache and provenance, binary array decoding, QC-mode selection.

Nothing here is public API; ``dal`` is. All SQL of the DAL is assembled from the fragments
below with bound parameters only — user values never reach the SQL text.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import io
import logging
import re
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
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
_RAN: contextvars.ContextVar[dict | None] = contextvars.ContextVar("floatchat_dal_ran", default=None)


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


def resolve_region_id(region: str | int, settings: Settings, conn=None) -> dict:
    """``{"id", "name", "match"}`` for a region name or id; clear errors when unknown/ambiguous.
    ``conn``: the caller's read-only connection (a new one by default)."""
    from .regions import _region, resolve_region

    if isinstance(region, int | np.integer) or (isinstance(region, str) and region.strip().isdigit()):
        with (contextlib.nullcontext(conn) if conn is not None
              else get_engine(readonly=True, settings=settings).connect()) as c:
            info = _region(c, int(region))
        if info is None:
            raise RegionNotFoundError(str(region))
        return {"id": int(region), "name": info["name"], "match": "id", "bbox": info["bbox"],
                "area_km2": info.get("area_km2")}
    r = resolve_region(str(region), settings=settings, conn=conn)
    if r["status"] == "ambiguous":
        raise AmbiguousRegionError(str(region), r["candidates"])
    if r["region"] is None:
        raise RegionNotFoundError(str(region), r["candidates"])
    return {"id": r["region"]["id"], "name": r["region"]["name"], "match": r["status"],
            "score": r["candidates"][0]["score"] if r["candidates"] else None, "bbox": r["region"]["bbox"],
            "area_km2": r["region"].get("area_km2")}


#: The exact region test (the polygon is prepared once per statement; no index serves it).
REGION_TEST = "_ST_Intersects({a}.position_geom, (SELECT geog::geometry FROM ocean_regions WHERE id = :region_id))"


def where_clause(f: Filters, settings: Settings, alias: str = "p", *,
                 walk: bool = False, conn=None) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions (ANDed) and bound parameters for the filters, on ``profiles AS alias``.

    ``walk``: write the place tests (box, region) so that no index serves them — the exact
    ``_ST_Intersects``, which rejects on the bounding box first — for a newest-first list that
    walks the time index instead (``walk_time_index``, ``walk_sql``). ``conn``: a read-only
    connection to resolve a region name on (a new one by default)."""
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
        conds.append(_box_condition(a, "b", west, south, east, north, params, walk=walk))
    if f.region is not None:
        info = f.region_info or resolve_region_id(f.region, settings, conn)
        f.region_info = info
        params["region_id"] = info["id"]
        # the region's bounding box as literal numbers lets the planner estimate how many rows the
        # region holds (it cannot for the geometry fetched at run time) and pick the time index
        # for narrow time windows; the exact test is ST_Intersects with the (prepared) polygon
        if info.get("bbox") and walk:
            # walking the time index, the same box (as a test no index serves) rejects most entries
            # before the polygon test — ahead of it by the CASE (the planner would order two calls
            # of one function as it likes): a region across the antimeridian has a planar box of
            # every longitude (the South Pacific: 2.2 µs an entry without it)
            conds.append(f"CASE WHEN {_box_condition(a, 'rb', *info['bbox'], params, walk=True)} "
                         f"THEN {REGION_TEST.format(a=a)} ELSE false END")
        else:
            if info.get("bbox"):
                conds.append(_box_condition(a, "rb", *info["bbox"], params))
            conds.append(REGION_TEST.format(a=a))
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


def _box_condition(a: str, key: str, west: float, south: float, east: float, north: float, params: dict,
                   walk: bool = False) -> str:
    west, east = _lon(west), _lon(east)
    params.update({f"{key}w": west, f"{key}s": float(south), f"{key}e": east, f"{key}n": float(north)})
    g = f"{a}.position_geom"          # stored planar point: its statistics size box estimates
    w, s, e, n = (f":{key}{c}" for c in "wsen")
    # ``&&`` is what the GiST serves; ``_ST_Intersects`` (same answer for a point and a box,
    # edges included) is what no index serves, for a walk of the time index
    test = "_ST_Intersects({g}, {env})" if walk else "{g} && {env}"
    if west <= east:
        return test.format(g=g, env=f"ST_MakeEnvelope({w}, {s}, {e}, {n}, 4326)")
    # crosses the antimeridian
    return (f"({test.format(g=g, env=f'ST_MakeEnvelope({w}, {s}, 180, {n}, 4326)')} OR "
            f"{test.format(g=g, env=f'ST_MakeEnvelope(-180, {s}, {e}, {n}, 4326)')})")


def has_place(f: Filters) -> bool:
    """Whether the filters name a place a newest-first list could find by walking the time index
    instead (a region or a box; a radius is always found by its own index, never walked)."""
    if f.point is not None and f.radius_m is not None:
        return False
    return f.box is not None or f.region is not None


#: The walk's cost model (µs, measured at 1 M profiles on the 2-core benchmark machine): one
#: entry of the time index walked — index-only, the place tested on the entry (migrations 0009,
#: 0010) or with a row of ``floats`` looked up (a float type) — against one profile of the
#: place's box gathered through the GiST and sorted.
WALK_US = {True: 0.6, False: 5.0}
GATHER_US = 8.0


def walk_time_index(c, f: Filters, params: dict, limit: int, settings: Settings, *,
                    extra: Sequence[str] = (), apply: bool = True) -> bool:
    """For a newest-first ``LIMIT`` list over a place (``has_place``): whether to walk the time
    index (then bitmap scans and parallel workers are off for the transaction, ``SET LOCAL
    WALK_SETTINGS``, and callers run ``walk_sql``) or to gather the place's profiles through
    the GiST and sort them (``GATHER_SETTINGS``). PostgreSQL cannot weigh this itself: it does
    not know that a walk over an ocean fills the list after a few thousand entries.

    Two ``EXPLAIN`` estimates (reliable, the box tests are on a stored column with statistics),
    asked in one round trip (``_estimates``): the profiles of the place's box and period
    (without the polygon test) and of the period alone. The place holds the box's rows times
    the share of the box the region covers (``region_fill``; the planner's own guess for a
    polygon test is a constant fraction: 456 profiles in the Equatorial Pacific over a year,
    where 2,800 were). A walk reads ``limit`` × period / place entries (the whole period when
    the place holds fewer than ``limit``); gathering reads every profile of the box. The walk
    reads no table row for an entry when every filter is on a column the time index carries
    (``walk_is_index_only``). ``params``: bound by ``where_clause(f)``; ``extra``: the caller's
    further conditions (on columns the time index carries). ``apply=False``: the settings the decision needs beyond
    ``GATHER_SETTINGS`` (already set by the estimates) are left to the caller, who prefixes its
    statement with ``settings_sql(walk)`` (one round trip fewer)."""
    from sqlalchemy import text

    test = REGION_TEST.format(a="p")
    conds = where_clause(f, settings)[0] + list(extra)
    box_rows, period = _estimates(c, params, [x for x in conds if x != test],
                                  where_clause(replace(f, box=None, region=None, region_info=None), settings)[0]
                                  + list(extra))
    place = box_rows * (region_fill(f.region_info or {}) if test in conds else 1.0)
    walked = period if place < limit else limit * period / place
    walk = walked * WALK_US[walk_is_index_only(f)] < box_rows * GATHER_US
    if apply and (sql := settings_sql(walk)):
        c.execute(text(sql))
    return walk


def settings_sql(walk: bool) -> str:
    """``SET LOCAL``s (with a trailing ``; ``) still to run for ``walk_time_index(..., apply=False)``'s
    decision: what ``WALK_SETTINGS`` adds to ``GATHER_SETTINGS``."""
    extra = {k: v for k, v in (WALK_SETTINGS if walk else GATHER_SETTINGS).items() if GATHER_SETTINGS.get(k) != v}
    return "".join(f"SET LOCAL {k} = {v}; " for k, v in extra.items())


def _estimates(c, params: dict, *wheres: list[str]) -> list[float]:
    """The planner's row estimates of ``profiles p`` under each list of conditions, from one
    ``EXPLAIN`` of their ``UNION ALL`` (each branch of its ``Append`` is one estimate), after
    ``SET LOCAL GATHER_SETTINGS`` in the same round trip (no parallel plan: a ``Gather`` would
    show per-worker rows inside). Separate ``EXPLAIN``s if the plan has another shape."""
    from sqlalchemy import text

    def rows(node: dict) -> float:
        return max(float(node.get("Plan Rows", 0)), 1.0)

    def explain(sql: str) -> dict:
        plan = c.execute(text(sql), params).scalar()
        return (plan[0] if isinstance(plan, list) else plan)["Plan"]

    selects = ["SELECT 1 FROM profiles p " + ("WHERE " + " AND ".join(w) if w else "") for w in wheres]
    sets = "".join(f"SET LOCAL {k} = {v}; " for k, v in GATHER_SETTINGS.items())
    top = explain(sets + "EXPLAIN (FORMAT JSON) " + " UNION ALL ".join(selects))
    kids = top.get("Plans") or []
    if top.get("Node Type") == "Append" and len(kids) == len(selects):
        return [rows(k) for k in kids]
    return [rows(explain("EXPLAIN (FORMAT JSON) " + s)) for s in selects]


def walk_is_index_only(f: Filters) -> bool:
    """Whether every filter of ``f`` is on a column the time index carries (migration 0010:
    all of ``profiles``' but the arrays; a float type needs the ``floats`` table)."""
    return f.float_type is None


#: What ``walk_time_index`` sets for its transaction: no bitmap scans (they gather the whole
#: place first), and no parallel workers (each would scan its share of the period in full and
#: sort, where one walk stops after ``limit`` rows).
WALK_SETTINGS = {"enable_bitmapscan": "off", "max_parallel_workers_per_gather": "0"}
#: ... and when it gathers: no parallel workers either. Launching one costs more than the
#: gather of a few thousand profiles it shares (Arabian Sea over a year at 1 M profiles: 2 ms of
#: work, 18 ms with a worker on the 2-core machine), and larger places are walked.
GATHER_SETTINGS = {"max_parallel_workers_per_gather": "0"}


def region_fill(info: dict) -> float:
    """The share (0–1) of a region's bounding box (``[west, south, east, north]``, degrees) that
    the region covers (``area_km2``); 1 when unknown."""
    bbox, area = info.get("bbox"), info.get("area_km2")
    if not bbox or not area:
        return 1.0
    w, s, e, n = (float(x) for x in bbox)
    width = np.radians((e - w) if e >= w else (e + 360.0 - w))
    box_km2 = 6371.0088 ** 2 * width * abs(np.sin(np.radians(n)) - np.sin(np.radians(s)))
    return float(min(1.0, max(area / box_km2, 0.0))) if box_km2 > 0 else 1.0


def walk_sql(cols: str, walk_conds: list[str]) -> str:
    """A newest-first ``LIMIT :limit`` list that walks the time index: one index-only scan of
    ``(juld DESC NULLS LAST, id) INCLUDE (...)`` (migration 0010: every column a list returns
    and its filters test), the place test run on the index entries, no table row read.
    ``walk_conds`` come from ``where_clause(..., walk=True)``; ``cols`` select from ``profiles
    p`` (columns the index carries). Over an ocean and a year at 1 M profiles, in a freshly
    started cluster: 7–32 ms, against 14–43 ms reading the kept rows from the table."""
    where = ("WHERE " + " AND ".join(walk_conds)) if walk_conds else ""
    return f"SELECT {cols} FROM profiles p {where} ORDER BY p.juld DESC NULLS LAST, p.id LIMIT :limit"


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


def ran(sql: str, **extra) -> None:
    """Called by a ``run`` fetch that executed another statement than the one it was given (a
    walk of the time index, say): ``last_query`` then shows what really ran, with ``extra``
    (e.g. ``settings={"enable_bitmapscan": "off"}``, the ``SET LOCAL``s it ran under)."""
    _RAN.set({"sql": sql, **extra})


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


def reader(settings: Settings):
    """A read-only connection (a context manager) for a DAL call that needs one before ``run``
    (to resolve a region name on it, say) and passes it to ``run(..., conn=)``."""
    return get_engine(readonly=True, settings=settings).connect()


def on_reader(settings: Settings, fn: Callable[[Any], Any]) -> Any:
    """``fn(connection)`` on a read-only connection of its own: a second connection's share of a
    call's work, run by a thread of ``side_pool``."""
    with reader(settings) as c:
        return fn(c)


_SIDE_POOL = None


def side_pool():
    """Two threads for the shares of a DAL call read on a second connection (``on_reader``): the
    levels, depth-slice windows and layer windows of many profiles not read lately."""
    global _SIDE_POOL
    if _SIDE_POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _SIDE_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="floatchat-dal")
    return _SIDE_POOL


def run(name: str, sql: str, params: dict, settings: Settings | None,
        fetch: Callable[[Any], Any] | None = None, use_cache: bool = True, conn=None) -> Any:
    """Run ``fetch(connection)`` (default: ``sql`` as a DataFrame) on the read-only engine,
    through the query cache, and record it for ``last_query``. ``conn``: the connection to run
    on (from ``reader``; a new one by default)."""
    from sqlalchemy import text

    settings = settings or get_settings()
    if fetch is None:
        def fetch(c):
            return frame_of(c.execute(text(sql), params))
    t0 = time.perf_counter()
    token = _RAN.set(None)
    with (contextlib.nullcontext(conn) if conn is not None
          else get_engine(readonly=True, settings=settings).connect()) as c:
        if use_cache and settings.cache_ttl_s > 0:
            cache = qcache.get_cache(settings)
            key = cache.make_key(database_urls(settings)["reader"], name, sql, _jsonable(params),
                                 qcache.current_generation(c))
            value, cached = cache.get_or_compute(key, lambda: fetch(c))
        else:
            value, cached = fetch(c), False
    rows = len(value) if hasattr(value, "__len__") and not isinstance(value, dict) else 1
    actual = _RAN.get() or {}
    _RAN.reset(token)
    record(actual.pop("sql", sql), params, rows, (time.perf_counter() - t0) * 1000.0, cached,
           function=name.split(":")[0], **actual)
    return value


# ----------------------------------------------------------------------------- binary COPY reads
@functools.lru_cache(maxsize=256)
def pyformat(sql: str) -> str:
    """A ``:name`` statement (SQLAlchemy ``text``) in psycopg2's ``%(name)s`` style (cached: the
    levels statement is ~30 kB, 1 ms of regular expression each time)."""
    return re.sub(r"(?<![:\w]):([a-z_][a-z0-9_]*)", r"%(\1)s", sql)


_PG_EPOCH_US = 946_684_800_000_000          # 2000-01-01 (PostgreSQL's epoch) in µs since 1970
_BE_H, _BE_I, _BE_D = struct.Struct(">h").unpack_from, struct.Struct(">i").unpack_from, struct.Struct(">d").unpack


def _from_int(b) -> int:
    return int.from_bytes(b, "big", signed=True)


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "int": _from_int, "float8": lambda b: _BE_D(b)[0], "text": lambda b: bytes(b).decode(),
    "ts": lambda b: np.datetime64(_from_int(b) + _PG_EPOCH_US, "us"), "bytes": lambda b: b}


def copy_binary_rows(dbapi_conn, sql: str, params: dict, types: Sequence[str]) -> list[list[Any]]:
    """Rows of ``COPY (sql) TO STDOUT (FORMAT binary)`` on a psycopg2 connection.

    What it is for: ``bytea`` values (``array_send``) travel as they are, where a query's text
    result doubles them in hex that psycopg2 then decodes (levels of 100 profiles at 1 M
    profiles: 2.1 MB; 36 ms fetched as a result, 23 ms by this COPY, 18 ms of it the server's).
    ``types`` per column: ``int`` (any width), ``float8``, ``text``, ``ts`` (timestamptz →
    ``numpy.datetime64[us]``, UTC) or ``bytes`` (left as a ``memoryview`` of the copy buffer).
    NULL is None. Only the framing is walked here (one step per field); values are decoded by
    the caller, column by column."""
    return binary_rows(copy_binary(dbapi_conn, sql, params), types)


def copy_binary(dbapi_conn, sql: str, params: dict) -> io.BytesIO:
    """The raw ``COPY (sql) TO STDOUT (FORMAT binary)`` stream (for ``binary_rows``): a thread
    can wait for it without holding the GIL long."""
    cur = dbapi_conn.cursor()
    inner = cur.mogrify(pyformat(sql), params).decode()
    buf = io.BytesIO()
    cur.copy_expert(f"COPY ({inner}) TO STDOUT WITH (FORMAT binary)", buf)
    return buf


def binary_rows(buf: io.BytesIO, types: Sequence[str]) -> list[list[Any]]:
    """The rows of a binary COPY stream (see ``copy_binary_rows``)."""
    data = buf.getbuffer()
    if bytes(data[:11]) != b"PGCOPY\n\xff\r\n\x00":
        raise QueryError("unexpected binary COPY header from the server")
    pos = 19 + _BE_I(data, 15)[0]
    conv = [None if t == "bytes" else _CONVERT[t] for t in types]     # None: the bytes as they are
    width = len(conv)
    rows: list[list[Any]] = []
    be_h, be_i = _BE_H, _BE_I
    while True:
        nf = be_h(data, pos)[0]
        pos += 2
        if nf < 0:                                      # the trailer
            return rows
        if nf != width:
            raise QueryError(f"binary COPY row of {nf} fields, expected {width}")
        row = []
        append = row.append
        for cv in conv:
            ln = be_i(data, pos)[0]
            pos += 4
            if ln < 0:
                append(None)
            else:
                end = pos + ln
                append(data[pos:end] if cv is None else cv(data[pos:end]))
                pos = end
        rows.append(row)


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
    value, qc, adj_avail = select_by_mode(raw, raw_qc, adj, adj_qc, dm == "A", dm == "D", mode)
    if mode == "research":
        return value, qc, np.where(dm == "", "R", dm)
    return value, qc, np.where(adj_avail, dm, "R")


def select_by_mode(raw, raw_qc, adj, adj_qc, is_a, is_d, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``select_values`` with the data mode given as two boolean arrays (A, D); returns (value,
    qc, adjusted_available) — the value's data mode is the parameter's where the adjusted value
    is available and 'R' elsewhere (research: the parameter's)."""
    adj_avail = (is_a | is_d) & (~np.isnan(adj) | (adj_qc >= 0))
    if mode == "research":
        ok = is_d & (adj_qc == 1) & ~np.isnan(adj)
        return np.where(ok, adj, np.nan).astype(np.float32), adj_qc.astype(np.int16), adj_avail
    value = np.where(adj_avail, adj, raw).astype(np.float32)
    qc = np.where(adj_avail, adj_qc, raw_qc).astype(np.int16)
    if mode == "standard":
        value = np.where(((qc == 1) | (qc == 2)), value, np.nan).astype(np.float32)
    return value, qc, adj_avail
