"""SQL of a search question: one statement that finds, fuses and ranks, and the regions a text names.

:func:`ranked_search` answers a search in **one round trip**: the index state (which model the
vectors are of), the regions the question names, the semantic candidates (pgvector HNSW,
``<=>``), the lexical candidates (full text, GIN), documents named by their ``ref``, reciprocal
rank fusion with the boosts, the similarity threshold and the ``ORDER BY … LIMIT`` all run in
PostgreSQL; only the returned hits (≤ the limit) travel, with the facts their "why" needs. The
fusion constants come from ``floatchat_core.search.fusion`` (parameters, not literals).

Measured at 20,000 documents (2 cores, load ≈ 2.8, both designs interleaved, same query
embedding): the previous design (three statements — index state, regions, candidates — with
savepoints and ``SET LOCAL`` round trips; 120 candidate rows with their bodies and filters made
into DataFrames, then fused in numpy/pandas) answered in p50 47.7 / p95 65.5 ms, this statement
in p50 30.6 / p95 40.6 ms. Prepared with a generic plan (:func:`_run`), its server time over the
benchmark's 30 questions fell again from 233 to 144 ms.

Reads only, on the read-only engine, as a raw psycopg2 cursor (parameters in ``%(name)s``
style). The query vector travels as a pgvector text literal and is never logged.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import Settings
from .engine import get_engine

log = logging.getLogger(__name__)

#: A query lexeme held by more documents than this gathers no lexical candidates (whatever the
#: share): gathering and summing its postings is what a query costs (20,000 documents: an
#: "oxygen" held by 4,000 took 15 ms of a 31 ms query), and a word that common cannot single
#: out the best 60 — the rarer words and the semantic half do. Small corpora are unaffected.
MAX_LEXEME_POSTINGS = 2000

#: Aliases shorter than this (the one-letter Argo basin codes) are not looked for in text.
MIN_ALIAS_LEN = 3

#: Prepared search statements a pooled connection keeps (all are dropped past this many).
MAX_PREPARED = 32

#: pgvector < 0.8 has no ``hnsw.iterative_scan``; learnt on the first search of the process.
_ITERATIVE_SCAN = {"supported": True}


def vector_literal(vec: np.ndarray) -> str:
    """A pgvector text literal (``[0.1,0.2,…]``) of a 1-D vector (float32 values, exact)."""
    # float32 -> float64 -> shortest repr -> float32 is exact; str() of floats is 5x np.char.mod
    return "[" + ",".join(map(str, np.asarray(vec, dtype=np.float32).astype(np.float64).tolist())) + "]"


def filter_sql(filters: dict[str, Any], params: dict[str, Any]) -> str:
    """SQL conditions on ``search_documents d`` for validated structured filters (pyformat)."""
    conds = []
    if filters.get("kind"):
        conds.append("d.kind = %(f_kind)s")
        params["f_kind"] = filters["kind"]
    for key, field, name in (("parameters", "parameters", "f_params"), ("float_type", "float_types", "f_ft"),
                             ("dac", "dacs", "f_dac"), ("region_id", "region_ids", "f_region"),
                             ("dataset_id", "dataset_ids", "f_ds"), ("data_mode", "data_modes", "f_dm")):
        v = filters.get(key)
        if v is None or v == "" or v == []:
            continue
        if key == "parameters":
            vals = list(v)
        elif key in ("region_id", "dataset_id"):
            vals = [int(v)]
        else:
            vals = [v]
        conds.append(f"d.filters @> CAST(%({name})s AS jsonb)")
        params[name] = json.dumps({field: vals})
    if filters.get("time_start") is not None:        # date overlap: the document's span reaches the start
        conds.append("d.time_end >= %(f_t0)s")
        params["f_t0"] = filters["time_start"]
    if filters.get("time_end") is not None:
        conds.append("d.time_start <= %(f_t1)s")
        params["f_t1"] = filters["time_end"]
    return "".join(f" AND {c}" for c in conds)


# Regions named in a normalised text (``regions.normalise``): every name and alias found as
# whole words, longest first (then the smallest region), walked in that order keeping a match
# unless a kept match's span covers it ("north atlantic" wins over "atlantic") or it is a
# one-word alias right before a kept match ("southern" in "southern Indian Ocean" qualifies the
# Indian Ocean, it is not the Southern Ocean). A recursive walk over the few matches.
_REGIONS_CTE = """
rn AS (
  SELECT alias, region_id FROM region_aliases WHERE length(alias) >= %(min_alias)s
  UNION SELECT lower(name), id FROM ocean_regions WHERE length(name) >= %(min_alias)s
), rm AS (
  SELECT n.region_id::bigint AS region_id, r.name, n.alias,
         strpos(' ' || %(rtext)s || ' ', ' ' || n.alias || ' ') - 1 AS start,
         row_number() OVER (ORDER BY length(n.alias) DESC, r.area_km2, n.alias, n.region_id) AS k
  FROM rn n JOIN ocean_regions r ON r.id = n.region_id
  WHERE %(rtext)s <> '' AND strpos(' ' || %(rtext)s || ' ', ' ' || n.alias || ' ') > 0
), rw AS (
  SELECT 0::bigint AS k, '{}'::int[] AS s, '{}'::int[] AS e, '{}'::bigint[] AS ids, '{}'::text[] AS names,
         '{}'::text[] AS aliases
  UNION ALL
  SELECT m.k, CASE WHEN a.ok THEN w.s || m.start ELSE w.s END,
         CASE WHEN a.ok THEN w.e || (m.start + length(m.alias)) ELSE w.e END,
         CASE WHEN a.ok AND m.region_id <> ALL(w.ids) THEN w.ids || m.region_id ELSE w.ids END,
         CASE WHEN a.ok AND m.region_id <> ALL(w.ids) THEN w.names || m.name ELSE w.names END,
         CASE WHEN a.ok AND m.region_id <> ALL(w.ids) THEN w.aliases || m.alias ELSE w.aliases END
  FROM rw w JOIN rm m ON m.k = w.k + 1
  CROSS JOIN LATERAL (
    SELECT NOT EXISTS (SELECT 1 FROM unnest(w.s, w.e) t(s, e)
                       WHERE t.s <= m.start AND m.start + length(m.alias) <= t.e)
           AND NOT (strpos(m.alias, ' ') = 0 AND m.start + length(m.alias) + 1 = ANY(w.s)) AS ok) a
), regions AS (SELECT ids, names, aliases FROM rw ORDER BY k DESC LIMIT 1)"""


def regions_named(normalised_text: str, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Regions a normalised text names (see ``_REGIONS_CTE``): ``[{"id", "name", "alias"}]``,
    longest names first."""
    sql = f"WITH RECURSIVE {_REGIONS_CTE} SELECT ids, names, aliases FROM regions"
    rows = _run(sql, {"rtext": normalised_text, "min_alias": MIN_ALIAS_LEN}, settings)
    ids, names, aliases = rows[0]
    return [{"id": int(i), "name": n, "alias": a} for i, n, a in zip(ids, names, aliases)]


