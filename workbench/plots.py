"""Plot recipes: pure functions of DataFrames (testable without a server).

Maps are plain longitude/latitude (degrees) with Natural Earth coastlines drawn from
the bundled data: no tile server, no cartopy download.
"""
from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

NATURALEARTH = Path(__file__).resolve().parents[1] / "floatchat_core" / "data" / "naturalearth"


@lru_cache(maxsize=4)
def coastline_paths(scale: str = "50m") -> tuple[np.ndarray, np.ndarray]:
    """Coastline vertices as two flat arrays (lon, lat) with NaN between lines."""
    import importlib.resources as ir

    candidates = [NATURALEARTH / f"ne_{scale}_coastline.json.gz", NATURALEARTH / f"ne_{scale}_coastline.json"]
    try:
        pkg = ir.files("floatchat_core") / "data" / "naturalearth"
        candidates += [Path(str(pkg / f"ne_{scale}_coastline.json.gz")), Path(str(pkg / f"ne_{scale}_coastline.json"))]
    except ModuleNotFoundError:
        pass
    path = next((p for p in candidates if p.exists()), None)
    if path is None:
        raise FileNotFoundError(f"bundled Natural Earth coastline ({scale}) not found")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        gj = json.load(f)
    xs, ys = [], []
    for feat in gj["features"]:
        geom = feat["geometry"]
        lines = geom["coordinates"] if geom["type"] == "MultiLineString" else [geom["coordinates"]]
        for line in lines:
            a = np.asarray(line, dtype=float)
            xs += [a[:, 0], [np.nan]]
            ys += [a[:, 1], [np.nan]]
    return np.concatenate(xs), np.concatenate(ys)


def _holoviews():
    """HoloViews with its Bokeh backend registered (options need a loaded backend)."""
    import holoviews as hv
    import holoviews.plotting.bokeh

    if hv.Store.current_backend != "bokeh":
        hv.Store.set_current_backend("bokeh")
    return hv


def coastlines(scale: str = "50m"):
    hv = _holoviews()

    x, y = coastline_paths(scale)
    return hv.Path(pd.DataFrame({"longitude": x, "latitude": y}), ["longitude", "latitude"]).opts(
        color="#555555", line_width=0.6)


def position_map(df: pd.DataFrame, *, width: int = 900, height: int = 480, title: str = "Argo profile positions"):
    """Every position rasterized with datashader (re-aggregated on zoom) over coastlines."""
    hv = _holoviews()
    from holoviews.operation.datashader import dynspread, rasterize

    pts = hv.Points(df, ["longitude", "latitude"], [c for c in ("platform_number", "cycle_number") if c in df])
    raster = dynspread(rasterize(pts, aggregator="count", dynamic=True, x_range=(-180, 180), y_range=(-90, 90)),
                       threshold=0.8, max_px=4)
    return (raster.opts(cmap="viridis", cnorm="eq_hist", colorbar=True, tools=["hover"], clabel="profiles")
            * coastlines()).opts(width=width, height=height, title=title, xlim=(-180, 180), ylim=(-90, 90),
                                 xlabel="longitude (°E)", ylabel="latitude (°N)")
