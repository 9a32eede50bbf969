"""SQLAlchemy engines: read-write (ingestion) and read-only (everything that answers questions).

URLs come from ``DATABASE_URL`` (and ``FLOATCHAT_READONLY_DATABASE_URL``) or from the
managed cluster's state file. Engines are cached per URL; ``dispose_engines()`` drops them
(tests, and after ``db reset``).
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..config import Settings, get_settings
from ..errors import DatabaseError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

_ENGINES: dict[tuple, Engine] = {}
_LOCK = threading.Lock()


def database_urls(settings: Settings | None = None) -> dict[str, str]:
    """``{"owner": url, "reader": url}`` for the configured database."""
    settings = settings or get_settings()
    if settings.database_url:
        url = _normalise(settings.database_url)
        reader = _normalise(settings.readonly_database_url) if settings.readonly_database_url else url
        return {"owner": url, "reader": reader}
    from . import cluster

    state = cluster.load_state(settings)
    if state is None:
        raise DatabaseError("no database: run `floatchat db up` (managed local PostgreSQL) or set DATABASE_URL")
    u = cluster.urls(state, settings.db_name)
    return {"owner": u["owner"], "reader": u["reader"]}


def _normalise(url: str) -> str:
    # docker/cloud URLs are often plain postgres:// — SQLAlchemy wants a dialect+driver
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def get_engine(readonly: bool = False, settings: Settings | None = None) -> Engine:
    """A pooled engine (``pool_pre_ping``). The read-only one runs every transaction
    read-only with a statement timeout, whatever role it connects as."""
    from sqlalchemy import create_engine

    settings = settings or get_settings()
    url = database_urls(settings)["reader" if readonly else "owner"]
    key = (url, readonly, settings.statement_timeout_ms)
    with _LOCK:
        eng = _ENGINES.get(key)
        if eng is None:
            options = "-c application_name=floatchat"
            if readonly:
                options += (f" -c default_transaction_read_only=on"
                            f" -c statement_timeout={int(settings.statement_timeout_ms)}")
            eng = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                connect_args={"options": options, "connect_timeout": 10})
            _ENGINES[key] = eng
        return eng


def raw_connection(readonly: bool = False, settings: Settings | None = None):
    """A DBAPI (psycopg2) connection from the pool, for COPY."""
    return get_engine(readonly, settings).raw_connection()


def dispose_engines(close: bool = True) -> None:
    """Drop all engines. In a forked child pass ``close=False``: the parent still owns the sockets."""
    with _LOCK:
        for eng in _ENGINES.values():
            eng.dispose(close=close)
        _ENGINES.clear()