# Lexical half: the query's lexemes held by at most %(max_df)s of the documents (and the rarest
# one, unless more than half of the documents hold it) and by at most MAX_LEXEME_POSTINGS
# documents, each weighted by its inverse document frequency; a document's lexical score is the
# idf-weighted share of the query's lexemes it holds (0..1). Candidates are gathered lexeme by
# lexeme from the GIN index and summed (set based), ranked by the selective lexemes' weights;
# the exact score (every query lexeme the document holds: ``tsv @@ 'lexeme'::tsquery``, a binary
# search, not an array of the document's lexemes) is computed for the candidates only.
# Semantic half: the query vector is a constant, so the HNSW index answers the ORDER BY.
# Fusion: see floatchat_core.search.fusion (equal lexical scores rank by similarity, then id).
_SEARCH = """
WITH RECURSIVE {regions},
st AS (
  SELECT (SELECT model FROM search_index_state) AS index_model
), uv AS (
  SELECT %(use_vec)s AND coalesce(st.index_model = %(model)s, false) AS on FROM st
), nd AS (
  SELECT greatest(coalesce((SELECT ndoc FROM search_lexemes WHERE lexeme = ''), 0), 1)::float8 AS n
), ql AS (
  SELECT DISTINCT t.lexeme, coalesce(l.ndoc, 0) AS ndoc
  FROM unnest(to_tsvector('english', %(q)s)) t LEFT JOIN search_lexemes l ON l.lexeme = t.lexeme
  WHERE t.lexeme <> ALL(CAST(%(stop)s AS text[]))
), qw AS (
  SELECT ql.lexeme, ql.ndoc, ln(1 + nd.n / greatest(ql.ndoc, 1)) AS idf,
         ql.ndoc > 0 AND ql.ndoc <= %(max_postings)s
           AND (ql.ndoc <= %(max_df)s * nd.n
                OR (ql.ndoc = (SELECT min(ndoc) FROM ql WHERE ndoc > 0) AND ql.ndoc <= 0.5 * nd.n)) AS selective
  FROM ql, nd
), q AS (
  SELECT ARRAY(SELECT lexeme FROM qw ORDER BY lexeme) AS lx,
         ARRAY(SELECT CAST(quote_literal(lexeme) AS tsquery) FROM qw ORDER BY lexeme) AS tq,
         ARRAY(SELECT idf FROM qw ORDER BY lexeme) AS w,
         greatest((SELECT sum(idf) FROM qw WHERE ndoc > 0), 1e-9) AS wsum
), sem AS (
  SELECT d.id FROM search_documents d
  WHERE %(use_vec)s AND d.status = 'embedded' AND d.model = %(model)s{filt}
  ORDER BY d.embedding <=> CAST(%(qvec)s AS vector) LIMIT {n:d}
), lexhits AS (
  SELECT d.id, sum(s.idf) AS s
  FROM (SELECT to_tsquery('simple', quote_literal(lexeme)) AS tq, idf FROM qw WHERE selective) s
  JOIN search_documents d ON d.tsv @@ s.tq
  WHERE true{filt}
  GROUP BY d.id
), lex AS (
  SELECT id FROM lexhits ORDER BY s DESC, id LIMIT {n:d}
), exact AS (
  SELECT d.id FROM search_documents d WHERE d.ref = ANY(CAST(%(tokens)s AS text[])){filt}
), ids AS (SELECT id FROM sem UNION SELECT id FROM lex UNION SELECT id FROM exact),
c AS (
  SELECT d.id, d.kind, d.filters, d.time_end,
         CASE WHEN uv.on AND d.model = %(model)s THEN 1 - (d.embedding <=> CAST(%(qvec)s AS vector)) END AS sem,
         lex.id IS NOT NULL AS in_lex, d.id IN (SELECT id FROM exact) AS exact_ref,
         CASE WHEN lex.id IS NOT NULL THEN
           (SELECT coalesce(sum(u.w), 0) FROM unnest(q.tq, q.w) AS u(tq, w) WHERE d.tsv @@ u.tq) / q.wsum
         ELSE 0 END AS lex
  FROM ids JOIN search_documents d USING (id) CROSS JOIN uv CROSS JOIN q LEFT JOIN lex USING (id)
), rk AS (
  SELECT c.*,
         CASE WHEN c.sem IS NOT NULL THEN row_number() OVER (PARTITION BY c.sem IS NULL ORDER BY c.sem DESC, c.id)
         END AS rank_sem,
         CASE WHEN c.in_lex THEN row_number() OVER (PARTITION BY c.in_lex ORDER BY c.lex DESC, c.sem DESC NULLS LAST,
                                                    c.id) END AS rank_lex,
         max(c.time_end) OVER () AS t_max,
         EXISTS (SELECT 1 FROM jsonb_array_elements_text(c.filters -> 'region_ids') x, regions g
                 WHERE x::bigint = ANY(g.ids)) AS region_hit,
         (cardinality(CAST(%(qf_params)s AS text[])) > 0
            AND coalesce(c.filters -> 'parameters' ?& CAST(%(qf_params)s AS text[]), false))::int
         + coalesce(c.filters -> 'float_types' ?| CAST(%(qf_types)s AS text[]), false)::int
         + coalesce(c.filters -> 'dacs' ?| CAST(%(qf_dacs)s AS text[]), false)::int AS facets_hit
  FROM c
), sc AS (
  SELECT rk.*,
         (coalesce(1.0 / (%(k)s + rank_sem), 0) + coalesce(1.0 / (%(k)s + rank_lex), 0)) / (2.0 / (%(k)s + 1))
           AS rrf,
         CASE WHEN time_end IS NULL THEN 0.0 ELSE exp(-least(greatest(extract(epoch FROM t_max - time_end)::float8, 0)
           / (365.25 * 86400.0 * %(tau)s), 700)) END AS recency
  FROM rk
), scored AS (
  SELECT sc.*,
         (rrf * (1 + %(region_boost)s * region_hit::int + %(facet_boost)s * facets_hit + %(recency_weight)s * recency)
          + %(exact_bonus)s * exact_ref::int)
         * CASE WHEN %(wants)s IS NOT NULL AND kind <> %(wants)s THEN %(other_kind)s ELSE 1.0 END AS score,
         CASE WHEN uv.on THEN coalesce(sem >= %(min_sim)s, false) OR exact_ref ELSE in_lex OR exact_ref END AS keep
  FROM sc CROSS JOIN uv
), top AS (
  SELECT * FROM scored WHERE keep ORDER BY score DESC, sem DESC NULLS LAST, id LIMIT {limit:d}
), meta AS (
  SELECT st.index_model, uv.on AS used_vector, g.ids AS region_ids, (SELECT count(*) FROM c) AS n_candidates
  FROM st, uv, regions g
)
SELECT m.index_model, m.used_vector, m.region_ids, m.n_candidates,
       t.id, t.kind, d.ref, d.title, d.body, d.time_start, d.time_end, t.score, t.sem, t.lex, t.rank_sem,
       t.rank_lex, t.rrf, t.exact_ref, t.region_hit, t.facets_hit, t.recency,
       ARRAY(SELECT u.x FROM unnest(q.lx, q.tq) u(x, tq) WHERE d.tsv @@ u.tq ORDER BY u.x) AS matched_terms,
       d.filters -> 'parameters' AS parameters, d.filters -> 'float_types' AS float_types
FROM meta m CROSS JOIN q LEFT JOIN (top t JOIN search_documents d USING (id)) ON true
ORDER BY t.score DESC, t.sem DESC NULLS LAST, t.id
"""

