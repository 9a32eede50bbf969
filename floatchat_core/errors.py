"""Specific exceptions of FloatChat, each subclassing a built-in so callers may catch broadly."""
from __future__ import annotations


class FloatChatError(Exception):
    """Base class of every FloatChat error."""


class DatabaseError(FloatChatError, RuntimeError):
    """The database could not be reached, created or migrated."""


class NotFoundError(FloatChatError, LookupError):
    """A requested record (dataset, job, float) does not exist."""


class IngestError(FloatChatError, ValueError):
    """An input could not be ingested (the job stores this message)."""


class ArgoFileError(IngestError):
    """A file cannot be read as an Argo NetCDF file; the message names the file and the reason."""


class MissingVariableError(ArgoFileError):
    """A required Argo variable is absent; the message names it (and ``.variable`` holds it)."""

    def __init__(self, variable: str, message: str | None = None):
        self.variable = variable
        super().__init__(message or f"required variable {variable} is missing")


class DimensionError(ArgoFileError):
    """An Argo variable has unexpected dimensions."""


class ErddapError(FloatChatError, RuntimeError):
    """An ERDDAP server failed or answered something that is not data (HTML page, truncated file)."""


class ErddapTimeout(ErddapError, TimeoutError):
    """An ERDDAP request did not complete within its time budget."""


class SourceUnavailableError(FloatChatError, RuntimeError):
    """No data source could answer (``FLOATCHAT_SOURCE=live`` and the server is down)."""


class EmbeddingError(FloatChatError, RuntimeError):
    """Texts could not be embedded (model missing, embeddings server error, wrong dimension)."""


class SearchError(FloatChatError, ValueError):
    """A search request is invalid (unknown filter, bad value); the message lists what is allowed."""


class QueryError(FloatChatError, ValueError):
    """A Data Access Layer call got filters it cannot honour (unknown parameter, bad box, …)."""


class RegionNotFoundError(NotFoundError):
    """No ocean region matches the name (``.name``); ``.candidates`` may hold near misses."""

    def __init__(self, name: str, candidates: list | None = None):
        self.name = name
        self.candidates = candidates or []
        super().__init__(f"no ocean region called {name!r}")


class AmbiguousRegionError(FloatChatError, ValueError):
    """Several regions match the name about equally well; ``.candidates`` lists them with scores."""

    def __init__(self, name: str, candidates: list):
        self.name = name
        self.candidates = candidates
        names = ", ".join(f"{c['name']} ({c['score']:.2f})" for c in candidates[:5])
        super().__init__(f"region name {name!r} is ambiguous: {names}")
