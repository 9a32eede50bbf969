"""Bulk ingestion yields the CPU: the LocalCluster's workers run at FLOATCHAT_INGEST_NICE."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from floatchat_core.config import get_settings, override
from floatchat_core.ingest import runner
from floatchat_core.ingest.priority import (
    PARENT_ENV,
    autogroup_nice,
    autogroups_enabled,
    lower_backend_priority,
    lower_priority,
)


def _nice_of_every_thread() -> list[int]:
    return [os.getpriority(os.PRIO_PROCESS, int(t)) for t in os.listdir("/proc/self/task")]


def test_default_is_a_lower_priority():
    assert get_settings().ingest_nice == 19


def test_lower_priority_sets_every_thread_of_a_real_process():
    child = subprocess.Popen([sys.executable, "-c", "import threading, time\n"
                              "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
                              "time.sleep(30)"])
    try:
        import time

        deadline = time.monotonic() + 10
        while len(os.listdir(f"/proc/{child.pid}/task")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lower_priority(7, child.pid) == 2                      # both threads were at 0
        tids = os.listdir(f"/proc/{child.pid}/task")
        assert [os.getpriority(os.PRIO_PROCESS, int(t)) for t in tids] == [7, 7]
        assert lower_priority(3, child.pid) == 0                      # never raises a priority back
    finally:
        child.kill()
        child.wait()


def test_localcluster_workers_run_niced_and_the_setting_can_turn_it_off():
    runner.close_client()
    try:
        with override(ingest_nice=9):
            client = runner.get_client(1)
            nice = client.run(_nice_of_every_thread)
            assert len(nice) == 1 and all(n == 9 for v in nice.values() for n in v), nice
        runner.close_client()
        with override(ingest_nice=0):
            client = runner.get_client(1)
            nice = client.run(_nice_of_every_thread)
            assert all(n == os.getpriority(os.PRIO_PROCESS, 0) for v in nice.values() for n in v), nice
    finally:
        runner.close_client()


def _backend_of_a_new_connection() -> tuple[int, int]:
    from floatchat_core.db.engine import dispose_engines, raw_connection

    dispose_engines()                     # a connection the worker opens now (the pool's connect event)
    conn = raw_connection()
    try:
        cur = conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        return pid, os.getpriority(os.PRIO_PROCESS, pid), autogroup_nice(pid)
    finally:
        conn.close()


def test_backend_of_a_local_connection_is_lowered_and_a_foreign_pid_is_not(database):
    import psycopg2

    from floatchat_core.db.engine import get_engine

    url = get_engine().url
    conn = psycopg2.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                            dbname=url.database)
    other = psycopg2.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                             dbname=url.database)
    try:
        pid = lower_backend_priority(conn, 13)
        assert pid is not None and os.getpriority(os.PRIO_PROCESS, pid) == 13
        cur = other.cursor()
        cur.execute("SELECT pg_backend_pid()")
        other_pid = cur.fetchone()[0]
        assert os.getpriority(os.PRIO_PROCESS, other_pid) == 0      # only the connection's own backend
        if autogroups_enabled():
            # the postmaster starts each backend as a session of its own, so its nice value alone would
            # only order it against itself: its autogroup is lowered too, and only its own
            assert os.getsid(pid) == pid and os.getsid(other_pid) == other_pid
            assert autogroup_nice(pid) == 13, open(f"/proc/{pid}/autogroup").read()
            assert autogroup_nice(other_pid) == 0
        conn.cursor().execute("SELECT 1")                           # still usable, no open transaction left
        assert conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
        conn.rollback()

        class Elsewhere:                   # a server elsewhere: its backend pid is our own process's
            def cursor(self):
                class C:
                    def execute(self, q): pass
                    def fetchone(self): return (os.getpid(),)
                    def close(self): pass
                return C()

            def rollback(self): pass

            def fileno(self): return conn.fileno()

        assert lower_backend_priority(Elsewhere(), 13) is None
        assert os.getpriority(os.PRIO_PROCESS, 0) == 0
    finally:
        conn.close()
        other.close()


def test_localcluster_workers_write_through_niced_backends(database):
    runner.close_client()
    try:
        with override(ingest_nice=17):
            client = runner.get_client(1)
            (pid, nice, group), = client.run(_backend_of_a_new_connection).values()
            assert nice == 17, (pid, nice)
            assert group == (17 if autogroups_enabled() else None), (pid, group)
        runner.close_client()
        with override(ingest_nice=0):
            client = runner.get_client(1)
            (pid, nice, group), = client.run(_backend_of_a_new_connection).values()
            assert nice == 0, (pid, nice)
            assert group == (0 if autogroups_enabled() else None), (pid, group)
    finally:
        runner.close_client()


def test_the_ingest_command_yields_the_cpu_from_its_start(clean_db):
    """``floatchat ingest`` lowers its own priority before its imports and its Dask cluster: its
    scheduler, its result handling and the workers it spawns (which inherit it) never ran niced
    before, ~6 s of CPU at normal priority per run, most of it while the workers started. Where
    Linux shares the CPU between sessions first (autogroups), the work runs as the leader of a
    session of its own whose autogroup has the same nice value: a nice value alone counted only
    against the processes of the terminal it was started from."""
    from floatchat_core.cli import sample_dir

    one = sorted(sample_dir().glob("*_prof.nc"))[0]
    out = subprocess.run([sys.executable, "-m", "floatchat_core.cli", "ingest", str(one), "--dataset", "nice-check"],
                         capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, FLOATCHAT_INGEST_NICE="7", FLOATCHAT_LOG_LEVEL="DEBUG"))
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-3000:])
    line = next((ln for ln in out.stderr.splitlines() if "ingest.yield_cpu" in ln), "")
    if autogroups_enabled():
        assert line.endswith("ingest.yield_cpu nice=7 session_leader=True autogroup_nice=7"), out.stderr[-3000:]
    else:
        assert "ingest.yield_cpu nice=7 " in line, out.stderr[-3000:]
    assert "succeeded" in out.stdout or "profiles" in out.stdout, out.stdout[-2000:]
    # the command's own database work (its job rows, the dataset summaries) runs through lowered
    # backends as well, not only the workers'
    assert re.search(r"ingest\.backend_nice nice=7 pid=\d+", out.stderr), out.stderr[-3000:]


def _processes_with(marker: str) -> list[int]:
    """Pids whose environment holds ``marker`` (``NAME=value``): a command and what it spawned."""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/environ", "rb") as f:
                    if marker.encode() in f.read().split(b"\0"):
                        found.append(int(d))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not autogroups_enabled(), reason="this kernel does not share the CPU by session (no autogroups)")
def test_a_bulk_command_runs_in_a_lowered_session_and_ends_with_the_process_that_waits_for_it(clean_db, gdac_dir):
    import signal
    import time

    ours = autogroup_nice()    # None in the init session's autogroup, which /proc does not describe
    parent = subprocess.Popen([sys.executable, "-m", "floatchat_core.cli", "ingest", str(gdac_dir / "dac"),
                               "--dataset", "orphan-check"], env=dict(os.environ, FLOATCHAT_INGEST_NICE="7"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker = f"{PARENT_ENV}={parent.pid}"
    try:
        deadline = time.monotonic() + 60
        while not (pids := _processes_with(marker)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pids, "the command did not re-run itself in a session of its own"
        leader = min(pids, key=lambda p: os.getsid(p) != p)
        assert os.getsid(leader) == leader != os.getsid(0)              # a session of its own …
        deadline = time.monotonic() + 30
        while autogroup_nice(leader) != 7 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert autogroup_nice(leader) == 7                               # … lowered as a whole
        assert autogroup_nice() == ours                                  # ours is untouched
        from floatchat_core.ingest import list_jobs, recover_stale_jobs

        deadline = time.monotonic() + 60
        while list_jobs(status="running").empty and time.monotonic() < deadline:
            time.sleep(0.1)
        assert parent.poll() is None                                     # the caller waits for it
        parent.send_signal(signal.SIGKILL)                               # e.g. a timeout killing it
        parent.wait(10)
        deadline = time.monotonic() + 20       # the whole GDAC corpus takes 40 s or more at nice 7
        while (left := _processes_with(marker)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"still running without the process that waited for it: {left}"
        deadline = time.monotonic() + 15             # its backend rolls back once it sees the socket closed
        while not (recovered := recover_stale_jobs()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(recovered) == 1                     # it stopped mid-way, like any killed ingestion:
        jobs = list_jobs(limit=10)                     # its job failed as interrupted, ready to retry
        assert list(jobs["status"]) == ["failed"], jobs[["name", "status", "progress"]]
    finally:
        for pid in _processes_with(marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
