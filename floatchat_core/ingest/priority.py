"""Bulk ingestion yields the CPU to interactive work: the LocalCluster's worker processes, and the
PostgreSQL backends that write their rows when the database runs on this machine, run at a lower
OS priority (``FLOATCHAT_INGEST_NICE``, default 19, the lowest).

Serving people (the dashboard's answers) is interactive, re-ingesting an archive is not: on a
small machine two Dask workers otherwise take both cores from the Panel server. At nice 10 they
still took ~60 % of a core while 20 chat sessions waited for answers (CFS gives nice 10 a weight
of 110 against 1024, nice 19 a weight of 15), and their backends' COPY and index upkeep ran at
normal priority beside the answers' queries. Nice only reorders who runs first; on an idle
machine the workers and their backends still get every core.

``floatchat ingest`` / ``reingest`` / ``jobs retry`` lower their own process first of all, so its
scheduler, its result handling and the workers it spawns (which inherit the value) never run at
normal priority: before, each run spent ~6 s of CPU at normal priority, most of it in its first
3-5 s (imports, workers starting), beside the dashboard's answers. The Dask worker plugin is
:class:`floatchat_core.ingest.niceworkers.NiceWorkers`; this module needs no ``distributed``
(~0.5 s to import), so the command can lower its priority before paying for it.
"""
from __future__ import annotations

import os


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


def lower_backend_priority(dbapi_connection, nice: int) -> int | None:
    """Lower the priority of this connection's PostgreSQL backend process, when it is a process of
    this machine: its title (``postgres: user db 127.0.0.1(PORT) …``) must carry the local port of
    this connection's own socket, so a server elsewhere, whose backend pid means nothing here, is
    never touched. Returns the backend's pid when it was set, else ``None``."""
    import socket

    try:
        cur = dbapi_connection.cursor()
        cur.execute("SELECT pg_backend_pid()")
        pid = int(cur.fetchone()[0])
        cur.close()
        dbapi_connection.rollback()
        with socket.socket(fileno=os.dup(dbapi_connection.fileno())) as sock:
            local = sock.getsockname()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            title = f.read().decode(errors="replace")
    except Exception:            # not TCP, not Linux, no such process here: leave it
        return None
    if not (isinstance(local, tuple) and title.startswith("postgres") and f"({local[1]})" in title):
        return None
    return pid if lower_priority(nice, pid) or os.getpriority(os.PRIO_PROCESS, pid) >= nice else None
