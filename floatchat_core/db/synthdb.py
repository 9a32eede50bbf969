"""An archive-shaped synthetic population written straight into the database (``floatchat synth``).

What the benchmarks and scale tests query: about 17,000 floats (fewer for small runs), each
drifting plausibly from a deployment point in the open ocean (the seeded Argo basins decide
what is ocean), 2000–2025, about a quarter of them still active at the end, core / BGC / deep
mixes, 70–1,000 levels per profile, delayed-mode adjusted values with their errors for older
profiles, realistic QC flags (mostly 1, some 2/3/4; real-time DOXY flagged 3 as the Argo
real-time procedure does).

Speed: everything is generated with numpy a chunk of profiles at a time and written with
binary ``COPY`` (``pgbinary``) straight into ``profiles`` (generated columns — position,
parameters, level counts, pressure range — are computed by PostgreSQL), then positions,
floats, dataset metadata, materialized views and the cache generation are updated once.

These are *not* data: WMO numbers start at ``argo.synth.SYNTH_WMO_BASE`` (9,000,000).
"""
from __future__ import annotations

import io
import logging
import time
from typing import Any

import numpy as np

from ..argo.synth import SYNTH_WMO_BASE
from ..config import Settings, get_settings
from ..errors import IngestError
from . import pgbinary as pb

log = logging.getLogger(__name__)

T_START = np.datetime64("2000-01-01T00:00:00", "s")
T_END = np.datetime64("2025-12-31T00:00:00", "s")
ACTIVE_FRACTION = 0.24          # ~4,000 of ~17,000 floats report until the end
DEEP_FRACTION = 0.03
DAY_S = 86_400
_PARAMS = ("pres", "temp", "psal", "bgc_pres", "doxy", "chla", "nitrate")
_TWINS = (("", "real"), ("_qc", "qc"), ("_adjusted", "real"), ("_adjusted_qc", "qc"), ("_adjusted_error", "real"))


# ----------------------------------------------------------------------------- ocean mask
def ocean_mask(conn) -> np.ndarray:
    """bool[180, 360]: 1° cells (lat -90.., lon -180..) whose centre lies in an Argo basin."""
    cur = conn.cursor()
    # point-in-polygon against small, indexed pieces of the basins: ~60,000 index probes
    cur.execute("CREATE TEMP TABLE _basins ON COMMIT DROP AS SELECT ST_Subdivide(geog::geometry, 96) AS g "
                "FROM ocean_regions WHERE argo_code IS NOT NULL")
    cur.execute("CREATE INDEX ON _basins USING gist (g)")
    cur.execute("ANALYZE _basins")
    cur.execute("""
        SELECT DISTINCT grid.lat, grid.lon
        FROM (SELECT lat, lon, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS pt
              FROM generate_series(-77.5, 89.5, 1.0) lat, generate_series(-179.5, 179.5, 1.0) lon) grid
        JOIN _basins b ON ST_Intersects(b.g, grid.pt)""")
    rows = np.array(cur.fetchall(), dtype=np.float64).reshape(-1, 2)
    mask = np.zeros((180, 360), bool)
    if rows.size == 0:      # no regions seeded: a crude band mask rather than nothing
        mask[15:170, :] = True
        return mask
    mask[(rows[:, 0] + 90).astype(int), (rows[:, 1] + 180).astype(int)] = True
    return mask


