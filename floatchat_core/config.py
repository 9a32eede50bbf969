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
    object_store: str | None = Field(
        None, description="FLOATCHAT_OBJECT_STORE: fsspec URL for staged raw files (default: <home>/objects).")
    max_file_bytes: int = Field(2 * 1024**3, gt=0, description="FLOATCHAT_MAX_FILE_BYTES: per-file size limit.")
    max_zip_members: int = Field(100_000, gt=0, description="FLOATCHAT_MAX_ZIP_MEMBERS")
    max_zip_uncompressed_bytes: int = Field(20 * 1024**3, gt=0,
                                            description="FLOATCHAT_MAX_ZIP_UNCOMPRESSED_BYTES")
    statement_timeout_ms: int = Field(15_000, gt=0, description="FLOATCHAT_STATEMENT_TIMEOUT_MS (read-only engine)")
    row_cap: int = Field(200_000, gt=0, description="FLOATCHAT_ROW_CAP: most rows a question may return.")
    source: Literal["local", "live-first", "live"] = Field("local", description="FLOATCHAT_SOURCE")
    erddap_url: str = Field("https://erddap.ifremer.fr/erddap", description="FLOATCHAT_ERDDAP_URL")
    redis_url: str | None = Field(None, description="FLOATCHAT_REDIS_URL: shared query cache.")
    openai_api_key: SecretStr | None = Field(None, description="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, description="OPENAI_BASE_URL (OpenAI-compatible server)")
    embedding_provider: Literal["local", "openai"] = Field("local", description="FLOATCHAT_EMBEDDING_PROVIDER")
    log_level: str = Field("WARNING", description="FLOATCHAT_LOG_LEVEL")
    pg_bin: Path | None = Field(None, description="FLOATCHAT_PG_BIN: folder with initdb/pg_ctl (auto-detected).")
    db_name: str = Field("floatchat", description="FLOATCHAT_DB_NAME (managed cluster)")
    db_port: int | None = Field(None, description="FLOATCHAT_DB_PORT: fixed port for the managed cluster.")

    @field_validator("home", "pg_bin", mode="before")
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
    "object_store": "FLOATCHAT_OBJECT_STORE",
    "max_file_bytes": "FLOATCHAT_MAX_FILE_BYTES",
    "max_zip_members": "FLOATCHAT_MAX_ZIP_MEMBERS",
    "max_zip_uncompressed_bytes": "FLOATCHAT_MAX_ZIP_UNCOMPRESSED_BYTES",
    "statement_timeout_ms": "FLOATCHAT_STATEMENT_TIMEOUT_MS",
    "row_cap": "FLOATCHAT_ROW_CAP",
    "source": "FLOATCHAT_SOURCE",
    "erddap_url": "FLOATCHAT_ERDDAP_URL",
    "redis_url": "FLOATCHAT_REDIS_URL",
    "openai_api_key": "OPENAI_API_KEY",
    "openai_base_url": "OPENAI_BASE_URL",
    "embedding_provider": "FLOATCHAT_EMBEDDING_PROVIDER",
    "log_level": "FLOATCHAT_LOG_LEVEL",
    "pg_bin": "FLOATCHAT_PG_BIN",
    "db_name": "FLOATCHAT_DB_NAME",
    "db_port": "FLOATCHAT_DB_PORT",
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
