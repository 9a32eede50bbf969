"""The query cache of the Data Access Layer: results keyed by query and parameters.

* **Key**: sha256 of the database, the function, its SQL text and its parameters, *and the
  cache generation* — ``app_state.cache_generation``, which every ingestion commit bumps
  (``writer.bump_cache_generation``). Invalidation is therefore one integer read per call,
  never a scan of keys: entries of older generations are simply never asked for again and
  age out (TTL / LRU).
* **TTL** (``FLOATCHAT_CACHE_TTL_S``, 0 switches the cache off) and a **row cap**
  (``FLOATCHAT_CACHE_ROW_CAP``): results with more rows are returned but not stored, so
  the cache never holds a copy of the archive.
* **Backends**: in-process LRU (default, ``FLOATCHAT_CACHE_MAX_ENTRIES``) or Redis when
  ``FLOATCHAT_REDIS_URL`` is set (values pickled: point it only at a Redis you trust). If
  Redis is unreachable the query still runs; the cache is an optimisation, never a failure.

Values are DataFrames or dicts; callers get copies, so mutating a result never changes the cache.
"""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config import Settings, get_settings

log = logging.getLogger(__name__)

_KEY_PREFIX = "floatchat:q:"


@dataclass
class CacheStats:
    """Counters of one cache object (since it was created or ``clear``-ed)."""

    hits: int = 0
    misses: int = 0
    stores: int = 0
    skipped: int = 0        # results above the row cap (or unpicklable): not stored
    errors: int = 0         # backend errors (Redis down…), the query ran anyway
    last: dict = field(default_factory=dict)


class MemoryBackend:
    """Thread-safe in-process LRU with per-entry expiry."""

    name = "memory"

    def __init__(self, max_entries: int = 512):
        self.max_entries = int(max_entries)
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return False, None
            expires, value = item
            if expires < time.monotonic():
                del self._data[key]
                return False, None
            self._data.move_to_end(key)
            return True, value

    def set(self, key: str, value: Any, ttl_s: float) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + ttl_s, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class RedisBackend:
    """The same interface over Redis (``SET key value EX ttl``); values are pickled."""

    name = "redis"

    def __init__(self, url: str):
        import redis

        self.url = url
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def get(self, key: str) -> tuple[bool, Any]:
        raw = self._client.get(_KEY_PREFIX + key)
        if raw is None:
            return False, None
        return True, pickle.loads(raw)

    def set(self, key: str, value: Any, ttl_s: float) -> None:
        self._client.set(_KEY_PREFIX + key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL),
                         px=max(1, int(ttl_s * 1000)))

    def clear(self) -> None:
        for k in self._client.scan_iter(match=_KEY_PREFIX + "*", count=1000):
            self._client.delete(k)

    def __len__(self) -> int:
        return sum(1 for _ in self._client.scan_iter(match=_KEY_PREFIX + "*", count=1000))


class QueryCache:
    """Get-or-compute with TTL, row cap and generation keys over one backend."""

    def __init__(self, backend, ttl_s: float, row_cap: int):
        self.backend = backend
        self.ttl_s = float(ttl_s)
        self.row_cap = int(row_cap)
        self.stats = CacheStats()

    @staticmethod
    def make_key(database: str, name: str, sql: str, params: dict, generation: int) -> str:
        blob = json.dumps([database, name, sql, params, int(generation)], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get_or_compute(self, key: str, compute: Callable[[], Any]) -> tuple[Any, bool]:
        """``(value, served_from_cache)``; ``compute()`` runs on a miss."""
        if self.ttl_s <= 0:
            return compute(), False
        try:
            hit, value = self.backend.get(key)
        except Exception as exc:                     # noqa: BLE001 — a cache must never break a query
            self.stats.errors += 1
            log.warning("cache.get_failed backend=%s error=%s", self.backend.name, exc)
            hit, value = False, None
        if hit:
            self.stats.hits += 1
            return _copy(value), True
        self.stats.misses += 1
        value = compute()
        if _rows(value) > self.row_cap:
            self.stats.skipped += 1
            return value, False
        try:
            self.backend.set(key, _copy(value), self.ttl_s)
            self.stats.stores += 1
        except Exception as exc:                     # noqa: BLE001
            self.stats.errors += 1
            log.warning("cache.set_failed backend=%s error=%s", self.backend.name, exc)
        return value, False

    def clear(self) -> None:
        self.backend.clear()
        self.stats = CacheStats()


def _rows(value: Any) -> int:
    if hasattr(value, "shape") and len(getattr(value, "shape", ())) >= 1:
        return int(value.shape[0])
    if isinstance(value, list | tuple):
        return len(value)
    return 1


def _copy(value: Any) -> Any:
    if hasattr(value, "copy") and hasattr(value, "shape"):
        return value.copy(deep=True)
    return copy.deepcopy(value)


_CACHES: dict[tuple, QueryCache] = {}
_LOCK = threading.Lock()


def get_cache(settings: Settings | None = None) -> QueryCache:
    """The process's cache for these settings (Redis when ``redis_url`` is set, else memory)."""
    settings = settings or get_settings()
    key = (settings.redis_url, settings.cache_ttl_s, settings.cache_row_cap, settings.cache_max_entries)
    with _LOCK:
        cache = _CACHES.get(key)
        if cache is None:
            backend = RedisBackend(settings.redis_url) if settings.redis_url else MemoryBackend(
                settings.cache_max_entries)
            cache = QueryCache(backend, settings.cache_ttl_s, settings.cache_row_cap)
            _CACHES[key] = cache
        return cache


def clear_caches() -> None:
    """Empty every cache of this process (and its Redis keys)."""
    with _LOCK:
        caches = list(_CACHES.values())
    for c in caches:
        try:
            c.clear()
        except Exception as exc:                     # noqa: BLE001
            log.warning("cache.clear_failed error=%s", exc)


def current_generation(conn) -> int:
    """The cache generation (``app_state.cache_generation``) read on ``conn`` (SQLAlchemy)."""
    from sqlalchemy import text

    return int(conn.execute(text("SELECT value FROM app_state WHERE key = 'cache_generation'")).scalar() or 0)