def _in_ocean(mask: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    i = np.clip(np.floor(lat + 90).astype(int), 0, 179)
    j = np.clip(np.floor(lon + 180).astype(int), 0, 359)
    return mask[i, j]


# ----------------------------------------------------------------------------- floats
def _floats(rng: np.random.Generator, n_profiles: int, n_floats: int, bgc_fraction: float, mask: np.ndarray,
            wmo0: int) -> dict[str, np.ndarray]:
    weights = rng.gamma(1.5, 1.0, n_floats)
    counts = 1 + rng.multinomial(n_profiles - n_floats, weights / weights.sum())
    interval = np.where(rng.random(n_floats) < 0.1, 5.0, 10.0)
    span_days = (T_END - T_START).astype(np.int64) / DAY_S
    interval = np.minimum(interval, span_days / counts)          # a float's life fits in 2000–2025
    life = counts * interval
    active = rng.random(n_floats) < ACTIVE_FRACTION
    # deployments grow over the years (Argo's ramp-up): u ** 0.6 leans towards recent starts
    latest_start = span_days - life
    start = np.where(active, latest_start - rng.uniform(0, 15, n_floats),
                     latest_start * rng.random(n_floats) ** 0.6)
    start = np.maximum(start, 0.0)
    kind = rng.random(n_floats)
    is_deep = kind < DEEP_FRACTION
    is_bgc = ~is_deep & (kind < DEEP_FRACTION + bgc_fraction)
    # deployment cells: ocean, fewer at high latitude (ice), a little busier in the subtropics
    cells = np.argwhere(mask)
    lat_c = cells[:, 0] - 89.5
    w = np.cos(np.radians(lat_c)) * np.where(np.abs(lat_c) > 60, 0.25, 1.0) * (1 + 0.6 * np.exp(
        -((np.abs(lat_c) - 30) / 12) ** 2))
    pick = rng.choice(len(cells), n_floats, p=w / w.sum())
    lat0 = cells[pick, 0] - 90 + rng.random(n_floats)
    lon0 = cells[pick, 1] - 180 + rng.random(n_floats)
    year = 2000 + start / 365.25
    # old floats report 70–115 levels; modern ones 250–500, and 2-dbar binned ones ~1,000
    modern = rng.random(n_floats) < np.clip((year - 2006) / 16, 0.05, 0.75)
    max_levels = np.where(modern, rng.choice([250, 500, 1000], n_floats, p=[0.5, 0.35, 0.15]),
                          rng.choice([75, 100, 115], n_floats))
    max_levels = np.where(is_deep, 1000, max_levels)
    return {"platform_number": (wmo0 + np.arange(n_floats)).astype(str), "counts": counts,
            "interval": interval, "start_day": start, "lon0": lon0, "lat0": lat0, "is_bgc": is_bgc,
            "is_deep": is_deep, "max_levels": max_levels,
            "chla": is_bgc & (rng.random(n_floats) < 0.5), "nitrate": is_bgc & (rng.random(n_floats) < 0.3)}


def _tracks(rng: np.random.Generator, fl: dict, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Per-profile float index, cycle, time and a drifting position that stays in the ocean."""
    counts = fl["counts"]
    fidx = np.repeat(np.arange(counts.size), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    cycle = (np.arange(fidx.size) - first + 1).astype(np.int32)
    lat = fl["lat0"][fidx].copy()
    # mean currents by latitude band: westward trades, eastward westerlies and ACC (° per cycle)
    def drift(la):
        return np.where(np.abs(la) < 20, -0.06, np.where(la < -40, 0.18, 0.05))
    dlon = drift(fl["lat0"])[fidx] + rng.normal(0, 0.12, fidx.size)
    dlat = rng.normal(0, 0.08, fidx.size)
    dlon[cycle == 1] = 0.0
    dlat[cycle == 1] = 0.0
    csum_lon, csum_lat = np.cumsum(dlon), np.cumsum(dlat)
    base = np.repeat(np.cumsum(counts) - counts, counts)
    lon = fl["lon0"][fidx] + csum_lon - csum_lon[base] + dlon[base]
    lat = np.clip(fl["lat0"][fidx] + csum_lat - csum_lat[base] + dlat[base], -77.5, 89.5)
    lon = (lon + 180.0) % 360.0 - 180.0
    # a float never walks onto land: where the walk would, it stays at its last ocean position
    ok = _in_ocean(mask, lon, lat)
    ok[base == np.arange(fidx.size)] = True
    last_ok = np.maximum.accumulate(np.where(ok, np.arange(fidx.size), 0))
    lon, lat = lon[last_ok], lat[last_ok]
    t = (T_START.astype(np.int64) + ((fl["start_day"][fidx] + (cycle - 1) * fl["interval"][fidx]) * DAY_S
                                     + rng.uniform(-3600, 3600, fidx.size)).astype(np.int64))
    t = np.clip(t, T_START.astype(np.int64), T_END.astype(np.int64))
    return {"fidx": fidx, "cycle": cycle, "lon": lon, "lat": lat, "t": t.astype("datetime64[s]")}


# ----------------------------------------------------------------------------- levels
def _qc(rng, n: int) -> np.ndarray:
    r = rng.random(n)
    return np.select([r < 0.003, r < 0.008, r < 0.028], [4, 3, 2], 1).astype(np.int16)


def _chunk_columns(rng: np.random.Generator, fl: dict, tr: dict, sel: slice, dataset_id: int,
                   ids: np.ndarray) -> list:
    fidx = tr["fidx"][sel]
    n = fidx.size
    lat, lon, t = tr["lat"][sel], tr["lon"][sel], tr["t"][sel]
    age_days = (T_END - t).astype(np.int64) / DAY_S
    delayed = (age_days > 365) & (rng.random(n) < 0.85)
    adjusted_rt = ~delayed & (rng.random(n) < 0.05)
    mode = np.where(delayed, "D", np.where(adjusted_rt, "A", "R"))
    has_adj = mode != "R"
    maxl = fl["max_levels"][fidx]
    nl = np.maximum(70, np.minimum(maxl, (maxl * rng.uniform(0.85, 1.0, n)).astype(np.int64)))
    pmax = np.where(fl["is_deep"][fidx], rng.uniform(4000, 6000, n),
                    np.where(maxl <= 115, rng.uniform(1000, 2000, n), rng.uniform(1900, 2050, n)))
    pn = fl["platform_number"][fidx]
    cols: list = [
        pb.encode_scalar(ids, "bigint"), pb.encode_text(pn), pb.encode_scalar(tr["cycle"][sel], "integer"),
        pb.encode_text(np.full(n, "A", object)), pb.encode_scalar(np.full(n, dataset_id, np.int64), "bigint"),
        pb.encode_scalar(t, "timestamptz"), pb.encode_scalar(np.ones(n, np.int16), "smallint"),
        pb.encode_scalar(t, "timestamptz"), pb.encode_scalar(lat, "double"), pb.encode_scalar(lon, "double"),
        pb.encode_scalar(np.where(rng.random(n) < 0.98, 1, 2).astype(np.int16), "smallint"),
        pb.encode_text(np.full(n, "GPS", object)), pb.encode_text(mode.astype(object)),
        pb.encode_scalar(np.ones(n, np.int32), "integer"), pb.encode_text(np.full(n, "IF", object)),
        pb.encode_text(np.full(n, "FloatChat synthetic", object)), pb.encode_text(np.full(n, "Nobody (synthetic)", object)),
        pb.encode_text(np.where(fl["is_deep"][fidx], "ARVOR_D", np.where(fl["is_bgc"][fidx], "PROVOR_III", "ARVOR"))
                       .astype(object)),
        pb.encode_scalar(np.ones(n, np.int16), "smallint"), pb.encode_text(np.full(n, "synthdb", object)),
        pb.encode_scalar(np.ones(n, np.int16), "smallint"), pb.encode_text(np.full(n, "synthdb", object)),
        pb.encode_scalar(np.where(fl["is_bgc"][fidx], 1, 0).astype(np.int16), "smallint"),
        pb.encode_text(np.where(fl["is_bgc"][fidx], "synthdb", "").astype(object)),
    ]
    # core axis
    off = np.concatenate(([0], np.cumsum(nl))).astype(np.int64)
    row = np.repeat(np.arange(n), nl)
    k = np.arange(off[-1]) - off[:-1][row]
    z = k / np.maximum(nl - 1, 1)[row]
    pres = (pmax[row] * z ** 1.5 + rng.uniform(3, 6, n)[row]).astype(np.float32)
    sst = 28.0 - 26.0 * (np.abs(lat) / 75.0) ** 1.4 + 2.0 * np.sin(2 * np.pi * (age_days / 365.25)) * np.sign(lat)
    t_deep = np.where(np.abs(lat) > 55, 0.5, 2.0)
    temp = (t_deep[row] + (sst - t_deep)[row] * np.exp(-pres / rng.uniform(150, 600, n)[row])
            + rng.normal(0, 0.02, row.size)).astype(np.float32)
    psal = (34.7 + 0.6 * np.exp(-pres / 300.0) * rng.uniform(-1, 1.5, n)[row]
            + rng.normal(0, 0.005, row.size)).astype(np.float32)
    adj_row = has_adj[row]
    core = {"pres": (pres, np.float32(0.0), 2.4), "temp": (temp, np.float32(0.0), 0.002),
            "psal": (psal, np.float32(0.005), 0.01)}
    for name, (vals, shift, err) in core.items():
        qc = _qc(rng, row.size) if name != "pres" else np.where(rng.random(row.size) < 0.001, 4, 1).astype(np.int16)
        adj = np.where(adj_row, vals + shift, np.nan).astype(np.float32)
        aqc = np.where(adj_row, qc, -1).astype(np.int16)
        bad = adj_row & (aqc == 4)
        adj[bad] = np.nan                       # delayed mode: a bad value's adjusted twin is a fill value
        cols += _param_cols(vals, qc, adj, aqc, np.where(adj_row & ~bad, np.float32(err), np.nan), off, mode)
    # BGC axis: its own, coarser pressure grid
    bgc = fl["is_bgc"][fidx]
    nb = np.where(bgc, np.maximum(50, nl // 2), 0)
    boff = np.concatenate(([0], np.cumsum(nb))).astype(np.int64)
    brow = np.repeat(np.arange(n), nb)
    bk = np.arange(boff[-1]) - boff[:-1][brow]
    bz = bk / np.maximum(nb - 1, 1)[brow]
    bpres = (np.minimum(pmax, 2000)[brow] * bz ** 1.5 + 2.0).astype(np.float32)
    doxy = (250.0 - 180.0 * np.exp(-((bpres - 700.0) / 350.0) ** 2) + rng.normal(0, 2, brow.size)).astype(np.float32)
    chla = (np.maximum(0, 0.6 * np.exp(-((bpres - 60.0) / 40.0) ** 2) + rng.normal(0, 0.02, brow.size))
            ).astype(np.float32)
    nitrate = (40.0 * (1 - np.exp(-bpres / 400.0)) + rng.normal(0, 0.3, brow.size)).astype(np.float32)
    r = rng.random(n)
    doxy_mode = np.where(~bgc, "", np.where(delayed & (r < 0.5), "D", np.where(r < 0.85, "A", "R")))
    for name, vals, present, pmode in (
            ("bgc_pres", bpres, bgc, np.where(bgc, mode, "")),
            ("doxy", doxy, bgc, doxy_mode),
            ("chla", chla, fl["chla"][fidx], np.where(fl["chla"][fidx], "A", "")),
            ("nitrate", nitrate, fl["nitrate"][fidx], np.where(fl["nitrate"][fidx], "R", ""))):
        lv_present = present[brow]
        vals = np.where(lv_present, vals, np.nan).astype(np.float32)
        qc = np.where(lv_present, _qc(rng, brow.size), -1).astype(np.int16)
        lv_mode = pmode[brow]
        if name in ("doxy", "nitrate"):     # real-time BGC values are flagged 3 (Argo RT procedure)
            qc = np.where(lv_mode == "R", np.maximum(qc, 3), qc).astype(np.int16)
        adj_ok = np.isin(lv_mode, ("A", "D"))
        adj = np.where(adj_ok, vals * (1.04 if name == "doxy" else 1.0), np.nan).astype(np.float32)
        aqc = np.where(adj_ok, np.minimum(_qc(rng, brow.size), 2), -1).astype(np.int16)
        err = np.where(adj_ok, np.float32(3.0 if name == "doxy" else 0.01), np.nan).astype(np.float32)
        cols += _param_cols(vals, qc, adj, aqc, err, boff, pmode)
    return cols


def _param_cols(vals, qc, adj, aqc, err, off, dmode) -> list:
    dm = np.asarray(dmode).astype(object)
    return [pb.encode_array(vals, off, "real"), pb.encode_array(qc, off, "smallint", null=qc < 0),
            pb.encode_array(adj, off, "real"), pb.encode_array(aqc, off, "smallint", null=aqc < 0),
            pb.encode_array(err, off, "real"), pb.encode_text(dm, null=dm == "")]


_HEAD = ("id", "platform_number", "cycle_number", "direction", "dataset_id", "juld", "juld_qc", "juld_location",
         "latitude", "longitude", "position_qc", "positioning_system", "data_mode", "config_mission_number",
         "data_centre", "project_name", "pi_name", "platform_type", "header_rank", "header_source", "core_rank",
         "core_source", "bgc_rank", "bgc_source")
COPY_COLUMNS = _HEAD + tuple(f"{p}{s}" for p in _PARAMS for s in [t for t, _ in _TWINS] + ["_data_mode"])


_POSITIONS_SQL = """
INSERT INTO float_positions (platform_number, cycle_number, direction, profile_id, juld, latitude, longitude,
                             position, position_qc, position_invalid)
SELECT platform_number, cycle_number, direction, id, juld, latitude, longitude, position, position_qc,
       position_invalid
FROM profiles WHERE id = ANY(%s)"""


# ----------------------------------------------------------------------------- populate
def populate(n_profiles: int, n_floats: int | None = None, bgc_fraction: float = 0.2, seed: int = 0,
             dataset: str = "synthetic", *, chunk: int = 10_000, settings: Settings | None = None) -> dict[str, Any]:
    """Fill the database with ``n_profiles`` synthetic profiles of ``n_floats`` floats.

    ``n_floats`` defaults to ``n_profiles // 50`` capped at 17,000 (the archive's float count).
    Floats get WMO numbers ``SYNTH_WMO_BASE + seed * 100_000 + i``; populating the same seed twice
    is refused (``IngestError``). Returns counts and timings.
    """
    from .datasets import update_dataset_metadata
    from .engine import raw_connection
    from .maintenance import refresh_views
    from .regions import seed_if_needed

    settings = settings or get_settings()
    n_profiles = int(n_profiles)
    if n_profiles <= 0:
        raise IngestError("--profiles must be positive")
    n_floats = int(n_floats or max(1, min(17_000, n_profiles // 50)))
    if not 0 < n_floats <= n_profiles:
        raise IngestError(f"need 1 <= floats <= profiles, got {n_floats} floats for {n_profiles} profiles")
    if not 0.0 <= bgc_fraction <= 1.0:
        raise IngestError("bgc_fraction must be within 0..1")
    wmo0 = SYNTH_WMO_BASE + int(seed) * 100_000
    if wmo0 + n_floats >= 10_000_000:
        raise IngestError(f"seed {seed} with {n_floats} floats leaves the 7-digit WMO range")
    t0 = time.perf_counter()
    seed_if_needed(settings=settings)
    rng = np.random.default_rng(seed)
    conn = raw_connection(settings=settings)
    timings: dict[str, float] = {}
    try:
        cur = conn.cursor()
        cur.execute("SET synchronous_commit = off")
        cur.execute("SELECT 1 FROM profiles WHERE platform_number = %s LIMIT 1", (str(wmo0),))
        if cur.fetchone():
            raise IngestError(f"synthetic floats of seed {seed} are already in the database: "
                              "use another --seed, or `floatchat db reset --data`")
        cur.execute("INSERT INTO datasets (name, source, description) VALUES (%s, 'synthetic', %s) "
                    "ON CONFLICT (name) DO UPDATE SET source = datasets.source RETURNING id",
                    (dataset, "Synthetic archive-shaped population (floatchat synth): not data."))
        dataset_id = cur.fetchone()[0]
        mask = ocean_mask(conn)
        conn.commit()
        fl = _floats(rng, n_profiles, n_floats, bgc_fraction, mask, wmo0)
        tr = _tracks(rng, fl, mask)
        timings["plan_s"] = time.perf_counter() - t0
        t_copy = time.perf_counter()
        cur.execute("SELECT nextval('profiles_id_seq') FROM generate_series(1, %s)", (n_profiles,))
        all_ids = np.fromiter((r[0] for r in cur.fetchall()), dtype=np.int64, count=n_profiles)
        conn.commit()
        copy_sql = f"COPY profiles ({', '.join(COPY_COLUMNS)}) FROM STDIN (FORMAT binary)"

        def write(payload: bytes, ids: list[int]) -> None:
            # runs in a helper thread: PostgreSQL ingests chunk i while numpy builds chunk i + 1
            cur.copy_expert(copy_sql, io.BytesIO(payload))
            cur.execute(_POSITIONS_SQL, (ids,))
            conn.commit()

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            for lo in range(0, n_profiles, chunk):
                sel = slice(lo, min(lo + chunk, n_profiles))
                ids = all_ids[sel]
                payload = pb.assemble(_chunk_columns(rng, fl, tr, sel, dataset_id, ids))
                if pending is not None:
                    pending.result()
                pending = pool.submit(write, payload, ids.tolist())
                log.info("synthdb.chunk profiles=%d/%d", sel.stop, n_profiles)
            if pending is not None:
                pending.result()
        cur.execute("SELECT coalesce(sum(n_levels + n_bgc_levels), 0) FROM profiles WHERE dataset_id = %s",
                    (dataset_id,))
        n_levels = int(cur.fetchone()[0])
        timings["copy_s"] = time.perf_counter() - t_copy
        from psycopg2.extras import execute_values

        params = np.where(fl["is_bgc"], "{PRES,TEMP,PSAL,DOXY}", "{PRES,TEMP,PSAL}")
        execute_values(cur, """
            INSERT INTO floats (platform_number, dac, platform_type, project_name, pi_name, is_bgc, is_deep,
                                launch_date, launch_latitude, launch_longitude, parameters, meta_source)
            VALUES %s ON CONFLICT (platform_number) DO NOTHING""",
            [(pn, "coriolis", "ARVOR_D" if deep else ("PROVOR_III" if bgc else "ARVOR"), "FloatChat synthetic",
              "Nobody (synthetic)", bool(bgc), bool(deep), str(T_START + np.timedelta64(int(sd * DAY_S), "s")) + "Z",
              float(la), float(lo_), prm, "synthdb")
             for pn, bgc, deep, sd, la, lo_, prm in zip(fl["platform_number"], fl["is_bgc"], fl["is_deep"],
                                                         fl["start_day"], fl["lat0"], fl["lon0"], params)],
            template="(%s, %s, %s, %s, %s, %s, %s, %s::timestamptz, %s, %s, %s::text[], %s)", page_size=2000)
        cur.execute("UPDATE app_state SET value = value + 1 WHERE key = 'cache_generation'")
        conn.commit()
        t1 = time.perf_counter()
        conn.driver_connection.autocommit = True      # the psycopg2 connection, not the pool proxy
        # level arrays have no statistics (migration 0005): this is quick, and it also gathers the
        # expression-index statistics the box / region estimates need; VACUUM sets the visibility
        # map that index-only counts need (autovacuum does so for ingested data, later)
        cur.execute("VACUUM (ANALYZE) profiles")
        cur.execute("ANALYZE float_positions")
        cur.execute("ANALYZE floats")
        timings["analyze_s"] = time.perf_counter() - t1
    finally:
        if conn.driver_connection.autocommit:          # back to the pool as it came (set only
            conn.driver_connection.autocommit = False  # outside a transaction: psycopg2 refuses else)
        conn.close()
    t1 = time.perf_counter()
    update_dataset_metadata(dataset_id, settings=settings)
    refresh_views(settings=settings)
    timings["refresh_s"] = time.perf_counter() - t1
    seconds = time.perf_counter() - t0
    return {"dataset": dataset, "dataset_id": int(dataset_id), "n_profiles": n_profiles, "n_floats": n_floats,
            "n_bgc_floats": int(fl["is_bgc"].sum()), "n_deep_floats": int(fl["is_deep"].sum()),
            "n_levels": n_levels, "seconds": round(seconds, 1),
            "profiles_per_min": round(n_profiles / seconds * 60), **{k: round(v, 1) for k, v in timings.items()}}
