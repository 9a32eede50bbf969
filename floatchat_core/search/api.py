"""Public search and discovery functions (the search contract).

>>> from floatchat_core.search import search, floats_in_region
>>> hits = search("oxygen floats in the Arabian Sea", kind="float", limit=5)   # doctest: +SKIP
>>> floats_in_region("Arabian Sea")                                            # doctest: +SKIP
"""
from __future__ import annotations

import logging
import re
import time
from typing import Any

import pandas as pd

from ..config import Settings, get_settings
from ..errors import EmbeddingError, NotFoundError, SearchError

log = logging.getLogger(__name__)

#: Words (english-stemmed) too common in every document to rank anything.
STOP_LEXEMES = ("float", "argo", "profil", "data", "dataset", "measur", "find", "show", "list", "give", "get",
                "want", "look", "year", "which", "ani", "pleas", "avail", "observ", "record", "collect")

FILTER_KEYS = ("parameter", "parameters", "float_type", "dac", "region", "time_start", "time_end", "dataset_id",
               "data_mode")

#: How many candidates each half of the hybrid search contributes.
N_CANDIDATES = 60

_TOKEN_RE = re.compile(r"\b\d{4,8}\b")


def _parameter_name(name: str) -> str:
    from ..argo.variables import BY_NAME, PARAMETERS

    key = str(name).strip()
    if key.upper() in BY_NAME:
        return key.upper()
    low = key.lower()
    for p in PARAMETERS:
        if low in p.synonyms or low == p.long_name.lower():
            return p.name
    raise SearchError(f"unknown parameter {name!r}; use an Argo name ({', '.join(BY_NAME)}) "
                      "or a plain name such as 'oxygen', 'salinity', 'chlorophyll'")


def _resolve_region_id(region, settings: Settings | None) -> tuple[int, str]:
    from ..db.regions import resolve_region

    if isinstance(region, int) or (isinstance(region, str) and region.isdigit()):
        return int(region), str(region)
    res = resolve_region(str(region), settings=settings)
    reg = res.get("region")
    if not reg:
        cands = ", ".join(c.get("name", "") for c in res.get("candidates", [])[:5])
        what = "is ambiguous" if res.get("status") == "ambiguous" else "matches no ocean region"
        raise NotFoundError(f"{region!r} {what}" + (f"; candidates: {cands}" if cands else ""))
    return int(reg["id"]), reg["name"]


def normalise_filters(filters: dict[str, Any] | None, settings: Settings | None = None) -> dict[str, Any]:
    """Validate structured filters once, at the facade; returns what ``searchdb`` expects.

    Keys: ``parameter`` / ``parameters`` (Argo or plain names; all must be measured),
    ``float_type`` ("core" | "bgc" | "deep"), ``dac`` (GDAC folder name, e.g. "coriolis"),
    ``region`` (name or ocean_regions id), ``time_start`` / ``time_end`` (anything
    ``pd.Timestamp`` takes, UTC; documents whose time span overlaps), ``dataset_id``,
    ``data_mode`` ("R" | "A" | "D").
    """
    filters = dict(filters or {})
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise SearchError(f"unknown search filter(s) {sorted(unknown)}; allowed: {', '.join(FILTER_KEYS)}")
    out: dict[str, Any] = {}
    params = []
    if filters.get("parameter"):
        params.append(filters["parameter"])
    p = filters.get("parameters")
    params += [p] if isinstance(p, str) else list(p or [])
    if params:
        out["parameters"] = sorted({_parameter_name(x) for x in params})
    if filters.get("float_type"):
        ft = str(filters["float_type"]).lower()
        if ft not in ("core", "bgc", "deep"):
            raise SearchError(f"float_type must be 'core', 'bgc' or 'deep', not {filters['float_type']!r}")
        out["float_type"] = ft
    if filters.get("dac"):
        out["dac"] = str(filters["dac"]).lower()
    if filters.get("region") not in (None, ""):
        out["region_id"], out["region_name"] = _resolve_region_id(filters["region"], settings)
    for k in ("time_start", "time_end"):
        if filters.get(k) not in (None, ""):
            try:
                ts = pd.Timestamp(filters[k])
            except (ValueError, TypeError) as exc:
                raise SearchError(f"{k}: cannot read {filters[k]!r} as a date") from exc
            out[k] = (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).to_pydatetime()
    if filters.get("dataset_id") is not None:
        out["dataset_id"] = int(filters["dataset_id"])
    if filters.get("data_mode"):
        dm = str(filters["data_mode"]).upper()
        if dm not in ("R", "A", "D"):
            raise SearchError(f"data_mode must be 'R', 'A' or 'D', not {filters['data_mode']!r}")
        out["data_mode"] = dm
    return out


