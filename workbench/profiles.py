"""ProfileView (parameter vs pressure, QC colours, raw vs adjusted) and TSDiagram (TEOS-10 σ0).

>>> from workbench.profiles import ProfileView, TSDiagram
>>> view = ProfileView(platform_number="2902269", n_latest=5, parameter="temp")   # doctest: +SKIP
>>> ts = TSDiagram(levels=view.levels)                                          # doctest: +SKIP
"""
from __future__ import annotations

import logging

import pandas as pd
import panel as pn
import param

from . import plots

log = logging.getLogger(__name__)


def _placeholder(text: str) -> pn.pane.Markdown:
    return pn.pane.Markdown(text, styles={"color": "#546e7a"}, sizing_mode="stretch_width")


class ProfileView(pn.viewable.Viewer):
    """One or many profiles: a parameter against pressure (dbar, increasing downward).

    Give ``profile_ids`` (DAL profile ids) or a ``platform_number`` (its ``n_latest`` profiles).
    ``value_kind="raw"``/``"adjusted"`` and ``show_qc`` read the expert-mode levels (raw and
    adjusted values with their QC flags); ``"chosen"`` shows what the QC mode selects.

    >>> ProfileView(profile_ids=[1, 2], mode="research", parameter="psal")   # doctest: +SKIP
    """

    profile_ids = param.List(default=[], doc="DAL profile ids to draw.")
    platform_number = param.String(default=None, allow_None=True,
                                   doc="A float whose latest profiles are drawn (sets profile_ids).")
    n_latest = param.Integer(default=5, bounds=(1, 200), doc="How many of the float's latest profiles.")
    parameter = param.Selector(default="temp", objects=["temp", "psal"], check_on_set=False,
                               doc="Lower-case Argo parameter column (temp °C, psal PSU, doxy µmol/kg…).")
    mode = param.Selector(default="standard", objects=["research", "standard", "expert"],
                          doc="QC mode of the DAL (research: delayed-mode adjusted QC 1 only).")
    value_kind = param.Selector(default="chosen", objects=["chosen", "raw", "adjusted"],
                            doc="Values drawn: the mode's choice, or raw / adjusted (expert levels).")
    show_qc = param.Boolean(default=False, doc="Colour levels by their QC flag (expert view).")
    levels = param.DataFrame(default=None, allow_None=True, doc="The profile_levels frame drawn.")
    status = param.String(default="", doc="What is shown, or why nothing is.")

    def __init__(self, **params):
        super().__init__(**params)
        self._pane = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=400)
        self._status = _placeholder("")
        if self.platform_number:
            self._update_float()
        elif self.profile_ids:
            self._update_levels()
        else:
            self._update_plot()

    def fetch_mode(self) -> str:
        """The DAL mode the current view needs (raw/adjusted/QC flags need expert levels)."""
        return "expert" if self.value_kind != "chosen" or (self.show_qc and self.mode == "expert") else self.mode

    @param.depends("platform_number", "n_latest", watch=True)
    def _update_float(self) -> None:
        from floatchat_core.db import dal

        if not self.platform_number:
            return
        try:
            prof = dal.find_profiles(platform_numbers=[self.platform_number], limit=self.n_latest,
                                     order="time_desc")
        except Exception as exc:
            self.status = f"⚠️ Could not list the profiles of {self.platform_number}: {exc}"
            return
        self.profile_ids = [int(i) for i in prof["profile_id"]]

    @param.depends("profile_ids", "mode", "value_kind", "show_qc", watch=True)
    def _update_levels(self) -> None:
        from floatchat_core.db import dal

        if not self.profile_ids:
            self.levels = None
            return
        try:
            self.levels = dal.profile_levels(list(self.profile_ids), mode=self.fetch_mode())
        except Exception as exc:
            log.warning("workbench.profile_levels_failed ids=%d error=%s", len(self.profile_ids), exc)
            self.status = f"⚠️ Could not read the profile levels: {exc}"
            self.levels = None

    @param.depends("levels", watch=True)
    def _update_parameters(self) -> None:
        if self.levels is None:
            return
        params = plots.level_parameters(self.levels) or ["temp"]
        self.param.parameter.objects = params
        if self.parameter not in params:
            self.parameter = params[0]

    @param.depends("levels", "parameter", "value_kind", "show_qc", watch=True)
    def _update_plot(self) -> None:
        df = self.levels
        if df is None or df.empty:
            self._pane.object = None
            if not self.status.startswith("⚠️"):
                self.status = "Select a float on the map (or ask a question) to see its profiles."
            return
        try:
            self._pane.object = plots.profile_plot(df, self.parameter, values=self.value_kind,
                                                   show_qc=self.show_qc)
        except KeyError as exc:
            self.status = f"⚠️ {exc.args[0]}"
            return
        n = df["profile_id"].nunique() if "profile_id" in df else 1
        self.status = f"{n} profile(s), mode **{self.fetch_mode()}**, {self.value_kind} values"

    @param.depends("status", watch=True)
    def _update_status(self) -> None:
        self._status.object = self.status

    def controls(self) -> pn.Row:
        return pn.Row(pn.widgets.Select.from_param(self.param.parameter, name="Parameter", width=130),
                      pn.widgets.Select.from_param(self.param.mode, name="QC mode", width=120),
                      pn.widgets.RadioButtonGroup.from_param(self.param.value_kind, width=220),
                      pn.widgets.Checkbox.from_param(self.param.show_qc, name="QC flags", width=90))

    def __panel__(self):
        return pn.Column(self.controls(), self._status, self._pane, sizing_mode="stretch_width")


