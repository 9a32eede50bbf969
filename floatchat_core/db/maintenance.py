"""Housekeeping SQL: refreshing materialized views, bumping the cache generation, emptying data."""
from __future__ import annotations

from ..config import Settings
from .engine import get_engine

DATA_TABLES = ("float_positions", "profiles", "dataset_versions", "ingestion_jobs", "floats", "datasets",
               "search_documents")
MATERIALIZED_VIEWS = ("mv_latest_float_positions", "mv_dataset_stats")


def refresh_views(concurrently: bool = True, settings: Settings | None = None) -> None:
    """Refresh the materialized views (``CONCURRENTLY`` so readers are never blocked), then bump
    the query cache generation (cached results may have read the old views)."""
    from sqlalchemy import text

    eng = get_engine(settings=settings)
    with eng.connect() as c:
        c = c.execution_options(isolation_level="AUTOCOMMIT")
        for mv in MATERIALIZED_VIEWS:
            populated = c.execute(text("SELECT ispopulated FROM pg_matviews WHERE matviewname = :m"),
                                  {"m": mv}).scalar()
            mode = "CONCURRENTLY " if concurrently and populated else ""
            c.execute(text(f"REFRESH MATERIALIZED VIEW {mode}{mv}"))
        # cached results read the views: a refresh makes them stale like any ingestion does
        c.execute(text("UPDATE app_state SET value = value + 1 WHERE key = 'cache_generation'"))


def cache_generation(settings: Settings | None = None) -> int:
    from sqlalchemy import text

    with get_engine(readonly=True, settings=settings).connect() as c:
        return int(c.execute(text("SELECT value FROM app_state WHERE key = 'cache_generation'")).scalar())


def truncate_data(settings: Settings | None = None) -> None:
    """Delete all ingested data, jobs and search documents (tests, ``db reset --data``)."""
    from sqlalchemy import text

    with get_engine(settings=settings).begin() as c:
        c.execute(text(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE"))
        c.execute(text("UPDATE app_state SET value = value + 1 WHERE key = 'cache_generation'"))
    refresh_views(concurrently=False, settings=settings)
