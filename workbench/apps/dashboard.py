"""The FloatChat dashboard (read-only): chat, float map, profiles, T-S diagram, dataset cards.

Served by ``floatchat serve`` / ``make demo`` as ``/dashboard``. One set of components per
browser session (Panel runs this script per session), so chat context is per session.
"""
import logging

import panel as pn

from workbench.cards import DatasetCards
from workbench.chat import ChatPane, answer_positions
from workbench.design import Bootstrap
from workbench.floatmap import FloatMap
from workbench.profiles import ProfileView, TSDiagram, levels_of

log = logging.getLogger("workbench.apps.dashboard")

pn.extension("tabulator", sizing_mode="stretch_width", notifications=False)


def _summary() -> str:
    from floatchat_core.db import dal

    try:
        ds = dal.list_datasets()
        latest = dal.latest_positions()
    except Exception as exc:   # the page still renders and says why
        log.warning("dashboard.summary_failed error=%s", exc)
        return f"⚠️ The database cannot be read: {exc}"
    if ds.empty:
        return ("### The database is empty\nIngest Argo files with `floatchat ingest PATH`, the admin upload, or "
                "`make demo` (the bundled sample), then reload this page.")
    return (f"### {len(ds)} dataset(s) · {int(ds['n_profiles'].sum()):,} profiles · {len(latest):,} floats")


fmap = FloatMap(height=460)
profiles = ProfileView()
ts = TSDiagram()
cards = DatasetCards()
chat = ChatPane()


def _on_float(event):
    if event.new:
        profiles.platform_number = event.new


def _on_levels(event):
    ts.levels = event.new


_pending = {}    # the latest answer's frame, for the Profiles / T–S tabs until one of them is opened


def _on_answer(event):
    # the linked views update on the next tick: the answer itself reaches the browser first, the
    # secondary views follow; profiles and T-S are built only when their tab is shown
    pn.state.execute(lambda: _show_answer(event.new), schedule=True)


def _show_answer(answer):
    fmap.highlight = answer_positions(answer)     # only the highlight layer's data change
    _pending["frame"] = getattr(answer, "frame", None)
    if tabs.active in (1, 2):
        _link_frame()


def _on_tab(event):
    if event.new in (1, 2):
        _link_frame()


def _link_frame():
    frame = _pending.pop("frame", None)
    if frame is None or frame.empty:
        return
    if levels_of(frame):
        profiles.levels = frame
        if {"temp", "psal"} <= set(frame.columns):
            ts.levels = frame
    elif "profile_id" in frame:
        profiles.profile_ids = [int(i) for i in frame["profile_id"].drop_duplicates().head(20)]


fmap.param.watch(_on_float, "selected_float")
profiles.param.watch(_on_levels, "levels")
chat.param.watch(_on_answer, "answer")

# dynamic: only the visible tab is rendered (the first paint builds the map alone; a hidden tab updated by
# an answer costs nothing until it is opened)
tabs = pn.Tabs(("Map", fmap), ("Profiles", profiles), ("T–S", ts), ("Datasets", cards), dynamic=True,
               sizing_mode="stretch_width")
tabs.param.watch(_on_tab, "active")
main = pn.Row(pn.Column(chat, min_width=420, max_width=640, sizing_mode="stretch_width"), tabs,
              sizing_mode="stretch_width")
template = pn.template.BootstrapTemplate(
    design=Bootstrap,          # Panel's Bootstrap, modifiers worked out once per component class
    title="FloatChat Workbench",
    sidebar=[pn.pane.Markdown("#### Map filters"), fmap.controls(),
             pn.pane.Markdown("<small>Positions: Argo GDAC via the local database. Coastlines: Natural Earth."
                              "</small>")],
    main=[pn.pane.Markdown(_summary()), main],
    sidebar_width=290,
    # no header spinner: it re-rendered on every websocket event of every session (the chat shows its own
    # progress), ~40 ms of the shared event loop per question
    busy_indicator=None,
)
template.servable()