class TSDiagram(pn.viewable.Viewer):
    """Temperature–salinity diagram: Conservative Temperature vs Absolute Salinity (TEOS-10) with
    σ0 contours; rasterized with datashader above ``plots.RASTERIZE_ABOVE`` points.

    >>> TSDiagram(profile_ids=[1, 2, 3])      # doctest: +SKIP
    """

    profile_ids = param.List(default=[], doc="DAL profile ids (ignored when ``levels`` is given).")
    levels = param.DataFrame(default=None, allow_None=True,
                             doc="A profile_levels frame with temp (°C), psal (PSU), pres (dbar), lon/lat.")
    mode = param.Selector(default="standard", objects=["research", "standard", "expert"], doc="QC mode.")
    color_by = param.Selector(default="pres", objects=["pres", "sigma0", "latitude", "cycle_number"],
                              doc="Colour of the points.")
    status = param.String(default="", doc="What is shown, or why nothing is.")

    def __init__(self, **params):
        super().__init__(**params)
        self._pane = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=400)
        self._status = _placeholder("")
        if self.levels is None and self.profile_ids:
            self._update_levels()
        self._update_plot()

    @param.depends("profile_ids", "mode", watch=True)
    def _update_levels(self) -> None:
        from floatchat_core.db import dal

        if not self.profile_ids:
            return
        try:
            self.levels = dal.profile_levels(list(self.profile_ids), parameters=["TEMP", "PSAL"], mode=self.mode)
        except Exception as exc:
            self.status = f"⚠️ Could not read the profile levels: {exc}"

    @param.depends("levels", "color_by", watch=True)
    def _update_plot(self) -> None:
        df = self.levels
        if df is None or df.empty or not {"temp", "psal", "pres"} <= set(df.columns):
            self._pane.object = None
            self.status = "A T–S diagram needs profiles with temperature and salinity."
            return
        self._pane.object = plots.ts_diagram(df, color_by=self.color_by)
        ok = df[["temp", "psal"]].notna().all(axis=1).sum()
        self.status = f"{ok:,} T/S pairs; dashed lines: σ0 (kg/m³, TEOS-10)"

    @param.depends("status", watch=True)
    def _update_status(self) -> None:
        self._status.object = self.status

    def __panel__(self):
        return pn.Column(pn.widgets.Select.from_param(self.param.color_by, name="Colour by", width=150),
                         self._status, self._pane, sizing_mode="stretch_width")


def levels_of(frame: pd.DataFrame) -> bool:
    """True when ``frame`` is a profile_levels frame (has pressure and a parameter column)."""
    return "pres" in frame and bool(plots.level_parameters(frame))
