"""Jobs: ``submit`` (returns at once), ``run_job`` (stage → Dask → bookkeeping), ``retry``,
``reingest``, and the Dask client.

Dask distributed is the only task engine: a ``LocalCluster`` by default, the scheduler
at ``FLOATCHAT_DASK_SCHEDULER`` when set (its workers need ``DATABASE_URL`` or the same
``FLOATCHAT_HOME``). ``executor="serial"`` runs the same per-file code in-process.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from ..config import Settings, get_settings
from ..db import jobs as jobstore
from ..errors import IngestError
from .inputs import expand
from .pipeline import WorkItem, process_files
from .staging import stage, staged_uri

log = logging.getLogger(__name__)

_CLIENT = None
_CLIENT_LOCK = threading.Lock()
_THREADS: dict[str, threading.Thread] = {}
TASK_BYTES = 16 * 1024 * 1024   # files are grouped into Dask tasks of about this many bytes …
TASK_FILES = 64                 # … or this many files


# ----------------------------------------------------------------------------- dask
def get_client(workers: int | None = None, settings: Settings | None = None):
    """The process-wide Dask client: the configured scheduler, else a LocalCluster."""
    global _CLIENT
    settings = settings or get_settings()
    with _CLIENT_LOCK:
        if _CLIENT is not None and _CLIENT.status == "running" and _client_fits(_CLIENT, workers, settings):
            return _CLIENT
        if _CLIENT is not None:
            close_client()
        from distributed import Client, LocalCluster

        # distributed sets its own loggers to INFO on import; follow FLOATCHAT_LOG_LEVEL instead
        quiet = max(logging.WARNING, logging.getLogger().getEffectiveLevel())
        for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.core",
                     "distributed.worker", "distributed.http.proxy"):
            logging.getLogger(name).setLevel(quiet)
        if settings.dask_scheduler:
            _CLIENT = Client(settings.dask_scheduler, timeout="20s")
        else:
            n = workers or settings.dask_workers
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                   silence_logs=logging.WARNING, memory_limit="4GiB")
            _CLIENT = Client(cluster)
            if settings.ingest_nice > 0:      # our own workers only, never an external cluster's
                from .niceworkers import NiceWorkers

                _CLIENT.register_plugin(NiceWorkers(settings.ingest_nice))
        return _CLIENT


def _client_fits(client, workers: int | None, settings: Settings) -> bool:
    """Whether the cached client is what the settings ask for now: the configured scheduler
    (by address), or our own LocalCluster with the requested number of workers."""
    own = getattr(client, "cluster", None) is not None
    if settings.dask_scheduler:
        return not own and _same_address(client.scheduler.address, settings.dask_scheduler)
    if not own:                     # connected to an external scheduler that is no longer configured
        return False
    return workers is None or len(client.scheduler_info()["workers"]) == workers


def _same_address(a: str, b: str) -> bool:
    def strip(x: str) -> str:
        return x.split("://", 1)[-1].replace("localhost", "127.0.0.1").rstrip("/")

    return strip(a) == strip(b)


def close_client() -> None:
    global _CLIENT
    if _CLIENT is not None:
        cluster = getattr(_CLIENT, "cluster", None)
        _CLIENT.close()
        if cluster is not None:
            cluster.close()
        _CLIENT = None


def _chunks(items: list[WorkItem]) -> list[list[WorkItem]]:
    out, cur, size = [], [], 0
    for it in items:
        if cur and (size + it.size > TASK_BYTES or len(cur) >= TASK_FILES):
            out.append(cur)
            cur, size = [], 0
        cur.append(it)
        size += it.size
    if cur:
        out.append(cur)
    return out


# ----------------------------------------------------------------------------- jobs
def _default_name(sources) -> str:
    first = sources[0]
    if isinstance(first, tuple):
        return Path(first[0]).stem
    p = Path(first)
    return p.name if p.is_dir() else p.stem


def _normalise_sources(source) -> list:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return [("upload.nc", bytes(source))]
    if isinstance(source, (str, Path)) or (isinstance(source, tuple) and len(source) == 2
                                           and isinstance(source[1], (bytes, bytearray))):
        return [source]
    return list(source)


def submit(source, name: str | None = None, *, dataset: str | None = None, workers: int | None = None,
           executor: str = "dask", settings: Settings | None = None) -> str:
    """Queue an ingestion and return its job id at once; the work runs in the background.

    Parameters
    ----------
    source
        A path (file, folder, ZIP), bytes, ``(filename, bytes)``, or a list of those.
    name
        Job name (default: the input's name). ``dataset`` defaults to it.
    """
    settings = settings or get_settings()
    sources = _normalise_sources(source)
    name = name or _default_name(sources)
    label = ", ".join(s[0] if isinstance(s, tuple) else str(s) for s in sources)[:500]
    job_id = jobstore.create_job(name, source=label, dataset_name=dataset or name,
                                 options={"executor": executor, "workers": workers}, settings=settings)
    t = threading.Thread(target=_run_guarded, args=(job_id, sources, dataset or name),
                         kwargs={"workers": workers, "executor": executor, "settings": settings},
                         name=f"ingest-{job_id[:8]}", daemon=True)
    _THREADS[job_id] = t
    t.start()
    return job_id


def wait(job_id: str, timeout: float | None = None) -> dict:
    """Block until a job submitted from this process ends; return its row."""
    t = _THREADS.get(job_id)
    if t is not None:
        t.join(timeout)
    return jobstore.get_job(job_id)


def _run_guarded(job_id, sources, dataset_name, **kw):
    try:
        run_job(job_id, sources, dataset_name, **kw)
    except Exception:
        log.exception("ingest.job_crashed job=%s", job_id)


def stage_all(sources, job_id: str, dataset_name: str, settings: Settings) -> tuple[list[WorkItem], list[dict]]:
    """Expand inputs and stage every file (content-addressed) before anything parses it."""
    expanded = expand(sources, settings)
    dataset_id = jobstore.get_or_create_dataset(dataset_name, settings=settings)
    items, rejected = [], list(expanded.rejected)
    for fname, src in expanded.files:
        try:
            s = stage(src, fname, settings)
        except IngestError as exc:
            rejected.append({"file": fname, "error": str(exc)})
            continue
        items.append(WorkItem(s.uri, s.name, s.sha256, s.size, dataset_id))
    return items, rejected


def run_job(job_id: str, sources, dataset_name: str, *, workers: int | None = None, executor: str = "dask",
            items: list[WorkItem] | None = None, progress: Callable[[dict], None] | None = None,
            settings: Settings | None = None) -> dict:
    """Run a job to its end and return its final row. Failures are stored, not raised."""
    from ..db.datasets import update_all_dataset_metadata
    from ..db.maintenance import refresh_views

    settings = settings or get_settings()
    jobstore.mark_running(job_id, settings)
    t0 = time.perf_counter()
    errors: list[dict] = []
    counts = {"files_ok": 0, "files_failed": 0, "n_profiles": 0, "n_levels": 0}
    try:
        if items is None:
            items, rejected = stage_all(sources, job_id, dataset_name, settings)
            log.info("ingest.staged job=%s files=%d rejected=%d bytes=%d", job_id, len(items), len(rejected),
                     sum(i.size for i in items))
        else:
            rejected = []
        errors += rejected
        counts["files_failed"] += len(rejected)
        n_files = len(items) + len(rejected)
        manifest = [[i.uri, i.name, i.sha256, i.size, i.dataset_id] for i in items]
        jobstore.update_job(job_id, settings, n_files=n_files, progress=5.0 if n_files else 100.0,
                            options={"manifest": manifest, "executor": executor, "workers": workers},
                            sha256=items[0].sha256 if len(items) == 1 else None,
                            staged_uri=items[0].uri if len(items) == 1 else None,
                            size_bytes=sum(i.size for i in items))
        if not items and not rejected:
            raise IngestError("no NetCDF files found in the input")

        last_update = 0.0

        def on_results(results: list[dict]) -> None:
            nonlocal last_update
            for r in results:
                if r["ok"]:
                    counts["files_ok"] += 1
                    counts["n_profiles"] += r["n_profiles"]
                    counts["n_levels"] += r["n_levels"]
                else:
                    counts["files_failed"] += 1
                    errors.append({k: r[k] for k in ("file", "error", "traceback") if r.get(k)})
            done = counts["files_ok"] + counts["files_failed"]
            pct = 5.0 + 90.0 * done / max(n_files, 1)
            now = time.monotonic()
            if now - last_update > 0.5 or done == n_files:
                jobstore.update_job(job_id, settings, progress=min(pct, 95.0), errors=errors[:1000], **counts)
                last_update = now
            if progress:
                progress(dict(counts, n_files=n_files, progress=pct, results=results))

        chunks = _chunks(items)
        if executor == "serial" or not chunks:
            for chunk in chunks:
                on_results(process_files(chunk, job_id))
        else:
            from distributed import as_completed

            client = get_client(workers, settings)
            futures = client.map(process_files, chunks, job_id=job_id, pure=False)
            for fut in as_completed(futures):
                on_results(fut.result())
                fut.release()
        datasets_touched = sorted({i.dataset_id for i in items})
        changed = update_all_dataset_metadata(settings)
        if changed and settings.llm_configured:
            from .summaries import summarize_datasets

            summarize_datasets(changed, settings)       # logs and keeps the template on any failure
        refresh_views(settings=settings)
        log.info("ingest.refreshed job=%s datasets_changed=%s", job_id, changed)
        # search documents of what changed (a Dask task on Dask); never fails the job
        from ..search.indexer import index_after_ingest

        indexed = index_after_ingest(sorted(set(datasets_touched) | set(changed or [])), executor=executor,
                                     client=client if executor != "serial" and chunks else None, settings=settings)
        log.info("ingest.indexed job=%s %s", job_id, indexed)
        elapsed = time.perf_counter() - t0
        status = "failed" if counts["files_ok"] == 0 and counts["files_failed"] > 0 else "succeeded"
        jobstore.update_job(job_id, settings, status=status, progress=100.0, finished_at="now",
                            errors=errors[:1000], dataset_id=datasets_touched[0] if datasets_touched else None,
                            **counts)
        log.info("ingest.job_done job=%s status=%s files_ok=%d files_failed=%d profiles=%d seconds=%.2f",
                 job_id, status, counts["files_ok"], counts["files_failed"], counts["n_profiles"], elapsed)
    except Exception as exc:
        log.exception("ingest.job_failed job=%s", job_id)
        errors.append({"error": str(exc)})
        jobstore.update_job(job_id, settings, status="failed", finished_at="now", errors=errors[:1000],
                            traceback=traceback.format_exc(), **counts)
    return jobstore.get_job(job_id, settings)


def ingest(sources, name: str | None = None, *, dataset: str | None = None, workers: int | None = None,
           executor: str = "dask", progress: Callable[[dict], None] | None = None,
           settings: Settings | None = None) -> dict:
    """Ingest synchronously (CLI, notebooks): create a job, run it here, return its final row."""
    settings = settings or get_settings()
    jobstore.recover_stale_jobs(settings=settings)
    sources = _normalise_sources(sources)
    name = name or _default_name(sources)
    label = ", ".join(s[0] if isinstance(s, tuple) else str(s) for s in sources)[:500]
    job_id = jobstore.create_job(name, source=label, dataset_name=dataset or name,
                                 options={"executor": executor, "workers": workers}, settings=settings)
    return run_job(job_id, sources, dataset or name, workers=workers, executor=executor, progress=progress,
                   settings=settings)


def retry(job_id: str, *, workers: int | None = None, executor: str = "dask",
          progress: Callable[[dict], None] | None = None, settings: Settings | None = None) -> dict:
    """Run a failed (or any) job again from its staged files, as a new job."""
    settings = settings or get_settings()
    old = jobstore.get_job(job_id, settings)
    manifest = (old.get("options") or {}).get("manifest")
    if not manifest:
        raise IngestError(f"job {job_id} has no staged files to retry (staging never finished); submit the input again")
    items = [WorkItem(*m) for m in manifest]
    new_id = jobstore.create_job(f"retry of {old['name']}", source=old["source"], dataset_name=old["dataset_name"],
                                 options={"executor": executor}, retry_of=str(job_id), settings=settings)
    return run_job(new_id, [], old["dataset_name"] or old["name"], workers=workers, executor=executor,
                   items=items, progress=progress, settings=settings)


def reingest(*, workers: int | None = None, executor: str = "dask",
             progress: Callable[[dict], None] | None = None, settings: Settings | None = None) -> dict:
    """Re-run every staged file of every dataset on the cluster (after a reader or schema fix)."""
    settings = settings or get_settings()
    versions = jobstore.dataset_versions(settings)
    if versions.empty:
        raise IngestError("nothing has been ingested yet: no staged files to re-ingest")
    items = []
    ids = {n: jobstore.get_or_create_dataset(n, settings=settings) for n in versions["dataset_name"].unique()}
    for ds, fname, sha in versions.itertuples(index=False):
        uri = staged_uri(sha, fname, settings)
        items.append(WorkItem(uri, fname, sha, 0, ids[ds]))
    job_id = jobstore.create_job("reingest", source="object store", dataset_name=None,
                                 options={"executor": executor}, settings=settings)
    return run_job(job_id, [], "", workers=workers, executor=executor, items=items, progress=progress,
                   settings=settings)


def iter_job_files(job: dict) -> Iterable[str]:
    return [m[1] for m in (job.get("options") or {}).get("manifest", [])]
