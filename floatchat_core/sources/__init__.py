"""Data sources beyond the local database: the live ERDDAP client, the source router
(local | live-first | live, with fallback and a health memory), write-through into the
local database, and the health check of every component."""

from __future__ import annotations

from .erddap import ErddapClient, FetchLog
from .health import health
from .router import HealthMonitor, SourceInfo, fetch_profiles, monitor
from .writethrough import write_through
from .tabledap import DATASETS, TabledapRequest, box_request, chunk_request, float_request, wire_url

__all__ = [
    "DATASETS",
    "ErddapClient",
    "FetchLog",
    "HealthMonitor",
    "SourceInfo",
    "TabledapRequest",
    "box_request",
    "chunk_request",
    "fetch_profiles",
    "float_request",
    "health",
    "monitor",
    "wire_url",
    "write_through",
]
