"""The benchmarks' database: a throw-away managed PostgreSQL (a temporary ``FLOATCHAT_HOME``), or a
kept one (``--home DIR``) that a later run measures again without filling it anew."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

#: Settings that would point a benchmark at someone's real services.
_FOREIGN = ("DATABASE_URL", "FLOATCHAT_READONLY_DATABASE_URL", "FLOATCHAT_REDIS_URL", "OPENAI_API_KEY",
            "OPENAI_BASE_URL")


@contextlib.contextmanager
def bench_database(keep_dir: Path | None, prefix: str) -> Iterator[Path]:
    """Start the managed cluster in ``keep_dir`` (kept, only stopped afterwards) or in a new
    temporary home (removed afterwards); yields the home."""
    keep = keep_dir is not None
    home = keep_dir.resolve() if keep else Path(tempfile.mkdtemp(prefix=prefix))
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o755)
    os.environ["FLOATCHAT_HOME"] = str(home)
    for k in _FOREIGN:
        os.environ.pop(k, None)
    from floatchat_core import db
    from floatchat_core.db import cluster

    try:
        db.up()
        yield home
    finally:
        db.dispose_engines()
        if keep:
            cluster.stop()
        else:
            cluster.remove()
            shutil.rmtree(home, ignore_errors=True)


def profile_count() -> int:
    """Profiles already in the benchmark database."""
    from sqlalchemy import text

    from floatchat_core.db import get_engine

    with get_engine().connect() as c:
        return int(c.execute(text("SELECT count(*) FROM profiles")).scalar())


def calibrate() -> float:
    """Seconds for 10 M pure-Python additions: how fast this host runs right now (a shared VM's
    speed varies up to 2× over a day; compare figures taken at similar calibrations)."""
    t0 = time.perf_counter()
    s = 0
    for i in range(10_000_000):
        s += i
    return round(time.perf_counter() - t0, 3)
