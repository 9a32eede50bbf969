"""The Dask worker plugin that runs the LocalCluster's ingestion workers, and the PostgreSQL
backends their connections open, at ``FLOATCHAT_INGEST_NICE`` (see :mod:`.priority`)."""
from __future__ import annotations

import logging

from distributed.diagnostics.plugin import WorkerPlugin

from .priority import lower_backend_priority, lower_priority

log = logging.getLogger(__name__)


class NiceWorkers(WorkerPlugin):
    """Dask worker plugin: :func:`lower_priority` in each worker, now and after restarts, and
    :func:`lower_backend_priority` for every database connection the worker opens."""

    name = "floatchat-ingest-nice"

    def __init__(self, nice: int):
        self.nice = int(nice)

    def setup(self, worker) -> None:
        import functools

        from sqlalchemy import event
        from sqlalchemy.pool import Pool

        n = lower_priority(self.nice)
        listener = functools.partial(_on_connect, nice=self.nice)
        if not event.contains(Pool, "connect", _LISTENERS.get(self.nice, listener)):
            _LISTENERS[self.nice] = listener
            event.listen(Pool, "connect", listener)
        log.debug("ingest.worker_nice nice=%d threads=%d", self.nice, n)


_LISTENERS: dict[int, object] = {}


def _on_connect(dbapi_connection, _record, nice: int) -> None:
    pid = lower_backend_priority(dbapi_connection, nice)
    log.debug("ingest.backend_nice nice=%d pid=%s", nice, pid)
