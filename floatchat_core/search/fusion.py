"""Fusion of semantic and lexical candidates: reciprocal rank fusion, boosts, threshold, "why".

Pure functions of DataFrames (no I/O), so the ranking is testable on its own. Internal module.

Score of a candidate (all terms in [0, 1] before the boosts)::

    rrf      = (1/(K + rank_semantic) + 1/(K + rank_lexical)) / (2/(K + 1))    # 1.0 = first in both
    score    = rrf * (1 + REGION_BOOST * region_hit + FACET_BOOST * facets_hit + recency_weight * recency)
               + EXACT_BONUS * exact_ref

where ``region_hit`` is 1 when the document visited a region named in the question,
``facets_hit`` counts the other facets the question names and the document satisfies (all the
parameters named, the float type, the data assembly centre), ``recency`` = exp(-age /
RECENCY_TAU_YEARS) with age the years between the document's last data and the newest data
among the candidates (weighted ``RECENCY_BOOST``, or ``RECENT_INTENT_BOOST`` when the question
asks for recent data), and ``exact_ref`` marks a platform number / dataset id typed in the
question. A candidate is kept only when its cosine similarity reaches
the threshold (or, without a query vector, when it matched lexically), or when it is an exact ref.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

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


def _ranks(values: pd.Series, mask: pd.Series, ascending: bool) -> pd.Series:
    """1-based ranks of ``values`` among rows where ``mask`` holds (NaN elsewhere)."""
    r = values.where(mask).rank(method="first", ascending=ascending)
    return r


def facet_hits(filters: pd.Series, facets: dict) -> pd.Series:
    """Per document, how many of the question's facets (parameters, float types, DACs) it satisfies."""
    params = set(facets.get("parameters") or ())
    types = set(facets.get("float_types") or ())
    dacs = set(facets.get("dacs") or ())
    if not (params or types or dacs):
        return pd.Series(0, index=filters.index)
    return pd.Series([int(bool(params) and params <= set(f.get("parameters", [])))
                      + int(bool(types & set(f.get("float_types", []))))
                      + int(bool(dacs & set(f.get("dacs", [])))) for f in filters], index=filters.index)


def fuse(cands: pd.DataFrame, *, region_ids: list[int], min_similarity: float, use_vector: bool,
         facets: dict | None = None, limit: int | None = None) -> pd.DataFrame:
    """Score, filter and sort candidates (see the module docstring). Adds ``rank_semantic,
    rank_lexical, region_hit, recency, rrf, score, why``; returns the kept rows, best first
    (the first ``limit`` of them when given: "why" is only written for those)."""
    if cands.empty:
        return cands.assign(score=[], why=[])
    c = cands.copy()
    c["semantic_score"] = pd.to_numeric(c["semantic_score"], errors="coerce")
    c["lexical_score"] = pd.to_numeric(c["lexical_score"], errors="coerce").fillna(0.0)
    c["rank_semantic"] = _ranks(c["semantic_score"], c["semantic_score"].notna() & use_vector, ascending=False)
    c["rank_lexical"] = _ranks(c["lexical_score"], c["in_lexical"].astype(bool), ascending=False)
    rrf = (1.0 / (K + c["rank_semantic"])).fillna(0.0) + (1.0 / (K + c["rank_lexical"])).fillna(0.0)
    c["rrf"] = rrf / (2.0 / (K + 1))

    wanted = set(int(i) for i in region_ids)
    c["region_hit"] = [bool(wanted & set(f.get("region_ids", []))) for f in c["filters"]] if wanted else False
    t_end = pd.to_datetime(c["time_end"], utc=True)
    newest = t_end.max()
    age_years = (newest - t_end).dt.total_seconds() / (365.25 * 86400.0)
    c["recency"] = np.exp(-age_years.fillna(np.inf).clip(lower=0) / RECENCY_TAU_YEARS)
    facets = facets or {}
    c["facets_hit"] = facet_hits(c["filters"], facets)
    recency_weight = RECENT_INTENT_BOOST if facets.get("recent") else RECENCY_BOOST
    c["score"] = (c["rrf"] * (1.0 + REGION_BOOST * c["region_hit"].astype(float) + FACET_BOOST * c["facets_hit"]
                              + recency_weight * c["recency"])
                  + EXACT_BONUS * c["exact_ref"].astype(float))
    if facets.get("wants"):
        c.loc[c["kind"] != facets["wants"], "score"] *= OTHER_KIND_FACTOR

    if use_vector:
        keep = (c["semantic_score"] >= min_similarity) | c["exact_ref"]
    else:
        keep = c["in_lexical"].astype(bool) | c["exact_ref"]
    c = c[keep].sort_values(["score", "semantic_score"], ascending=False, kind="stable")
    if limit is not None:
        c = c.head(int(limit)).copy()
    c["why"] = [_why(r, use_vector) for r in c.itertuples(index=False)]
    return c


def _why(r, use_vector: bool) -> str:
    parts = []
    if r.exact_ref:
        parts.append(f"{'platform number' if r.kind == 'float' else 'dataset id'} {r.ref} named in the question")
    if use_vector and not pd.isna(r.semantic_score):
        rank = "" if pd.isna(r.rank_semantic) else f", #{int(r.rank_semantic)} by meaning"
        parts.append(f"meaning similarity {r.semantic_score:.2f}{rank}")
    elif not use_vector:
        parts.append("keyword match only (no query embedding)")
    terms = list(r.matched_terms or [])
    if terms:
        parts.append("matched words: " + ", ".join(terms[:8]))
    if r.region_hit:
        parts.append("visited a region named in the question")
    if r.facets_hit:
        parts.append(f"{int(r.facets_hit)} facet(s) named in the question (parameter, float type, DAC)")
    if r.recency >= 0.9:
        parts.append("recent data")
    return "; ".join(parts)
