"""Admin components: :class:`UploadPanel` (chunked uploads → ingestion jobs) and
:class:`JobMonitor` (live job table, readable errors, retry, re-index).

Every action checks the session's role on the server (:func:`workbench.auth.require_admin`):
hiding a button is not a permission.

>>> from workbench.admin import JobMonitor, UploadPanel
>>> monitor = JobMonitor()
>>> upload = UploadPanel(monitor=monitor)
>>> upload.servable()   # doctest: +SKIP
"""
from __future__ import annotations

import logging
import threading

import pandas as pd
import panel as pn
import param

from floatchat_core.config import get_settings

from .auth import AuthorizationError, require_admin

log = logging.getLogger(__name__)

ACCEPTED = [".nc", ".zip", ".NC", ".ZIP", "application/x-netcdf", "application/zip", "application/octet-stream"]
JOB_COLUMNS = ["id", "name", "status", "progress", "files_ok", "files_failed", "n_profiles", "created_at",
               "finished_at", "retry_of"]


def _size_label(n: int) -> str:
    """FilePond size string (``"2048MB"``)."""
    return f"{max(1, n // (1024 * 1024))}MB"


def job_errors_markdown(job: dict, limit: int = 20) -> str:
    """A job's errors as readable Markdown (file: message), without tracebacks."""
    errs = job.get("errors") or []
    head = (f"**Job {str(job['id'])[:8]} — {job.get('name')}**: {job.get('status')}, "
            f"{job.get('files_ok') or 0} file(s) ok, {job.get('files_failed') or 0} failed, "
            f"{job.get('n_profiles') or 0:,} profiles")
    if not errs:
        return head + ("" if job.get("status") != "failed" else "\n\nFailed without a file-level error.")
    lines = [f"- `{e.get('file') or 'job'}`: {e.get('error')}" for e in errs[:limit]]
    more = f"\n- … {len(errs) - limit} more" if len(errs) > limit else ""
    return head + "\n\n" + "\n".join(lines) + more


