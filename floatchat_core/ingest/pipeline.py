"""Per-file work: read → clean → write, one transaction per file (internal module).

Functions here are module-level and picklable: Dask ships them to workers, which
open their own database connections (never a connection from the driver).
"""
from __future__ import annotations

import logging
import time
import traceback
from dataclasses import asdict, dataclass

from ..errors import ArgoFileError, IngestError

log = logging.getLogger(__name__)

DEADLOCK_RETRIES = 3


@dataclass(frozen=True)
class WorkItem:
    uri: str            # staged copy (local path or fsspec URL)
    name: str           # original file name (tells the Argo file kind)
    sha256: str
    size: int
    dataset_id: int


@dataclass
class FileResult:
    file: str
    ok: bool
    kind: str = ""
    n_profiles: int = 0
    n_levels: int = 0
    seconds: float = 0.0
    error: str | None = None
    traceback: str | None = None
    warnings: list | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _open_source(item: WorkItem):
    """A local path when the store is local (netCDF4 reads it without copying), else bytes."""
    if "://" not in item.uri:
        return item.uri
    from .staging import open_staged

    return open_staged(item.uri)


def process_file(item: WorkItem, job_id: str | None = None) -> FileResult:
    """Ingest one staged file in its own transaction; never raises for bad input."""
    from ..argo import classify, clean, open_profiles, read_meta
    from ..db.engine import raw_connection
    from ..db.writer import bump_cache_generation, record_version, write_batch, write_meta

    t0 = time.perf_counter()
    kind = ""
    try:
        kind = classify(item.name)
        source = _open_source(item)
        if kind == "meta":
            meta = read_meta(source)
            batch = None
        else:
            batch = clean(open_profiles(source, name=item.name))
            kind = batch.file_kind
        for attempt in range(DEADLOCK_RETRIES):
            conn = raw_connection()
            try:
                if batch is None:
                    write_meta(conn, meta, item.name)
                    record_version(conn, item.dataset_id, item.name, item.sha256, 0, 0, job_id)
                    res = None
                else:
                    res = write_batch(conn, batch, item.dataset_id, sha256=item.sha256, job_id=job_id)
                bump_cache_generation(conn)
                conn.commit()
                break
            except Exception as exc:
                conn.rollback()
                if _is_deadlock(exc) and attempt + 1 < DEADLOCK_RETRIES:
                    log.warning("ingest.deadlock_retry job=%s file=%s", job_id, item.name)
                    time.sleep(0.1 * (attempt + 1))
                    continue
                raise
            finally:
                conn.close()
        dt = time.perf_counter() - t0
        log.info("ingest.file_written job=%s file=%s kind=%s profiles=%s seconds=%.3f", job_id, item.name, kind,
                 res.n_profiles if res else 0, dt)
        return FileResult(item.name, True, kind, res.n_profiles if res else 0, res.n_levels if res else 0, dt,
                          warnings=(batch.warnings[:20] if batch is not None and batch.warnings else None))
    except (ArgoFileError, IngestError) as exc:
        log.warning("ingest.file_failed job=%s file=%s error=%s", job_id, item.name, exc)
        return FileResult(item.name, False, kind, seconds=time.perf_counter() - t0, error=str(exc))
    except Exception as exc:
        log.exception("ingest.file_failed job=%s file=%s", job_id, item.name)
        return FileResult(item.name, False, kind, seconds=time.perf_counter() - t0,
                          error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())


def process_files(items: list[WorkItem], job_id: str | None = None) -> list[dict]:
    """A Dask task: several small files, each still its own transaction."""
    return [process_file(i, job_id).to_dict() for i in items]


def _is_deadlock(exc: Exception) -> bool:
    code = getattr(exc, "pgcode", None)
    return code in ("40P01", "40001")
