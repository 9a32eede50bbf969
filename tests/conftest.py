"""Shared fixtures: one throw-away managed PostgreSQL (PostGIS, pgvector, pg_trgm) for the
whole session, in a temporary FLOATCHAT_HOME that is removed afterwards.

The environment variable (not only an in-process override) is set so subprocesses
started by tests — Dask workers, ``panel serve``, the ``floatchat`` CLI — use the same
database.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FLOATCHAT_SHARED", REPO.parent / "shared")).resolve()
GDAC = SHARED / "data" / "argo" / "gdac"

_HOME = Path(tempfile.mkdtemp(prefix="floatchat-test-"))
os.chmod(_HOME, 0o755)        # the server may run as an unprivileged user
os.environ["FLOATCHAT_HOME"] = str(_HOME)
os.environ.pop("DATABASE_URL", None)
os.environ.pop("FLOATCHAT_READONLY_DATABASE_URL", None)
os.environ.pop("OPENAI_API_KEY", None)
os.environ.pop("OPENAI_BASE_URL", None)
os.environ.setdefault("FLOATCHAT_LOG_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    assert SHARED.is_dir(), f"../shared not found at {SHARED} (set FLOATCHAT_SHARED)"
    return SHARED


@pytest.fixture(scope="session")
def gdac_dir(shared_dir) -> Path:
    return GDAC


@pytest.fixture(scope="session")
def database():
    """The session's managed database: started once, removed at the end. Yields its URLs."""
    from floatchat_core import db
    from floatchat_core.db import cluster

    urls = db.up()
    yield urls
    db.dispose_engines()
    cluster.remove()
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture
def engine(database):
    from floatchat_core.db import get_engine

    return get_engine()


@pytest.fixture
def clean_db(database):
    """Empty every data table before and after the test (schema and regions kept)."""
    from floatchat_core.db.maintenance import truncate_data

    truncate_data()
    yield database
    truncate_data()
