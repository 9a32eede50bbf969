"""The source router: live-first with fallback to the real local database, health memory, write-through."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from floatchat_core.config import override
from floatchat_core.errors import SourceUnavailableError
from floatchat_core.sources import processors as P
from floatchat_core.sources.router import fetch_profiles, monitor
from floatchat_core.sources.writethrough import batch_from_erddap, write_through

REC_URL = (
    "https://erddap.ifremer.fr/erddap/tabledap/ArgoFloats.nc?config_mission_number,cycle_number,data_mode,"
    "direction,latitude,longitude,platform_number,position_qc,pres,pres_adjusted,pres_adjusted_error,"
    "pres_adjusted_qc,pres_qc,psal,psal_adjusted,psal_adjusted_error,psal_adjusted_qc,psal_qc,temp,"
    "temp_adjusted,temp_adjusted_error,temp_adjusted_qc,temp_qc,time,time_qc,vertical_sampling_scheme"
    '&platform_number=~"6902746"&cycle_number=~"34"&latitude!=NaN&longitude!=NaN&distinct()'
    '&orderBy("time,pres")'
)


@pytest.fixture(autouse=True)
def _fresh_monitor():
    monitor.reset()
    yield
    monitor.reset()


def _recorded_raw(erddap_dir, url=REC_URL):
    for e in json.loads((erddap_dir / "index.json").read_text()):
        if e["url"] == url:
            return P.read_nc((erddap_dir / e["file"]).read_bytes())
    raise KeyError(url)


def _profiles_in(dataset_name: str) -> int:
    from sqlalchemy import text

    from floatchat_core.db import get_engine

    with get_engine().connect() as c:
        return int(
            c.execute(
                text(
                    "SELECT count(*) FROM profiles p JOIN datasets d ON d.id = p.dataset_id WHERE d.name = :n"
                ),
                {"n": dataset_name},
            ).scalar()
        )


def test_live_first_serves_live_then_falls_back_to_written_through_copy(clean_db, erddap_server, dead_url):
    with override(erddap_url=erddap_server.url, source="live-first", erddap_timeout_s=5.0):
        live, info = fetch_profiles(platform_numbers=["6902746"], cycle_numbers=[34], write_through=True)
        assert info.source == "erddap" and not info.fallback
        assert info.url == REC_URL.replace("https://erddap.ifremer.fr/erddap", erddap_server.url)
        assert info.write_through["ok"] and info.write_through["n_profiles"] == 1
        assert len(live) == 109 and set(live["temp_mode"]) == {"D"}
        # idempotent: the same answer stored twice leaves one profile
        _, info2 = fetch_profiles(platform_numbers=["6902746"], cycle_numbers=[34], write_through=True)
        assert info2.write_through["ok"] and _profiles_in("erddap-live") == 1
    with override(erddap_url=dead_url, source="live-first", erddap_timeout_s=1.0):
        t0 = time.monotonic()
        local, info = fetch_profiles(platform_numbers=["6902746"], cycle_numbers=[34])
        assert time.monotonic() - t0 < 2.5
    assert info.source == "local" and info.fallback and "local database" in info.reason
    # the local copy gives the same values under the same QC mode
    assert len(local) == len(live)
    for col in ("pres", "temp", "psal"):
        np.testing.assert_allclose(local[col].to_numpy(float), live[col].to_numpy(float), rtol=1e-6)
    assert (local["temp_qc"].to_numpy() == live["temp_qc"].to_numpy()).all()
    assert list(local["temp_mode"]) == list(live["temp_mode"])


@pytest.mark.parametrize("behaviour", ["down", "slow", "500", "truncated", "short", "html"])
def test_failures_fall_back_to_local_within_timeout(clean_db, erddap_server, dead_url, erddap_dir, behaviour):
    res = write_through(_recorded_raw(erddap_dir), "ArgoFloats")
    assert res["ok"], res
    erddap_server.behaviour = behaviour
    erddap_server.delay = 5.0
    url = dead_url if behaviour == "down" else erddap_server.url
    with override(erddap_url=url, source="live-first", erddap_timeout_s=1.0, erddap_retries=2):
        t0 = time.monotonic()
        df, info = fetch_profiles(platform_numbers=["6902746"], cycle_numbers=[34])
        elapsed = time.monotonic() - t0
    assert elapsed < 2.5, elapsed
    assert info.source == "local" and info.fallback and info.error
    assert len(df) == 109 and df["temp"].notna().sum() > 100


def test_outage_is_remembered_and_live_mode_refuses(clean_db, erddap_server, erddap_dir):
    write_through(_recorded_raw(erddap_dir), "ArgoFloats")
    erddap_server.behaviour = "500"
    with override(
        erddap_url=erddap_server.url,
        source="live-first",
        erddap_timeout_s=1.0,
        erddap_retries=0,
        erddap_cooldown_s=30.0,
    ):
        fetch_profiles(platform_numbers=["6902746"], cycle_numbers=[34])
        n = len(erddap_server.requests)
        t0 = time.monotonic()
        _, info = fetch_profiles(platform_numbers=["6902746"], cycle_numbers=[34])
        assert time.monotonic() - t0 < 0.5
        assert len(erddap_server.requests) == n  # the server was not asked again
        assert info.source == "local" and "marked unavailable" in info.reason
        with pytest.raises(SourceUnavailableError):
            fetch_profiles(platform_numbers=["6902746"], cycle_numbers=[34], source="live")
        from floatchat_core.config import get_settings
        from floatchat_core.sources.health import check_erddap

        h = check_erddap(get_settings())
        assert h["status"] == "down" and h["failures"] == 1 and "500" in h["last_error"]
    erddap_server.behaviour = "normal"
    monitor.reset()
    with override(erddap_url=erddap_server.url, source="live"):
        _df, info = fetch_profiles(platform_numbers=["6902746"], cycle_numbers=[34])
        assert info.source == "erddap"


def test_local_source_never_calls_the_server(clean_db, erddap_server, erddap_dir):
    write_through(_recorded_raw(erddap_dir), "ArgoFloats")
    with override(erddap_url=erddap_server.url, source="local"):
        df, info = fetch_profiles(platform_numbers=["6902746"])
    assert info.source == "local" and erddap_server.requests == [] and len(df) == 109


def test_region_questions_are_answered_locally(clean_db, erddap_server):
    with override(erddap_url=erddap_server.url, source="live-first"):
        _df, info = fetch_profiles(region="Atlantic Ocean", time_start="2017-01-01")
    assert (
        info.source == "local" and "floats or a lon/lat box" in info.reason and erddap_server.requests == []
    )


def test_batch_from_erddap_bgc(erddap_dir):
    raw = None
    for e in json.loads((erddap_dir / "index.json").read_text()):
        if "synthetic-BGC.nc?" in e["url"] and 'cycle_number=~"12|13"' in e["url"] and "doxy_qc" in e["url"]:
            raw = P.read_nc((erddap_dir / e["file"]).read_bytes())
    assert raw is not None
    b = batch_from_erddap(raw, "ArgoFloats-synthetic-BGC")
    assert len(b) == raw.groupby(["cycle_number", "direction"]).ngroups
    assert set(b.groups) == {"core", "bgc"}
    assert b.groups["bgc"].offsets[-1] == len(raw)
    ox = b.groups["bgc"].parameters["DOXY"]
    np.testing.assert_array_equal(
        np.isfinite(ox.adjusted),
        np.isfinite(
            raw.sort_values(["platform_number", "cycle_number", "direction"], kind="stable")[
                "doxy_adjusted"
            ].to_numpy()
        ),
    )


def test_live_box_is_sized_then_fetched_with_recorded_urls(erddap_server, erddap_dir):
    recorded = {e["url"].replace("https://erddap.ifremer.fr", "") for e in
                json.loads((erddap_dir / "index.json").read_text())}
    with override(erddap_url=erddap_server.url, source="live"):
        df, info = fetch_profiles(box=(-20, 0, -16.0, 1), pres_min=0, pres_max=100.0, time_start="2004-01-01",
                                  time_end="2004-01-31")
    assert info.source == "erddap" and len(info.urls) == 2
    assert [u.split("?")[0].rsplit(".", 1)[1] for u in erddap_server.requests] == ["ncHeader", "nc"]
    assert all(u in recorded for u in erddap_server.requests)
    assert len(df) > 0 and df["longitude"].between(-20, -16).all() and (df["pres"].dropna() <= 100).all()
    assert df["juld"].min() >= pd.Timestamp("2004-01-01", tz="UTC")
