"""Fusion of semantic and lexical candidates: reciprocal rank fusion, boosts, threshold, "why".

The ranking runs in PostgreSQL (``floatchat_core.db.searchquery.ranked_search``: one statement
finds, fuses and ranks, so only the hits travel); this module holds its constants, the
question-dependent parameters (:func:`fusion_params`) and the "why" of a hit. Internal module.

Score of a candidate (all terms in [0, 1] before the boosts)::

    rrf      = (1/(K + rank_semantic) + 1/(K + rank_lexical)) / (2/(K + 1))    # 1.0 = first in both
    score    = rrf * (1 + REGION_BOOST * region_hit + FACET_BOOST * facets_hit + recency_weight * recency)
               + EXACT_BONUS * exact_ref

where ``rank_semantic`` ranks the candidates by cosine similarity and ``rank_lexical`` the
lexical candidates by their idf-weighted lexical score (equal scores: the more similar first;
remaining ties by document id),
``region_hit`` is 1 when the document visited a region named in the question,
``facets_hit`` counts the other facets the question names and the document satisfies (all the
parameters named, the float type, the data assembly centre), ``recency`` = exp(-age /
RECENCY_TAU_YEARS) with age the years between the document's last data and the newest data
among the candidates (weighted ``RECENCY_BOOST``, or ``RECENT_INTENT_BOOST`` when the question
asks for recent data), and ``exact_ref`` marks a platform number / dataset id typed in the
question; the score of a document of the other kind is multiplied by ``OTHER_KIND_FACTOR`` when
the question says "float(s)" or "dataset(s)". A candidate is kept only when its cosine
similarity reaches the threshold (or, without a query vector, when it matched lexically), or
when it is an exact ref. Best score first, then best similarity.
"""
from __future__ import annotations

#: RRF constant (Cormack et al. 2009).
K = 60
REGION_BOOST = 0.4
FACET_BOOST = 0.25
RECENCY_BOOST = 0.03
RECENT_INTENT_BOOST = 0.3
RECENCY_TAU_YEARS = 5.0
EXACT_BONUS = 10.0
#: Factor on documents of the other kind when the question says "float(s)" or "dataset(s)".
OTHER_KIND_FACTOR = 0.75


def fusion_params(*, facets: dict | None, min_similarity: float) -> dict:
    """The fusion parameters of ``ranked_search`` for a question's ``facets`` (``query_facets``)."""
    facets = facets or {}
    return {"k": K, "region_boost": REGION_BOOST, "facet_boost": FACET_BOOST,
            "recency_weight": RECENT_INTENT_BOOST if facets.get("recent") else RECENCY_BOOST,
            "tau": RECENCY_TAU_YEARS, "exact_bonus": EXACT_BONUS, "other_kind": OTHER_KIND_FACTOR,
            "wants": facets.get("wants"), "min_sim": float(min_similarity),
            "f_params": list(facets.get("parameters") or ()), "f_types": list(facets.get("float_types") or ()),
            "f_dacs": list(facets.get("dacs") or ())}


def why(kind, ref, exact_ref, semantic_score, rank_semantic, matched_terms, region_hit, facets_hit, recency,
        use_vector: bool) -> str:
    """Why a hit matched, in words (from the facts ``ranked_search`` returns with it)."""
    parts = []
    if exact_ref:
        parts.append(f"{'platform number' if kind == 'float' else 'dataset id'} {ref} named in the question")
    if use_vector and semantic_score is not None:
        rank = "" if rank_semantic is None else f", #{int(rank_semantic)} by meaning"
        parts.append(f"meaning similarity {semantic_score:.2f}{rank}")
    elif not use_vector:
        parts.append("keyword match only (no query embedding)")
    terms = list(matched_terms or [])
    if terms:
        parts.append("matched words: " + ", ".join(terms[:8]))
    if region_hit:
        parts.append("visited a region named in the question")
    if facets_hit:
        parts.append(f"{int(facets_hit)} facet(s) named in the question (parameter, float type, DAC)")
    if recency >= 0.9:
        parts.append("recent data")
    return "; ".join(parts)