class JobMonitor(pn.viewable.Viewer):
    """Live table of ingestion jobs (polled), the selected job's errors, retry and re-index.

    >>> JobMonitor(period_ms=2000).jobs.columns.tolist()[:3]   # doctest: +SKIP
    ['id', 'name', 'status']
    """

    jobs = param.DataFrame(default=None, doc="Recent jobs (newest first) as returned by ingest.list_jobs.")
    selected = param.String(default=None, allow_None=True, doc="Id of the job whose details are shown.")
    period_ms = param.Integer(default=1000, bounds=(200, 60_000), doc="Polling period of the job table (ms).")
    limit = param.Integer(default=30, bounds=(1, 1000), doc="How many recent jobs to list.")
    message = param.String(default="", doc="Last action's outcome or error, shown to the admin.")

    def __init__(self, **params):
        super().__init__(**params)
        self._table = pn.widgets.Tabulator(pd.DataFrame(columns=["job", *JOB_COLUMNS]), disabled=True, height=300,
                                           hidden_columns=["id"],
                                           show_index=False, selectable=1, label="Jobs", sizing_mode="stretch_width",
                                           formatters={"progress": {"type": "progress", "legend": True}})
        self._table.param.watch(self._on_select, "selection")
        self._detail = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._retry = pn.widgets.Button(label="Retry selected job", color="warning", disabled=True)
        self._retry.on_click(lambda e: self.retry_selected())
        self._reindex = pn.widgets.Button(label="Re-index search", color="default")
        self._reindex.on_click(lambda e: self.reindex())
        self._msg = pn.pane.Alert("", alert_type="info", visible=False)
        self._cb = None
        # One writer at a time. Under `panel serve --num-threads` the periodic refresh runs on a pool
        # thread, an upload's refresh on another, retries on their own: Panel loses updates of a widget
        # written from two threads at once (the browser keeps an older table while the Python value,
        # which `_update_table` compares against, is already the newest: it is never sent again).
        # That left a succeeded upload showing as running for good, about once in 10-20 test runs.
        self._lock = threading.RLock()
        self.refresh()

    # ------------------------------------------------------------------ data
    def refresh(self, wait: bool = True) -> bool:
        """Re-read the job table (called periodically); errors become a message, never a crash.

        ``wait=False`` (the periodic poll) skips this turn when another refresh is running, rather than
        queueing pool threads behind it. True when the table was re-read.
        """
        from floatchat_core.ingest import list_jobs

        if not self._lock.acquire(blocking=wait):
            return False
        try:
            try:
                df = list_jobs(limit=self.limit)
            except Exception as exc:   # database down: say so, keep the session alive
                self.message = f"cannot read jobs: {exc}"
                return False
            self.jobs = df             # `_update_table` runs here, still under the lock
            return True
        finally:
            self._lock.release()

    @param.depends("jobs", watch=True)
    def _update_table(self) -> None:
        df = self.jobs
        if df is None:
            return
        view = df[[c for c in JOB_COLUMNS if c in df]].copy()
        if "id" in view:
            view["id"] = view["id"].astype(str)
            view.insert(0, "job", view["id"].str[:8])
        if "retry_of" in view:
            view["retry_of"] = view["retry_of"].astype(str).str[:8].replace({"None": "", "nan": ""})
        sel = self.selected
        if len(view) != len(self._table.value) or not view.equals(self._table.value):
            self._table.value = view
        if sel is not None and "id" in view and sel in set(view["id"]):
            self._show(sel)

    def _on_select(self, event) -> None:
        if event.new and self._table.value is not None and len(self._table.value):
            self.selected = str(self._table.value.iloc[event.new[0]]["id"])

    @param.depends("selected", watch=True)
    def _update_selected(self) -> None:
        with self._lock:
            self._retry.disabled = self.selected is None
            if self.selected:
                self._show(self.selected)

    def _show(self, job_id: str) -> None:
        from floatchat_core.ingest import get_job

        with self._lock:
            try:
                self._detail.object = job_errors_markdown(get_job(job_id))
            except Exception as exc:
                self._detail.object = f"cannot read job {job_id}: {exc}"

    @param.depends("message", watch=True)
    def _update_message(self) -> None:
        with self._lock:
            self._msg.object = self.message
            self._msg.alert_type = "danger" if self.message.startswith(("cannot", "refused", "failed")) else "info"
            self._msg.visible = bool(self.message)

    # ------------------------------------------------------------------ actions
    def retry_selected(self) -> str | None:
        """Retry the selected job from its staged files in a background thread (admin only)."""
        from floatchat_core.ingest import retry

        try:
            require_admin("retry")
        except AuthorizationError as exc:
            self.message = f"refused: {exc}"
            return None
        job_id = self.selected
        if not job_id:
            return None

        def run():
            try:
                retry(job_id)
            except Exception as exc:   # a failed retry is a message, not a dead session
                log.warning("workbench.retry_failed job=%s error=%s", job_id, exc)
                self.message = f"failed to retry {job_id[:8]}: {exc}"

        threading.Thread(target=run, name=f"retry-{job_id[:8]}", daemon=True).start()
        self.message = f"retrying job {job_id[:8]} (a new job appears in the table)"
        return job_id

    def reindex(self) -> None:
        """Re-embed the search index in a background thread (admin only)."""
        try:
            require_admin("re-index")
        except AuthorizationError as exc:
            self.message = f"refused: {exc}"
            return

        def run():
            try:
                from floatchat_core.search import reindex

                counts = reindex()
                self.message = f"search re-indexed: {counts}"
            except Exception as exc:
                self.message = f"failed to re-index: {exc}"

        threading.Thread(target=run, name="reindex", daemon=True).start()
        self.message = "re-indexing the search documents…"

    def start(self) -> None:
        """Start polling (once per session)."""
        if self._cb is None:
            self._cb = pn.state.add_periodic_callback(lambda: self.refresh(wait=False), period=self.period_ms)

    def __panel__(self):
        self.start()
        return pn.Column(pn.pane.Markdown("### Ingestion jobs"), self._msg, self._table,
                         pn.Row(self._retry, self._reindex), self._detail, sizing_mode="stretch_width")


