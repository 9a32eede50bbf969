"""SQL of metadata search: facts the indexer describes, document upserts, embeddings,
the model/dimension switch and discovery reads.

Writes (documents, embeddings, the index state) use the owner engine; reads that answer
questions (``floats_in_region``, ``floats_with_parameter``, ``dataset_cards``) use the read-only
engine; the search question itself is ``searchquery.ranked_search``. Vectors travel by binary
COPY and are never logged. Positions are degrees (WGS 84); times UTC.

Regions visited by a float are found in SQL: its positions are snapped to a 0.5° grid (a
float's hundreds of positions become a few dozen cells), the distinct cells of all floats are
tested once against the region polygons (planar lon/lat, where the regions were built, cut by
``ST_Subdivide`` into pieces of ≤ 64 vertices so each point-in-polygon test is cheap — 20×
faster than testing the whole basins), and the result is joined back — never a per-row
Python loop.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings
from .engine import get_engine

log = logging.getLogger(__name__)

#: Grid (degrees) positions are snapped to before the region join.
CELL_DEG = 0.5

#: HNSW supports at most this many dimensions for ``vector`` (pgvector 0.8).
HNSW_MAX_DIM = 2000


def _frame(conn, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    from sqlalchemy import text

    from .dalcore import frame_of

    return frame_of(conn.execute(text(sql), params or {}))


# ----------------------------------------------------------------------------- index state
def index_state(settings: Settings | None = None) -> dict[str, Any]:
    """``{"model": str | None, "dim": int}`` of the vectors in ``search_documents``."""
    from sqlalchemy import text

    with get_engine(readonly=True, settings=settings).connect() as c:
        row = c.execute(text("SELECT model, dim FROM search_index_state")).one()
    return {"model": row.model, "dim": int(row.dim)}


_MODEL_TRIGGER = """
CREATE TRIGGER search_documents_model_check
BEFORE INSERT OR UPDATE OF embedding, model ON search_documents
FOR EACH ROW EXECUTE FUNCTION fc_search_model_check()"""


def ensure_index_model(model: str, dim: int, settings: Settings | None = None) -> bool:
    """Make ``model`` (of dimension ``dim``) the index's model. Returns True when it changed.

    A change clears every vector and marks every document ``pending``; when the dimension
    differs the ``embedding`` column and its HNSW index are re-created as ``vector(dim)``.
    All in one transaction, under an advisory lock (two indexers may race).
    """
    from sqlalchemy import text

    with get_engine(settings=settings).begin() as c:
        c.execute(text("SELECT pg_advisory_xact_lock(hashtext('floatchat.search_index_state'))"))
        row = c.execute(text("SELECT model, dim FROM search_index_state FOR UPDATE")).one()
        if row.model == model and int(row.dim) == int(dim):
            return False
        log.warning("search.model_switch from=%s/%s to=%s/%s: every document will be re-embedded",
                    row.model, row.dim, model, dim)
        c.execute(text("UPDATE search_documents SET embedding = NULL, model = NULL, status = 'pending', "
                       "error = NULL WHERE embedding IS NOT NULL OR status <> 'pending'"))
        if int(row.dim) != int(dim):
            c.execute(text("DROP INDEX IF EXISTS search_documents_hnsw"))
            # the model guard names the column (UPDATE OF embedding): re-create it around the change
            c.execute(text("DROP TRIGGER IF EXISTS search_documents_model_check ON search_documents"))
            c.execute(text(f"ALTER TABLE search_documents ALTER COLUMN embedding TYPE vector({int(dim)}) "
                           "USING NULL"))
            c.execute(text(_MODEL_TRIGGER))
            if int(dim) <= HNSW_MAX_DIM:
                c.execute(text("CREATE INDEX search_documents_hnsw ON search_documents "
                               "USING hnsw (embedding vector_cosine_ops)"))
            else:
                log.warning("search.no_hnsw dim=%d > %d: exact cosine scan", dim, HNSW_MAX_DIM)
            c.execute(text("UPDATE app_state SET value = :d WHERE key = 'embedding_dim'"), {"d": int(dim)})
        c.execute(text("UPDATE search_index_state SET model = :m, dim = :d, updated_at = now()"),
                  {"m": model, "d": int(dim)})
    return True


def drop_vector_index(settings: Settings | None = None) -> bool:
    """Drop the HNSW index before a bulk load of vectors (see :func:`create_vector_index`).

    Inserting 20,000 vectors one by one into the graph took 161 s on the 2-core machine;
    storing them without the index and building it afterwards took 5 s + 14 s. Searches keep
    working meanwhile (an exact scan). Returns True when an index was dropped."""
    from sqlalchemy import text

    with get_engine(settings=settings).begin() as c:
        c.execute(text("SET LOCAL lock_timeout = '10s'"))
        existed = c.execute(text("SELECT to_regclass('search_documents_hnsw') IS NOT NULL")).scalar()
        c.execute(text("DROP INDEX IF EXISTS search_documents_hnsw"))
    return bool(existed)


def create_vector_index(settings: Settings | None = None) -> bool:
    """(Re)build the HNSW cosine index of ``search_documents.embedding`` if it is missing (and the
    dimension allows one). Returns True when it was built."""
    from sqlalchemy import exc, text

    with get_engine(settings=settings).begin() as c:
        dim = int(c.execute(text("SELECT dim FROM search_index_state")).scalar())
        if dim > HNSW_MAX_DIM or c.execute(text("SELECT to_regclass('search_documents_hnsw') IS NOT NULL")).scalar():
            return False
        c.execute(text("SELECT pg_advisory_xact_lock(hashtext('floatchat.search_hnsw'))"))
        c.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))   # the graph is built in memory
        try:
            with c.begin_nested():
                c.execute(text("CREATE INDEX IF NOT EXISTS search_documents_hnsw ON search_documents "
                               "USING hnsw (embedding vector_cosine_ops)"))
        except exc.DBAPIError:               # built meanwhile by another indexer
            log.warning("search.hnsw_build_skipped: built concurrently")
            return False
    return True


# ----------------------------------------------------------------------------- facts
# Regions come from ``mv_region_parts``: the regions cut into ≤ 64-vertex pieces once
# (materialized view, migration 0006; "(open ocean)" helper polygons left out), refreshed
# whenever the regions are seeded — not re-cut on every call.

# per float: the regions of its (snapped) positions, with the latitude range inside each
_FLOAT_REGIONS = f"""
WITH cells AS (
  SELECT DISTINCT fp.platform_number,
         round(fp.longitude / {CELL_DEG}) * {CELL_DEG} AS lon, round(fp.latitude / {CELL_DEG}) * {CELL_DEG} AS lat
  FROM float_positions fp JOIN _fc_sel s USING (platform_number)
  WHERE NOT fp.position_invalid AND fp.latitude IS NOT NULL
), ucells AS (SELECT DISTINCT lon, lat FROM cells),
cr AS (
  SELECT u.lon, u.lat, r.id, r.name, r.area_km2
  FROM ucells u JOIN mv_region_parts r
    ON ST_Covers(r.g, ST_SetSRID(ST_MakePoint(greatest(least(u.lon, 180), -180), u.lat), 4326))
)
SELECT c.platform_number, cr.id AS region_id, cr.name AS region, min(cr.area_km2) AS area_km2,
       min(c.lat) AS lat_min, max(c.lat) AS lat_max
