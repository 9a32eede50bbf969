"""Metadata search: semantic + lexical discovery of floats and datasets, offline by default.

Light to import: the embedding model (torch) and the database driver load on first use.

>>> from floatchat_core import search as fs
>>> fs.search("BGC float with dissolved oxygen in the Arabian Sea", kind="float")   # doctest: +SKIP
>>> fs.floats_in_region("Labrador Sea", any_position=True)                        # doctest: +SKIP
>>> fs.reindex()                                                                  # doctest: +SKIP
"""
from __future__ import annotations

from .api import dataset_cards, floats_by_parameter, floats_in_region, normalise_filters, regions_mentioned, search
from .embeddings import EmbeddingProvider, LocalProvider, OpenAIProvider, embed_texts, get_provider
from .indexer import index_after_ingest, reindex

__all__ = [
    "EmbeddingProvider",
    "LocalProvider",
    "OpenAIProvider",
    "dataset_cards",
    "embed_texts",
    "floats_by_parameter",
    "floats_in_region",
    "get_provider",
    "index_after_ingest",
    "normalise_filters",
    "regions_mentioned",
    "reindex",
    "search",
]
