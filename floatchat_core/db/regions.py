"""Named ocean regions: seeding ``ocean_regions``/``region_aliases`` and resolving names.

Regions come from the bundled Natural Earth marine polygons (oceans, seas, gulfs, bays,
straits, …; see ``floatchat_core/data/naturalearth/README.md``) plus regions built here:

* the three Argo basins "Atlantic Ocean" (A), "Indian Ocean" (I) and "Pacific Ocean" (P) — the
  codes of the GDAC index files' ``ocean`` column — each the union of its open-ocean Natural
  Earth polygons, the marginal seas connected to them and its Southern Ocean sector;
* equatorial bands (5°S–5°N) of each basin: "Equatorial Pacific" (120°E–80°W), …

All geometry work is done in PostGIS, in planar lon/lat ("geometry") space where Natural
Earth's split at ±180° is exact, and each polygon is segmentized to ≤ 0.5° edges before it
becomes a geography: a long planar edge (the Southern Ocean's 146°-long edge along 60°S, the
Arctic Ocean's edge along the pole) would otherwise turn into a great circle cutting far
across the region.

Reads (``resolve_region``, ``point_regions``, ``region_geojson``) use the read-only engine.
Longitudes/latitudes are degrees (WGS 84); areas are km².
"""
from __future__ import annotations

import copy
import hashlib
import math
import re
import unicodedata
from typing import Any

from ..config import Settings, get_settings
from ..errors import NotFoundError
from .engine import get_engine

#: Bump when the seeding rules (names, aliases, built regions) change: ``db up`` then re-seeds.
SEED_VERSION = 1

#: Natural Earth layer the regions come from.
LAYER = "ne_10m_geography_marine_polys"

#: ``app_state`` key holding the fingerprint of the seeded data (a bigint).
STATE_KEY = "regions_sha"

#: Default minimum pg_trgm similarity for a fuzzy match (when settings have no
#: ``region_match_threshold``).
MATCH_THRESHOLD = 0.4

#: Fuzzy matches whose scores are closer than this are "ambiguous".
AMBIGUITY_MARGIN = 0.05

#: Edge length (degrees) polygons are segmentized to before becoming geographies.
SEGMENT_DEG = 0.5

#: Argo basins: name → (code, Natural Earth regions it grows from, Southern Ocean sectors as
#: (west, east) longitude ranges). The sector meridians are the usual basin limits: Cape
#: Agulhas (20°E), South East Cape of Tasmania (146.92°E) and Cape Horn (67.27°W). The Nordic
#: Seas lie north of ``ARCTIC_LAT`` but Argo counts them as Atlantic.
BASINS: dict[str, tuple[str, tuple[str, ...], tuple[tuple[float, float], ...]]] = {
    "Atlantic Ocean": ("A", ("North Atlantic Ocean", "South Atlantic Ocean", "Norwegian Sea", "Greenland Sea",
                             "Denmark Strait"), ((-67.27, 20.0),)),
    "Indian Ocean": ("I", ("Indian Ocean (open ocean)",), ((20.0, 146.92),)),
    "Pacific Ocean": ("P", ("North Pacific Ocean", "South Pacific Ocean"), ((146.92, 180.0), (-180.0, -67.27))),
}

#: Regions whose centroid lies north of this latitude (the Arctic Circle) stay out of the
#: basins (they form the Arctic Ocean); south of ``SOUTHERN_LAT`` they are split by sector.
ARCTIC_LAT = 66.0
SOUTHERN_LAT = -60.0

#: Equatorial bands: name → (basin, boxes (west, south, east, north)); clipped to the basin.
BANDS: dict[str, tuple[str, tuple[tuple[float, float, float, float], ...]]] = {
    "Equatorial Pacific": ("Pacific Ocean", ((120.0, -5.0, 180.0, 5.0), (-180.0, -5.0, -80.0, 5.0))),
    "Equatorial Atlantic": ("Atlantic Ocean", ((-60.0, -5.0, 15.0, 5.0),)),
    "Equatorial Indian Ocean": ("Indian Ocean", ((40.0, -5.0, 100.0, 5.0),)),
}

