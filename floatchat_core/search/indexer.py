"""The search indexer: describe floats and datasets, upsert their documents, embed what changed.

``reindex()`` (and ``floatchat reindex [--dataset ID]``) runs on demand; the ingestion runner
calls :func:`index_after_ingest` after each job (as a Dask task when the job ran on Dask).
Embedding failures never propagate: the documents of a failing batch get
``status = 'embedding_failed'`` with the error, the others are stored, and the lexical half of
search keeps working for every document. Switching the embedding model (or its dimension)
re-embeds everything — vectors of two models never mix (``searchdb.ensure_index_model``).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings, get_settings
from ..errors import EmbeddingError

log = logging.getLogger(__name__)


def build_documents(dataset_id: int | None = None, platform_numbers: Sequence[str] | None = None,
                    settings: Settings | None = None) -> pd.DataFrame:
    """The documents (not yet stored) of the floats and datasets in scope.

    Scope: ``platform_numbers`` (those floats only), else ``dataset_id`` (that dataset and its
    floats), else everything.
    """
    from ..db import searchdb
    from . import text

    if platform_numbers is not None:
        ff, fr = searchdb.float_facts(platform_numbers=platform_numbers, settings=settings)
        return text.float_documents(ff, fr)
    ids = None if dataset_id is None else [int(dataset_id)]
    ff, fr = searchdb.float_facts(dataset_ids=ids, settings=settings)
    df, dr = searchdb.dataset_facts(ids, settings=settings)
    parts = [p for p in (text.dataset_documents(df, dr), text.float_documents(ff, fr)) if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else text.float_documents(ff, fr)


#: Vectors stored per database round trip (one binary COPY + one UPDATE).
STORE_ROWS = 2048
#: A load of at least this many vectors, and at least ``BULK_SHARE`` of the documents, drops the
#: HNSW index and builds it again afterwards (much faster than growing the graph row by row).
BULK_MIN = 2000
BULK_SHARE = 0.3


def embed_pending(refs: Sequence[tuple[str, str]] | None = None, settings: Settings | None = None) -> dict[str, int]:
    """Embed the documents that need a vector of the configured model, batch by batch.

    Documents with the same text are embedded once (their rows share the vector). Each batch
    of ``FLOATCHAT_EMBEDDING_BATCH_SIZE`` distinct texts is one model call; vectors are stored
    ``STORE_ROWS`` at a time (binary COPY). A failing batch marks its documents
    ``embedding_failed`` (the error text is stored) and the next batches go on. Returns
    ``{"embedded": n, "failed": n}``.
    """
    from ..db import searchdb
    from .embeddings import get_provider

    settings = settings or get_settings()
    provider = get_provider(settings)
    counts = {"embedded": 0, "failed": 0}
    try:
        dim = provider.dim
        searchdb.ensure_index_model(provider.model, dim, settings=settings)
    except EmbeddingError as exc:
        todo = searchdb.documents_to_embed(provider.model, refs, settings=settings)
        if not todo.empty:
            counts["failed"] = searchdb.mark_failed(todo["id"].tolist(), str(exc), settings=settings)
        log.error("search.embedding_failed model=%s documents=%d error=%s", provider.model, counts["failed"], exc)
        return counts
    todo = searchdb.documents_to_embed(provider.model, refs, settings=settings)
    if todo.empty:
        searchdb.create_vector_index(settings=settings)       # an interrupted bulk load left none
        return counts
    n_docs = sum(searchdb.document_counts(settings=settings).values())
    bulk = len(todo) >= BULK_MIN and len(todo) >= BULK_SHARE * n_docs
    if bulk:
        searchdb.drop_vector_index(settings=settings)
    try:
        _embed_rows(todo, provider, counts, settings)
    finally:
        if bulk or refs is None:
            t0 = time.perf_counter()
            if searchdb.create_vector_index(settings=settings):
                log.info("search.hnsw_built documents=%d seconds=%.1f", n_docs, time.perf_counter() - t0)
    return counts


def _embed_rows(todo: pd.DataFrame, provider, counts: dict[str, int], settings: Settings) -> None:
    from ..db import searchdb

    ids = todo["id"].to_numpy(np.int64)
    codes, uniq = pd.factorize(todo["text"], sort=False)
    # rows of each distinct text, as slices of one ordering
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
    size = provider.batch_size
    pend_ids: list[np.ndarray] = []
    pend_vecs: list[np.ndarray] = []

    def flush() -> None:
        if pend_ids:
            counts["embedded"] += searchdb.store_embeddings(np.concatenate(pend_ids), np.concatenate(pend_vecs),
                                                            provider.model, settings=settings)
            pend_ids.clear()
            pend_vecs.clear()

    t0 = time.perf_counter()
    for start in range(0, len(uniq), size):
        stop = min(start + size, len(uniq))
        rows = order[bounds[start]:bounds[stop]]
        try:
            vecs = provider.embed(list(uniq[start:stop]))
        except EmbeddingError as exc:
            counts["failed"] += searchdb.mark_failed(ids[rows].tolist(), str(exc), settings=settings)
            log.error("search.embedding_failed model=%s documents=%d error=%s", provider.model, len(rows), exc)
            continue
        pend_ids.append(ids[rows])
        pend_vecs.append(vecs[codes[rows] - start])
        if sum(len(x) for x in pend_ids) >= STORE_ROWS:
            flush()
    flush()
    secs = time.perf_counter() - t0
    log.info("search.embedded model=%s embedded=%d distinct_texts=%d failed=%d seconds=%.1f docs_per_s=%.1f",
             provider.model, counts["embedded"], len(uniq), counts["failed"], secs, counts["embedded"] / max(secs, 1e-9))


def reindex(dataset_id: int | None = None, *, platform_numbers: Sequence[str] | None = None,
            settings: Settings | None = None) -> dict[str, Any]:
    """(Re)build the search documents and embed what changed.

    Parameters
    ----------
    dataset_id
        Only this dataset and its floats (default: everything, and documents of floats or
        datasets that no longer exist are removed).
    platform_numbers
        Only these floats.

    Returns
    -------
    dict
        ``documents`` (in scope), ``changed`` (text written), ``embedded``, ``failed``,
        ``removed``, ``model``, ``seconds``.
    """
    from ..db import searchdb
    from .embeddings import get_provider

    settings = settings or get_settings()
    t0 = time.perf_counter()
    docs = build_documents(dataset_id, platform_numbers, settings=settings)
    changed = searchdb.upsert_documents(docs, settings=settings)
    removed = searchdb.delete_stale_documents(settings=settings) if dataset_id is None and platform_numbers is None \
        else 0
    searchdb.refresh_lexeme_stats(settings=settings)
    full = dataset_id is None and platform_numbers is None
    refs = None if full else list(zip(docs["kind"], docs["ref"]))
    counts = embed_pending(refs, settings=settings)
    out = {"documents": int(len(docs)), "changed": int(changed), "removed": int(removed), **counts,
           "model": get_provider(settings).model, "seconds": round(time.perf_counter() - t0, 2)}
    log.info("search.reindex %s", out)
    return out


def index_datasets(dataset_ids: Sequence[int], settings: Settings | None = None) -> dict[str, Any]:
    """Index the given datasets and their floats (what the ingestion runner calls). Never raises:
    a failure is logged and returned as ``{"error": …}``."""
    totals: dict[str, Any] = {"documents": 0, "changed": 0, "embedded": 0, "failed": 0, "removed": 0}
    try:
        from ..db import searchdb

        for ds in dataset_ids:
            r = reindex(int(ds), settings=settings)
            for k in ("documents", "changed", "embedded", "failed"):
                totals[k] += r[k]
        totals["removed"] = searchdb.delete_stale_documents(settings=settings)
        searchdb.refresh_lexeme_stats(settings=settings)
    except Exception as exc:               # indexing must never fail an ingestion
        log.exception("search.index_failed datasets=%s", list(dataset_ids))
        totals["error"] = f"{type(exc).__name__}: {exc}"
    return totals


def index_after_ingest(dataset_ids: Sequence[int], *, executor: str = "serial", client=None,
                       settings: Settings | None = None) -> dict[str, Any]:
    """Index after an ingestion job: in this process (``executor="serial"``) or as one task on
    the job's Dask ``client``. Never raises; honours ``FLOATCHAT_SEARCH_INDEX_ON_INGEST``."""
    settings = settings or get_settings()
    if not settings.search_index_on_ingest or not dataset_ids:
        return {"skipped": True}
    ids = [int(i) for i in dataset_ids]
    if executor == "serial" or client is None:
        return index_datasets(ids, settings)
    try:
        fut = client.submit(index_datasets, ids, pure=False)
        return fut.result()
    except Exception as exc:
        log.exception("search.index_task_failed datasets=%s", ids)
        return {"error": f"{type(exc).__name__}: {exc}"}

