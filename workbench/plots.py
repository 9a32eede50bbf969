"""Plot recipes: pure functions of DataFrames (testable without a server).

Maps are plain longitude/latitude (degrees) with Natural Earth coastlines drawn from
the bundled data: no tile server, no cartopy download. Profiles put pressure (dbar)
downward; T-S diagrams use TEOS-10 (``gsw``) Absolute Salinity, Conservative Temperature
and σ0 contours.

>>> import pandas as pd
>>> from workbench.plots import position_map
>>> plot = position_map(pd.DataFrame({"longitude": [10.0, 20.0], "latitude": [-5.0, 5.0]}))
"""
from __future__ import annotations

import gzip
import json
import logging
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

NATURALEARTH = Path(__file__).resolve().parents[1] / "floatchat_core" / "data" / "naturalearth"
#: Above this many points the T-S diagram and point maps are rasterized with datashader.
RASTERIZE_ABOVE = 20_000
#: Colours of the Argo QC flags (0 no QC … 9 missing), used in expert mode.
QC_COLORS = {0: "#9e9e9e", 1: "#2e7d32", 2: "#9ccc65", 3: "#ffb300", 4: "#d32f2f", 5: "#7b1fa2",
             8: "#1976d2", 9: "#000000"}
QC_LABELS = {0: "0 no QC", 1: "1 good", 2: "2 probably good", 3: "3 probably bad", 4: "4 bad",
             5: "5 changed", 8: "8 estimated", 9: "9 missing"}
UNITS = {"temp": "°C", "psal": "PSU", "pres": "dbar", "doxy": "µmol/kg", "chla": "mg/m³", "nitrate": "µmol/kg",
         "bbp700": "1/m", "ph_in_situ_total": "", "cdom": "ppb", "downwelling_par": "µE/m²/s"}
NAMES = {"temp": "temperature", "psal": "salinity", "pres": "pressure", "doxy": "dissolved oxygen",
         "chla": "chlorophyll-a", "nitrate": "nitrate", "bbp700": "backscatter 700 nm",
         "ph_in_situ_total": "pH", "cdom": "CDOM", "downwelling_par": "PAR"}
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
WORLD = (-180.0, -90.0, 180.0, 90.0)


def label(param: str) -> str:
    """Axis label for an Argo parameter column (``"temp"`` → ``"temperature (°C)"``)."""
    p = param.lower()
    unit = UNITS.get(p, "")
    return f"{NAMES.get(p, p)} ({unit})" if unit else NAMES.get(p, p)


# ----------------------------------------------------------------------------- coastlines
@lru_cache(maxsize=4)
def coastline_paths(scale: str = "50m") -> tuple[np.ndarray, np.ndarray]:
    """Coastline vertices as two flat arrays (lon, lat in degrees) with NaN between lines."""
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
    import holoviews.plotting.bokeh  # noqa: F401

    if hv.Store.current_backend != "bokeh":
        hv.Store.set_current_backend("bokeh")
    _canvas_output(hv)
    return hv


_CANVAS_SET = []


def _canvas_output(hv) -> None:
    """Draw plots on the 2-D canvas, not WebGL (once per process).

    Large data reach the browser as datashader images and the point layers stay below
    ``RASTERIZE_ABOVE``, so WebGL buys nothing here; without a GPU (headless Chromium, remote
    desktops, many laptops' software GL) every WebGL frame is copied back to the canvas
    (``blit_webgl``), which cost ~3 s of the dashboard's first paint.
    """
    if not _CANVAS_SET:
        hv.renderer("bokeh").webgl = False
        _CANVAS_SET.append(True)