#: Alias → region name. Aliases are stored normalised (see ``normalise``).
ALIASES: dict[str, str] = {
    "A": "Atlantic Ocean", "I": "Indian Ocean", "P": "Pacific Ocean",
    "Atlantic": "Atlantic Ocean", "Pacific": "Pacific Ocean", "Indian": "Indian Ocean",
    "Indian Ocean": "Indian Ocean",
    "North Atlantic": "North Atlantic Ocean", "South Atlantic": "South Atlantic Ocean",
    "North Pacific": "North Pacific Ocean", "South Pacific": "South Pacific Ocean",
    "Southern Ocean": "Southern Ocean", "Antarctic Ocean": "Southern Ocean", "Southern": "Southern Ocean",
    "Arctic": "Arctic Ocean", "Arctic Ocean": "Arctic Ocean",
    "Arabian Sea": "Arabian Sea", "Bay of Bengal": "Bay of Bengal",
    "Med": "Mediterranean Sea", "Mediterranean": "Mediterranean Sea",
    "Gulf of Mexico": "Gulf of Mexico", "Labrador Sea": "Labrador Sea",
    "Caribbean": "Caribbean Sea", "Red Sea": "Red Sea", "Tasman Sea": "Tasman Sea", "Coral Sea": "Coral Sea",
    "Arabian Gulf": "Persian Gulf", "Sea of Japan": "Sea of Japan", "East Sea": "Sea of Japan",
    "Equatorial Pacific": "Equatorial Pacific", "Equatorial Pacific Ocean": "Equatorial Pacific",
    "Equatorial Atlantic": "Equatorial Atlantic", "Equatorial Atlantic Ocean": "Equatorial Atlantic",
    "Equatorial Indian Ocean": "Equatorial Indian Ocean", "Equatorial Indian": "Equatorial Indian Ocean",
}


# ----------------------------------------------------------------------------- names
def normalise(name: str) -> str:
    """Lower case, accents and punctuation removed, whitespace collapsed, "the" dropped."""
    s = unicodedata.normalize("NFKD", name)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower().replace("&", " and ")
    words = [w for w in re.split(r"[^a-z0-9]+", s) if w and w != "the"]
    return " ".join(words)


def _display_name(props: dict) -> str:
    """A Natural Earth feature's region name: whitespace collapsed, ALL-CAPS oceans title-cased.

    Unnamed features ("generic" internal waters) are named by their ``note``. The open-ocean
    "Indian Ocean" polygon gives its name to the whole basin (as "Atlantic Ocean" and "Pacific
    Ocean" are), so it is renamed "… (open ocean)".
    """
    name = " ".join((props.get("name") or props.get("note") or "unnamed").split())
    if name.isupper():
        name = name.title()
    if name in BASINS:
        name += " (open ocean)"
    return name


def _features() -> list[tuple[str, str, str]]:
    """``(name, kind, geometry GeoJSON text)`` for each bundled marine polygon."""
    import json

    from ..data import naturalearth

    return [(_display_name(f["properties"]), (f["properties"].get("featurecla") or "generic").lower(),
             json.dumps(f["geometry"]))
            for f in naturalearth.load(LAYER)["features"] if f.get("geometry")]


def fingerprint() -> int:
    """The bundled layer's sha256 mixed with ``SEED_VERSION``, as a positive bigint (60 bits)."""
    from ..data import naturalearth

    h = hashlib.sha256(naturalearth.path(LAYER).read_bytes())
    h.update(f"seed-version={SEED_VERSION}".encode())
    return int(h.hexdigest()[:15], 16)


def expected_names() -> set[str]:
    """Names of every region ``seed_regions`` writes (Natural Earth ones + built ones)."""
    return {name for name, _, _ in _features()} | set(BASINS) | set(BANDS)


# ----------------------------------------------------------------------------- seeding
_STAGE = """
DROP TABLE IF EXISTS pg_temp._ne_src, pg_temp._regions, pg_temp._basin;
CREATE TEMP TABLE _ne_src (name text, kind text, geom geometry) ON COMMIT DROP;
CREATE TEMP TABLE _regions (name text PRIMARY KEY, kind text NOT NULL, argo_code char(1),
                            source text NOT NULL, geom geometry NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE _basin (name text PRIMARY KEY, code char(1) NOT NULL) ON COMMIT DROP;
"""

# features sharing a name (the Ross Sea's two halves either side of 180°) become one region
_MERGE = """
INSERT INTO _regions (name, kind, source, geom)
SELECT name, min(kind), 'naturalearth', ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(geom)), 3))
FROM _ne_src GROUP BY name;
CREATE INDEX ON _regions USING gist (geom);
ANALYZE _regions;
"""