#: Columns of :func:`ranked_search`'s hits.
HIT_COLUMNS = ("id", "kind", "ref", "title", "body", "time_start", "time_end", "score", "semantic_score",
               "lexical_score", "rank_semantic", "rank_lexical", "rrf", "exact_ref", "region_hit", "facets_hit",
               "recency", "matched_terms", "parameters", "float_types")


def _run(sql: str, params: dict[str, Any], settings: Settings | None, setup: str = "",
         prepared: bool = False) -> list[tuple]:
    """Run one statement (after ``setup`` statements sent in the same message) on a pooled
    read-only connection in autocommit: one round trip besides the pool's ping.

    ``prepared``: run it as a prepared statement of the connection (prepared in the same message
    the first time the connection sees it), with a generic plan: planning the search statement
    took ~2 ms of a ~9 ms search, on every call."""
    raw = get_engine(readonly=True, settings=settings).raw_connection()
    try:
        dbapi = raw.driver_connection
        dbapi.autocommit = True          # no BEGIN / ROLLBACK round trips; restored below
        known = raw.info.setdefault("floatchat_prepared", set())
        try:
            with dbapi.cursor() as cur:
                if prepared:
                    name, prepare, execute = _prepared(sql)
                    if name in known:
                        sql = execute
                    else:
                        # one statement per filter combination and limit: keep a connection's few
                        sql = f"{prepare}; {execute}"
                        if len(known) >= MAX_PREPARED:
                            sql, _ = f"DEALLOCATE ALL; {sql}", known.clear()
                    setup += "SET LOCAL plan_cache_mode = force_generic_plan; "
                # several statements in one message run in one implicit transaction: SET LOCAL holds
                cur.execute(setup + sql, params)
                rows = cur.fetchall()
                if prepared:
                    known.add(name)
                return rows
        except Exception:
            # whether a PREPARE of a failed message survived is unknown: use a fresh connection next
            raw.invalidate()
            raise
        finally:
            if not dbapi.closed:
                dbapi.autocommit = False
    finally:
        raw.close()


