"""Bulk ingestion yields the CPU: the LocalCluster's workers run at FLOATCHAT_INGEST_NICE."""
from __future__ import annotations

import os
import subprocess
import sys

from floatchat_core.config import get_settings, override
from floatchat_core.ingest import runner
from floatchat_core.ingest.priority import lower_priority


def _nice_of_every_thread() -> list[int]:
    return [os.getpriority(os.PRIO_PROCESS, int(t)) for t in os.listdir("/proc/self/task")]


def test_default_is_a_lower_priority():
    assert get_settings().ingest_nice == 10


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
