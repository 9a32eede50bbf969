"""Ocean regions: bundled Natural Earth data, seeding, name resolution and point lookup."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from floatchat_core.data import naturalearth
from floatchat_core.db import get_engine, regions
from floatchat_core.db.regions import point_regions, region_geojson, resolve_region, seed_regions
from floatchat_core.errors import NotFoundError

#: md5 of the whole ordered content of both tables (geometry as EWKB).
CONTENT_MD5 = """
SELECT md5(string_agg(row_text, E'\\n' ORDER BY k)) FROM (
    SELECT 'r' || lpad(id::text, 8, '0') AS k,
           concat_ws('|', id, name, kind, argo_code, source, md5(ST_AsEWKB(geog::geometry)), area_km2) AS row_text
    FROM ocean_regions
    UNION ALL
    SELECT 'a' || alias, concat_ws('|', alias, region_id) FROM region_aliases) t
"""


@pytest.fixture(scope="module")
def seeded(database):
    """``db up`` seeds the regions; make sure they are there whatever ran before."""
    regions.seed_if_needed()
    return database


# ----------------------------------------------------------------------------- bundled files
def test_bundled_layers_load():
    for name in naturalearth.NAMES:
        fc = naturalearth.load(name)
        assert fc["type"] == "FeatureCollection" and fc["features"], name
        assert naturalearth.path(name).name == f"{name}.json.gz"
    marine = naturalearth.load("ne_10m_geography_marine_polys")
    assert len(marine["features"]) == 307
    assert {"name", "featurecla"} <= set(marine["features"][0]["properties"])
    with pytest.raises(FileNotFoundError):
        naturalearth.path("ne_1m_nothing")


# ----------------------------------------------------------------------------- seeding
def test_seeded_count_matches_bundle(seeded):
    names = regions.expected_names()
    # 307 features, a few sharing a name (the Ross Sea's halves, two Mediterranean parts, the
    # unnamed internal waters named by their note) become one region each, plus the 3 Argo
    # basins and 3 equatorial bands
    features = naturalearth.load(regions.LAYER)["features"]
    distinct = {regions._display_name(f["properties"]) for f in features}
    assert len(features) == 307 and len(distinct) == 300
    assert len(names) == len(distinct) + len(regions.BASINS) + len(regions.BANDS) == 306
    with get_engine().connect() as c:
        db_names = set(c.execute(text("SELECT name FROM ocean_regions")).scalars())
        codes = dict(c.execute(text("SELECT argo_code, name FROM ocean_regions WHERE argo_code IS NOT NULL")).all())
        kinds = {r[0] for r in c.execute(text("SELECT DISTINCT kind FROM ocean_regions"))}
        stored = c.execute(text("SELECT value FROM app_state WHERE key = 'regions_sha'")).scalar()
    assert db_names == names
    assert codes == {"A": "Atlantic Ocean", "I": "Indian Ocean", "P": "Pacific Ocean"}
    assert {"ocean", "sea", "gulf", "bay", "strait", "custom"} <= kinds
    assert stored == regions.fingerprint()


def test_seeding_twice_gives_identical_content(seeded):
    with get_engine().connect() as c:
        before = c.execute(text(CONTENT_MD5)).scalar()
    assert seed_regions() == len(regions.expected_names())
    with get_engine().connect() as c:
        after = c.execute(text(CONTENT_MD5)).scalar()
    assert before == after
    assert regions.seed_if_needed() is False          # up to date: `db up` does not reseed


def test_seed_accepts_a_sqlalchemy_connection_and_keeps_user_regions(seeded):
    with get_engine().begin() as c:
        c.execute(text("INSERT INTO ocean_regions (name, kind, source, geog) VALUES ('My Box', 'custom', 'user', "
                       "ST_Multi(ST_MakeEnvelope(10, 10, 11, 11, 4326))::geography)"))
        seed_regions(c)
        assert c.execute(text("SELECT count(*) FROM ocean_regions WHERE name = 'My Box'")).scalar() == 1
        c.execute(text("DELETE FROM ocean_regions WHERE name = 'My Box'"))


def test_geometries_are_valid_and_not_inverted(seeded):
    with get_engine().connect() as c:
        invalid = c.execute(text("SELECT name FROM ocean_regions WHERE NOT ST_IsValid(geog::geometry)")).scalars().all()
        assert invalid == []
        types = set(c.execute(text("SELECT DISTINCT GeometryType(geog) FROM ocean_regions")).scalars())
        assert types == {"MULTIPOLYGON"}
        biggest = c.execute(text("SELECT name, area_km2 FROM ocean_regions ORDER BY area_km2 DESC LIMIT 1")).one()
        # the world ocean is ~361 M km²; a region turned into its complement would be > 200 M km²
        assert biggest.name == "Pacific Ocean" and 150e6 < biggest.area_km2 < 200e6
        # a point inside each (non-degenerate) region is covered and its antipode is not: no complements
        wrong = c.execute(text("""
            SELECT name FROM (SELECT name, geog, ST_PointOnSurface(geog::geometry) AS p FROM ocean_regions
                              WHERE area_km2 > 100) r
            WHERE NOT ST_Covers(geog, p::geography)
               OR ST_Covers(geog, ST_SetSRID(ST_MakePoint(ST_X(p) + CASE WHEN ST_X(p) > 0 THEN -180 ELSE 180 END,
                                                          -ST_Y(p)), 4326)::geography)
               OR ST_Intersects(geog, ST_SetSRID(ST_MakePoint(ST_X(p) + CASE WHEN ST_X(p) > 0 THEN -180 ELSE 180 END,
                                                              -ST_Y(p)), 4326)::geography)""")).scalars().all()
        assert wrong == []
        # no geography edge longer than the segmentizing step (a >180° edge would wrap the globe)
        longest = c.execute(text("""
            SELECT max(ST_Length(ST_MakeLine(ST_PointN(ring, i), ST_PointN(ring, i + 1))))
            FROM (SELECT ST_ExteriorRing((ST_Dump(geog::geometry)).geom) AS ring FROM ocean_regions) r,
                 generate_series(1, ST_NPoints(ring) - 1) AS i""")).scalar()
        assert longest <= regions.SEGMENT_DEG * 1.01


# ----------------------------------------------------------------------------- resolve_region
@pytest.mark.parametrize("query, status, name", [
    ("Arabian Sea", "exact", "Arabian Sea"),
    ("  the ARABIAN-sea ", "exact", "Arabian Sea"),
    ("Bahia de Campeche", "exact", "Bahía de Campeche"),          # accents ignored
    ("Ross Sea", "exact", "Ross Sea"),                              # NE's "Ross  Sea" cleaned up
    ("North Atlantic Ocean", "exact", "North Atlantic Ocean"),      # NE's ALL CAPS title-cased
    ("Equatorial Pacific", "exact", "Equatorial Pacific"),
    ("Med", "alias", "Mediterranean Sea"),
    ("the Mediterranean", "alias", "Mediterranean Sea"),
    ("North Atlantic", "alias", "North Atlantic Ocean"),
    ("Caribbean", "alias", "Caribbean Sea"),
    ("Arctic", "alias", "Arctic Ocean"),
    ("Atlantic", "alias", "Atlantic Ocean"),
    ("A", "alias", "Atlantic Ocean"),
    ("I", "alias", "Indian Ocean"),
    ("p", "alias", "Pacific Ocean"),
    ("Equatorial Indian", "alias", "Equatorial Indian Ocean"),
    ("Arabain Sea", "fuzzy", "Arabian Sea"),
    ("Bay of Bengol", "fuzzy", "Bay of Bengal"),
    ("pacfic", "fuzzy", "Pacific Ocean"),
])
def test_resolve_region(seeded, query, status, name):
    r = resolve_region(query)
    assert r["status"] == status, r
    assert r["region"]["name"] == name
    assert r["candidates"][0]["name"] == name
    assert set(r["region"]) >= {"id", "name", "kind", "bbox"}


def test_every_listed_alias_resolves(seeded):
    for alias, name in regions.ALIASES.items():
        r = resolve_region(alias)
        assert r["status"] in ("exact", "alias") and r["region"]["name"] == name, alias


def test_resolve_region_bbox(seeded):
    med = resolve_region("Mediterranean Sea")["region"]
    west, south, east, north = med["bbox"]
    assert -6 < west < 0 and 30 < south < 31 and 36 < east < 37 and 43 < north < 46
    # crossing the antimeridian: west > east (RFC 7946)
    assert resolve_region("Equatorial Pacific")["region"]["bbox"] == [120.0, -5.0, -80.0, 5.0]
    bering = resolve_region("Bering Sea")["region"]["bbox"]
    assert bering[0] > 160 and bering[2] < -155


def test_resolve_region_answers_are_cached_until_the_regions_change(seeded):
    from sqlalchemy import text

    from floatchat_core.db import get_engine

    first = resolve_region("Arabian Sea")
    first["region"]["name"] = "mutated by a caller"          # a copy: the cache is not touched
    assert resolve_region("Arabian Sea")["region"]["name"] == "Arabian Sea"
    rid = first["region"]["id"]
    try:
        with get_engine().begin() as c:
            c.execute(text("UPDATE ocean_regions SET name = 'Arabian Sea (renamed)' WHERE id = :i"), {"i": rid})
        regions.refresh_region_parts()                      # what a change outside seeding must call
        assert resolve_region("Arabian Sea (renamed)")["region"]["id"] == rid
        assert resolve_region("Arabian Sea")["status"] != "exact"
    finally:
        with get_engine().begin() as c:
            c.execute(text("UPDATE ocean_regions SET name = 'Arabian Sea' WHERE id = :i"), {"i": rid})
        regions.refresh_region_parts()
    assert resolve_region("Arabian Sea")["status"] == "exact"


def test_resolve_region_ambiguous_and_none(seeded):
    r = resolve_region("Sea of")
    assert r["status"] == "ambiguous" and r["region"] is None
    assert len(r["candidates"]) >= 2
    assert r["candidates"][0]["score"] - r["candidates"][1]["score"] < regions.AMBIGUITY_MARGIN
    assert all(c["name"].startswith("Sea of") for c in r["candidates"][:2])
    for q in ("xyzzy", "", "   ", "the"):
        assert resolve_region(q) == {"status": "none", "region": None, "candidates": []}
    # a stricter threshold turns a typo into no match
    assert resolve_region("Arabain Sea", threshold=0.9)["status"] == "none"
    assert len(resolve_region("Gulf of", limit=3)["candidates"]) <= 3


# ----------------------------------------------------------------------------- point_regions
@pytest.mark.parametrize("lon, lat, expected", [
    (65, 15, {"Arabian Sea", "Indian Ocean"}),
    (-160, 0, {"Pacific Ocean", "Equatorial Pacific"}),
    (179.95, 58, {"Bering Sea", "Pacific Ocean"}),
    (-179.95, 58, {"Bering Sea", "Pacific Ocean"}),
    (179.95, -30, {"South Pacific Ocean", "Pacific Ocean"}),
    (-179.95, -30, {"South Pacific Ocean", "Pacific Ocean"}),
    (179.95, 1, {"Equatorial Pacific", "Pacific Ocean"}),
    (-179.95, -1, {"Equatorial Pacific", "Pacific Ocean"}),
    (179.95, 80, {"Arctic Ocean"}),
    (-179.95, 80, {"Arctic Ocean"}),
    (0, 89, {"Arctic Ocean"}),
    (170, -76, {"Ross Sea", "Pacific Ocean"}),
    (-170, -78, {"Ross Sea", "Pacific Ocean"}),
    (0, -65, {"Southern Ocean", "Atlantic Ocean"}),
    (-40, 40, {"North Atlantic Ocean", "Atlantic Ocean"}),
    (-30, -30, {"South Atlantic Ocean", "Atlantic Ocean"}),
    (-5, 0, {"Equatorial Atlantic", "Atlantic Ocean"}),
    (80, -1, {"Equatorial Indian Ocean", "Indian Ocean"}),
    (18, 35, {"Mediterranean Sea", "Atlantic Ocean"}),
    (-90, 25, {"Gulf of Mexico", "Atlantic Ocean"}),
    (155, -20, {"Coral Sea", "Pacific Ocean"}),
])
def test_point_regions(seeded, lon, lat, expected):
    names = point_regions(lon, lat)
    assert expected <= set(names), names
    for other in {"Atlantic Ocean", "Indian Ocean", "Pacific Ocean"} - expected:
        assert other not in names


def test_point_regions_order_and_land(seeded):
    assert point_regions(65, 15)[0] == "Arabian Sea"            # smallest area first
    assert point_regions(2.35, 48.85) == []                      # Paris
    assert point_regions(100, 50) == []                          # Mongolia
    assert point_regions(-60, -85) == []                         # Antarctica
    assert point_regions(180.05, 58) == point_regions(-179.95, 58)


def test_region_geojson(seeded):
    region = resolve_region("Red Sea")["region"]
    feat = region_geojson(region["id"])
    assert feat["type"] == "Feature" and feat["properties"]["name"] == "Red Sea"
    assert feat["geometry"]["type"] == "MultiPolygon"
    with pytest.raises(NotFoundError):
        region_geojson(-1)
