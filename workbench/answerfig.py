"""Chat answers drawn as plain Bokeh figures (no HoloViews) for the common small answers.

A chat answer is drawn once and never re-aggregated, so the HoloViews layer (options
resolution, one plot object per element, a DynamicMap machinery) buys nothing there and cost
~0.25 s per answer on a 2-core machine, in the one process that serves every session. These
builders make the same pictures (coastlines from the bundled Natural Earth data, pressure
increasing downward, hover with platform and cycle) from a handful of Bokeh models.

Answers they do not cover (datashader-sized, time series, bars, T-S, expert QC colours) return
``None`` and are drawn by :func:`workbench.plots.render_answer`.

>>> import pandas as pd
>>> from workbench.answerfig import answer_figure
>>> fig = answer_figure((pd.DataFrame({"longitude": [60.0, 61.0], "latitude": [15.0, 15.5]}), {"kind": "map"}))
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from . import plots

log = logging.getLogger(__name__)

__all__ = ["answer_figure"]

_HOVER_COLS = ("platform_number", "cycle_number", "juld")
# Glyphs are added with ``fig.add_glyph``: one glyph model per renderer (the figure's glyph methods
# add non-selection and muted copies of each, which BokehJS derives itself when left unset).


def _recipe(answer: Any) -> tuple[pd.DataFrame | None, dict | None]:
    if isinstance(answer, tuple):
        return answer
    recipe = getattr(answer, "plot", None)
    recipe = getattr(answer, "plot_recipe", None) or (recipe if isinstance(recipe, dict) else None)
    return getattr(answer, "frame", None), recipe


def _source(df: pd.DataFrame, cols: list[str]):
    """A ColumnDataSource of ``cols`` of ``df``; times as naive UTC datetime64 (Bokeh's datetime axis)."""
    from bokeh.models import ColumnDataSource

    data = {}
    for c in cols:
        s = df[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        data[c] = s.to_numpy()
    return ColumnDataSource(data)


def _hover(fig, renderers, fields: list[tuple[str, str]]) -> None:
    from bokeh.models import HoverTool

    tips = [(name, f"@{{{col}}}{{%F %H:%M}}" if col == "juld" else f"@{{{col}}}") for name, col in fields]
    fig.add_tools(HoverTool(renderers=renderers, tooltips=tips, formatters={"@{juld}": "datetime"}))


def _figure(title: str, width: int, height: int, **kw):
    from bokeh.plotting import figure

    fig = figure(title=title, width=width, height=height, tools="pan,wheel_zoom,box_zoom,reset,save",
                 active_scroll="wheel_zoom", output_backend="canvas", **kw)
    fig.toolbar.logo = None
    return fig


def _map_figure(df: pd.DataFrame, title: str, width: int, height: int, pad: float):
    """A lon/lat figure around ``df``'s positions with the clipped 50m coastlines drawn."""
    (x0, x1), (y0, y1) = plots._extent(df, pad)
    fig = _figure(title, width, height, x_range=(x0, x1), y_range=(y0, y1), match_aspect=False)
    fig.xaxis.axis_label, fig.yaxis.axis_label = "longitude (°E)", "latitude (°N)"
    x, y = plots.coastline_paths("50m")
    m = max(x1 - x0, y1 - y0) * 0.1 + 1.0
    cx, cy = plots.clip_lines(x, y, (x0 - m, y0 - m, x1 + m, y1 + m))
    from bokeh.models import ColumnDataSource, Line

    # NaN rows break the line between coastlines
    fig.add_glyph(ColumnDataSource({"x": cx, "y": cy}), Line(x="x", y="y", line_color="#555555", line_width=0.6))
    return fig


def trajectory_figure(traj: pd.DataFrame, *, title: str = "trajectory", width: int = 760, height: int = 420,
                      color: str = "#e65100"):
    """A float's path and cycles in time order (▲ = latest position) over coastlines."""
    t = traj.dropna(subset=["longitude", "latitude"])
    t = t.sort_values("juld") if "juld" in t else t
    fig = _map_figure(t, title, width, height, 3.0)
    cols = ["longitude", "latitude"] + [c for c in _HOVER_COLS if c in t]
    src = _source(t, cols)
    from bokeh.models import ColumnDataSource, Line, Scatter

    fig.add_glyph(src, Line(x="longitude", y="latitude", line_color=color, line_width=2))
    pts = fig.add_glyph(src, Scatter(x="longitude", y="latitude", size=5, fill_color=color, line_color="white"))
    if len(t):
        last = ColumnDataSource({"x": [float(t["longitude"].iloc[-1])], "y": [float(t["latitude"].iloc[-1])]})
        fig.add_glyph(last, Scatter(x="x", y="y", marker="triangle", size=11, fill_color=color, line_color="black"))
    _hover(fig, [pts], [(c.replace("_", " "), c) for c in cols[2:]])
    return fig


def points_figure(df: pd.DataFrame, value: str | None = None, *, title: str = "", width: int = 760,
                  height: int = 420, cmap: str = "RdYlBu_r"):
    """Positions over coastlines, coloured by ``value`` (with a colour bar) when given."""
    from bokeh.models import ColorBar, LinearColorMapper, Scatter
    from bokeh.palettes import RdYlBu11

    sub = df.dropna(subset=["longitude", "latitude"] + ([value] if value else []))
    fig = _map_figure(sub, title or (plots.label(value) if value else f"{len(sub):,} positions"), width, height, 5.0)
    cols = ["longitude", "latitude"] + ([value] if value else []) + [c for c in _HOVER_COLS if c in sub and c != value]
    src = _source(sub, cols)
    if value:
        lo, hi = (float(sub[value].min()), float(sub[value].max())) if len(sub) else (0.0, 1.0)
        mapper = LinearColorMapper(palette=RdYlBu11 if cmap == "RdYlBu_r" else cmap, low=lo, high=hi)
        pts = fig.add_glyph(src, Scatter(x="longitude", y="latitude", size=6, line_color=None,
                                         fill_color={"field": value, "transform": mapper}))
        fig.add_layout(ColorBar(color_mapper=mapper, title=plots.label(value)), "right")
    else:
        pts = fig.add_glyph(src, Scatter(x="longitude", y="latitude", size=7, fill_alpha=0.5, fill_color="#1565c0",
                                         line_color="#1565c0", line_width=1.5))
    _hover(fig, [pts], [(c.replace("_", " "), c) for c in cols[2:]])
    return fig


def profiles_figure(levels: pd.DataFrame, parameter: str, *, title: str | None = None, width: int = 520,
                    height: int = 420, max_profiles: int = 200):
    """``parameter`` vs pressure (dbar, increasing downward), one line per profile (≤ ``max_profiles``),
    coloured in turn from ``plots.PALETTE``; NaN levels break a line, never join across a gap."""
    col, _ = plots._value_column(levels, parameter, "chosen")
    d = levels.dropna(subset=["pres"])
    if "axis" in d and parameter not in ("temp", "psal", "pres") and (d["axis"] == "bgc").any():
        d = d[d["axis"] == "bgc"]
    key = "profile_id" if "profile_id" in d else None
    ids = pd.unique(d[key]) if key else np.array([0])
    shown = ids[:max_profiles]
    more = f" (first {max_profiles} of {len(ids)})" if len(ids) > max_profiles else ""
    fig = _figure(title if title is not None else f"{plots.label(parameter)}, {len(shown)} profile(s){more}",
                  width, height)
    fig.xaxis.axis_label, fig.yaxis.axis_label = plots.label(parameter), "pressure (dbar)"
    fig.y_range.flipped = True
    if key:
        d = d[d[key].isin(shown)]
        rank = pd.Series(np.arange(len(shown)), index=pd.Index(shown)).reindex(d[key].to_numpy()).to_numpy()
    else:
        rank = np.zeros(len(d), dtype=int)
    order = np.lexsort((d["pres"].to_numpy(float), rank))
    x, y, rank = d[col].to_numpy(float)[order], d["pres"].to_numpy(float)[order], rank[order]
    starts = np.flatnonzero(np.r_[True, rank[1:] != rank[:-1]])
    xs, ys = np.split(x, starts[1:]), np.split(y, starts[1:])
    colors = [plots.PALETTE[int(r) % len(plots.PALETTE)] for r in rank[starts]]
    names = [""] * len(starts)
    if key and {"platform_number", "cycle_number"} <= set(d.columns):
        first = d.iloc[order[starts]]
        names = (first["platform_number"].astype(str) + " c" + first["cycle_number"].astype(int).astype(str)).tolist()
    from bokeh.models import ColumnDataSource, MultiLine

    src = ColumnDataSource({"xs": xs, "ys": ys, "color": colors, "profile": names})
    r = fig.add_glyph(src, MultiLine(xs="xs", ys="ys", line_color="color", line_width=1.5))
    _hover(fig, [r], [("profile", "profile")])
    return fig


def answer_figure(answer: Any, *, width: int = 760, height: int = 420):
    """A plain Bokeh figure for ``answer`` (an ``Answer`` or ``(frame, recipe)``), or ``None`` when the
    answer has no plot or needs the HoloViews path (large, time series, bars, T-S, QC colours)."""
    frame, recipe = _recipe(answer)
    if not recipe or frame is None or len(frame) == 0 or len(frame) > plots.RASTERIZE_ABOVE:
        return None
    kind, title = recipe.get("kind", "table"), recipe.get("title", "")
    x, y = recipe.get("x"), recipe.get("y")
    has_pos = {"longitude", "latitude"} <= set(frame.columns)
    if kind == "trajectory" and has_pos:
        return trajectory_figure(frame, title=title or "trajectory", width=width, height=height)
    if kind == "profiles" and not recipe.get("show_qc") and "pres" in frame:
        param = x if x and x in frame else (plots.level_parameters(frame) or ["temp"])[0]
        return profiles_figure(frame, param, title=title or None, width=min(width, 520), height=height)
    if kind == "depth_slice" and has_pos:
        value = y or "value"
        return points_figure(frame, value, title=title, width=width, height=height) if value in frame else None
    if kind == "map" and has_pos:
        value = next((v for v in (y, recipe.get("c")) if v and v in frame and v not in ("latitude", "cycle_number")
                      and pd.api.types.is_numeric_dtype(frame[v])), None)
        return points_figure(frame, value, title=title, width=width, height=height)
    return None