#: PostgreSQL types of the search statement's parameters (a prepared statement's are declared).
_PARAM_TYPES = {"q": "text", "stop": "text[]", "tokens": "text[]", "model": "text",
                "use_vec": "boolean", "max_df": "float8", "max_postings": "int", "rtext": "text",
                "min_alias": "int", "qvec": "vector", "k": "float8", "region_boost": "float8",
                "facet_boost": "float8", "recency_weight": "float8", "tau": "float8", "exact_bonus": "float8",
                "other_kind": "float8", "min_sim": "float8", "wants": "text", "qf_params": "text[]",
                "qf_types": "text[]", "qf_dacs": "text[]", "f_kind": "text", "f_params": "text", "f_ft": "text",
                "f_dac": "text", "f_region": "text", "f_ds": "text", "f_dm": "text", "f_t0": "timestamptz",
                "f_t1": "timestamptz"}
_PARAM_RE = re.compile(r"%\((\w+)\)s")


@functools.lru_cache(maxsize=64)
def _prepared(sql: str) -> tuple[str, str, str]:
    """``(name, PREPARE …, EXECUTE …)`` of a pyformat statement (``%(key)s`` → ``$n``); the name is
    a digest of the text, so each filter combination is its own statement."""
    keys = list(dict.fromkeys(_PARAM_RE.findall(sql)))
    body = _PARAM_RE.sub(lambda m: f"${keys.index(m.group(1)) + 1}", sql)
    name = "floatchat_search_" + hashlib.sha1(body.encode()).hexdigest()[:16]
    prepare = f"PREPARE {name} ({', '.join(_PARAM_TYPES[k] for k in keys)}) AS {body}"
    return name, prepare, f"EXECUTE {name} ({', '.join(f'%({k})s' for k in keys)})"


