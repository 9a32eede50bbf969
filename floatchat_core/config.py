"""One ``Settings`` object for the whole project, read when used (never at import).

Environment variables: ``FLOATCHAT_*`` plus ``DATABASE_URL``, ``OPENAI_API_KEY``,
``OPENAI_BASE_URL``. Tests and notebooks override values with :func:`override`::

    >>> from floatchat_core.config import get_settings, override
    >>> with override(home="/tmp/fc"):
    ...     get_settings().home
    PosixPath('/tmp/fc')
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

_OVERRIDES: list[dict] = []


def _default_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "floatchat"


class Settings(BaseModel):
    """All configuration. Each field maps to an environment variable (see ``ENV``)."""

    home: Path = Field(default_factory=_default_home,
                       description="FLOATCHAT_HOME: database cluster, staged files, caches.")
    database_url: str | None = Field(None, description="DATABASE_URL: use this server instead of the managed one.")
    readonly_database_url: str | None = Field(
        None, description="FLOATCHAT_READONLY_DATABASE_URL: read-only role's URL (derived when unset).")
    dask_scheduler: str | None = Field(None, description="FLOATCHAT_DASK_SCHEDULER: address of an existing scheduler.")
    dask_workers: int = Field(2, ge=1, le=256, description="FLOATCHAT_DASK_WORKERS: LocalCluster workers.")
    ingest_nice: int = Field(19, ge=0, le=19, description=(
        "FLOATCHAT_INGEST_NICE: OS nice value of `floatchat ingest`/`reingest`/`jobs retry` from their start "
        "(on Linux with autogroups, of the session of their own they run in), of the LocalCluster's ingestion "
        "workers and, when the database runs on this machine, of their PostgreSQL backends (0 = normal priority, "
        "same session), so a bulk ingestion yields the CPU to interactive serving."))
    object_store: str | None = Field(
        None, description="FLOATCHAT_OBJECT_STORE: fsspec URL for staged raw files (default: <home>/objects).")
    max_file_bytes: int = Field(2 * 1024**3, gt=0, description="FLOATCHAT_MAX_FILE_BYTES: per-file size limit.")
    max_zip_members: int = Field(100_000, gt=0, description="FLOATCHAT_MAX_ZIP_MEMBERS: most members a ZIP upload may hold.")
    max_zip_uncompressed_bytes: int = Field(20 * 1024**3, gt=0,
                                            description="FLOATCHAT_MAX_ZIP_UNCOMPRESSED_BYTES: most bytes a ZIP may inflate to (zip-bomb guard).")
    statement_timeout_ms: int = Field(15_000, gt=0, description="FLOATCHAT_STATEMENT_TIMEOUT_MS: statement timeout (ms) of the read-only engine.")
    row_cap: int = Field(200_000, gt=0, description="FLOATCHAT_ROW_CAP: most rows a question may return.")
    source: Literal["local", "live-first", "live"] = Field("local", description="FLOATCHAT_SOURCE: where answers come from: local, live-first (ERDDAP, local fallback) or live.")
    erddap_url: str = Field("https://erddap.ifremer.fr/erddap", description="FLOATCHAT_ERDDAP_URL: ERDDAP server of the Argo datasets (ArgoFloats, ArgoFloats-synthetic-BGC).")
    erddap_timeout_s: float = Field(3.0, gt=0, description="FLOATCHAT_ERDDAP_TIMEOUT: seconds per live request "
                                    "(retries included) before falling back to the local database.")
    erddap_retries: int = Field(1, ge=0, le=10, description="FLOATCHAT_ERDDAP_RETRIES: extra attempts (backoff).")
    erddap_cooldown_s: float = Field(60.0, ge=0, description="FLOATCHAT_ERDDAP_COOLDOWN: seconds a failing "
                                     "server is skipped (no timeout per question during an outage).")
    erddap_max_rows: int = Field(500_000, gt=0, description="FLOATCHAT_ERDDAP_MAX_ROWS: larger box requests "
                                 "are chunked (sized with .ncHeader).")
    erddap_write_through: bool = Field(False, description="FLOATCHAT_ERDDAP_WRITE_THROUGH: store live results "
                                       "in the local database (dataset 'erddap-live').")
    redis_url: str | None = Field(None, description="FLOATCHAT_REDIS_URL: shared query cache.")
    cache_ttl_s: float = Field(300.0, ge=0,
                               description="FLOATCHAT_CACHE_TTL_S: query cache time-to-live (s); 0 = off.")
    cache_row_cap: int = Field(50_000, ge=0,
                               description="FLOATCHAT_CACHE_ROW_CAP: results with more rows skip the cache.")
    cache_max_entries: int = Field(512, ge=1,
                                   description="FLOATCHAT_CACHE_MAX_ENTRIES: in-process cache size (LRU).")
    region_match_threshold: float = Field(
        0.4, ge=0, le=1,
        description="FLOATCHAT_REGION_MATCH_THRESHOLD: least pg_trgm similarity of a fuzzy region match.")
    openai_api_key: SecretStr | None = Field(None, description="OPENAI_API_KEY: enables the LLM question parser, LLM summaries and the openai embedding provider.")
    openai_base_url: str | None = Field(None, description="OPENAI_BASE_URL: an OpenAI-compatible server (Ollama, vLLM, llama.cpp …); enables the LLM features.")
    llm_model: str = Field("gpt-4o-mini", description="FLOATCHAT_LLM_MODEL: chat model of the OpenAI-compatible "
                                                       "server (question parsing, dataset summaries).")
    llm_timeout_s: float = Field(10.0, gt=0, description="FLOATCHAT_LLM_TIMEOUT_S: timeout of one LLM call (s).")
    embedding_provider: Literal["local", "openai"] = Field("local", description="FLOATCHAT_EMBEDDING_PROVIDER: local (bundled all-MiniLM-L6-v2, CPU) or openai.")
    openai_embedding_model: str = Field("text-embedding-3-small",
                                        description="FLOATCHAT_OPENAI_EMBEDDING_MODEL: embedding model of the openai provider.")
    embedding_batch_size: int = Field(64, ge=1, le=2048, description="FLOATCHAT_EMBEDDING_BATCH_SIZE: texts per batch.")
    embedding_max_retries: int = Field(4, ge=0, le=20,
                                       description="FLOATCHAT_EMBEDDING_MAX_RETRIES: retries of a rate-limited (429) batch.")
    search_min_similarity: float | None = Field(
        None, ge=-1.0, le=1.0,
        description="FLOATCHAT_SEARCH_MIN_SIMILARITY: cosine below which a hit is dropped (default: the model's).")
    search_limit: int = Field(10, ge=1, description="FLOATCHAT_SEARCH_LIMIT: default number of search hits.")
    search_max_limit: int = Field(100, ge=1, description="FLOATCHAT_SEARCH_MAX_LIMIT: most search hits.")
    search_index_on_ingest: bool = Field(
        True, description="FLOATCHAT_SEARCH_INDEX_ON_INGEST: (re)index search documents after each ingestion job.")
    log_level: str = Field("WARNING", description="FLOATCHAT_LOG_LEVEL: logging level of the floatchat loggers.")
    pg_bin: Path | None = Field(None, description="FLOATCHAT_PG_BIN: folder with initdb/pg_ctl (auto-detected).")
    db_name: str = Field("floatchat", description="FLOATCHAT_DB_NAME: database name in the managed cluster.")
    db_port: int | None = Field(None, description="FLOATCHAT_DB_PORT: fixed port for the managed cluster.")
    auth_file: Path | None = Field(
        None, description="FLOATCHAT_AUTH_FILE: JSON credentials for `floatchat serve` basic auth "
                          '({"users": {name: password}, "roles": {name: "admin"|"viewer"}}).')
    cookie_secret: SecretStr | None = Field(None, description="FLOATCHAT_COOKIE_SECRET: signs login cookies.")
    default_role: Literal["viewer", "admin"] = Field(
        "viewer", description="FLOATCHAT_DEFAULT_ROLE: role of users without a mapping (or without login).")
    admin_users: str = Field("", description="FLOATCHAT_ADMIN_USERS: comma-separated admin user names (OAuth).")
    oauth_provider: str | None = Field(
        None, description="FLOATCHAT_OAUTH_PROVIDER: Panel OAuth provider (generic, github, azure…); "
                          "key/secret from PANEL_OAUTH_KEY / PANEL_OAUTH_SECRET.")
    serve_processes: int = Field(
        0, ge=0, le=64, description="FLOATCHAT_SERVE_PROCESSES: independent `panel serve` processes behind one "
                                    "port, each session kept on its process by `floatchat_core.router` "
                                    "(0: one per core, at most 8; 1: a single process, no router).")
    allowed_origins: str = Field(
        "", description="FLOATCHAT_ALLOWED_ORIGINS: comma-separated host[:port] names browsers may reach "
                        "`floatchat serve` by besides the address it listens on (a server name, a proxy; "
                        "`*` allows any), passed to `panel serve --allow-websocket-origin`.")
    serve_gc_interval_s: float = Field(
        300.0, ge=0, description="FLOATCHAT_SERVE_GC_INTERVAL: seconds between the full garbage collections of a "
                                 "`panel serve` process, run from its event loop (and when sessions end) at a "
                                 "phase of its own per process; the interpreter's own full collections, which "
                                 "paused every session of the process for 0.2-2 s every few seconds, are off. "
                                 "0: Python's own policy.")
    serve_threads: int = Field(4, ge=0, le=64, description="FLOATCHAT_SERVE_THREADS: `panel serve --num-threads`.")
    upload_executor: Literal["dask", "serial"] = Field(
        "dask", description="FLOATCHAT_UPLOAD_EXECUTOR: where admin uploads are ingested (Dask, or a server thread).")
    bokeh_speedups: bool = Field(
        True, description="FLOATCHAT_BOKEH_SPEEDUPS: the workbench's faster Bokeh document walks, property defaults, "
                          "PATCH-DOC references and coalesced garbage collection when sessions end, and "
                          "Bokeh's callback-signature checks off in server processes unless "
                          "BOKEH_PERFORM_ERROR_DIAGNOSTICS is set (`workbench/docspeed.py`); 0 = Bokeh's own.")

    @field_validator("home", "pg_bin", "auth_file", mode="before")
    @classmethod
    def _expand(cls, v):
        return Path(v).expanduser() if v not in (None, "") else v

    @property
    def cluster_dir(self) -> Path:
        return self.home / "pg"

    @property
    def objects_url(self) -> str:
        return self.object_store or str(self.home / "objects")

    @property
    def llm_configured(self) -> bool:
        """True when an OpenAI-compatible server is configured (API key or base URL)."""
        return bool(self.openai_api_key) or bool(self.openai_base_url)

    @property
    def managed(self) -> bool:
        """True when the project runs its own local PostgreSQL (no DATABASE_URL)."""
        return not self.database_url


#: Settings field → environment variable.
ENV: dict[str, str] = {
    "home": "FLOATCHAT_HOME",
    "database_url": "DATABASE_URL",
    "readonly_database_url": "FLOATCHAT_READONLY_DATABASE_URL",
    "dask_scheduler": "FLOATCHAT_DASK_SCHEDULER",
    "dask_workers": "FLOATCHAT_DASK_WORKERS",
    "ingest_nice": "FLOATCHAT_INGEST_NICE",
    "object_store": "FLOATCHAT_OBJECT_STORE",
    "max_file_bytes": "FLOATCHAT_MAX_FILE_BYTES",
    "max_zip_members": "FLOATCHAT_MAX_ZIP_MEMBERS",
    "max_zip_uncompressed_bytes": "FLOATCHAT_MAX_ZIP_UNCOMPRESSED_BYTES",
    "statement_timeout_ms": "FLOATCHAT_STATEMENT_TIMEOUT_MS",
    "row_cap": "FLOATCHAT_ROW_CAP",
    "source": "FLOATCHAT_SOURCE",
    "erddap_url": "FLOATCHAT_ERDDAP_URL",
    "erddap_timeout_s": "FLOATCHAT_ERDDAP_TIMEOUT",
    "erddap_retries": "FLOATCHAT_ERDDAP_RETRIES",
    "erddap_cooldown_s": "FLOATCHAT_ERDDAP_COOLDOWN",
    "erddap_max_rows": "FLOATCHAT_ERDDAP_MAX_ROWS",
    "erddap_write_through": "FLOATCHAT_ERDDAP_WRITE_THROUGH",
    "redis_url": "FLOATCHAT_REDIS_URL",
    "cache_ttl_s": "FLOATCHAT_CACHE_TTL_S",
    "cache_row_cap": "FLOATCHAT_CACHE_ROW_CAP",
    "cache_max_entries": "FLOATCHAT_CACHE_MAX_ENTRIES",
    "region_match_threshold": "FLOATCHAT_REGION_MATCH_THRESHOLD",
    "openai_api_key": "OPENAI_API_KEY",
    "openai_base_url": "OPENAI_BASE_URL",
    "llm_model": "FLOATCHAT_LLM_MODEL",
    "llm_timeout_s": "FLOATCHAT_LLM_TIMEOUT_S",
    "embedding_provider": "FLOATCHAT_EMBEDDING_PROVIDER",
    "openai_embedding_model": "FLOATCHAT_OPENAI_EMBEDDING_MODEL",
    "embedding_batch_size": "FLOATCHAT_EMBEDDING_BATCH_SIZE",
    "embedding_max_retries": "FLOATCHAT_EMBEDDING_MAX_RETRIES",
    "search_min_similarity": "FLOATCHAT_SEARCH_MIN_SIMILARITY",
    "search_limit": "FLOATCHAT_SEARCH_LIMIT",
    "search_max_limit": "FLOATCHAT_SEARCH_MAX_LIMIT",
    "search_index_on_ingest": "FLOATCHAT_SEARCH_INDEX_ON_INGEST",
    "log_level": "FLOATCHAT_LOG_LEVEL",
    "pg_bin": "FLOATCHAT_PG_BIN",
    "db_name": "FLOATCHAT_DB_NAME",
    "db_port": "FLOATCHAT_DB_PORT",
    "auth_file": "FLOATCHAT_AUTH_FILE",
    "cookie_secret": "FLOATCHAT_COOKIE_SECRET",
    "default_role": "FLOATCHAT_DEFAULT_ROLE",
    "admin_users": "FLOATCHAT_ADMIN_USERS",
    "oauth_provider": "FLOATCHAT_OAUTH_PROVIDER",
    "serve_processes": "FLOATCHAT_SERVE_PROCESSES",
    "serve_gc_interval_s": "FLOATCHAT_SERVE_GC_INTERVAL",
    "serve_threads": "FLOATCHAT_SERVE_THREADS",
    "allowed_origins": "FLOATCHAT_ALLOWED_ORIGINS",
    "upload_executor": "FLOATCHAT_UPLOAD_EXECUTOR",
    "bokeh_speedups": "FLOATCHAT_BOKEH_SPEEDUPS",
}


def get_settings() -> Settings:
    """Build the settings from the environment, then apply active overrides."""
    values = {field: os.environ[var] for field, var in ENV.items() if os.environ.get(var, "") != ""}
    for layer in _OVERRIDES:
        values.update(layer)
    return Settings(**values)


@contextlib.contextmanager
def override(**values) -> Iterator[Settings]:
    """Temporarily override settings (tests, notebooks). Unknown names raise ``TypeError``."""
    unknown = set(values) - set(Settings.model_fields)
    if unknown:
        raise TypeError(f"unknown setting(s) {sorted(unknown)}; allowed: {sorted(Settings.model_fields)}")
    _OVERRIDES.append(values)
    try:
        yield get_settings()
    finally:
        # remove this very layer (identity, not equality: equal layers may be stacked)
        for i in range(len(_OVERRIDES) - 1, -1, -1):
            if _OVERRIDES[i] is values:
                del _OVERRIDES[i]
                break
