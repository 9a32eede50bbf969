"""Workbench components on the real database with the bundled sample (5 real Argo floats):
parameters drive the right DAL queries, plots are built from the DAL frames."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import pytest

from floatchat_core.db import dal
from workbench import plots

SAMPLE_FLOATS = {"13857", "1900857", "2902269", "3902131", "5900865"}


def _elements(obj, kind):
    """All HoloViews elements of ``kind`` in a (possibly nested) overlay / DynamicMap."""
    if isinstance(obj, hv.DynamicMap):
        obj = obj[()] if not obj.kdims else obj.last
    if isinstance(obj, kind):
        return [obj]
    out = []
    if hasattr(obj, "values") and callable(obj.values) and isinstance(obj, (hv.Overlay, hv.NdOverlay)):
        for v in obj.values():
            out += _elements(v, kind)
    return out


def test_floatmap_rasterizes_every_sample_position(sample_db):
    from workbench.floatmap import FloatMap

    fmap = FloatMap()
    expected = dal.profile_positions()
    assert len(fmap.positions) == len(expected) == sample_db["n_profiles"] - _invalid_positions()
    assert set(fmap.positions["platform_number"]) == SAMPLE_FLOATS
    assert f"**{len(expected):,}** profile positions from **5** floats" in fmap.status
    # the rasterized count grid sums to the number of positions inside the world extent
    agg = hv.operation.datashader.rasterize(plots.position_points(fmap.positions), aggregator="count",
                                            dynamic=False, width=360, height=180,
                                            x_range=(-180, 180), y_range=(-90, 90))
    assert int(np.nansum(agg.data["longitude_latitude Count"].values)) == len(expected)
    bokeh_fig = hv.render(fmap._plot)
    assert bokeh_fig is not None


def _invalid_positions() -> int:
    from floatchat_core.db import get_engine
    from sqlalchemy import text

    with get_engine(readonly=True).connect() as c:
        return int(c.execute(text("SELECT count(*) FROM float_positions WHERE position_invalid")).scalar())


def test_floatmap_latest_only_and_float_type_filter(sample_db):
    from workbench.floatmap import FloatMap

    fmap = FloatMap(latest_only=True)
    latest = dal.latest_positions()
    assert len(fmap.positions) == len(latest) == 5
    types = latest.set_index("platform_number")["float_type"]
    assert types["3902131"] == "deep"              # ARVOR_D with an Sprof: deep outranks BGC
    assert types["2902269"] == "core"
    fmap.float_type = "deep"
    assert set(fmap.positions["platform_number"]) == {"3902131"}
    fmap.float_type = "core"
    assert set(fmap.positions["platform_number"]) == set(types[types == "core"].index)


def test_floatmap_tap_selects_nearest_float_and_draws_its_trajectory(sample_db):
    from workbench.floatmap import FloatMap

    fmap = FloatMap()
    latest = dal.latest_positions().set_index("platform_number")
    target = "2902269"
    lon, lat = latest.loc[target, ["longitude", "latitude"]]
    fmap._tap.event(x=float(lon) + 0.01, y=float(lat) - 0.01)      # what a click on the map sends
    assert fmap.selected_float == target
    traj = dal.float_trajectory(target)
    sent = fmap._traj_pipe.data
    assert len(sent) == len(traj) > 10
    assert sent["juld"].is_monotonic_increasing
    assert f"Float **{target}**: {len(traj):,} cycles" in fmap.status


def test_floatmap_failing_filter_is_a_message_not_a_crash(sample_db):
    from workbench.floatmap import FloatMap

    fmap = FloatMap()
    fmap.region = "No Such Ocean Anywhere zzz"
    assert fmap.status.startswith("⚠️") or "No positions" in fmap.status
    assert len(fmap.positions) == 0


def test_floatmap_highlight_takes_answer_positions(sample_db):
    from workbench.floatmap import FloatMap

    fmap = FloatMap()
    pos = dal.profile_positions().head(7)
    fmap.highlight = pos
    assert len(fmap._hl_pipe.data) == 7


def test_floatmap_highlight_updates_only_its_layer_in_a_rendered_map(sample_db):
    """In a rendered map (a Bokeh document, as a browser session has) an answer's highlight replaces
    the highlight layer's source data; the raster's source is left alone."""
    from bokeh.document import Document

    from workbench.floatmap import FloatMap

    fmap = FloatMap()
    view = fmap.__panel__()
    doc = Document()
    doc.add_root(view.get_root(doc))
    (plot, _), = fmap._hv_pane._plots.values()
    layers = {k: sp.handles["source"] for k, sp in plot.subplots.items()}
    raster_before = dict(layers[("Image", "I")].data)
    pos = dal.profile_positions().head(7)
    fmap.highlight = pos.drop(columns=["juld"])          # a frame without times still highlights
    data = layers[("Points", "I")].data
    assert sorted(data["platform_number"]) == sorted(pos["platform_number"])
    assert np.allclose(np.sort(data["longitude"]), np.sort(pos["longitude"].to_numpy()))
    assert set(data) == {"longitude", "latitude", "platform_number", "cycle_number", "juld"}
    assert layers[("Image", "I")].data.keys() == raster_before.keys()
    assert all(layers[("Image", "I")].data[k] is raster_before[k] for k in raster_before)
    fmap.highlight = None
    assert len(layers[("Points", "I")].data["longitude"]) == 0


def test_floatmap_highlight_is_sent_once_in_a_template_page(sample_db):
    """In a page built by a template (as the dashboard is) Panel registers the map's one plot under
    two roots; an answer's highlight still changes its layer's data once: one event to the browser."""
    import panel as pn
    from bokeh.document import Document

    from workbench.design import Bootstrap
    from workbench.floatmap import FloatMap

    fmap = FloatMap()
    doc = Document()
    pn.template.BootstrapTemplate(design=Bootstrap, main=[pn.Tabs(("Map", fmap), dynamic=True)]).server_doc(doc)
    plots_ = [plot for plot, _ in fmap._hv_pane._plots.values()]
    assert plots_ and len({id(p) for p in plots_}) == 1
    source = next(sp.handles["source"] for sp in plots_[0].subplots.values()
                  if any(s is fmap._hl_pipe for s in sp.streams))
    changes = []
    source.on_change("data", lambda attr, old, new: changes.append(len(new["longitude"])))
    fmap.highlight = dal.profile_positions().head(5)
    assert changes == [5]


def test_profile_view_draws_dal_levels_with_pressure_down(sample_db):
    from workbench.profiles import ProfileView

    view = ProfileView(platform_number="2902269", n_latest=3, parameter="temp")
    assert len(view.profile_ids) == 3
    lv = view.levels
    assert set(lv["profile_id"]) == set(view.profile_ids)
    assert {"pres", "temp", "temp_qc"} <= set(lv.columns)
    el = view._pane.object
    fig = hv.render(el)
    yr = fig.y_range                                     # pressure increases downward:
    assert getattr(yr, "flipped", False) is True or (yr.start is not None and yr.end is not None
                                                      and yr.start > yr.end)   # Range1d: start below
    curves = _elements(el, hv.Curve)
    assert len(curves) == 3
    for c in curves:
        d = c.dframe()
        assert d["pres"].max() > 500                      # real profiles reach depth
        assert d["temp"].between(-2.5, 35).all()


def test_profile_view_raw_vs_adjusted_uses_expert_levels(sample_db):
    from workbench.profiles import ProfileView

    view = ProfileView(platform_number="2902269", n_latest=2)
    assert view.fetch_mode() == "standard"
    view.value_kind = "raw"
    assert view.fetch_mode() == "expert"
    assert {"temp_raw", "temp_adjusted", "temp_raw_qc"} <= set(view.levels.columns)
    raw = _elements(view._pane.object, hv.Curve)[0].dframe()
    assert "temp_raw" in raw.columns


def test_profile_view_bgc_parameters_present_for_bgc_float(sample_db):
    from workbench.profiles import ProfileView

    view = ProfileView(platform_number="3902131", n_latest=2)
    assert "doxy" in view.param.parameter.objects
    view.parameter = "doxy"
    # the latest cycles' DOXY is real-time (parameter data mode R) and flagged 3/4 in the file:
    # standard mode (QC 1-2) honestly shows none of it; expert mode shows every value with its flag
    curves = _elements(view._pane.object, hv.Curve)
    assert all(c.dframe()["doxy"].isna().all() for c in curves)
    view.mode = "expert"
    curves = _elements(view._pane.object, hv.Curve)
    assert curves and curves[0].dframe()["doxy"].notna().any()
    flags = view.levels["doxy_qc"].dropna()
    assert set(flags[flags >= 0].unique()) <= {3, 4}          # -1: a blank flag (no DOXY at that level)


def test_ts_diagram_sigma0_from_teos10(sample_db):
    import gsw

    from workbench.profiles import TSDiagram

    ids = [int(i) for i in dal.find_profiles(platform_numbers=["2902269"], limit=4)["profile_id"]]
    ts = TSDiagram(profile_ids=ids)
    lv = ts.levels.dropna(subset=["temp", "psal", "pres"])
    assert len(lv) > 100
    d = plots.add_teos10(lv)
    sa = gsw.SA_from_SP(lv["psal"].values, lv["pres"].values, lv["longitude"].values, lv["latitude"].values)
    np.testing.assert_allclose(d["SA"], sa)
    np.testing.assert_allclose(d["sigma0"], gsw.sigma0(sa, gsw.CT_from_t(sa, lv["temp"].values, lv["pres"].values)))
    assert d["sigma0"].between(15, 30).all()
    hv.render(ts._pane.object)
    assert f"{len(lv):,} T/S pairs" in ts.status


def test_dataset_cards_from_statistics(sample_db):
    from workbench.cards import DatasetCards, card_html

    cards = DatasetCards()
    assert len(cards.cards) == 1
    c = cards.cards[0]
    assert c["name"] == "sample" and int(c["n_floats"]) == 5 and int(c["n_profiles"]) == sample_db["n_profiles"]
    h = card_html(c)
    assert "<svg" in h and f"{sample_db['n_profiles']:,}" in h and "<rect x=" in h   # bbox drawn
    cards.query = "zzzz-no-such-dataset"
    assert cards.cards == []


def test_render_answer_recipes_from_real_frames(sample_db):
    traj = dal.float_trajectory("1900857")
    assert plots.render_answer((traj, {"kind": "trajectory"})) is not None
    pos = dal.profile_positions()
    hv.render(plots.render_answer((pos, {"kind": "map", "title": "all"})))
    assert plots.render_answer((pos, {"kind": "table"})) is None
    assert plots.render_answer((pos.iloc[:0], {"kind": "map"})) is None
    with pytest.raises(ValueError, match="unknown plot kind"):
        plots.render_answer((pos, {"kind": "pie"}))
    monthly = pos.assign(month=pos["juld"].dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()) \
        .groupby("month").size().rename("mean").reset_index()
    hv.render(plots.render_answer((monthly, {"kind": "timeseries", "x": "month", "y": "mean"})))
    hv.render(plots.render_answer((monthly, {"kind": "bar", "x": "month", "y": "mean"})))


def test_every_component_renders_to_bokeh(sample_db):
    """What ``panel serve`` does per session: build each component's Bokeh model tree."""
    from bokeh.document import Document

    from workbench.admin import JobMonitor, UploadPanel
    from workbench.cards import DatasetCards
    from workbench.chat import ChatPane
    from workbench.floatmap import FloatMap
    from workbench.profiles import ProfileView, TSDiagram
    import panel as pn

    fmap = FloatMap()
    for comp in (fmap, fmap.controls(), ProfileView(platform_number="2902269"), TSDiagram(), DatasetCards(),
                 ChatPane(), JobMonitor(), UploadPanel()):
        root = pn.panel(comp).get_root(Document())
        assert root is not None