FROM cells c JOIN cr USING (lon, lat)
GROUP BY c.platform_number, cr.id, cr.name
"""

_FLOAT_FACTS = """
WITH pr AS (
  SELECT p.platform_number, count(*) AS n_profiles, min(p.juld) AS time_start, max(p.juld) AS time_end,
         array_agg(DISTINCT p.data_mode) FILTER (WHERE p.data_mode IS NOT NULL) AS data_modes,
         array_agg(DISTINCT p.dataset_id) FILTER (WHERE p.dataset_id IS NOT NULL) AS dataset_ids,
         array_agg(DISTINCT extract(year FROM p.juld)::int) FILTER (WHERE p.juld IS NOT NULL) AS years,
         max(p.pres_max) AS pres_max,
         min(p.latitude) FILTER (WHERE NOT p.position_invalid) AS lat_min,
         max(p.latitude) FILTER (WHERE NOT p.position_invalid) AS lat_max,
         mode() WITHIN GROUP (ORDER BY p.data_centre) AS data_centre,
         mode() WITHIN GROUP (ORDER BY p.project_name) AS p_project,
         mode() WITHIN GROUP (ORDER BY p.pi_name) AS p_pi,
         mode() WITHIN GROUP (ORDER BY p.platform_type) AS p_platform_type
  FROM profiles p JOIN _fc_sel s USING (platform_number)
  GROUP BY p.platform_number
), pp AS (
  SELECT d.platform_number, array_agg(DISTINCT x ORDER BY x) AS parameters
  FROM (SELECT DISTINCT p.platform_number, p.parameters FROM profiles p JOIN _fc_sel s USING (platform_number)) d,
       unnest(d.parameters) AS x
  GROUP BY d.platform_number
), lr AS (
  SELECT m.platform_number, m.juld AS last_juld, m.latitude AS last_latitude, m.longitude AS last_longitude,
         (SELECT array_agg(x.name ORDER BY x.area_km2) FROM (SELECT DISTINCT r.name, r.area_km2 FROM mv_region_parts r
           WHERE ST_Covers(r.g, m.position::geometry)) x) AS last_regions
  FROM mv_latest_float_positions m JOIN _fc_sel s USING (platform_number)
)
SELECT f.platform_number, f.dac, f.float_type, f.is_bgc, f.is_deep,
       coalesce(f.platform_type, pr.p_platform_type) AS platform_type, f.platform_maker,
       coalesce(f.project_name, pr.p_project) AS project_name, coalesce(f.pi_name, pr.p_pi) AS pi_name,
       f.operating_institution, f.launch_date, pr.data_centre,
       coalesce(pr.n_profiles, 0) AS n_profiles, pr.time_start, pr.time_end, pr.data_modes, pr.dataset_ids,
       pr.years, pr.pres_max, pr.lat_min, pr.lat_max,
       coalesce(pp.parameters, '{}') AS parameters, f.parameters AS meta_parameters,
       lr.last_juld, lr.last_latitude, lr.last_longitude, lr.last_regions
