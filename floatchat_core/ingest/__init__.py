"""Ingestion: jobs, staging, per-file pipeline, Dask-parallel execution.

>>> import floatchat_core.ingest as ingest
>>> job_id = ingest.submit("path/to/2902269_prof.nc")      # returns at once   # doctest: +SKIP
>>> ingest.wait(job_id)["status"]                            # doctest: +SKIP
'succeeded'
"""
from __future__ import annotations

from ..db.jobs import get_job, list_jobs, recover_stale_jobs
from .runner import close_client, get_client, ingest, reingest, retry, run_job, submit, wait

__all__ = [
           "close_client",
           "get_client",
           "get_job",
           "ingest",
           "list_jobs",
           "recover_stale_jobs",
           "reingest",
           "retry",
           "run_job",
           "submit",
           "wait",
]
