"""Bulk ingestion yields the CPU to interactive work: the LocalCluster's worker processes run at a
lower OS priority (``FLOATCHAT_INGEST_NICE``, default 10).

Serving people (the dashboard's answers) is interactive, re-ingesting an archive is not: on a
small machine two Dask workers otherwise take both cores from the Panel server. Nice only
reorders who runs first; on an idle machine the workers still get every core.

Imported only when a Dask client is made (it needs ``distributed``).
"""
from __future__ import annotations

import logging
import os

from distributed.diagnostics.plugin import WorkerPlugin

log = logging.getLogger(__name__)


def lower_priority(nice: int, pid: int | None = None) -> int:
    """Raise the nice value of every thread of process ``pid`` (default: this one) to at least ``nice``.

    Linux keeps a nice value per thread, so each thread in ``/proc/PID/task`` is set (threads made
    later inherit it from their creator). Returns the number of threads changed; a thread that
    cannot be changed (permissions, gone) is skipped.
    """
    pid = pid or os.getpid()
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:             # not Linux: the process as a whole
        tids = [pid]
    changed = 0
    for tid in tids:
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
                changed += 1
        except OSError:
            continue
    return changed


class NiceWorkers(WorkerPlugin):
    """Dask worker plugin: :func:`lower_priority` in each worker, now and after restarts."""

    name = "floatchat-ingest-nice"

    def __init__(self, nice: int):
        self.nice = int(nice)

    def setup(self, worker) -> None:
        n = lower_priority(self.nice)
        log.debug("ingest.worker_nice nice=%d threads=%d", self.nice, n)