FROM floats f JOIN _fc_sel s USING (platform_number)
LEFT JOIN pr USING (platform_number) LEFT JOIN pp USING (platform_number) LEFT JOIN lr USING (platform_number)
ORDER BY f.platform_number
"""


def _select_floats(c, platform_numbers: Sequence[str] | None, dataset_ids: Sequence[int] | None) -> None:
    from sqlalchemy import text

    c.execute(text("DROP TABLE IF EXISTS pg_temp._fc_sel"))
    c.execute(text("CREATE TEMP TABLE _fc_sel (platform_number text PRIMARY KEY) ON COMMIT DROP"))
    if platform_numbers is not None:
        c.execute(text("INSERT INTO _fc_sel SELECT DISTINCT unnest(CAST(:p AS text[])) "
                       "INTERSECT SELECT platform_number FROM floats"), {"p": [str(x) for x in platform_numbers]})
    elif dataset_ids is not None:
        c.execute(text("INSERT INTO _fc_sel SELECT DISTINCT platform_number FROM profiles "
                       "WHERE dataset_id = ANY(CAST(:d AS bigint[]))"), {"d": [int(x) for x in dataset_ids]})
    else:
        c.execute(text("INSERT INTO _fc_sel SELECT platform_number FROM floats"))
    c.execute(text("ANALYZE _fc_sel"))


def float_facts(platform_numbers: Sequence[str] | None = None, dataset_ids: Sequence[int] | None = None,
                settings: Settings | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the indexer says about floats: ``(facts, regions)``.

    ``facts``: one row per float (metadata, profile count, time span, parameters, data modes,
    datasets, years, latest position and the regions covering it). ``regions``: one row per
    (float, region visited) with the latitude range (degrees) of its cells in the region.
    Scope: the given floats, else the floats of the given datasets, else every float.
    """
    with get_engine(settings=settings).begin() as c:
        _select_floats(c, platform_numbers, dataset_ids)
        facts = _frame(c, _FLOAT_FACTS)
        regions = _frame(c, _FLOAT_REGIONS)
    return facts, regions


