"""FloatMap: every profile position (or the latest float positions) rasterized with datashader
over the bundled Natural Earth coastlines; tap a float to see its trajectory.

>>> from workbench.floatmap import FloatMap
>>> fmap = FloatMap(float_type="bgc", time_range=("2020-01-01", "2023-12-31"))   # doctest: +SKIP
>>> fmap.selected_float = "2902269"     # overlays that float's trajectory      # doctest: +SKIP
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import panel as pn
import param

from . import plots

log = logging.getLogger(__name__)

EMPTY_POSITIONS = pd.DataFrame({"platform_number": pd.Series(dtype=str), "cycle_number": pd.Series(dtype=int),
                                "juld": pd.Series(dtype="datetime64[ns, UTC]"),
                                "latitude": pd.Series(dtype=float), "longitude": pd.Series(dtype=float)})
EMPTY_TRAJ = EMPTY_POSITIONS.assign(direction=pd.Series(dtype=str))


def highlight_columns(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """The highlight layer's ``ColumnDataSource`` columns for positions ``df`` (``EMPTY_POSITIONS``'
    columns), as HoloViews' ``PointPlot.get_data`` makes them for ``plots.highlight_points(df)``:
    coordinates as floats, the float and cycle as they are, times without their (UTC) zone. Built
    directly: the element and its plot data took ~4.5 of the ~6.5 ms an answer's highlight cost on
    the event loop. ``test_highlight_columns_are_holoviews_own`` holds it to HoloViews' result."""
    juld = df["juld"]
    if isinstance(juld.dtype, pd.DatetimeTZDtype):
        juld = juld.dt.tz_convert("UTC").dt.tz_localize(None)
    times = juld.to_numpy(dtype="datetime64[ns]") if juld.dtype.kind == "M" else juld.to_numpy()   # none: NaN
    return {"longitude": df["longitude"].to_numpy(dtype=float), "latitude": df["latitude"].to_numpy(dtype=float),
            "platform_number": df["platform_number"].to_numpy(dtype=object),
            "cycle_number": df["cycle_number"].to_numpy(), "juld": times}


def nearest_float(lon: float, lat: float, latest: pd.DataFrame | None = None) -> dict[str, Any] | None:
    """The float whose latest position is nearest (lon, lat in degrees): DAL ``nearest_floats``.

    Until the DAL has ``nearest_floats``, the great-circle nearest of ``latest`` (columnar numpy).
    """
    from floatchat_core.db import dal

    if hasattr(dal, "nearest_floats"):
        df = dal.nearest_floats(lon, lat, k=1)
        return None if df.empty else df.iloc[0].to_dict()
    latest = dal.latest_positions() if latest is None else latest
    if latest.empty:
        return None
    la1, lo1 = np.radians(lat), np.radians(lon)
    la2, lo2 = np.radians(latest["latitude"].to_numpy(float)), np.radians(latest["longitude"].to_numpy(float))
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    d = 2 * 6_371_000.0 * np.arcsin(np.sqrt(h))
    i = int(np.nanargmin(d))
    return dict(latest.iloc[i].to_dict(), distance_m=float(d[i]))


def _one_glyph(plot, element) -> None:
    """HoloViews hook: leave a layer's selection, non-selection and muted glyphs to BokehJS.

    HoloViews adds a glyph model for each (4 per layer). The map's layers are never selected or muted
    (the box-select tool only reports its bounds), and each model is walked again at every change to
    the page, once per chat answer: this keeps one glyph per layer."""
    renderer = plot.handles.get("glyph_renderer")
    if renderer is not None:
        renderer.update(selection_glyph="auto", nonselection_glyph="auto", muted_glyph="auto")