# one step of a breadth-first walk from the open oceans to the seas connected to them:
# each unassigned region within 0.05° of an assigned one takes the nearest one's basin
_SPREAD = f"""
INSERT INTO _basin (name, code)
SELECT DISTINCT ON (r.name) r.name, b.code
FROM _regions r
JOIN _regions n ON ST_DWithin(r.geom, n.geom, 0.05)
JOIN _basin b ON b.name = n.name
WHERE r.name NOT IN (SELECT name FROM _basin)
  AND r.source = 'naturalearth' AND r.kind <> 'ocean'
  AND ST_Y(ST_Centroid(r.geom)) BETWEEN {SOUTHERN_LAT} AND {ARCTIC_LAT}
ORDER BY r.name, ST_Distance(r.geom, n.geom), ST_Area(n.geom) DESC, b.code
"""

# a basin: its connected regions plus its sectors of the Antarctic waters
_BASIN = f"""
INSERT INTO _regions (name, kind, argo_code, source, geom)
SELECT %(name)s, 'ocean', %(code)s, 'floatchat',
       ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(g)), 3))
FROM (SELECT r.geom AS g FROM _basin b JOIN _regions r USING (name) WHERE b.code = %(code)s
      UNION ALL
      SELECT ST_Intersection(r.geom, ST_MakeEnvelope(s.w, -90, s.e, 0, 4326))
      FROM _regions r, unnest(%(west)s::float8[], %(east)s::float8[]) AS s(w, e)
      WHERE r.source = 'naturalearth' AND ST_Y(ST_Centroid(r.geom)) < {SOUTHERN_LAT}) parts
WHERE NOT ST_IsEmpty(g)
"""

_BAND = """
INSERT INTO _regions (name, kind, source, geom)
SELECT %(name)s, 'custom', 'floatchat', ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Intersection(
           r.geom, (SELECT ST_Collect(ST_MakeEnvelope(w, s, e, n, 4326))
                    FROM unnest(%(w)s::float8[], %(s)s::float8[], %(e)s::float8[], %(n)s::float8[])
                         AS t(w, s, e, n)))), 3))
FROM _regions r WHERE r.name = %(basin)s
"""

# upsert by name so ids (and so every alias) stay put when nothing changed. ST_MakeValid again
# because the vertices segmentizing adds can make rings of a union touch across a sliver.
# Exterior rings counter-clockwise (RFC 7946): PostGIS 3.3 geography took the clockwise
# "Atlantic Ocean" for its complement (ST_Covers/ST_Intersects true for Paris, false mid-ocean).
_UPSERT = f"""
INSERT INTO ocean_regions (name, kind, argo_code, source, geog, area_km2)
SELECT name, kind, argo_code, source, g, ST_Area(g) / 1e6
FROM (SELECT name, kind, argo_code, source,
             ST_ForcePolygonCCW(ST_Multi(ST_CollectionExtract(
                 ST_MakeValid(ST_Segmentize(geom, {SEGMENT_DEG})), 3)))::geography AS g
      FROM _regions) r
ORDER BY name
ON CONFLICT (name) DO UPDATE
SET kind = EXCLUDED.kind, argo_code = EXCLUDED.argo_code, source = EXCLUDED.source,
    geog = EXCLUDED.geog, area_km2 = EXCLUDED.area_km2;
DELETE FROM ocean_regions
WHERE source IN ('naturalearth', 'floatchat') AND name NOT IN (SELECT name FROM _regions);
"""


def seed_regions(conn=None, settings: Settings | None = None) -> int:
    """Load the bundled marine polygons and the built regions into ``ocean_regions`` and the
    aliases into ``region_aliases``. Idempotent: a second run leaves identical rows.

    ``conn``: a SQLAlchemy ``Connection`` or a psycopg2 connection, inside a transaction the
    caller commits; by default a new owner connection, committed here. Regions of other
    sources (user-defined) are kept. Returns the number of regions written.
    """
    if conn is None:
        raw = get_engine(settings=settings).raw_connection()
        try:
            n = _seed(raw.cursor())
            raw.commit()
            return n
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()
    dbapi = conn.connection if hasattr(conn, "exec_driver_sql") else conn   # SQLAlchemy → DBAPI
    return _seed(dbapi.cursor())


