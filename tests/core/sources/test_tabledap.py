"""ERDDAP URL building: every recorded tabledap request of shared/data/erddap is reproduced byte for byte."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pytest

from floatchat_core.sources.tabledap import (
    box_request,
    chunk_request,
    float_request,
    format_number,
    format_time,
    variables_for,
    wire_url,
)

BASE = "https://erddap.ifremer.fr/erddap"


def _recorded(erddap_dir):
    return [e["url"] for e in json.loads((erddap_dir / "index.json").read_text()) if "/tabledap/" in e["url"]]


def _num(s: str):
    return float(s) if "." in s else int(s)


def _request_from(url: str):
    """The inputs a user would give for a recorded URL (parameters, mode, floats or box)."""
    path, q = url.split("?", 1)
    ds, resp = path.rsplit("/", 1)[1].rsplit(".", 1)
    names = q.split("&", 1)[0].split(",")
    mode = "research" if "pres_adjusted!=NaN" in q else "standard"
    params = (
        None
        if ds == "ArgoFloats-reference"
        else sorted({v[: -len("_adjusted")] for v in names if v.endswith("_adjusted")})
    )
    m = re.search(r'platform_number=~"([^"]+)"', q)
    c = re.search(r'cycle_number=~"([^"]+)"', q)
    if m:
        cycles = [int(x) for x in c.group(1).split("|")] if c else None
        return float_request(m.group(1).split("|"), cycles, params, mode, dataset=ds), resp

    def g(k):
        return re.search(re.escape(k) + r"([-0-9.]+)", q).group(1)

    pv = "pres_adjusted" if mode == "research" and ds != "ArgoFloats-reference" else "pres"
    t = (float(g("time>=")), float(g("time<="))) if "time>=" in q else None
    box = (_num(g("longitude>=")), _num(g("latitude>=")), _num(g("longitude<=")), _num(g("latitude<=")))
    return box_request(box, (_num(g(pv + ">=")), _num(g(pv + "<="))), t, params, mode, dataset=ds), resp


def test_every_recorded_url_is_reproduced(erddap_dir):
    urls = _recorded(erddap_dir)
    assert len(urls) == 126
    for u in urls:
        req, resp = _request_from(u)
        assert req.url(BASE, resp) == u


def test_hand_written_requests_match_recordings(erddap_dir):
    urls = set(_recorded(erddap_dir))
    # a float and two cycles of it (core dataset, standard mode)
    assert float_request("1901393").url(BASE) in urls
    assert float_request(["1901393", "6902746"]).url(BASE, "ncHeader") in urls
    assert float_request("6902746", [1, 12]).url(BASE) in urls
    # a box with time as dates (2004-01-01 .. 2004-01-31), numbers keep their type
    box = box_request((-20, 0, -16.0, 1), (0, 100.0), ("2004-01-01", "2004-01-31"))
    assert box.url(BASE) in urls
    assert (
        "longitude>=-20&longitude<=-16.0&latitude>=0&latitude<=1&pres>=0&pres<=100.0"
        "&time>=1072915200.0&time<=1075507200.0" in box.url(BASE)
    )
    # BGC: oxygen asked → synthetic-BGC dataset, core families always along; research = adjusted only
    std = float_request("5903248", [34], ["DOXY"])
    assert std.dataset == "ArgoFloats-synthetic-BGC" and std.url(BASE) in urls
    res = float_request("5903248", [34], ["DOXY"], mode="research")
    assert res.url(BASE) in urls
    assert "doxy_qc" not in res.variables and "doxy_adjusted_qc" in res.variables
    assert res.url(BASE).endswith(
        "&pres_adjusted!=NaN&temp_adjusted!=NaN&psal_adjusted!=NaN"
        '&latitude!=NaN&longitude!=NaN&distinct()&orderBy("time,pres_adjusted")'
    )


def test_chunking_reproduces_recorded_chunks(erddap_dir):
    urls = set(_recorded(erddap_dir))
    for mode in ("standard", "research"):
        req = box_request((-55, 55, -51, 57), (0, 10), ("2022-05-01", "2023-04-06T19:12:00"), ["DOXY"], mode)
        chunks = chunk_request(req, lon=2, time=4)
        assert len(chunks) == 8
        got = [c.url(BASE) for c in chunks]
        missing = [u for u in got if u not in urls]
        assert not missing, missing[0]
        # neighbours share their edges, the whole box is covered
        assert chunks[0].box == (-55.0, 55, -53.0, 57) and chunks[-1].box == (-53.0, 55, -51.0, 57)
        assert chunks[0].time[0] == 1651363200.0 and chunks[-1].time[1] == 1680808320.0


def test_antimeridian_box_is_split():
    req = box_request((170, -10, -170, 10), (0, 100))
    parts = chunk_request(req)
    assert [p.box for p in parts] == [(170, -10, 180.0, 10), (-180.0, -10, -170, 10)]


def test_formatting_and_wire_encoding():
    assert format_number(-20) == "-20" and format_number(-16.0) == "-16.0" and format_number(0.5) == "0.5"
    assert format_time("2022-05-01") == "1651363200.0"
    assert format_time(1651363200.0) == "1651363200.0"
    with pytest.raises(ValueError):
        format_number(float("nan"))
    u = float_request("6902746", [1, 12]).url(BASE)
    w = wire_url(u)
    assert '"' not in w and "|" not in w and "%22" in w and "%7C" in w
    assert unquote(w) == u
    assert "%3E" in wire_url(box_request((0, 0, 1, 1)).url(BASE))


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="no BGC"):
        variables_for("ArgoFloats", ["DOXY"])
    with pytest.raises(ValueError, match="latitudes"):
        box_request((0, 10, 1, -10))
    with pytest.raises(ValueError, match="unknown ERDDAP dataset"):
        variables_for("NotADataset")
