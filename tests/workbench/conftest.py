"""Workbench fixtures: the bundled real sample ingested once per module."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def sample_db(database):
    """The bundled sample (5 real floats) in the session database; emptied afterwards."""
    from floatchat_core.cli import sample_dir
    from floatchat_core.db.maintenance import truncate_data
    from floatchat_core.ingest import ingest

    truncate_data()
    job = ingest([sample_dir()], name="sample", dataset="sample", executor="serial")
    assert job["status"] == "succeeded", job.get("errors")
    yield job
    truncate_data()