def _seed(cur) -> int:
    from psycopg2.extras import execute_values

    # one seeder at a time (two `db up` racing would both upsert the same names)
    cur.execute("SELECT pg_advisory_xact_lock(hashtext('floatchat.seed_regions'))")
    cur.execute(_STAGE)
    execute_values(cur, "INSERT INTO _ne_src (name, kind, geom) VALUES %s", _features(),
                   template="(%s, %s, ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326))", page_size=500)
    cur.execute(_MERGE)

    for code, oceans, _ in BASINS.values():
        cur.execute("INSERT INTO _basin (name, code) SELECT unnest(%s::text[]), %s", (list(oceans), code))
    for _ in range(100):                       # seas chain outwards a few steps; stop when done
        cur.execute(_SPREAD)
        if cur.rowcount == 0:
            break
    for name, (code, _, sectors) in BASINS.items():
        cur.execute(_BASIN, {"name": name, "code": code, "west": [w for w, _ in sectors],
                             "east": [e for _, e in sectors]})
    for name, (basin, boxes) in BANDS.items():
        w, s, e, n = (list(v) for v in zip(*boxes))
        cur.execute(_BAND, {"name": name, "basin": basin, "w": w, "s": s, "e": e, "n": n})

    cur.execute(_UPSERT)
    cur.execute("SELECT count(*) FROM _regions")
    n = cur.fetchone()[0]

    targets = {normalise(alias): name for alias, name in ALIASES.items()}
    execute_values(cur, """
        INSERT INTO region_aliases (alias, region_id)
        SELECT a.alias, r.id FROM (VALUES %s) AS a(alias, name) JOIN ocean_regions r ON r.name = a.name
        ON CONFLICT (alias) DO UPDATE SET region_id = EXCLUDED.region_id""", sorted(targets.items()))
    cur.execute("SELECT array_agg(DISTINCT name) FROM ocean_regions WHERE name = ANY(%s)",
                (sorted(set(targets.values())),))
    missing = set(targets.values()) - set(cur.fetchone()[0] or [])
    if missing:                                 # an alias table typo or a renamed source region
        raise RuntimeError(f"region aliases point at unknown regions: {sorted(missing)}")

    fp = fingerprint()
    cur.execute("SELECT value FROM app_state WHERE key = %s", (STATE_KEY,))
    row = cur.fetchone()
    if row is None or row[0] != fp:             # cached answers may name regions: invalidate them
        cur.execute("UPDATE app_state SET value = value + 1 WHERE key = 'cache_generation'")
    cur.execute("INSERT INTO app_state (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", (STATE_KEY, fp))
    _refresh_parts(cur)
    return n


def _refresh_parts(cur) -> None:
    """Re-cut the regions into the indexed pieces of ``mv_region_parts`` (migration 0006)."""
    cur.execute("SELECT to_regclass('mv_region_parts') IS NOT NULL")
    if cur.fetchone()[0]:
        cur.execute("REFRESH MATERIALIZED VIEW mv_region_parts")
        cur.execute("ANALYZE mv_region_parts")


def refresh_region_parts(settings: Settings | None = None) -> None:
    """Refresh the region pieces after regions were added or changed outside seeding (and bump
    the cache generation: cached answers and name resolutions may name the old regions)."""
    raw = get_engine(settings=settings).raw_connection()
    try:
        cur = raw.cursor()
        _refresh_parts(cur)
        cur.execute("UPDATE app_state SET value = value + 1 WHERE key = 'cache_generation'")
        raw.commit()
    finally:
        raw.close()


def seed_if_needed(settings: Settings | None = None) -> bool:
    """Seed when ``ocean_regions`` is empty or was seeded from other data/rules. True if seeded."""
    from sqlalchemy import text

    with get_engine(settings=settings).connect() as c:
        count = c.execute(text("SELECT count(*) FROM ocean_regions")).scalar()
        stored = c.execute(text("SELECT value FROM app_state WHERE key = :k"), {"k": STATE_KEY}).scalar()
    if count and stored == fingerprint():
        return False
    seed_regions(settings=settings)
    return True


