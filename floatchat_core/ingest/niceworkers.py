"""The Dask worker plugin that runs the LocalCluster's ingestion workers, and the PostgreSQL
backends their connections open, at ``FLOATCHAT_INGEST_NICE`` (see :mod:`.priority`)."""
from __future__ import annotations

import logging

from distributed.diagnostics.plugin import WorkerPlugin

from .priority import lower_priority, nice_backends

log = logging.getLogger(__name__)


class NiceWorkers(WorkerPlugin):
    """Dask worker plugin: :func:`lower_priority` in each worker, now and after restarts, and
    :func:`~.priority.nice_backends` for every database connection the worker opens."""

    name = "floatchat-ingest-nice"

    def __init__(self, nice: int):
        self.nice = int(nice)

    def setup(self, worker) -> None:
        n = lower_priority(self.nice)
        nice_backends(self.nice)
        log.debug("ingest.worker_nice nice=%d threads=%d", self.nice, n)