def regions_mentioned(query: str, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Ocean regions named in free text: ``[{"id", "name", "alias"}]``, longest names first,
    without names contained in a longer match ("north atlantic" wins over "atlantic") and
    without a one-word alias that only qualifies the next region ("southern Indian Ocean")."""
    from ..db.regions import normalise
    from ..db.searchquery import regions_named

    norm = normalise(query)
    if not norm:
        return []
    return regions_named(norm, settings=settings)


_TYPE_WORDS = {"bgc": "bgc", "biogeochemical": "bgc", "bio argo": "bgc", "biogeochemistry": "bgc",
               "deep": "deep", "deep argo": "deep", "core": "core"}
_DACS = ("aoml", "bodc", "coriolis", "csio", "csiro", "incois", "jma", "kma", "kordi", "meds", "nmdis")
_RECENT_WORDS = ("recent", "recently", "latest", "last year", "this year", "last month", "now", "currently",
                 "newest")


def query_facets(query: str) -> dict[str, Any]:
    """Facets a question names in words: ``parameters`` (Argo names, via the catalogue's
    synonyms), ``float_types``, ``dacs`` and ``recent`` (asks for recent data)."""
    from ..argo.variables import PARAMETERS
    from ..db.regions import normalise

    text = f" {normalise(query.replace('-', ' '))} "
    params = set()
    for p in PARAMETERS:
        if p.name == "PRES":
            continue
        names = {p.name.lower(), *p.synonyms} - {"light", "salt", "temp"}
        if any(f" {normalise(n)} " in text for n in names):
            params.add(p.name)
    types = {t for w, t in _TYPE_WORDS.items() if f" {w} " in text}
    dacs = {d for d in _DACS if f" {d} " in text}
    wants = "dataset" if (" dataset" in text or " data set" in text) else (
        "float" if " float" in text else None)
    return {"parameters": sorted(params), "float_types": sorted(types), "dacs": sorted(dacs),
            "recent": any(f" {w} " in text for w in _RECENT_WORDS), "wants": wants}


def _ts(value) -> pd.Timestamp:
    """A UTC timestamp (NaT when missing) of a driver's datetime."""
    return pd.NaT if value is None else pd.Timestamp(value).tz_convert("UTC")


def _limit(limit: int | None, settings: Settings) -> int:
    if limit is None:
        return settings.search_limit
    if int(limit) < 1:
        raise SearchError(f"limit must be at least 1, not {limit}")
    return min(int(limit), settings.search_max_limit)


def search(query: str, kind: str | None = None, limit: int | None = None, filters: dict | None = None, *,
           min_similarity: float | None = None, settings: Settings | None = None,
           timings: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Find floats and datasets by meaning and by words.

    Semantic (cosine on the configured embedding model, pgvector HNSW) and lexical (PostgreSQL
    full-text rank) candidates are fused by reciprocal rank fusion, boosted when the document
    visited a region named in the question and by recency, and cut at a similarity threshold:
    an empty list means nothing relevant.

    Parameters
    ----------
    query
        The question or keywords.
    kind
        ``"float"``, ``"dataset"`` or None (both).
    limit
        Number of hits (default ``FLOATCHAT_SEARCH_LIMIT``, at most ``FLOATCHAT_SEARCH_MAX_LIMIT``).
    filters
        Structured filters, see :func:`normalise_filters`.
    min_similarity
        Cosine similarity threshold (default: setting, else the model's default).
    timings
        When given, filled with the time per stage in milliseconds: ``embed`` (the query vector),
        ``sql`` (the candidates query, round trip included), ``fuse`` (fusion and the hits),
        ``other`` (the rest: filters, regions and facets of the question) and ``total``.

    Returns
    -------
    list of dict
        ``kind, ref, title, score, semantic_score, lexical_score, why, summary`` (≤ 300 characters),
        plus ``time_start, time_end, parameters, float_types``. Best first.
    """
    from ..db.regions import normalise
    from ..db.searchquery import HIT_COLUMNS, ranked_search
    from .embeddings import get_provider
    from .fusion import fusion_params, why
    from .text import cut

    t_start = time.perf_counter()
    settings = settings or get_settings()
    query = " ".join(str(query or "").split())
    if not query:
        raise SearchError("empty search query")
    if kind not in (None, "float", "dataset"):
        raise SearchError(f"kind must be 'float', 'dataset' or None, not {kind!r}")
    n = _limit(limit, settings)
    flt = normalise_filters(filters, settings)
    if kind:
        flt["kind"] = kind
    provider = get_provider(settings)
    qvec, model = None, None
    t1 = time.perf_counter()
    try:
        qvec, model = provider.embed_query(query), provider.model
    except EmbeddingError as exc:
        log.warning("search.query_embedding_failed model=%s error=%s: keyword search only", provider.model, exc)
    t_embed = time.perf_counter() - t1
    threshold = min_similarity if min_similarity is not None else (
        settings.search_min_similarity if settings.search_min_similarity is not None
        else provider.default_min_similarity)
    fusion = fusion_params(facets=query_facets(query), min_similarity=threshold)
    t1 = time.perf_counter()
    # the index state, the regions named, both halves and the fusion: one statement
    res = ranked_search(query, qvec, model, region_text=normalise(query), filters=flt,
                        n_candidates=max(N_CANDIDATES, n), limit=n, stop_lexemes=STOP_LEXEMES,
                        tokens=_TOKEN_RE.findall(query), fusion=fusion, settings=settings)
    t_sql = time.perf_counter() - t1
    t1 = time.perf_counter()
    if qvec is not None and res["index_model"] != model:
        log.warning("search.model_mismatch index=%s configured=%s: keyword search only (run `floatchat reindex`)",
                    res["index_model"], model)
    used = res["used_vector"]
    hits = []
    for row in res["hits"]:
        r = dict(zip(HIT_COLUMNS, row))
        sem = None if r["semantic_score"] is None else float(r["semantic_score"])
        hits.append({
            "kind": r["kind"], "ref": r["ref"], "title": r["title"], "score": round(float(r["score"]), 4),
            "semantic_score": None if sem is None else round(sem, 4),
            "lexical_score": round(float(r["lexical_score"]), 4),
            "why": why(r["kind"], r["ref"], r["exact_ref"], sem, r["rank_semantic"], r["matched_terms"],
                       r["region_hit"], r["facets_hit"], float(r["recency"]), used),
            "summary": cut(r["body"], 300), "time_start": _ts(r["time_start"]), "time_end": _ts(r["time_end"]),
            "parameters": list(r["parameters"] or []), "float_types": list(r["float_types"] or []),
        })
    t_end = time.perf_counter()
    total = (t_end - t_start) * 1e3
    if timings is not None:
        timings.update(embed=t_embed * 1e3, sql=t_sql * 1e3, fuse=(t_end - t1) * 1e3, total=total,
                       other=total - (t_embed + t_sql + t_end - t1) * 1e3)
    log.info("search.query kind=%s hits=%d candidates=%d ms=%.1f", kind, len(hits), res["n_candidates"], total)
    return hits


# ----------------------------------------------------------------------------- discovery
def floats_in_region(region, any_position: bool = False, *, limit: int | None = None,
                     settings: Settings | None = None) -> pd.DataFrame:
    """Floats whose latest position (or any position, with ``any_position``) is in ``region``.

    ``region``: a name (resolved by ``regions.resolve_region``: aliases, fuzzy) or an
    ``ocean_regions`` id. Columns: ``platform_number, float_type, dac, project_name, juld,
    latitude, longitude`` (latest position, degrees, UTC), ``n_positions_in_region,
    first_juld_in_region, last_juld_in_region``, and ``region`` (the resolved name).
    Raises ``NotFoundError`` when no region matches.
    """
    from ..db import searchdb

    rid, name = _resolve_region_id(region, settings)
    df = searchdb.floats_in_region(rid, any_position=any_position, limit=limit, settings=settings)
    df["region"] = name
    return df


def floats_by_parameter(parameter: str, *, limit: int | None = None, settings: Settings | None = None) -> pd.DataFrame:
    """Floats that measured ``parameter`` (Argo name or plain name: "oxygen" → DOXY).

    Columns: ``platform_number, float_type, dac, project_name, n_profiles`` (with the
    parameter), ``time_start, time_end`` (UTC), ``parameter``. Most recent first.
    """
    from ..db import searchdb

    name = _parameter_name(parameter)
    df = searchdb.floats_with_parameter(name, limit=limit, settings=settings)
    df["parameter"] = name
    return df


def dataset_cards(limit: int | None = None, *, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Light summary cards of the active datasets for the UI, newest data first.

    Each card: ``id, name, time_start, time_end, n_floats, n_profiles, parameters, summary``
    (≤ 300 characters), ``bbox_geojson`` (a GeoJSON Polygon dict of the bounding box, or None).
    """
    import json

    from ..db import searchdb
    from .text import cut

    df = searchdb.dataset_rows(limit=limit, settings=settings)
    cards = []
    for r in df.itertuples(index=False):
        text = r.summary if isinstance(r.summary, str) and r.summary else (r.document or f"Dataset {r.name}")
        cards.append({
            "id": int(r.id), "name": r.name, "time_start": r.time_start, "time_end": r.time_end,
            "n_floats": int(r.n_floats), "n_profiles": int(r.n_profiles), "parameters": list(r.parameters or []),
            "summary": cut(text, 300),
            "bbox_geojson": json.loads(r.bbox_geojson) if isinstance(r.bbox_geojson, str) else None,
        })
    return cards