def clip_lines(x: np.ndarray, y: np.ndarray, bbox: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Keep the vertices inside ``bbox`` (west, south, east, north; degrees), NaN-separated.

    Regional plots then ship a few thousand vertices to the browser instead of 60,000.
    """
    w, s, e, n = bbox
    inside = (x >= w) & (x <= e) & (y >= s) & (y <= n)
    xs, ys = np.where(inside, x, np.nan), np.where(inside, y, np.nan)
    nan = np.isnan(xs)
    keep = ~nan | np.concatenate([[False], ~nan[:-1]])      # one NaN after each kept run
    return xs[keep], ys[keep]


def coastlines(scale: str = "50m", bbox: tuple[float, float, float, float] | None = None):
    """Natural Earth coastlines as a HoloViews ``Path`` (grey, thin), clipped to ``bbox`` if given.

    The whole-world path of each scale is built once per process; callers get a clone sharing its
    data (``.opts`` on an overlay or DynamicMap sets options on its elements in place).
    """
    if bbox is None:
        return _world_coastlines(scale).clone()
    x, y = coastline_paths(scale)
    w, s, e, n = bbox
    m = max(e - w, n - s) * 0.1 + 1.0
    x, y = clip_lines(x, y, (w - m, s - m, e + m, n + m))
    return _coast_path(x, y)


def _coast_path(x: np.ndarray, y: np.ndarray):
    hv = _holoviews()
    return hv.Path(pd.DataFrame({"longitude": x, "latitude": y}), ["longitude", "latitude"]).opts(
        color="#555555", line_width=0.6)


@lru_cache(maxsize=4)
def _world_coastlines(scale: str):
    x, y = coastline_paths(scale)
    return _coast_path(x, y)


#: Above this span (degrees of longitude or latitude) the map draws the 110m coastlines, below it the
#: 50m ones clipped to the view: 5,000 instead of 60,000 vertices at the initial world zoom.
COARSE_ABOVE_DEG = 60.0


def coastlines_for_view(x_range=None, y_range=None):
    """Coastlines for a map view (lon/lat ranges in degrees): coarse when wide, detailed and
    clipped when zoomed in."""
    if x_range is None or y_range is None or None in (*x_range, *y_range):
        return coastlines("110m")
    (x0, x1), (y0, y1) = x_range, y_range
    if max(x1 - x0, y1 - y0) > COARSE_ABOVE_DEG:
        return coastlines("110m")
    return coastlines("50m", bbox=(x0, y0, x1, y1))


def dynamic_coastlines():
    """A ``DynamicMap`` of :func:`coastlines_for_view` following the plot's pan/zoom (``RangeXY``)."""
    hv = _holoviews()
    return hv.DynamicMap(coastlines_for_view, streams=[hv.streams.RangeXY()])


def bbox_minimap_svg(bbox: tuple[float, float, float, float] | None, width: int = 180, height: int = 90) -> str:
    """A small static SVG world map (110m coastlines) with a dataset's bounding box in red.

    Static SVG rather than a Bokeh plot so a page of dataset cards stays light.
    ``bbox`` is (west, south, east, north) in degrees; west > east crosses the antimeridian.
    """
    rects = ""
    if bbox is not None and all(v is not None and np.isfinite(v) for v in bbox):
        w, s, e, n = (float(v) for v in bbox)
        spans = [(w, e)] if w <= e else [(w, 180.0), (-180.0, e)]
        for a, b in spans:
            rx, rw = (a + 180) / 360 * width, max((b - a) / 360 * width, 2.0)
            ry, rh = (90 - n) / 180 * height, max((n - s) / 180 * height, 2.0)
            rects += (f'<rect x="{rx:.1f}" y="{ry:.1f}" width="{rw:.1f}" height="{rh:.1f}" '
                      'fill="#d32f2f" fill-opacity="0.35" stroke="#d32f2f" stroke-width="1"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><rect width="{width}" height="{height}" fill="#eef4fa"/>'
            f'<path d="{_minimap_path(width, height)}" fill="none" stroke="#607d8b" stroke-width="0.5"/>{rects}</svg>')


@lru_cache(maxsize=8)
def _minimap_path(width: int, height: int) -> str:
    """SVG path data of the 110m coastlines at this size (built once per process and size)."""
    x, y = coastline_paths("110m")
    px = (x + 180.0) / 360.0 * width
    py = (90.0 - y) / 180.0 * height
    breaks = np.flatnonzero(np.isnan(px))
    parts, start = [], 0
    for b in breaks:   # a few hundred lines, once per process
        seg = np.column_stack([px[start:b], py[start:b]])
        if len(seg) > 1:
            parts.append("M" + "L".join(f"{a:.1f},{c:.1f}" for a, c in seg))
        start = b + 1
    return " ".join(parts)


# ----------------------------------------------------------------------------- maps
def _map_opts(el, width, height, title, xlim=(-180, 180), ylim=(-90, 90)):
    return el.opts(width=width, height=height, title=title, xlim=xlim, ylim=ylim,
                   xlabel="longitude (°E)", ylabel="latitude (°N)")


def _extent(df: pd.DataFrame, pad: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """(xlim, ylim) around the positions of ``df`` with ``pad`` degrees, within the world."""
    if df.empty:
        return (-180.0, 180.0), (-90.0, 90.0)
    lon, lat = df["longitude"], df["latitude"]
    return ((max(-180.0, float(lon.min()) - pad), min(180.0, float(lon.max()) + pad)),
            (max(-90.0, float(lat.min()) - pad), min(90.0, float(lat.max()) + pad)))


def position_points(df: pd.DataFrame):
    """``hv.Points`` of positions (lon/lat in degrees) with platform and cycle as values."""
    hv = _holoviews()
    vdims = [c for c in ("platform_number", "cycle_number") if c in df]
    return hv.Points(df, ["longitude", "latitude"], vdims)


def rasterize_positions(points, *, dynamic: bool = True, x_range=(-180, 180), y_range=(-90, 90),
                        width: int = 900, height: int = 480):
    """Datashader count raster of position points (re-aggregated on pan/zoom when ``dynamic``)."""
    from holoviews.operation.datashader import rasterize

    kw = {} if dynamic else {"width": width, "height": height}
    return rasterize(points, aggregator="count", dynamic=dynamic, x_range=x_range, y_range=y_range, **kw).opts(
        cmap="viridis", cnorm="eq_hist", colorbar=True, tools=["hover", "tap"], clabel="profiles",
        clipping_colors={"min": "transparent", "NaN": "transparent"})


def position_map(df: pd.DataFrame, *, width: int = 900, height: int = 480, title: str = "Argo profile positions"):
    """Every position rasterized with datashader (re-aggregated on zoom) over coastlines."""
    from holoviews.operation.datashader import dynspread

    raster = dynspread(rasterize_positions(position_points(df)), threshold=0.8, max_px=4)
    return _map_opts(raster * coastlines(), width, height, title)


def trajectory_plot(traj: pd.DataFrame, *, color: str = "#e65100"):
    """A float's path (line) and its cycles (points, hover: cycle, time) in time order."""
    hv = _holoviews()
    t = traj.sort_values("juld") if "juld" in traj else traj
    kdims = ["longitude", "latitude"]
    vdims = [c for c in ("platform_number", "cycle_number", "juld") if c in t]
    path = hv.Path(t[kdims], kdims).opts(color=color, line_width=2)
    pts = hv.Points(t, kdims, vdims).opts(color=color, size=5, tools=["hover"], line_color="white")
    if len(t):
        last = hv.Points(t.iloc[[-1]], kdims, vdims).opts(color=color, size=11, marker="triangle",
                                                          line_color="black")
        return path * pts * last
    return path * pts


def highlight_points(df: pd.DataFrame, *, color: str = "#ff1744"):
    """Positions of the latest chat answer, drawn as open circles above the raster."""
    hv = _holoviews()
    vdims = [c for c in ("platform_number", "cycle_number", "juld") if c in df]
    return hv.Points(df, ["longitude", "latitude"], vdims).opts(
        marker="circle", size=7, fill_alpha=0, line_color=color, line_width=1.5, tools=["hover"])


def value_map(df: pd.DataFrame, value: str = "value", *, width: int = 900, height: int = 480, title: str = "",
              cmap: str = "RdYlBu_r"):
    """Points coloured by a value (a depth slice, a regional mean), rasterized (mean) when large."""
    hv = _holoviews()
    sub = df.dropna(subset=["longitude", "latitude"])
    vdims = [value] + [c for c in ("platform_number", "cycle_number", "juld") if c in sub and c != value]
    pts = hv.Points(sub, ["longitude", "latitude"], vdims)
    if len(sub) > RASTERIZE_ABOVE:
        import datashader as ds
        from holoviews.operation.datashader import rasterize

        el = rasterize(pts, aggregator=ds.mean(value)).opts(cmap=cmap, colorbar=True, tools=["hover"])
    else:
        el = pts.opts(color=value, cmap=cmap, colorbar=True, size=6, tools=["hover"], line_color=None)
    xlim, ylim = _extent(sub, 5.0)
    return _map_opts(el * coastlines(bbox=(xlim[0], ylim[0], xlim[1], ylim[1])), width, height,
                     title or label(value), xlim, ylim)


# ----------------------------------------------------------------------------- profiles
def level_parameters(levels: pd.DataFrame) -> list[str]:
    """Parameter columns of a ``profile_levels`` frame (``temp``, ``psal``, ``doxy``…), core first."""
    skip = {"profile_id", "platform_number", "cycle_number", "juld", "latitude", "longitude", "axis", "pres",
            "direction", "pres_target", "value"}
    suffixes = ("_qc", "_mode", "_raw", "_adjusted", "_adjusted_error", "_raw_qc", "_adjusted_qc")
    out = [c for c in levels.columns if c not in skip and not c.endswith(suffixes)
           and pd.api.types.is_numeric_dtype(levels[c])]
    return sorted(out, key=lambda c: (c not in ("temp", "psal"), c))


def _value_column(levels: pd.DataFrame, parameter: str, values: str) -> tuple[str, str | None]:
    """(value column, qc column) for ``values`` in {"chosen", "raw", "adjusted"}."""
    if values == "raw" and f"{parameter}_raw" in levels:
        return f"{parameter}_raw", f"{parameter}_raw_qc" if f"{parameter}_raw_qc" in levels else None
    if values == "adjusted" and f"{parameter}_adjusted" in levels:
        return f"{parameter}_adjusted", (f"{parameter}_adjusted_qc" if f"{parameter}_adjusted_qc" in levels
                                         else None)
    if values in ("raw", "adjusted"):
        raise KeyError(f"{values} values of {parameter} need the expert-mode levels (columns "
                       f"{parameter}_raw/{parameter}_adjusted)")
    return parameter, f"{parameter}_qc" if f"{parameter}_qc" in levels else None


def profile_plot(levels: pd.DataFrame, parameter: str = "temp", *, values: str = "chosen", show_qc: bool = False,
                 width: int = 420, height: int = 520, title: str | None = None, max_profiles: int = 200):
    """Parameter vs pressure, one line per profile, pressure increasing downward.

    Parameters
    ----------
    levels
        A ``dal.profile_levels`` frame (long format, one row per level).
    parameter
        Lower-case Argo parameter column, e.g. ``"temp"`` (°C), ``"psal"``, ``"doxy"``.
    values
        ``"chosen"`` (the QC mode's value), ``"raw"`` or ``"adjusted"`` (expert-mode frames).
    show_qc
        Colour each level by its QC flag (expert view).
    """
    hv = _holoviews()
    col, qc = _value_column(levels, parameter, values)
    keep = ["profile_id", "platform_number", "cycle_number", "pres", col] + ([qc] if qc else [])
    df = levels[[c for c in keep if c in levels]].dropna(subset=["pres"])
    if "axis" in levels and parameter not in ("temp", "psal", "pres"):
        df = df[levels.loc[df.index, "axis"] == "bgc"] if (levels["axis"] == "bgc").any() else df
    ids = list(dict.fromkeys(df["profile_id"])) if "profile_id" in df else [None]
    shown = ids[:max_profiles]
    curves = []
    if len(shown) > MANY_PROFILES and "profile_id" in df:
        curves = _profile_lines(df, shown, col)
        shown_curves: list = []
    else:
        shown_curves = shown
    for pid in shown_curves:   # one curve per profile (≤ max_profiles), the levels themselves stay columnar
        d = df if pid is None else df[df["profile_id"] == pid]
        d = d.dropna(subset=[col]).sort_values("pres")
        name = f"{d['platform_number'].iloc[0]} c{int(d['cycle_number'].iloc[0])}" if len(d) and \
            "platform_number" in d and "cycle_number" in d else str(pid)
        curves.append(hv.Curve(d, col, ["pres", "platform_number", "cycle_number"] if "cycle_number" in d else
                               ["pres"], label=name if len(shown) <= 10 else "").opts(
            line_width=1.5, tools=["hover"], color=PALETTE[len(curves) % len(PALETTE)]))
    overlay = hv.Overlay(curves) if curves else hv.Overlay([hv.Curve([], col, "pres")])
    if show_qc and qc:
        d = df.dropna(subset=[col]).copy()
        d["qc_flag"] = d[qc].fillna(9).astype(int).map(lambda f: QC_LABELS.get(f, str(f)))
        colors = {QC_LABELS[k]: v for k, v in QC_COLORS.items()}
        overlay = overlay * hv.Points(d, [col, "pres"], ["qc_flag"]).opts(
            color="qc_flag", cmap=colors, size=4, tools=["hover"], show_legend=True, legend_position="bottom_right")
    kind = {"chosen": "", "raw": " — raw", "adjusted": " — adjusted"}[values]
    more = f" (first {max_profiles} of {len(ids)})" if len(ids) > max_profiles else ""
    return overlay.opts(width=width, height=height, invert_yaxis=True, xlabel=label(parameter) + kind,
                        ylabel="pressure (dbar)", show_legend=len(shown) <= 10, legend_position="bottom_right",
                        title=title if title is not None else f"{label(parameter)}, {len(shown)} profile(s){more}")


#: Above this many profiles a profile plot draws them as ``len(PALETTE)`` NaN-separated lines (profile i in
#: colour i mod 10, no legend) instead of one curve per profile: at most 10 Bokeh renderers instead of up
#: to 200 (server build and browser draw time).
MANY_PROFILES = 10


def _profile_lines(df: pd.DataFrame, shown: list, col: str) -> list:
    """Profiles ``shown`` of ``df`` as ≤ 10 ``hv.Curve`` (x = ``col``, pressure as value), each holding
    every tenth profile with NaN rows between profiles (Bokeh breaks the line there)."""
    hv = _holoviews()
    d = df[df["profile_id"].isin(shown)].dropna(subset=[col])
    if d.empty:
        return [hv.Curve([], col, "pres")]
    rank_of = pd.Series(np.arange(len(shown)), index=pd.Index(shown))
    rank = rank_of.reindex(d["profile_id"].to_numpy()).to_numpy()
    order = np.lexsort((d["pres"].to_numpy(float), rank))          # by profile rank, then pressure
    cols = [c for c in (col, "pres", "platform_number", "cycle_number") if c in d]
    arrays = {c: d[c].to_numpy()[order] for c in cols}
    rank = rank[order]
    group = rank % len(PALETTE)
    curves = []
    for g in range(min(len(PALETTE), len(shown))):
        idx = np.flatnonzero(group == g)                             # rows of every tenth profile, in order
        if not len(idx):
            continue
        r = rank[idx]
        brk = np.flatnonzero(r[1:] != r[:-1]) + 1                    # a NaN row after each profile but the last
        take = np.insert(idx, brk, idx[brk - 1])
        gap = np.zeros(len(take), bool)
        gap[brk + np.arange(len(brk))] = True
        frame = pd.DataFrame({c: arrays[c][take] for c in cols})
        frame.loc[gap, [col, "pres"]] = np.nan
        curves.append(hv.Curve(frame, col, cols[1:]).opts(line_width=1.2, tools=["hover"], color=PALETTE[g]))
    return curves


# ----------------------------------------------------------------------------- T-S
def add_teos10(levels: pd.DataFrame) -> pd.DataFrame:
    """Absolute Salinity (g/kg), Conservative Temperature (°C) and σ0 (kg/m³) with TEOS-10.

    Needs ``temp`` (in-situ, ITS-90 °C), ``psal`` (PSU), ``pres`` (dbar), ``longitude``, ``latitude``.
    Rows lacking any of them get NaN.
    """
    import gsw

    out = levels.copy()
    lon = out["longitude"].to_numpy(float) if "longitude" in out else np.zeros(len(out))
    lat = out["latitude"].to_numpy(float) if "latitude" in out else np.zeros(len(out))
    sa = gsw.SA_from_SP(out["psal"].to_numpy(float), out["pres"].to_numpy(float), lon, lat)
    ct = gsw.CT_from_t(sa, out["temp"].to_numpy(float), out["pres"].to_numpy(float))
    out["SA"], out["CT"], out["sigma0"] = sa, ct, gsw.sigma0(sa, ct)
    return out


def sigma0_grid(sa_range: tuple[float, float], ct_range: tuple[float, float], n: int = 120):
    """σ0 (kg/m³) on an (SA, CT) grid: arrays ``sa`` (n), ``ct`` (n), ``sigma0`` (n, n) [ct, sa]."""
    import gsw

    sa = np.linspace(*sa_range, n)
    ct = np.linspace(*ct_range, n)
    SA, CT = np.meshgrid(sa, ct)
    return sa, ct, gsw.sigma0(SA, CT)


def ts_diagram(levels: pd.DataFrame, *, width: int = 520, height: int = 520, color_by: str = "pres",
               title: str = "T–S diagram (TEOS-10)"):
    """Conservative Temperature vs Absolute Salinity with σ0 contours (rasterized when large)."""
    hv = _holoviews()
    from holoviews.operation import contours

    need = [c for c in ("temp", "psal", "pres") if c not in levels]
    if need:
        raise KeyError(f"a T-S diagram needs the columns {need}")
    df = add_teos10(levels.dropna(subset=["temp", "psal", "pres"]))
    df = df[np.isfinite(df["SA"]) & np.isfinite(df["CT"])]
    if df.empty:
        return hv.Points([], ["SA", "CT"]).opts(width=width, height=height, title=title + " — no valid T/S pairs")
    sa_lo, sa_hi = float(df["SA"].min()), float(df["SA"].max())
    ct_lo, ct_hi = float(df["CT"].min()), float(df["CT"].max())
    pad_s, pad_t = max((sa_hi - sa_lo) * 0.05, 0.05), max((ct_hi - ct_lo) * 0.05, 0.2)
    sa, ct, sig = sigma0_grid((sa_lo - pad_s, sa_hi + pad_s), (ct_lo - pad_t, ct_hi + pad_t))
    img = hv.Image((sa, ct, sig), ["SA", "CT"], "sigma0")
    lo, hi = np.floor(np.nanmin(sig) * 2) / 2, np.ceil(np.nanmax(sig) * 2) / 2
    step = 0.5 if hi - lo <= 8 else 1.0
    cont = contours(img, levels=list(np.arange(lo, hi + step, step))).opts(
        color="#78909c", line_width=0.8, line_dash="dashed", show_legend=False, tools=[], cmap=["#78909c"],
        colorbar=False)
    pts = hv.Points(df, ["SA", "CT"], [color_by, "sigma0"] if color_by in df else ["sigma0"])
    if len(df) > RASTERIZE_ABOVE:
        import datashader as ds
        from holoviews.operation.datashader import rasterize

        scatter = rasterize(pts, aggregator=ds.mean(color_by) if color_by in df else "count").opts(
            cmap="viridis_r", colorbar=True, clabel=label(color_by), tools=["hover"])
    else:
        scatter = pts.opts(color=color_by if color_by in df else "#1565c0", cmap="viridis_r", colorbar=True,
                           size=3, tools=["hover"], line_color=None, clabel=label(color_by))
    return (cont * scatter).opts(width=width, height=height, title=title,
                                 xlabel="Absolute Salinity SA (g/kg)", ylabel="Conservative Temperature Θ (°C)")


# ----------------------------------------------------------------------------- answers
def timeseries_plot(df: pd.DataFrame, x: str, y: str, *, by: str | None = None, title: str = "",
                    width: int = 760, height: int = 360):
    """A line + markers of ``y`` over time (``x``), optionally one line per ``by`` group."""
    hv = _holoviews()
    d = df.dropna(subset=[x, y]).sort_values(x)
    groups = [(None, d)] if not by or by not in d else list(d.groupby(by, sort=False))[:20]
    layers = []
    for key, g in groups:
        lab = "" if key is None else str(key)
        layers += [hv.Curve(g, x, y, label=lab), hv.Scatter(g, x, y, label=lab).opts(size=4, tools=["hover"])]
    if "std" in d and by is None and y == "mean":
        layers.insert(0, hv.Spread(d, x, [y, "std"]).opts(alpha=0.2))
    return hv.Overlay(layers).opts(width=width, height=height, title=title, ylabel=label(y), xlabel=x)


def render_answer(answer, *, width: int = 760, height: int = 420):
    """Render an ``Answer``'s plot recipe (``answer.plot`` dict, contract section 4) to HoloViews.

    Returns ``None`` for ``kind="table"``, no recipe, or an empty frame (the table is the answer).
    Accepts an ``Answer`` or a ``(frame, recipe)`` tuple.
    """
    if isinstance(answer, tuple):
        frame, recipe = answer
    else:
        frame = getattr(answer, "frame", None)
        recipe = getattr(answer, "plot", None)
        recipe = getattr(answer, "plot_recipe", None) or (recipe if isinstance(recipe, dict) else None)
    if not recipe or frame is None or len(frame) == 0:
        return None
    kind = recipe.get("kind", "table")
    title = recipe.get("title", "")
    x, y, by = recipe.get("x"), recipe.get("y"), recipe.get("by")
    hv = _holoviews()
    if kind == "table":
        return None
    if kind == "map":
        if y and y in frame and y not in ("latitude",) and pd.api.types.is_numeric_dtype(frame[y]) \
                and y not in ("cycle_number",):
            return value_map(frame, y, width=width, height=height, title=title)
        if recipe.get("c") and recipe["c"] in frame:
            return value_map(frame, recipe["c"], width=width, height=height, title=title)
        sub = frame.dropna(subset=["longitude", "latitude"])
        if len(sub) > RASTERIZE_ABOVE:
            return position_map(sub, width=width, height=height, title=title or "positions")
        pts = highlight_points(sub, color="#1565c0").opts(fill_alpha=0.5, fill_color="#1565c0")
        xlim, ylim = _extent(sub, 5.0)
        el = pts * coastlines(bbox=(xlim[0], ylim[0], xlim[1], ylim[1]))
        return _map_opts(el, width, height, title or f"{len(sub):,} positions", xlim, ylim)
    if kind == "depth_slice":
        return value_map(frame, y or "value", width=width, height=height, title=title)
    if kind == "trajectory":
        xlim, ylim = _extent(frame.dropna(subset=["longitude", "latitude"]), 3.0)
        t = trajectory_plot(frame) * coastlines(bbox=(xlim[0], ylim[0], xlim[1], ylim[1]))
        return _map_opts(t, width, height, title or "trajectory", xlim, ylim)
    if kind == "profiles":
        param = x if x and x in frame else (level_parameters(frame) or ["temp"])[0]
        return profile_plot(frame, param, width=min(width, 520), height=height, title=title or None,
                            show_qc=bool(recipe.get("show_qc")))
    if kind == "ts":
        return ts_diagram(frame, width=min(width, 560), height=height, title=title or "T–S diagram (TEOS-10)")
    if kind == "timeseries":
        return timeseries_plot(frame, x or "month", y or "mean", by=by, title=title, width=width, height=height)
    if kind == "bar":
        d = frame if not recipe.get("top") else frame.head(int(recipe["top"]))
        return hv.Bars(d, x, y).opts(width=width, height=height, title=title, xrotation=45, tools=["hover"])
    if kind == "scatter":
        return hv.Scatter(frame, x, y).opts(width=width, height=height, title=title, size=4, tools=["hover"])
    raise ValueError(f"unknown plot kind {kind!r}; known: map, profiles, ts, timeseries, depth_slice, "
                     "trajectory, bar, scatter, table")