class FloatMap(pn.viewable.Viewer):
    """Datashader map of Argo positions with filters, tap-to-trajectory and answer highlights.

    Filters map one-to-one onto DAL filters (``profile_positions(**filters)``).

    >>> fmap = FloatMap()                                  # doctest: +SKIP
    >>> fmap.filters()                                     # doctest: +SKIP
    {}
    >>> fmap.param.update(region="Arabian Sea", parameter="DOXY")   # doctest: +SKIP
    """

    latest_only = param.Boolean(default=False, doc="Show each float's latest position instead of every profile.")
    time_range = param.Tuple(default=None, length=2, allow_None=True,
                             doc="(start, end) UTC of the profiles shown; anything pd.Timestamp takes.")
    parameter = param.String(default=None, allow_None=True, doc="Only profiles holding this Argo parameter (DOXY…).")
    float_type = param.Selector(default=None, objects=[None, "core", "bgc", "deep"], doc="Only this float type.")
    qc_mode = param.Selector(default="standard", objects=["research", "standard", "expert"],
                             doc="research: delayed-mode profiles only; standard/expert: all positions.")
    region = param.String(default=None, allow_None=True, doc="Named ocean region (resolved by the DAL).")
    box = param.Tuple(default=None, length=4, allow_None=True,
                      doc="(west, south, east, north) degrees, drawn with the box-select tool.")
    selected_float = param.String(default=None, allow_None=True, doc="Platform number whose trajectory is drawn.")
    highlight = param.DataFrame(default=None, allow_None=True, doc="Positions to ring (the latest chat answer).")
    positions = param.DataFrame(default=None, allow_None=True, doc="The positions currently rasterized.")
    status = param.String(default="", doc="What is shown, or why nothing is (empty database, failed query).")
    width = param.Integer(default=900, doc="Plot width (px).")
    height = param.Integer(default=480, doc="Plot height (px).")

    def __init__(self, **params):
        import holoviews as hv

        plots._holoviews()
        super().__init__(**params)
        self._latest = None
        self._hv_pane = None                    # the map's HoloViews pane, made by the first render
        self._pos_pipe = hv.streams.Pipe(data=EMPTY_POSITIONS)
        self._traj_pipe = hv.streams.Pipe(data=EMPTY_TRAJ)
        self._hl_pipe = hv.streams.Pipe(data=EMPTY_POSITIONS)
        points = hv.DynamicMap(lambda data: plots.position_points(data), streams=[self._pos_pipe])
        from holoviews.operation.datashader import dynspread

        # dynspread grows isolated pixels so a few floats stay visible on a world map
        self._raster = dynspread(plots.rasterize_positions(points), threshold=0.8, max_px=3).opts(
            tools=["hover", "tap", "box_select"], active_tools=["wheel_zoom"])
        self._tap = hv.streams.Tap(source=self._raster, x=None, y=None)
        self._tap.add_subscriber(self._on_tap)
        self._bounds = hv.streams.BoundsXY(source=self._raster, bounds=None)
        self._bounds.add_subscriber(self._on_bounds)
        traj = hv.DynamicMap(lambda data: plots.trajectory_plot(data), streams=[self._traj_pipe])
        hl = hv.DynamicMap(lambda data: plots.highlight_points(data), streams=[self._hl_pipe])
        self._plot = (self._raster * plots.dynamic_coastlines() * hl * traj).opts(
            {"Points": {"hooks": [_one_glyph]}, "Path": {"hooks": [_one_glyph]}, "Image": {"hooks": [_one_glyph]},
             "Overlay": {"width": self.width, "height": self.height, "xlim": (-180, 180), "ylim": (-90, 90),
                         "xlabel": "longitude (°E)", "ylabel": "latitude (°N)", "title": "Argo profile positions"}})
        self._status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._update_positions()

    # ------------------------------------------------------------------ queries
    def filters(self) -> dict[str, Any]:
        """The DAL filters of the current widget state (only those set)."""
        f: dict[str, Any] = {}
        if self.time_range:
            t0, t1 = self.time_range
            if t0 is not None:
                f["time_start"] = t0
            if t1 is not None:
                f["time_end"] = t1
        if self.parameter:
            f["parameters"] = [self.parameter.upper()]
        if self.float_type:
            f["float_type"] = self.float_type
        if self.qc_mode == "research":
            f["data_mode"] = "D"
        if self.region:
            f["region"] = self.region
        if self.box:
            f["box"] = tuple(float(v) for v in self.box)
        return f

    def fetch_positions(self) -> pd.DataFrame:
        """Positions for the current filters from the DAL (all profiles, or latest per float)."""
        from floatchat_core.db import dal

        if self.latest_only:
            df = dal.latest_positions()
            self._latest = df
            if self.float_type and "float_type" in df:
                df = df[df["float_type"] == self.float_type]
            return df
        f = self.filters()
        return dal.profile_positions(**f) if f else dal.profile_positions()

    @param.depends("latest_only", "time_range", "parameter", "float_type", "qc_mode", "region", "box",
                   watch=True)
    def _update_positions(self) -> None:
        try:
            df = self.fetch_positions()
        except Exception as exc:   # a failing query is a message, never a dead server
            log.warning("workbench.map_query_failed filters=%s error=%s", self.filters(), exc)
            self.status = f"⚠️ The map query failed: {exc}"
            df = EMPTY_POSITIONS
        else:
            what = "latest float positions" if self.latest_only else "profile positions"
            n_floats = df["platform_number"].nunique() if "platform_number" in df else 0
            self.status = (f"**{len(df):,}** {what} from **{n_floats:,}** floats" if len(df) else
                           "No positions to show: the database is empty (run `floatchat ingest …` or "
                           "`make demo`) or no profile matches the filters.")
        self.positions = df

    @param.depends("positions", watch=True)
    def _update_raster(self) -> None:
        df = self.positions if self.positions is not None else EMPTY_POSITIONS
        self._pos_pipe.send(df)

    @param.depends("status", watch=True)
    def _update_status(self) -> None:
        self._status.object = self.status

    # ------------------------------------------------------------------ interaction
    def _on_tap(self, x=None, y=None, **kw) -> None:
        if x is None or y is None:
            return
        try:
            hit = nearest_float(float(x), float(y), self._latest)
        except Exception as exc:
            self.status = f"⚠️ Could not find the nearest float: {exc}"
            return
        if hit is not None:
            self.selected_float = str(hit["platform_number"])

    def _on_bounds(self, bounds=None, **kw) -> None:
        if bounds is not None:
            w, s, e, n = (float(v) for v in bounds)
            self.box = (max(w, -180.0), max(s, -90.0), min(e, 180.0), min(n, 90.0))

    @param.depends("selected_float", watch=True)
    def _update_trajectory(self) -> None:
        from floatchat_core.db import dal

        if not self.selected_float:
            self._traj_pipe.send(EMPTY_TRAJ)
            return
        try:
            traj = dal.float_trajectory(self.selected_float)
        except Exception as exc:
            self.status = f"⚠️ Could not read the trajectory of {self.selected_float}: {exc}"
            return
        self._traj_pipe.send(traj)
        if len(traj):
            t0, t1 = traj["juld"].min(), traj["juld"].max()
            self.status = (f"Float **{self.selected_float}**: {len(traj):,} cycles, "
                           f"{t0:%Y-%m-%d} → {t1:%Y-%m-%d} (▲ = latest position)")

    @param.depends("highlight", watch=True)
    def _update_highlight(self) -> None:
        df = self.highlight
        if df is None or not {"longitude", "latitude"} <= set(df.columns):
            df = EMPTY_POSITIONS
        # one schema for every highlight, so the layer's hover fields never change
        df = df.dropna(subset=["longitude", "latitude"]).reindex(columns=list(EMPTY_POSITIONS.columns))
        self._hl_pipe.update(data=df)          # what a later render of the map draws
        if not self._push_highlight(df):
            self._hl_pipe.trigger([self._hl_pipe])

    def _push_highlight(self, df: pd.DataFrame) -> bool:
        """Replace the highlight layer's data in every rendered map (each browser tab showing it).

        Only that layer's ``ColumnDataSource`` changes, in columns HoloViews' own ``get_data`` builds:
        a stream event re-runs the whole overlay (raster, coastlines, trajectory): ~45 ms of the event
        loop per chat answer against ~3 ms. False when the map is not rendered yet.
        """
        pane = self._hv_pane
        if pane is None or not pane._plots:
            return False
        data = highlight_columns(df)
        # one plot can be registered under several roots (the template renders the page with a root of
        # its own first): each plot once, or the same data is sent twice
        for plot in {id(p): p for p, _ in list(pane._plots.values())}.values():
            layers = [sp for sp in getattr(plot, "subplots", {}).values()
                      if any(s is self._hl_pipe for s in getattr(sp, "streams", ()))]
            if len(layers) != 1 or "source" not in layers[0].handles:
                return False
            layers[0].handles["source"].data = dict(data)
        return True

    def clear(self) -> None:
        """Remove the drawn box, the selected float and the highlights."""
        self.param.update(box=None, selected_float=None, highlight=None)

    # ------------------------------------------------------------------ view
    def controls(self) -> pn.Column:
        """Filter widgets bound to the params."""
        start = pn.widgets.DatePicker(label="From (UTC)")
        end = pn.widgets.DatePicker(label="To (UTC)")

        def _time(_):
            rng = (start.value, end.value)
            self.time_range = rng if any(v is not None for v in rng) else None
        start.param.watch(_time, "value")
        end.param.watch(_time, "value")
        param_w = pn.widgets.TextInput(label="Parameter (e.g. DOXY)", placeholder="any")
        param_w.param.watch(lambda e: setattr(self, "parameter", e.new.strip() or None), "value")
        region = pn.widgets.TextInput(label="Region (e.g. Arabian Sea)", placeholder="anywhere")
        region.param.watch(lambda e: setattr(self, "region", e.new.strip() or None), "value")
        ftype = pn.widgets.Select(label="Float type", options={"any": "", "core": "core", "BGC": "bgc", "deep": "deep"},
                                  value=self.float_type or "")
        ftype.param.watch(lambda e: setattr(self, "float_type", e.new or None), "value")
        clear = pn.widgets.Button(label="Clear box / selection")
        clear.on_click(lambda e: self.clear())
        return pn.Column(
            pn.widgets.Checkbox.from_param(self.param.latest_only, name="Latest positions only"),
            ftype,
            pn.widgets.Select.from_param(self.param.qc_mode, name="QC mode"),
            pn.Row(start, end), param_w, region, clear, width=260)

    def __panel__(self):
        if self._hv_pane is None:
            self._hv_pane = pn.pane.HoloViews(self._plot, sizing_mode="stretch_width", height=self.height + 20,
                                              linked_axes=False)
        return pn.Column(self._status, self._hv_pane, sizing_mode="stretch_width")