_DATASET_FACTS = """
SELECT d.id, d.name, d.source, d.status, d.description, d.time_start, d.time_end, d.n_floats, d.n_profiles,
       d.parameters,
       (SELECT array_agg(DISTINCT f.dac) FROM floats f WHERE f.dac IS NOT NULL AND f.platform_number IN
          (SELECT platform_number FROM profiles p WHERE p.dataset_id = d.id)) AS dacs,
       (SELECT array_agg(DISTINCT f.float_type) FROM floats f WHERE f.platform_number IN
          (SELECT platform_number FROM profiles p WHERE p.dataset_id = d.id)) AS float_types,
       (SELECT bool_or(f.is_bgc) FROM floats f WHERE f.platform_number IN
          (SELECT platform_number FROM profiles p WHERE p.dataset_id = d.id)) AS has_bgc,
       (SELECT array_agg(DISTINCT x) FROM (SELECT coalesce(f.project_name, p.project_name) AS x
          FROM profiles p LEFT JOIN floats f USING (platform_number) WHERE p.dataset_id = d.id) t
          WHERE x IS NOT NULL AND x <> '') AS projects,
       (SELECT array_agg(DISTINCT x) FROM (SELECT coalesce(f.pi_name, p.pi_name) AS x
          FROM profiles p LEFT JOIN floats f USING (platform_number) WHERE p.dataset_id = d.id) t
          WHERE x IS NOT NULL AND x <> '') AS pis,
       (SELECT array_agg(DISTINCT data_mode) FROM profiles p WHERE p.dataset_id = d.id
          AND data_mode IS NOT NULL) AS data_modes,
       (SELECT array_agg(DISTINCT extract(year FROM juld)::int) FROM profiles p WHERE p.dataset_id = d.id
          AND juld IS NOT NULL) AS years
FROM datasets d
WHERE d.status = 'active' AND d.n_profiles > 0 AND (CAST(:ids AS bigint[]) IS NULL OR d.id = ANY(CAST(:ids AS bigint[])))
ORDER BY d.id
"""

_DATASET_REGIONS = f"""
WITH cells AS (
  SELECT DISTINCT p.dataset_id, round(p.longitude / {CELL_DEG}) * {CELL_DEG} AS lon,
         round(p.latitude / {CELL_DEG}) * {CELL_DEG} AS lat
  FROM profiles p
  WHERE p.dataset_id = ANY(CAST(:ids AS bigint[])) AND NOT p.position_invalid AND p.latitude IS NOT NULL
), ucells AS (SELECT DISTINCT lon, lat FROM cells),
cr AS (
  SELECT u.lon, u.lat, r.id, r.name, r.area_km2
  FROM ucells u JOIN mv_region_parts r
    ON ST_Covers(r.g, ST_SetSRID(ST_MakePoint(greatest(least(u.lon, 180), -180), u.lat), 4326))
)
SELECT c.dataset_id, cr.id AS region_id, cr.name AS region, min(cr.area_km2) AS area_km2,
       min(c.lat) AS lat_min, max(c.lat) AS lat_max
FROM cells c JOIN cr USING (lon, lat)
GROUP BY c.dataset_id, cr.id, cr.name
"""


def dataset_facts(dataset_ids: Sequence[int] | None = None,
                  settings: Settings | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the indexer says about active datasets: ``(facts, regions)`` (as :func:`float_facts`)."""
    ids = None if dataset_ids is None else [int(x) for x in dataset_ids]
    with get_engine(settings=settings).begin() as c:
        facts = _frame(c, _DATASET_FACTS, {"ids": ids})
        if facts.empty:
            return facts, pd.DataFrame(columns=["dataset_id", "region_id", "region", "area_km2",
                                                "lat_min", "lat_max"])
        regions = _frame(c, _DATASET_REGIONS, {"ids": [int(x) for x in facts["id"]]})
    return facts, regions


# ----------------------------------------------------------------------------- documents
_UPSERT_DOCS = """
INSERT INTO search_documents AS d (kind, ref, title, body, filters, time_start, time_end, embed_text, status,
                                   updated_at)
SELECT kind, ref, title, body, filters::jsonb, time_start, time_end, embed_text, 'pending', now()
FROM _fc_docs
ON CONFLICT (kind, ref) DO UPDATE SET
  title = EXCLUDED.title, body = EXCLUDED.body, filters = EXCLUDED.filters,
  time_start = EXCLUDED.time_start, time_end = EXCLUDED.time_end, embed_text = EXCLUDED.embed_text,
  updated_at = now(),
  -- a document keeps its vector only when the text it was embedded from did not change
  status = CASE WHEN d.embed_text = EXCLUDED.embed_text AND d.status = 'embedded'
                THEN 'embedded' ELSE 'pending' END,
  embedding = CASE WHEN d.embed_text = EXCLUDED.embed_text THEN d.embedding END,
  model = CASE WHEN d.embed_text = EXCLUDED.embed_text THEN d.model END,
  error = CASE WHEN d.embed_text = EXCLUDED.embed_text THEN d.error END
WHERE (d.title, d.body, d.filters, d.time_start, d.time_end, d.embed_text)
      IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.body, EXCLUDED.filters, EXCLUDED.time_start, EXCLUDED.time_end,
                        EXCLUDED.embed_text)
