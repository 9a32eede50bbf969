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

A nice value alone was not enough. Linux with ``sched_autogroup_enabled`` (the default of most
distributions, and of the 2-core VM where this was measured) first shares the CPU between
*sessions*, each an autogroup of equal weight, and only then between the processes of a session
by their nice values. A ``floatchat ingest`` at nice 19, run from another terminal (or by the
benchmark), still took half the machine from the ``panel serve`` session beside it: two nice-19
CPU burners took 30-35 s of 70 s from 20 chat sessions, and their p95 answer rose from 3.2-5.4 s
(5 runs without) to 5.1-8.6 s (4 runs). So the commands run their work in a session of their own
and lower that session's autogroup to the same value (:func:`run_in_own_session`): the same burners then took
8 s and the answers were as fast as on an idle machine (``sched(7)``, "The autogroup feature").

The same holds for the database side. The postmaster starts every backend as the leader of a
session of its own, so a backend is alone in its autogroup and its nice value alone changed nothing:
:func:`lower_backend_priority` lowers the backend's autogroup as well (:func:`lower_autogroup`). Every connection the bulk
command opens is lowered (:func:`nice_backends`), the command's own (its job rows, the dataset
summaries) as well as its workers'.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

#: Set in the environment of the command re-run in its own session: the pid of the process that
#: waits for it (the child exits when that process is gone).
PARENT_ENV = "FLOATCHAT_INGEST_SESSION_PARENT"


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
    lowered = lower_priority(nice, pid) or os.getpriority(os.PRIO_PROCESS, pid) >= nice
    # The postmaster starts every backend with setsid() (InitPostmasterChild): under autogroups a
    # backend is alone in an autogroup with a whole session's weight, and its nice value only orders
    # it against itself. Writing its /proc/PID/autogroup needs its owner (a managed cluster runs as
    # the user who runs floatchat, or as its own user under root) or CAP_SYS_NICE.
    lower_autogroup(nice, pid)
    return pid if lowered else None


_LISTENERS: dict[int, object] = {}


def nice_backends(nice: int) -> None:
    """Lower (:func:`lower_backend_priority`) the backend of every database connection this process
    opens from now on: SQLAlchemy's pool ``connect`` event, registered once per value."""
    import functools

    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    listener = _LISTENERS.setdefault(nice, functools.partial(_on_connect, nice=nice))
    if not event.contains(Pool, "connect", listener):
        event.listen(Pool, "connect", listener)


def _on_connect(dbapi_connection, _record, nice: int) -> None:
    import logging

    pid = lower_backend_priority(dbapi_connection, nice)
    logging.getLogger(__name__).debug("ingest.backend_nice nice=%d pid=%s", nice, pid)


def autogroups_enabled() -> bool:
    """True when the kernel shares the CPU between sessions first (Linux autogroups are on)."""
    try:
        return (Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
                and Path("/proc/self/autogroup").exists())
    except OSError:
        return False


def autogroup_nice(pid: int | str = "self") -> int | None:
    """The nice value of ``pid``'s autogroup (``/proc/PID/autogroup``: ``/autogroup-N nice V``).
    None where there is none to read: the init session's autogroup (a process that descends from
    PID 1 without a ``setsid``, as in many containers and CI runners) reads as an empty file."""
    try:
        return int(Path(f"/proc/{pid}/autogroup").read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def lower_autogroup(nice: int, pid: int | None = None) -> bool:
    """Raise the autogroup nice value of the session of process ``pid`` (default: this one) to at
    least ``nice``: only when that process leads its session, so a terminal's shell (or a server
    started from it) is never demoted with it. True when the autogroup is at ``nice`` or lower
    priority afterwards; False where it cannot be read or written (another user's process)."""
    leader = os.getpid() if pid is None else pid
    try:
        if os.getsid(0 if pid is None else pid) != leader:
            return False
    except OSError:
        return False
    current = autogroup_nice(leader)
    if current is None:
        return False
    if current < nice:
        try:
            Path(f"/proc/{leader}/autogroup").write_text(str(nice))
        except OSError:
            return False
    return (autogroup_nice(leader) or 0) >= nice


def needs_own_session(nice: int) -> bool:
    """True when a bulk command at ``nice`` must move to a session of its own to yield the CPU
    (autogroups on, and this process shares its session, hence its autogroup, with others)."""
    return nice > 0 and autogroups_enabled() and os.getsid(0) != os.getpid() and PARENT_ENV not in os.environ


def run_in_own_session(argv: list[str]) -> int:
    """Run ``python -m floatchat_core.cli ARGV`` as the leader of a new session and wait for it.

    The child lowers its own autogroup (:func:`follow_parent`, :func:`lower_autogroup`). This
    process stays in the terminal's foreground and forwards Ctrl-C, ``SIGTERM`` and ``SIGHUP`` to it;
    output goes to the same terminal. Returns the child's exit status (128 + N when killed by N).
    """
    env = dict(os.environ, **{PARENT_ENV: str(os.getpid())})
    child = subprocess.Popen([sys.executable, "-m", "floatchat_core.cli", *argv], env=env, start_new_session=True)

    def _forward(signum, _frame):
        try:
            child.send_signal(signum)
        except OSError:
            pass

    forwarded = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = ({s: signal.signal(s, _forward) for s in forwarded}    # only the main thread may set handlers
                if threading.current_thread() is threading.main_thread() else {})
    try:
        rc = child.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 128 - rc if rc < 0 else rc


def follow_parent() -> None:
    """In the command re-run by :func:`run_in_own_session`: die with the process waiting for it, even
    when that one is killed outright (a test's timeout, ``kill -9``), instead of ingesting on,
    orphaned. Like any killed ingestion, nothing partial stays written (a file is one transaction),
    the Dask workers exit with their parent, and the job is marked failed as interrupted
    (``jobs.recover_stale_jobs``), ready for ``floatchat jobs retry``."""
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))    # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):          # it died before the line above
        os.kill(os.getpid(), signal.SIGKILL)
