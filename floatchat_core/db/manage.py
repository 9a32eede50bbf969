"""Database lifecycle: ``up``, ``down``, ``status``, ``url``, ``reset`` and migrations.

Works on the managed local cluster (default) or on ``DATABASE_URL`` (then only migrates).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..config import Settings, get_settings
from . import cluster
from .engine import database_urls, dispose_engines, get_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

#: Tables whose row counts ``status`` reports.
COUNTED_TABLES = ("datasets", "floats", "profiles", "float_positions", "ingestion_jobs",
                  "ocean_regions", "search_documents")


def _alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(revision: str = "head", settings: Settings | None = None) -> None:
    """Apply migrations up to ``revision`` (``"head"`` by default)."""
    from alembic import command

    settings = settings or get_settings()
    command.upgrade(_alembic_config(database_urls(settings)["owner"]), revision)
    grant_reader(settings)


def downgrade(revision: str = "base", settings: Settings | None = None) -> None:
    from alembic import command

    settings = settings or get_settings()
    command.downgrade(_alembic_config(database_urls(settings)["owner"]), revision)


def head_revision() -> str:
    """The newest migration shipped with this code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config("postgresql://")).get_current_head()


def current_revision(settings: Settings | None = None) -> str | None:
    from sqlalchemy import text

    with get_engine(settings=settings).connect() as c:
        exists = c.execute(text("SELECT to_regclass('alembic_version')")).scalar()
        return c.execute(text("SELECT version_num FROM alembic_version")).scalar() if exists else None


def grant_reader(settings: Settings | None = None) -> None:
    """Give the read-only role SELECT on everything (when that role exists on this server)."""
    from sqlalchemy import text

    with get_engine(settings=settings).begin() as c:
        if c.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": cluster.READER_ROLE}).scalar():
            c.execute(text(f'GRANT USAGE ON SCHEMA public TO "{cluster.READER_ROLE}"'))
            c.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{cluster.READER_ROLE}"'))
            c.execute(text(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES '
                           f'TO "{cluster.READER_ROLE}"'))


def up(settings: Settings | None = None) -> dict[str, str]:
    """Start (and on first use create) the database, migrate, then seed the ocean regions when
    the table is empty or the bundled data changed (fingerprint in ``app_state``). Idempotent.

    Returns the owner and reader URLs.
    """
    from .regions import seed_if_needed

    settings = settings or get_settings()
    if settings.managed:
        state = cluster.start(settings)
        cluster.wait_ready(state)
        cluster.bootstrap(state, settings.db_name)
    migrate(settings=settings)
    seed_if_needed(settings)
    return database_urls(settings)


def down(settings: Settings | None = None) -> bool:
    """Stop the managed server. With ``DATABASE_URL`` there is nothing to stop."""
    settings = settings or get_settings()
    dispose_engines()
    return cluster.stop(settings) if settings.managed else False


def reset(settings: Settings | None = None) -> dict[str, str]:
    """Managed: delete the cluster and create it anew. External: drop everything and migrate."""
    settings = settings or get_settings()
    dispose_engines()
    if settings.managed:
        cluster.remove(settings)
    else:
        downgrade("base", settings)
    return up(settings)


def status(settings: Settings | None = None) -> dict[str, Any]:
    """Server version, extensions (with HNSW availability), database size and row counts."""
    from sqlalchemy import text

    settings = settings or get_settings()
    info: dict[str, Any] = {"managed": settings.managed}
    if settings.managed:
        state = cluster.load_state(settings)
        info["running"] = cluster.is_running(settings)
        info["data_dir"] = str(state.data_dir) if state else None
        info["port"] = state.port if state else None
        if not info["running"]:
            return info
    with get_engine(settings=settings).connect() as c:
        info["server_version"] = c.execute(text("SHOW server_version")).scalar()
        info["database"] = c.execute(text("SELECT current_database()")).scalar()
        info["extensions"] = {r[0]: r[1] for r in c.execute(text(
            "SELECT extname, extversion FROM pg_extension ORDER BY extname"))}
        info["hnsw_available"] = bool(c.execute(text(
            "SELECT 1 FROM pg_am WHERE amname = 'hnsw'")).scalar())
        info["size_bytes"] = c.execute(text("SELECT pg_database_size(current_database())")).scalar()
        rev_exists = c.execute(text("SELECT to_regclass('alembic_version')")).scalar()
        info["revision"] = (c.execute(text("SELECT version_num FROM alembic_version")).scalar()
                            if rev_exists else None)
        counts = {}
        for t in COUNTED_TABLES:
            if c.execute(text("SELECT to_regclass(:t)"), {"t": t}).scalar():
                counts[t] = c.execute(text(f"SELECT count(*) FROM {t}")).scalar()
        info["row_counts"] = counts
    return info


def url(role: str = "owner", settings: Settings | None = None) -> str:
    """The SQLAlchemy URL for ``role`` (``owner`` or ``reader``)."""
    return database_urls(settings)[role]