"""


def _copy_text_field(v) -> str:
    """A value in PostgreSQL COPY text format (``\\N`` for NULL, backslash, tab and newlines escaped)."""
    if v is None or (isinstance(v, float) and v != v) or v is pd.NaT:
        return "\\N"
    return (str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def upsert_documents(docs: pd.DataFrame, settings: Settings | None = None) -> int:
    """Insert or update documents (columns ``kind, ref, title, body, filters`` (dict),
    ``time_start, time_end, embed_text``). A document whose ``embed_text`` changed becomes
    ``pending``; an unchanged one is left alone. One COPY into a temporary table and one
    ``INSERT … ON CONFLICT`` for all documents. Returns the number of rows written.
    """
    if docs.empty:
        return 0
    import io

    embed = docs["embed_text"] if "embed_text" in docs else docs["title"] + ". " + docs["body"]
    t0 = pd.to_datetime(docs["time_start"], utc=True)
    t1 = pd.to_datetime(docs["time_end"], utc=True)
    buf = io.StringIO()
    for row in zip(docs["kind"], docs["ref"].astype(str), docs["title"], docs["body"],
                   (json.dumps(f, sort_keys=True) for f in docs["filters"]),
                   (None if pd.isna(t) else t.isoformat() for t in t0),
                   (None if pd.isna(t) else t.isoformat() for t in t1), embed):
        buf.write("\t".join(_copy_text_field(v) for v in row))
        buf.write("\n")
    buf.seek(0)
    raw = get_engine(settings=settings).raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("CREATE TEMP TABLE _fc_docs (kind text, ref text, title text, body text, filters text, "
                    "time_start timestamptz, time_end timestamptz, embed_text text) ON COMMIT DROP")
        cur.copy_expert("COPY _fc_docs FROM STDIN", buf)
        cur.execute(_UPSERT_DOCS)
        n = cur.rowcount
        raw.commit()
        return n
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()


def refresh_lexeme_stats(settings: Settings | None = None) -> int:
    """Rebuild ``search_lexemes`` (document frequency per lexeme; ``''`` → number of documents)
    from ``search_documents.tsv``. Returns the number of distinct lexemes."""
    from sqlalchemy import text

    with get_engine(settings=settings).begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS search_lexemes (lexeme text PRIMARY KEY, ndoc integer NOT NULL)"))
        c.execute(text("SELECT pg_advisory_xact_lock(hashtext('floatchat.search_lexemes'))"))
        c.execute(text("DELETE FROM search_lexemes"))
        n = c.execute(text("INSERT INTO search_lexemes (lexeme, ndoc) "
                           "SELECT word, ndoc FROM ts_stat('SELECT tsv FROM search_documents')")).rowcount
        c.execute(text("INSERT INTO search_lexemes (lexeme, ndoc) SELECT '', count(*) FROM search_documents"))
    return n


def delete_stale_documents(settings: Settings | None = None) -> int:
    """Remove documents of floats and datasets that no longer exist (or are archived)."""
    from sqlalchemy import text

    with get_engine(settings=settings).begin() as c:
        n = c.execute(text("""
            DELETE FROM search_documents d
            WHERE (d.kind = 'float' AND NOT EXISTS (SELECT 1 FROM floats f WHERE f.platform_number = d.ref))
               OR (d.kind = 'dataset' AND NOT EXISTS (SELECT 1 FROM datasets s WHERE s.id::text = d.ref
                                                      AND s.status = 'active' AND s.n_profiles > 0))""")).rowcount
    return n


def documents_to_embed(model: str, refs: Sequence[tuple[str, str]] | None = None, retry_failed: bool = True,
                       settings: Settings | None = None) -> pd.DataFrame:
    """Documents needing a vector of ``model``: ``id, kind, ref, text`` (what to embed: ``embed_text``,
    else title and body) — pending, failed when ``retry_failed``, or embedded by another model —
    optionally restricted to ``(kind, ref)`` pairs. Shortest texts first (batches of like lengths pad little)."""
    statuses = ["pending", "embedding_failed"] if retry_failed else ["pending"]
    sql = """
        SELECT id, kind, ref, text FROM (
          SELECT id, kind, ref, coalesce(embed_text, title || '. ' || body) AS text FROM search_documents
          WHERE (status = ANY(CAST(:st AS text[])) OR model IS DISTINCT FROM :m)
            AND (CAST(:kinds AS text[]) IS NULL
                 OR (kind, ref) IN (SELECT * FROM unnest(CAST(:kinds AS text[]), CAST(:refs AS text[]))))) t
        ORDER BY length(text), text COLLATE "C", id"""
    kinds = [k for k, _ in refs] if refs is not None else None
    rs = [str(r) for _, r in refs] if refs is not None else None
    with get_engine(settings=settings).connect() as c:
        return _frame(c, sql, {"st": statuses, "m": model, "kinds": kinds, "refs": rs})


def _copy_binary_vectors(ids: Sequence[int], vectors: np.ndarray) -> bytes:
    """PostgreSQL binary COPY of rows ``(id bigint, embedding vector)``, encoded with numpy.

    pgvector's binary form: int16 dimension, int16 unused, then float4 values (big-endian)."""
    v = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = v.shape
    row = np.dtype([("nf", ">i2"), ("l1", ">i4"), ("id", ">i8"), ("l2", ">i4"), ("dim", ">i2"), ("unused", ">i2"),
                    ("v", ">f4", (dim,))])
    a = np.empty(n, dtype=row)
    a["nf"], a["l1"], a["l2"], a["dim"], a["unused"] = 2, 8, 4 + 4 * dim, dim, 0
    a["id"] = np.asarray(ids, dtype=np.int64)
    a["v"] = v
    return b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8 + a.tobytes() + b"\xff\xff"


