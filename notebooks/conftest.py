"""The notebooks as tests: ``pytest tests notebooks --nbval-lax --nbval-current-env`` (``make test``).

Each notebook runs top to bottom in a kernel of the current environment; cells marked
``# NBVAL_CHECK_OUTPUT`` must print exactly their committed output, the others must run without error.

In the same session as ``tests/`` the kernels inherit the throw-away ``FLOATCHAT_HOME`` set by
``tests/conftest.py`` (so they use the session's cluster), and its ``database`` fixture removes the
cluster at the end. When no test used that fixture (e.g. ``pytest tests/test_packaging.py notebooks``),
the notebook kernels started the cluster themselves: it is removed here, so no server outlives the
session. Run alone (``pytest --nbval-lax notebooks``) the notebooks use your ``FLOATCHAT_HOME`` and
leave your database as it was (running, with the sample ingested).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def _throwaway_home() -> Path | None:
    home = os.environ.get("FLOATCHAT_HOME")
    if not home:
        return None
    p = Path(home)
    if p.name.startswith("floatchat-test-") and p.parent == Path(tempfile.gettempdir()):
        return p
    return None


def pytest_sessionfinish(session, exitstatus):
    home = _throwaway_home()
    if home is None or not (home / "pg.json").exists():
        return                      # not a test home, or the `database` fixture already removed it
    from floatchat_core import db
    from floatchat_core.db import cluster

    db.dispose_engines()
    cluster.remove()
    shutil.rmtree(home, ignore_errors=True)
