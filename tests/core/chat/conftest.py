"""Fixtures of the question-engine tests: the shared GDAC corpus ingested once per module."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def corpus(database, gdac_dir):
    """The shared GDAC subset (6 floats, 1,451 profiles) in a clean database for this module."""
    from floatchat_core.chat.parser import clear_region_cache
    from floatchat_core.db.maintenance import truncate_data
    from floatchat_core.ingest import ingest

    truncate_data()
    clear_region_cache()
    job = ingest([str(gdac_dir / "dac")], dataset="gdac", executor="serial")
    assert job["status"] in ("done", "succeeded", "finished", "completed"), job
    _clear_caches()
    yield job
    truncate_data()
    _clear_caches()


def _clear_caches():
    try:
        from floatchat_core.db.cache import clear_caches
    except ImportError:
        return
    clear_caches()
