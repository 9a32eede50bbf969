"""The DAL's query cache: repeats are served from it, large results bypass it, ingestion
invalidates it (generation counter), TTL expiry — in process and over a real redis-server."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from sqlalchemy import text

from floatchat_core.config import override
from floatchat_core.db import dal, get_engine
from floatchat_core.db.cache import clear_caches, get_cache
from floatchat_core.db.maintenance import truncate_data


@pytest.fixture(scope="module")
def db(database, gdac_dir):
    from floatchat_core.db import regions
    from floatchat_core.ingest import ingest

    regions.seed_if_needed()
    truncate_data()
    job = ingest([gdac_dir / "dac" / "incois" / "2902269"], dataset="incois", executor="serial")
    assert job["status"] == "succeeded", job
    clear_caches()
    yield gdac_dir
    truncate_data()


def _ingest_another_float(path) -> None:
    from floatchat_core.ingest import ingest

    job = ingest([path], dataset=path.name, executor="serial")
    assert job["status"] == "succeeded", job


def _exercise(new_float) -> None:
    """Repeat → cached; above the row cap → not cached; ingestion → recomputed with the new rows."""
    first = dal.find_profiles(region="Arabian Sea", limit=20)
    assert dal.last_query()["cached"] is False and len(first) == 20
    again = dal.find_profiles(region="Arabian Sea", limit=20)
    q = dal.last_query()
    assert q["cached"] is True and q["rows"] == 20 and "ST_Intersects" in q["sql"]
    assert again.equals(first)
    again.loc[0, "latitude"] = -99.0                           # callers get copies
    assert dal.find_profiles(region="Arabian Sea", limit=20).loc[0, "latitude"] == first.loc[0, "latitude"]
    # a different parameter is a different key
    dal.find_profiles(region="Arabian Sea", limit=21)
    assert dal.last_query()["cached"] is False

    cache = get_cache()
    skipped = cache.stats.skipped
    big = dal.find_profiles(platform_numbers=["2902269"])       # 57 rows > the row cap of 30
    assert len(big) == 57 and dal.last_query()["cached"] is False
    dal.find_profiles(platform_numbers=["2902269"])
    assert dal.last_query()["cached"] is False and cache.stats.skipped == skipped + 2

    before = dal.count_profiles()
    assert dal.count_profiles() == before and dal.last_query()["cached"] is True
    _ingest_another_float(new_float)                            # bumps the cache generation
    after = dal.count_profiles()
    assert dal.last_query()["cached"] is False
    assert after["n_profiles"] > before["n_profiles"] and after["n_floats"] == before["n_floats"] + 1


def test_memory_cache_serves_repeats_skips_big_results_and_follows_ingestion(db):
    with override(cache_ttl_s=60, cache_row_cap=30):
        clear_caches()
        assert get_cache().backend.name == "memory"
        _exercise(db / "dac" / "csiro" / "5900865")
        stats = get_cache().stats
        assert stats.hits >= 3 and stats.errors == 0


def test_ttl_expiry_and_switching_off(db):
    with override(cache_ttl_s=0.5):
        clear_caches()
        dal.latest_positions()
        dal.latest_positions()
        assert dal.last_query()["cached"] is True
        time.sleep(0.7)
        dal.latest_positions()
        assert dal.last_query()["cached"] is False
    with override(cache_ttl_s=0):
        dal.latest_positions()
        dal.latest_positions()
        assert dal.last_query()["cached"] is False


def test_generation_bump_invalidates_without_touching_keys(db):
    with override(cache_ttl_s=60):
        clear_caches()
        dal.dataset_stats()
        dal.dataset_stats()
        assert dal.last_query()["cached"] is True
        n_entries = len(get_cache().backend)
        with get_engine().begin() as c:
            c.execute(text("UPDATE app_state SET value = value + 1 WHERE key = 'cache_generation'"))
        assert len(get_cache().backend) == n_entries             # nothing scanned or deleted
        dal.dataset_stats()
        assert dal.last_query()["cached"] is False


# ----------------------------------------------------------------------------- Redis
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    exe = shutil.which("redis-server")
    assert exe, "redis-server is not installed (scripts/setup-system.sh installs it)"
    port = _free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
                             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            if client.ping():
                break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0", client, proc
    proc.terminate()
    proc.wait(timeout=10)


def test_redis_cache_same_behaviour_and_survives_redis_going_away(db, redis_url):
    url, client, proc = redis_url
    with override(redis_url=url, cache_ttl_s=60, cache_row_cap=30):
        clear_caches()
        cache = get_cache()
        assert cache.backend.name == "redis"
        _exercise(db / "dac" / "aoml" / "13857")
        keys = client.keys("floatchat:q:*")
        assert keys and all(0 < client.pttl(k) <= 60_000 for k in keys)
        # a second process-level cache object (another worker) sees the same entries
        from floatchat_core.db import cache as cache_mod

        dal.find_profiles(region="Arabian Sea", limit=20)        # stored at the current generation
        cache_mod._CACHES.clear()
        dal.find_profiles(region="Arabian Sea", limit=20)
        assert dal.last_query()["cached"] is True
        # Redis down: queries still answer, the error is counted
        proc.terminate()
        proc.wait(timeout=10)
        res = dal.find_profiles(region="Arabian Sea", limit=20)
        assert len(res) == 20 and dal.last_query()["cached"] is False
        assert get_cache().stats.errors >= 1
    clear_caches()