# ----------------------------------------------------------------------------- reads
_REGION_SQL = """
SELECT id, name, kind, argo_code, area_km2,
       ST_XMin(g) AS xmin, ST_YMin(g) AS ymin, ST_XMax(g) AS xmax, ST_YMax(g) AS ymax,
       ST_XMin(ST_ShiftLongitude(g)) AS sxmin, ST_XMax(ST_ShiftLongitude(g)) AS sxmax
FROM (SELECT *, geog::geometry AS g FROM ocean_regions WHERE id = :id) r
"""


def _bbox(r) -> list[float]:
    """``[west, south, east, north]``; west > east when the region crosses the antimeridian
    (RFC 7946 §5.2), e.g. the Equatorial Pacific is ``[120, -5, -80, 5]``."""
    west, east = r.xmin, r.xmax
    if r.sxmax - r.sxmin < (r.xmax - r.xmin) - 1e-9:      # narrower in 0..360: it straddles 180°
        west = r.sxmin - 360 if r.sxmin > 180 else r.sxmin
        east = r.sxmax - 360 if r.sxmax > 180 else r.sxmax
    # rounded outwards (1e-4°): the box always holds the whole region, so a box test ahead of
    # the exact one (dalcore.where_clause) never drops a profile on the region's edge
    out = [math.floor(west * 1e4) / 1e4, math.floor(r.ymin * 1e4) / 1e4,
           math.ceil(east * 1e4) / 1e4, math.ceil(r.ymax * 1e4) / 1e4]
    return [round(v, 4) for v in out]


def _region(c, region_id: int) -> dict | None:
    from sqlalchemy import text

    r = c.execute(text(_REGION_SQL), {"id": region_id}).one_or_none()
    if r is None:
        return None
    return {"id": r.id, "name": r.name, "kind": r.kind, "argo_code": r.argo_code,
            "area_km2": r.area_km2, "bbox": _bbox(r)}


def _threshold(settings: Settings) -> float:
    value = getattr(settings, "region_match_threshold", None)
    return float(value) if value is not None else MATCH_THRESHOLD


def resolve_region(name: str, threshold: float | None = None, limit: int = 5, *,
                   settings: Settings | None = None, conn=None) -> dict[str, Any]:
    """Resolve a user's region name: exact name → alias → fuzzy (pg_trgm similarity).

    Names compare normalised (case, accents, punctuation, "the" ignored). Returns
    ``{"status", "region", "candidates"}``: ``status`` is ``"exact"``, ``"alias"``, ``"fuzzy"``,
    ``"ambiguous"`` (the two best fuzzy scores within ``AMBIGUITY_MARGIN``; ``region`` is then
    None and the caller should ask) or ``"none"``. ``region`` is ``{id, name, kind, argo_code,
    area_km2, bbox: [west, south, east, north]}``; ``candidates`` lists ``{id, name, score}``
    (score 0..1), best first, at most ``limit``. ``conn``: a read-only SQLAlchemy connection to
    use (the caller's, saving a checkout); a new one by default.
    """
    settings = settings or get_settings()
    threshold = _threshold(settings) if threshold is None else float(threshold)
    q = normalise(name or "")
    if not q:
        return {"status": "none", "region": None, "candidates": []}
    if conn is not None:
        return _resolve_cached(conn, q, threshold, int(limit))
    with get_engine(readonly=True, settings=settings).connect() as c:
        return _resolve_cached(c, q, threshold, int(limit))


#: What only changes when the regions do, by (database, regions fingerprint and cache generation):
#: answers by (..., name, threshold, limit); the normalised names and aliases → region id; a
#: region's row with its box.
_RESOLVED: dict[tuple, dict[str, Any]] = {}
_NAMES: dict[tuple, tuple[dict[str, int], dict[str, int]]] = {}
_REGIONS: dict[tuple, dict[str, Any]] = {}


def _remember(cache: dict, key: tuple, value: Any) -> None:
    if len(cache) >= 1024:
        cache.clear()
    cache[key] = value


def _resolve_cached(c, q: str, threshold: float, limit: int) -> dict[str, Any]:
    from sqlalchemy import text

    # the answer only changes when the regions do (seeding bumps the cache generation, as every
    # ingestion does): keyed on both, a repeated name costs one small query; a new name the
    # region's row (~1–2 ms for its box), never the ~300 names normalised in Python again
    state = tuple(c.execute(text("SELECT key, value FROM app_state WHERE key IN (:k, 'cache_generation') "
                                 "ORDER BY key"), {"k": STATE_KEY}).all())
    db = (c.engine.url.render_as_string(hide_password=True), state)
    key = (*db, q, threshold, limit)
    if (hit := _RESOLVED.get(key)) is not None:
        return copy.deepcopy(hit)
    result = _resolve(c, db, q, threshold, limit, {"status": "none", "region": None, "candidates": []})
    _remember(_RESOLVED, key, copy.deepcopy(result))
    return result