def store_embeddings(ids: Sequence[int], vectors: np.ndarray, model: str, settings: Settings | None = None) -> int:
    """Store vectors (rows of ``vectors``, unit length) for document ``ids``: one binary COPY into
    a temporary table and one ``UPDATE``. Returns the number of documents updated."""
    import io

    if len(ids) == 0:
        return 0
    data = io.BytesIO(_copy_binary_vectors(ids, vectors))
    raw = get_engine(settings=settings).raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(f"CREATE TEMP TABLE _fc_vec (id bigint, vec vector({int(vectors.shape[1])})) ON COMMIT DROP")
        cur.copy_expert("COPY _fc_vec FROM STDIN WITH (FORMAT binary)", data)
        cur.execute("""UPDATE search_documents d SET embedding = v.vec, model = %s,
                              status = 'embedded', error = NULL, updated_at = now()
                       FROM _fc_vec v WHERE d.id = v.id""", (model,))
        n = cur.rowcount
        raw.commit()
        return n
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()


def mark_failed(ids: Sequence[int], error: str, settings: Settings | None = None) -> int:
    """Set ``status = 'embedding_failed'`` (vector cleared, ``error`` kept) for documents ``ids``."""
    from sqlalchemy import text

    with get_engine(settings=settings).begin() as c:
        return c.execute(text("UPDATE search_documents SET status = 'embedding_failed', embedding = NULL, "
                              "model = NULL, error = :e, updated_at = now() WHERE id = ANY(CAST(:ids AS bigint[]))"),
                         {"e": error[:2000], "ids": [int(i) for i in ids]}).rowcount


def document_counts(settings: Settings | None = None) -> dict[str, int]:
    """Number of documents per status (``pending``, ``embedded``, ``embedding_failed``)."""
    from sqlalchemy import text

    with get_engine(readonly=True, settings=settings).connect() as c:
        rows = c.execute(text("SELECT status, count(*) FROM search_documents GROUP BY status")).all()
    return {"pending": 0, "embedded": 0, "embedding_failed": 0} | {s: int(n) for s, n in rows}