def ranked_search(query: str, query_vector: np.ndarray | None, model: str | None, *, region_text: str,
                  filters: dict[str, Any], n_candidates: int, limit: int, stop_lexemes: Sequence[str],
                  tokens: Sequence[str], fusion: dict[str, Any], max_df: float = 0.25, ef_search: int = 100,
                  settings: Settings | None = None) -> dict[str, Any]:
    """Find, fuse and rank in one statement (see the module docstring).

    Parameters
    ----------
    query
        The question (full text: ``to_tsvector('english', query)``).
    query_vector, model
        The query's unit vector and its model (None: keyword search only). The semantic half
        runs only when ``model`` is the index's model.
    region_text
        The normalised question (``regions.normalise``), for the regions it names.
    filters
        Validated structured filters (``search.normalise_filters``); they apply to every branch.
    n_candidates
        Candidates of each half (semantic, lexical) before fusion.
    limit
        Hits returned.
    stop_lexemes, tokens
        Lexemes never used; words that may be a document's ``ref`` (platform numbers).
    fusion
        ``k, region_boost, facet_boost, recency_weight, tau, exact_bonus, other_kind, wants,
        min_sim`` and the question's facets ``f_params, f_types, f_dacs`` (see ``search.fusion``).
    max_df
        Share of documents above which a lexeme gathers no candidates (0..1).
    ef_search
        HNSW ``ef_search`` (iterative scans keep going until enough rows pass the filters).

    Returns
    -------
    dict
        ``index_model`` (the model of the stored vectors), ``used_vector`` (the semantic half
        ran), ``region_ids`` (regions the question names), ``n_candidates`` and ``hits``: a list
        of tuples in :data:`HIT_COLUMNS` order, best first.
    """
    params: dict[str, Any] = {"q": query, "stop": list(stop_lexemes),
                              "tokens": [str(t) for t in tokens], "model": model or "",
                              "use_vec": query_vector is not None, "max_df": float(max_df),
                              "max_postings": int(MAX_LEXEME_POSTINGS),
                              "rtext": region_text, "min_alias": MIN_ALIAS_LEN,
                              "qvec": vector_literal(query_vector) if query_vector is not None else None}
    for key in ("k", "region_boost", "facet_boost", "recency_weight", "tau", "exact_bonus", "other_kind",
                "min_sim"):
        params[key] = float(fusion[key])
    params["wants"] = fusion.get("wants")
    for key in ("params", "types", "dacs"):              # the question's facets (not filters)
        params[f"qf_{key}"] = [str(x) for x in fusion.get(f"f_{key}") or ()]
    # the limits are literals: a generic plan guesses a parameter LIMIT at 10 % of the rows and
    # then joins the candidates to every document by a sequential scan
    sql = _SEARCH.format(regions=_REGIONS_CTE, filt=filter_sql(filters, params), n=int(n_candidates),
                         limit=int(limit))
    setup = f"SET LOCAL hnsw.ef_search = {int(ef_search)}; "
    if _ITERATIVE_SCAN["supported"]:
        # pgvector >= 0.8: keep scanning the graph until enough rows pass the filters
        setup += "SET LOCAL hnsw.iterative_scan = relaxed_order; "
    try:
        rows = _run(sql, params, settings, setup, prepared=True)
    except Exception as exc:
        if not (_ITERATIVE_SCAN["supported"] and "iterative_scan" in str(exc)):
            raise
        log.info("search.no_iterative_scan: pgvector < 0.8, filtered HNSW scans are post-filtered")
        _ITERATIVE_SCAN["supported"] = False
        rows = _run(sql, params, settings, f"SET LOCAL hnsw.ef_search = {int(ef_search)}; ", prepared=True)
    first = rows[0]
    return {"index_model": first[0], "used_vector": bool(first[1]), "region_ids": [int(i) for i in first[2]],
            "n_candidates": int(first[3]), "hits": [r[4:] for r in rows if r[4] is not None]}
