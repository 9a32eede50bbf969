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