# ----------------------------------------------------------------------------- discovery reads
def floats_in_region(region_id: int, any_position: bool = False, limit: int | None = None,
                     settings: Settings | None = None) -> pd.DataFrame:
    """Floats whose latest position (or, with ``any_position``, any position) lies in the region.

    Columns: ``platform_number, float_type, dac, project_name, juld, latitude, longitude``
    (the latest position — inside the region unless ``any_position``), ``n_positions_in_region``,
    ``first_juld_in_region, last_juld_in_region``. Newest first.
    """
    lim = "" if limit is None else f" LIMIT {int(limit)}"
    if any_position:
        sql = f"""
            WITH r AS (SELECT geog::geometry AS g FROM ocean_regions WHERE id = :id),
            hits AS (
              SELECT fp.platform_number, count(*) AS n_positions_in_region,
                     min(fp.juld) AS first_juld_in_region, max(fp.juld) AS last_juld_in_region
              FROM float_positions fp, r
              WHERE NOT fp.position_invalid AND ST_Covers(r.g, fp.position::geometry)
              GROUP BY fp.platform_number)
            SELECT h.platform_number, coalesce(f.float_type, 'core') AS float_type, f.dac, f.project_name,
                   m.juld, m.latitude, m.longitude, h.n_positions_in_region, h.first_juld_in_region,
                   h.last_juld_in_region
            FROM hits h LEFT JOIN floats f USING (platform_number)
            LEFT JOIN mv_latest_float_positions m USING (platform_number)
            ORDER BY h.last_juld_in_region DESC NULLS LAST, h.platform_number{lim}"""
    else:
        sql = f"""
            WITH r AS (SELECT geog::geometry AS g FROM ocean_regions WHERE id = :id)
            SELECT m.platform_number, coalesce(f.float_type, 'core') AS float_type, f.dac, f.project_name,
                   m.juld, m.latitude, m.longitude, 1::bigint AS n_positions_in_region,
                   m.juld AS first_juld_in_region, m.juld AS last_juld_in_region
            FROM mv_latest_float_positions m CROSS JOIN r LEFT JOIN floats f USING (platform_number)
            WHERE ST_Covers(r.g, m.position::geometry)
            ORDER BY m.juld DESC NULLS LAST, m.platform_number{lim}"""
    with get_engine(readonly=True, settings=settings).connect() as c:
        return _frame(c, sql, {"id": int(region_id)})


def floats_with_parameter(parameter: str, limit: int | None = None,
                          settings: Settings | None = None) -> pd.DataFrame:
    """Floats with at least one profile holding ``parameter`` (Argo name): ``platform_number,
    float_type, dac, project_name, n_profiles`` (with the parameter), ``time_start, time_end``."""
    lim = "" if limit is None else f" LIMIT {int(limit)}"
    sql = f"""
        SELECT p.platform_number, coalesce(f.float_type, 'core') AS float_type, f.dac, f.project_name,
               count(*) AS n_profiles, min(p.juld) AS time_start, max(p.juld) AS time_end
        FROM profiles p LEFT JOIN floats f USING (platform_number)
        WHERE p.parameters @> ARRAY[CAST(:p AS text)]
        GROUP BY p.platform_number, f.float_type, f.dac, f.project_name
        ORDER BY max(p.juld) DESC NULLS LAST, p.platform_number{lim}"""
    with get_engine(readonly=True, settings=settings).connect() as c:
        return _frame(c, sql, {"p": parameter})


def dataset_rows(limit: int | None = None, settings: Settings | None = None) -> pd.DataFrame:
    """Active datasets for summary cards: ``id, name, source, summary, description, time_start,
    time_end, n_floats, n_profiles, parameters, bbox_geojson`` (the bounding box of the
    dataset's positions as a GeoJSON Polygon text, NULL without positions). Newest data first."""
    lim = "" if limit is None else f" LIMIT {int(limit)}"
    sql = f"""
        SELECT d.id, d.name, d.source, d.summary, d.description, d.time_start, d.time_end, d.n_floats,
               d.n_profiles, d.parameters, ST_AsGeoJSON(ST_Envelope(d.bbox::geometry), 4) AS bbox_geojson,
               s.body AS document
        FROM datasets d LEFT JOIN search_documents s ON s.kind = 'dataset' AND s.ref = d.id::text
        WHERE d.status = 'active'
        ORDER BY d.time_end DESC NULLS LAST, d.id{lim}"""
    with get_engine(readonly=True, settings=settings).connect() as c:
        return _frame(c, sql)