def test_cached_bootstrap_design_gives_panels_own_modifiers():
    """The workbench's design caches per component class what Panel's Bootstrap design computes per call:
    the same stylesheets and defaults, fresh copies each time."""
    import panel as pn
    from bokeh.document import Document
    from panel.theme.bootstrap import Bootstrap as PanelBootstrap

    from workbench.design import Bootstrap

    ours, panels = Bootstrap(theme="default"), PanelBootstrap(theme="default")
    widgets = [pn.widgets.Button(label="b"), pn.widgets.Tabulator(pd.DataFrame({"a": [1]})), pn.pane.Markdown("m"),
               pn.Column(), pn.chat.ChatAreaInput(), pn.widgets.CheckButtonGroup(options=["x"]), pn.Card()]
    for w in widgets:
        for _ in range(2):
            (mine, mine_children), (theirs, their_children) = ours.params(w, Document()), panels.params(w, Document())
            assert {k: v for k, v in mine.items() if k != "stylesheets"} == \
                   {k: v for k, v in theirs.items() if k != "stylesheets"}, type(w)
            assert [getattr(s, "url", s) for s in mine.get("stylesheets", [])] == \
                   [getattr(s, "url", s) for s in theirs.get("stylesheets", [])], type(w)
            assert mine_children == their_children
    first, _ = ours.params(widgets[0], Document())
    first["stylesheets"].append("changed by a caller")
    again, _ = ours.params(widgets[0], Document())
    assert "changed by a caller" not in again["stylesheets"]


