"""The FloatChat dashboard (read-only): datasets and the float map.

Served by ``floatchat serve`` / ``make demo`` as ``/dashboard``.
"""
import panel as pn

from floatchat_core.db import dal
from workbench.plots import position_map

pn.extension("tabulator", sizing_mode="stretch_width")

datasets = dal.list_datasets()
positions = dal.profile_positions()
latest = dal.latest_positions()

summary = pn.pane.Markdown(
    f"### {len(datasets)} dataset(s) · {int(datasets['n_profiles'].sum()) if len(datasets) else 0:,} profiles · "
    f"{len(latest):,} floats")
table = pn.widgets.Tabulator(
    datasets[["name", "n_profiles", "n_floats", "time_start", "time_end", "parameters", "summary"]]
    if len(datasets) else datasets, disabled=True, height=260, name="Datasets", show_index=False)
floats = pn.widgets.Tabulator(latest, disabled=True, height=300, show_index=False, name="Latest positions")

template = pn.template.BootstrapTemplate(
    title="FloatChat Workbench",
    main=[summary, pn.pane.HoloViews(position_map(positions), height=500), pn.Tabs(table, floats)],
)
template.servable()