class UploadPanel(pn.viewable.Viewer):
    """Drop Argo NetCDF files or ZIPs (chunked upload); each becomes an ingestion job at once.

    >>> UploadPanel(dataset="my-cruise")   # doctest: +SKIP
    """

    dataset = param.String(default="uploads", doc="Dataset the uploaded files are ingested into.")
    executor = param.Selector(default="dask", objects=["dask", "serial"],
                              doc="Where the job runs: the Dask cluster, or a thread of this server "
                                  "(default FLOATCHAT_UPLOAD_EXECUTOR).")
    job_ids = param.List(default=[], doc="Ids of the jobs submitted from this panel (newest last).")
    message = param.String(default="", doc="Outcome of the last upload (job id or a readable error).")
    monitor = param.ClassSelector(class_=JobMonitor, default=None, allow_None=True,
                                  doc="Job monitor refreshed after each submission.")

    def __init__(self, **params):
        super().__init__(**params)
        settings = get_settings()
        if "executor" not in params:
            self.executor = settings.upload_executor
        limit = settings.max_file_bytes
        self._limit = limit
        self._dropper = pn.widgets.FileDropper(multiple=True, max_file_size=_size_label(limit),
                                               chunk_size=8 * 1024 * 1024, label="Argo files",
                                               sizing_mode="stretch_width")
        self._dropper.param.watch(self._on_files, "value")
        self._dataset = pn.widgets.TextInput.from_param(self.param.dataset, name="Dataset name")
        self._msg = pn.pane.Alert("", alert_type="info", visible=False, sizing_mode="stretch_width")

    def _on_files(self, event) -> None:
        files = dict(event.new or {})
        if files:
            self.submit_files(files)
            self._dropper.value = {}

    def submit_files(self, files: dict[str, bytes]) -> list[str]:
        """Submit ``{filename: bytes}`` to ingestion (admin only); returns the new job ids."""
        from floatchat_core.ingest import submit

        try:
            user = require_admin("upload")
        except AuthorizationError as exc:
            self.message = f"refused: {exc}"
            return []
        ids, errors = [], []
        for name, data in files.items():
            data = data.encode() if isinstance(data, str) else bytes(data)
            if len(data) > self._limit:
                errors.append(f"{name}: {len(data):,} bytes exceeds the limit of {self._limit:,} "
                              "(FLOATCHAT_MAX_FILE_BYTES)")
                continue
            if not data:
                errors.append(f"{name}: empty file")
                continue
            try:
                ids.append(submit((name, data), name=name, dataset=self.dataset or "uploads",
                                  executor=self.executor))
                log.info("workbench.upload_submitted user=%s file=%s bytes=%d job=%s", user, name, len(data), ids[-1])
            except Exception as exc:
                errors.append(f"{name}: {exc}")
        self.job_ids = self.job_ids + ids
        parts = []
        if ids:
            parts.append(f"submitted {len(ids)} job(s): " + ", ".join(i[:8] for i in ids))
        if errors:
            parts.append("failed: " + "; ".join(errors))
        self.message = " — ".join(parts)
        if self.monitor is not None:
            self.monitor.refresh()
            if ids:
                self.monitor.selected = ids[-1]
        return ids

    @param.depends("message", watch=True)
    def _update_message(self) -> None:
        self._msg.object = self.message
        self._msg.alert_type = "danger" if ("failed" in self.message or self.message.startswith("refused")) \
            else "success"
        self._msg.visible = bool(self.message)

    def __panel__(self):
        mb = self._limit / 1024**2
        return pn.Column(
            pn.pane.Markdown(f"### Upload Argo files\nNetCDF (`*_prof.nc`, `*_Sprof.nc`, `R*/D*.nc`, meta) or ZIP "
                             f"archives, up to {mb:,.0f} MB each. Each file becomes an ingestion job."),
            self._dataset, self._dropper, self._msg, sizing_mode="stretch_width")