def test_highlight_columns_are_holoviews_own(sample_db):
    """The highlight layer's columns, built directly, equal (values and dtypes) what HoloViews' own
    ``get_data`` makes of the highlight element, for real answers' positions, positions without
    times, and none."""
    from bokeh.document import Document

    from floatchat_core.chat import ChatSession
    from workbench import plots
    from workbench.chat import answer_positions
    from workbench.floatmap import EMPTY_POSITIONS, FloatMap, highlight_columns

    fmap = FloatMap()
    doc = Document()
    doc.add_root(fmap.__panel__().get_root(doc))
    (plot, _), = fmap._hv_pane._plots.values()
    layer = plot.subplots[("Points", "I")]
    positions = dal.profile_positions()
    answered = answer_positions(ChatSession().ask("Show the trajectory of float 2902269"))
    frames = [positions, positions.head(7).drop(columns=["juld"]), EMPTY_POSITIONS]
    frames += [answered] if answered is not None else []
    for frame in frames:
        df = frame.dropna(subset=["longitude", "latitude"]).reindex(columns=list(EMPTY_POSITIONS.columns))
        theirs, _, _ = layer.get_data(plots.highlight_points(df), {}, {})
        ours = highlight_columns(df)
        assert set(ours) == set(theirs)
        for key, value in theirs.items():
            value = np.asarray(value)
            assert ours[key].dtype == value.dtype, (key, ours[key].dtype, value.dtype)
            assert len(ours[key]) == len(value) and list(map(str, ours[key])) == list(map(str, value)), key
    assert len(frames[0]) > 100