def _names(c, db: tuple) -> tuple[dict[str, int], dict[str, int]]:
    """(normalised region name → id of the first region by id bearing it, alias → region id)."""
    from sqlalchemy import text

    if (hit := _NAMES.get(db)) is None:
        by_name: dict[str, int] = {}
        for r in c.execute(text("SELECT id, name FROM ocean_regions ORDER BY id")).all():
            by_name.setdefault(normalise(r.name), r.id)
        aliases = dict(c.execute(text("SELECT alias, region_id FROM region_aliases")).all())
        _remember(_NAMES, db, hit := (by_name, aliases))
    return hit


def _region_of(c, db: tuple, region_id: int) -> dict[str, Any] | None:
    if (hit := _REGIONS.get((*db, region_id))) is None:
        hit = _region(c, region_id)
        if hit is None:
            return None
        _remember(_REGIONS, (*db, region_id), hit)
    return copy.deepcopy(hit)


def _resolve(c, db: tuple, q: str, threshold: float, limit: int, result: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import text

    by_name, aliases = _names(c, db)
    status, region_id = "none", None
    if q in by_name:
        status, region_id = "exact", by_name[q]
    elif q in aliases:
        status, region_id = "alias", aliases[q]
    if region_id is not None:
        region = _region_of(c, db, region_id)
        return {"status": status, "region": region,
                "candidates": [{"id": region["id"], "name": region["name"], "score": 1.0}]}

    # best score per region over its name and its aliases
    cands = c.execute(text("""
        SELECT r.id, r.name, max(s.score) AS score
        FROM (SELECT id AS region_id, similarity(lower(name), :q) AS score FROM ocean_regions
              UNION ALL
              SELECT region_id, similarity(alias, :q) FROM region_aliases) s
        JOIN ocean_regions r ON r.id = s.region_id
        GROUP BY r.id, r.name
        HAVING max(s.score) >= :t
        ORDER BY score DESC, r.id
        LIMIT :limit"""), {"q": q, "t": threshold, "limit": max(int(limit), 2)}).all()
    result["candidates"] = [{"id": r.id, "name": r.name, "score": round(float(r.score), 4)}
                            for r in cands][:limit]
    if not cands:
        return result
    if len(cands) > 1 and cands[0].score - cands[1].score < AMBIGUITY_MARGIN:
        result["status"] = "ambiguous"
        return result
    result["status"] = "fuzzy"
    result["region"] = _region_of(c, db, cands[0].id)
    return result


def point_regions(lon: float, lat: float, *, settings: Settings | None = None) -> list[str]:
    """Names of the regions covering the point (lon, lat in degrees), smallest area first."""
    from sqlalchemy import text

    lon = ((float(lon) + 180.0) % 360.0) - 180.0         # 190 → -170
    with get_engine(readonly=True, settings=settings).connect() as c:
        return list(c.execute(text("""
            SELECT name FROM ocean_regions
            WHERE ST_Covers(geog, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
            ORDER BY area_km2, name"""), {"lon": lon, "lat": float(lat)}).scalars())


def region_geojson(region_id: int, *, decimals: int = 4, settings: Settings | None = None) -> dict:
    """The region as a GeoJSON Feature (properties: name, kind, argo_code, area_km2).

    Raises ``NotFoundError`` for an unknown id.
    """
    import json

    from sqlalchemy import text

    with get_engine(readonly=True, settings=settings).connect() as c:
        r = c.execute(text("SELECT id, name, kind, argo_code, area_km2, ST_AsGeoJSON(geog, :d) AS gj "
                           "FROM ocean_regions WHERE id = :id"), {"id": int(region_id), "d": decimals}).one_or_none()
    if r is None:
        raise NotFoundError(f"no region with id {region_id}")
    return {"type": "Feature", "id": r.id, "geometry": json.loads(r.gj),
            "properties": {"name": r.name, "kind": r.kind, "argo_code": r.argo_code, "area_km2": r.area_km2}}
