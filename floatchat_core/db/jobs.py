"""Ingestion job rows: create, progress, finish, list, recover (all job SQL lives here)."""
from __future__ import annotations

import json
import os
import socket
import uuid
from typing import Any

from ..config import Settings
from ..errors import NotFoundError
from .engine import get_engine

STATUSES = ("pending", "running", "succeeded", "failed")
_COLUMNS = ("id, name, status, progress, dataset_id, dataset_name, source, staged_uri, sha256, size_bytes, "
            "n_files, files_ok, files_failed, n_profiles, n_levels, errors, traceback, options, retry_of, "
            "host, pid, created_at, started_at, finished_at, updated_at")


def _text(sql: str):
    from sqlalchemy import text

    return text(sql)


def create_job(name: str, *, source: str | None, dataset_name: str | None, options: dict | None = None,
               retry_of: str | None = None, settings: Settings | None = None) -> str:
    job_id = str(uuid.uuid4())
    with get_engine(settings=settings).begin() as c:
        c.execute(_text("INSERT INTO ingestion_jobs (id, name, source, dataset_name, options, retry_of) "
                        "VALUES (:id, :name, :source, :ds, CAST(:opt AS jsonb), :retry)"),
                  {"id": job_id, "name": name, "source": source, "ds": dataset_name,
                   "opt": json.dumps(options or {}), "retry": retry_of})
    return job_id


def update_job(job_id: str, settings: Settings | None = None, **fields: Any) -> None:
    """Set columns of a job (``errors``/``options`` as Python objects); bumps ``updated_at``."""
    if not fields:
        return
    sets, params = [], {"id": job_id}
    for k, v in fields.items():
        if k in ("errors", "options"):
            sets.append(f"{k} = CAST(:{k} AS jsonb)")
            v = json.dumps(v, default=str)
        elif k in ("started_at", "finished_at") and v == "now":
            sets.append(f"{k} = now()")
            continue
        else:
            sets.append(f"{k} = :{k}")
        params[k] = v
    with get_engine(settings=settings).begin() as c:
        c.execute(_text(f"UPDATE ingestion_jobs SET {', '.join(sets)}, updated_at = now() WHERE id = :id"), params)


def mark_running(job_id: str, settings: Settings | None = None) -> None:
    update_job(job_id, settings, status="running", started_at="now", host=socket.gethostname(), pid=os.getpid())


def get_job(job_id: str, settings: Settings | None = None) -> dict[str, Any]:
    with get_engine(settings=settings).connect() as c:
        row = c.execute(_text(f"SELECT {_COLUMNS} FROM ingestion_jobs WHERE id = CAST(:id AS uuid)"),
                        {"id": str(job_id)}).mappings().first()
    if row is None:
        raise NotFoundError(f"no ingestion job {job_id}")
    return dict(row)


def list_jobs(status: str | None = None, limit: int = 50, settings: Settings | None = None):
    """Recent jobs, newest first, as a pandas DataFrame."""
    import pandas as pd

    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    sql = f"SELECT {_COLUMNS} FROM ingestion_jobs"
    if status:
        sql += " WHERE status = :status"
    sql += " ORDER BY created_at DESC LIMIT :limit"
    with get_engine(settings=settings).connect() as c:
        return pd.DataFrame(c.execute(_text(sql), {"status": status, "limit": limit}).mappings().all(),
                            columns=[s.strip() for s in _COLUMNS.split(",")])


def recover_stale_jobs(stale_minutes: float = 10.0, settings: Settings | None = None) -> list[str]:
    """Mark jobs left ``running`` by a dead process as failed (and so retryable).

    A job is stale when it runs on this host under a process that no longer exists,
    or when nobody has updated it for ``stale_minutes`` (another host died).
    """
    host = socket.gethostname()
    failed = []
    with get_engine(settings=settings).begin() as c:
        rows = c.execute(_text("SELECT id, host, pid, updated_at < now() - make_interval(secs => CAST(:s AS float8)) "
                               "AS old FROM ingestion_jobs WHERE status = 'running' FOR UPDATE SKIP LOCKED"),
                         {"s": float(stale_minutes) * 60.0}).all()
        for job_id, jhost, pid, old in rows:
            dead = jhost == host and pid is not None and not _pid_alive(pid)
            if dead or old:
                reason = (f"interrupted: process {pid} on {jhost} is gone" if dead
                          else f"interrupted: no progress for {stale_minutes:g} minutes")
                c.execute(_text("UPDATE ingestion_jobs SET status = 'failed', finished_at = now(), "
                                "updated_at = now(), traceback = :r, "
                                "errors = errors || jsonb_build_array(jsonb_build_object('error', CAST(:r AS text)))"
                                " WHERE id = :id"), {"id": job_id, "r": reason})
                failed.append(str(job_id))
    return failed


def _pid_alive(pid: int) -> bool:
    """True while process ``pid`` of this host runs; a zombie (dead, not yet reaped by its parent
    or by init) is not running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True             # not Linux: kill(0) is all there is


def get_or_create_dataset(name: str, source: str = "file", description: str | None = None,
                          settings: Settings | None = None) -> int:
    with get_engine(settings=settings).begin() as c:
        ds = c.execute(_text("INSERT INTO datasets (name, source, description) VALUES (:n, :s, :d) "
                             "ON CONFLICT (name) DO NOTHING RETURNING id"),
                       {"n": name, "s": source, "d": description}).scalar()
        if ds is None:
            ds = c.execute(_text("SELECT id FROM datasets WHERE name = :n"), {"n": name}).scalar()
    return int(ds)


def dataset_versions(settings: Settings | None = None):
    """Every (dataset, source file, sha256) ever ingested: what ``reingest`` replays."""
    import pandas as pd

    with get_engine(settings=settings).connect() as c:
        return pd.DataFrame(c.execute(_text(
            "SELECT d.name AS dataset_name, v.source_file, v.sha256 FROM dataset_versions v "
            "JOIN datasets d ON d.id = v.dataset_id ORDER BY d.name, v.source_file")).mappings().all(),
            columns=["dataset_name", "source_file", "sha256"])
