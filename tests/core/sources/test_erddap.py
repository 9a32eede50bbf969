"""The ERDDAP client against a real local HTTP server replaying recorded Ifremer answers."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from floatchat_core.errors import ErddapError, ErddapTimeout
from floatchat_core.sources import processors as P
from floatchat_core.sources.erddap import ErddapClient
from floatchat_core.sources.tabledap import box_request, float_request

REC = "https://erddap.ifremer.fr/erddap"


def _file_for(erddap_dir, url: str):
    for e in json.loads((erddap_dir / "index.json").read_text()):
        if e["url"] == url:
            return erddap_dir / e["file"]
    raise KeyError(url)


def _independent(path) -> pd.DataFrame:
    """xarray with CF decoding: the reference reading of the same file."""
    with xr.open_dataset(path, engine="netcdf4") as ds:
        return ds.to_dataframe().reset_index(drop=True)


def _recorded_path(replay, req, resp="nc") -> str:
    return req.url(REC, resp).replace("https://erddap.ifremer.fr", "")


def test_float_cycle_matches_recording_and_independent_read(erddap_server, erddap_dir):
    c = ErddapClient(erddap_server.url, timeout=10)
    lv = c.fetch_float("6902746", [34], mode="expert")
    req = float_request("6902746", [34])
    # the server saw exactly the recorded URL
    assert erddap_server.requests == [_recorded_path(erddap_server, req)]
    ref = _independent(_file_for(erddap_dir, req.url(REC)))
    assert len(lv) == len(ref) == 109
    np.testing.assert_allclose(lv["temp_raw"], ref["temp"].astype(float), rtol=0, atol=0)
    np.testing.assert_allclose(lv["psal_adjusted"], ref["psal_adjusted"].astype(float), rtol=0, atol=0)
    np.testing.assert_allclose(lv["latitude"], ref["latitude"])
    assert (lv["juld"].dt.tz_localize(None).to_numpy() == ref["time"].to_numpy()).all()
    assert lv["platform_number"].unique().tolist() == ["6902746"]
    ref_qc = ref["temp_qc"].map(lambda b: int(b.decode() if isinstance(b, bytes) else b)).to_numpy()
    assert (lv["temp_raw_qc"].to_numpy() == ref_qc).all()
    # delayed mode profile: standard = adjusted values, mode 'D'
    std = P.to_levels(P.read_nc(_file_for(erddap_dir, req.url(REC)).read_bytes()), "ArgoFloats", "standard")
    assert set(std["temp_mode"]) == {"D"}
    np.testing.assert_allclose(std["temp"], ref["temp_adjusted"].astype(float))
    assert {
        "profile_id",
        "platform_number",
        "cycle_number",
        "juld",
        "latitude",
        "longitude",
        "axis",
        "level",
        "pres",
        "temp",
        "temp_qc",
        "temp_mode",
        "psal",
    } <= set(std.columns)
    assert std["level"].iloc[0] == 0 and std["level"].iloc[-1] == 108


def test_whole_float_and_box(erddap_server, erddap_dir):
    c = ErddapClient(erddap_server.url, timeout=20)
    lv = c.fetch_float("1901393")
    ref = _independent(_file_for(erddap_dir, float_request("1901393").url(REC)))
    assert len(lv) == len(ref)
    assert lv["profile_id"].nunique() == ref.groupby(["cycle_number", "direction"]).ngroups
    box = c.fetch_box((-20, 0, -16.0, 1), (0, 100.0), ("2004-01-01", "2004-01-31"), chunks={})
    req = box_request((-20, 0, -16.0, 1), (0, 100.0), ("2004-01-01", "2004-01-31"))
    ref = _independent(_file_for(erddap_dir, req.url(REC)))
    assert len(box) == len(ref) > 0
    assert (box["pres"].dropna() <= 100).all()
    assert box["longitude"].between(-20, -16).all() and box["latitude"].between(0, 1).all()


def test_box_sized_with_ncheader(erddap_server):
    c = ErddapClient(erddap_server.url, timeout=10, max_rows=10**9)
    req = box_request((-20, 0, -16.0, 1), (0, 100.0), ("2004-01-01", "2004-01-31"))
    assert c.count_rows(req) > 0
    reqs = c.box_requests((-20, 0, -16.0, 1), (0, 100.0), ("2004-01-01", "2004-01-31"))
    assert len(reqs) == 1
    assert erddap_server.requests[-1].startswith("/erddap/tabledap/ArgoFloats.ncHeader?")


def test_chunked_bgc_box_and_no_matching_results(erddap_server, erddap_dir):
    c = ErddapClient(erddap_server.url, timeout=20)
    lv = c.fetch_box(
        (-55, 55, -51, 57),
        (0, 10),
        ("2022-05-01", "2023-04-06T19:12:00"),
        ["DOXY"],
        mode="research",
        chunks={"lon": 2, "time": 4},
    )
    assert len(erddap_server.requests) == 8
    assert c.log.empty == 2  # two chunks are ERDDAP's 404 "no matching results"
    n_ref = 0
    for u in erddap_server.requests:
        f = _file_for(erddap_dir, "https://erddap.ifremer.fr" + u)
        if not P.is_no_results(f.read_bytes()):
            n_ref += len(_independent(f))
    assert len(lv) == n_ref > 0
    assert lv.attrs["data_mode_inferred"] is True
    # the synthetic-BGC dataset serves no data mode: research (needs 'D') rejects every oxygen value
    assert lv["doxy"].isna().all()
    std = c.fetch_float("5903248", [34], ["DOXY"])
    assert std["doxy"].notna().sum() > 50 and set(std["doxy_mode"].dropna()) <= {"A", "R", ""}


def test_no_matching_results_is_empty_not_error(erddap_server):
    c = ErddapClient(erddap_server.url, timeout=10)
    req = box_request((-55.0, 55, -53.0, 57), (0, 10), (1666085760.0, 1673447040.0), ["DOXY"], "research")
    assert c.fetch_raw(req).empty
    assert c.log.empty == 1


@pytest.mark.parametrize(
    "behaviour,exc",
    [("500", ErddapError), ("html", ErddapError), ("truncated", ErddapError), ("short", ErddapError)],
)
def test_failures_raise_clear_errors(erddap_server, behaviour, exc):
    erddap_server.behaviour = behaviour
    c = ErddapClient(erddap_server.url, timeout=3, retries=1, backoff=0.05)
    with pytest.raises(exc) as ei:
        c.fetch_float("6902746", [34])
    assert str(ei.value)
    if behaviour == "500":
        assert len(erddap_server.requests) == 2  # retried once
    if behaviour == "html":
        assert "HTML" in str(ei.value)


def test_slow_server_times_out_within_budget(erddap_server, dead_url):
    erddap_server.behaviour = "slow"
    c = ErddapClient(erddap_server.url, timeout=1.0, retries=3, backoff=0.1)
    t0 = time.monotonic()
    with pytest.raises(ErddapTimeout):
        c.fetch_float("6902746", [34])
    assert time.monotonic() - t0 < 1.6
    c = ErddapClient(dead_url, timeout=1.0, retries=2, backoff=0.05)
    with pytest.raises(ErddapError, match="unreachable"):
        c.fetch_float("6902746", [34])


def test_csv_answer_parses_like_nc(erddap_dir):
    """A .csv answer (ERDDAP layout: header, units row) gives the same frame as the .nc answer."""
    f = _file_for(erddap_dir, float_request("6902746", [34]).url(REC))
    nc = P.read_nc(f.read_bytes())
    csv = nc.copy()
    csv["time"] = csv["time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    for col in [c for c in csv.columns if c.endswith("_qc")]:
        csv[col] = csv[col].astype(str)
    body = (
        ",".join(csv.columns)
        + "\n"
        + ",".join("" for _ in csv.columns)
        + "\n"
        + csv.to_csv(index=False, header=False, na_rep="NaN")
    ).encode()
    back = P.read_csv(body)
    a = P.to_levels(nc, "ArgoFloats", "standard")
    b = P.to_levels(back, "ArgoFloats", "standard")
    pd.testing.assert_frame_equal(
        a[["pres", "temp", "psal", "temp_qc"]],
        b[["pres", "temp", "psal", "temp_qc"]],
        check_dtype=False,
        atol=1e-5,
    )


def test_large_box_is_chunked_from_its_ncheader_size(erddap_server):
    import math

    c = ErddapClient(erddap_server.url, timeout=10, max_rows=25)
    req = box_request((-20, 0, -16.0, 1), (0, 100.0), ("2004-01-01", "2004-01-31"))
    n = c.count_rows(req)
    reqs = c.box_requests((-20, 0, -16.0, 1), (0, 100.0), ("2004-01-01", "2004-01-31"))
    assert n > 25 and len(reqs) == math.ceil(n / 25)
    assert reqs[0].time[0] == 1072915200.0 and reqs[-1].time[1] == 1075507200.0
    assert all(a.time[1] == b.time[0] for a, b in zip(reqs, reqs[1:], strict=False))
    assert all(r.box == (-20, 0, -16.0, 1) for r in reqs)
