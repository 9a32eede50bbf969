"""Database: the managed cluster, migrations, engines, the COPY writer and the DAL.

All SQL of the project lives in this package (writes in ``writer``, reads in ``dal``).
"""
from __future__ import annotations

from .engine import database_urls, dispose_engines, get_engine
from .manage import down, migrate, reset, status, up, url

__all__ = [
           "database_urls",
           "dispose_engines",
           "down",
           "get_engine",
           "migrate",
           "reset",
           "status",
           "up",
           "url",
]
