"""DatasetCards: one card per dataset (name, time span, floats, profiles, parameters, summary,
bounding-box mini-map) with a search box backed by ``floatchat_core.search``.

>>> from workbench.cards import DatasetCards
>>> cards = DatasetCards(query="oxygen Arabian Sea")     # doctest: +SKIP
"""
from __future__ import annotations

import html
import json
import logging
from typing import Any

import pandas as pd
import panel as pn
import param

from . import plots

log = logging.getLogger(__name__)


def _bbox_from_geojson(gj: Any) -> tuple[float, float, float, float] | None:
    if not gj:
        return None
    try:
        geom = json.loads(gj) if isinstance(gj, str) else gj
        coords = geom["coordinates"]
        flat: list = []

        def walk(c):
            if isinstance(c[0], (int, float)):
                flat.append(c)
            else:
                for x in c:
                    walk(x)
        walk(coords)
        xs, ys = [p[0] for p in flat], [p[1] for p in flat]
        return min(xs), min(ys), max(xs), max(ys)
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def load_cards(limit: int | None = None) -> list[dict[str, Any]]:
    """Dataset cards from the search package (``dataset_cards``), else from the DAL statistics."""
    try:
        from floatchat_core.search import dataset_cards
    except ImportError:
        dataset_cards = None
    if dataset_cards is not None:
        return list(dataset_cards(limit=limit))
    from floatchat_core.db import dal

    df = dal.list_datasets()
    cards = []
    for r in df.head(limit or len(df)).to_dict("records"):
        box = None
        if pd.notna(r.get("lon_min")) and pd.notna(r.get("lat_min")):
            box = (r["lon_min"], r["lat_min"], r["lon_max"], r["lat_max"])
        cards.append({"id": r["id"], "name": r["name"], "time_start": r.get("time_start"),
                      "time_end": r.get("time_end"), "n_floats": r.get("n_floats"), "n_profiles": r.get("n_profiles"),
                      "parameters": r.get("parameters") or [], "summary": r.get("summary") or "", "bbox": box})
    return cards


def _fmt_time(t) -> str:
    try:
        return f"{pd.Timestamp(t):%Y-%m-%d}" if t is not None and not pd.isna(t) else "?"
    except (TypeError, ValueError):
        return str(t)


def card_html(card: dict[str, Any], why: str | None = None) -> str:
    """One dataset card as HTML (escaped; the mini-map is a static SVG)."""
    box = card.get("bbox") or _bbox_from_geojson(card.get("bbox_geojson"))
    params = ", ".join(card.get("parameters") or []) or "—"
    nf, npf = card.get("n_floats") or 0, card.get("n_profiles") or 0
    why_html = f'<div style="color:#00695c;font-size:12px">match: {html.escape(why)}</div>' if why else ""
    return (
        '<div style="display:flex;gap:12px;align-items:flex-start">'
        f'<div>{plots.bbox_minimap_svg(box)}</div><div style="flex:1">'
        f'<div style="font-weight:600;font-size:15px">{html.escape(str(card.get("name")))}</div>'
        f'<div style="font-size:13px">{_fmt_time(card.get("time_start"))} → {_fmt_time(card.get("time_end"))}'
        f' · <b>{int(nf):,}</b> floats · <b>{int(npf):,}</b> profiles</div>'
        f'<div style="font-size:12px;color:#455a64">parameters: {html.escape(params)}</div>'
        f'<div style="font-size:12px;margin-top:4px">{html.escape(str(card.get("summary") or ""))[:300]}</div>'
        f"{why_html}</div></div>")


class DatasetCards(pn.viewable.Viewer):
    """Summary cards of the datasets; typing in the search box ranks them with the search engine.

    >>> DatasetCards(limit=20)     # doctest: +SKIP
    """

    query = param.String(default="", doc="Search text (semantic + fuzzy, via floatchat_core.search).")
    limit = param.Integer(default=50, bounds=(1, 1000), doc="Most cards shown.")
    cards = param.List(default=[], doc="The dataset cards (dicts) currently shown, best first.")
    status = param.String(default="", doc="How many datasets, or why none are shown.")

    def __init__(self, **params):
        super().__init__(**params)
        self._all: list[dict] = []
        self._why: dict[str, str] = {}
        self._box = pn.Column(sizing_mode="stretch_width")
        self._status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.reload()

    def reload(self) -> None:
        """Re-read the cards (after an ingestion)."""
        try:
            self._all = load_cards(self.limit)
        except Exception as exc:
            log.warning("workbench.cards_failed error=%s", exc)
            self._all = []
            self.status = f"⚠️ Could not read the datasets: {exc}"
            self._render()
            return
        self._update_query()
        self._render()

    @param.depends("query", watch=True)
    def _update_query(self) -> None:
        q = (self.query or "").strip()
        self._why = {}
        if not q:
            self.cards = list(self._all)
            self.status = (f"**{len(self._all)}** dataset(s)" if self._all else
                           "No datasets yet: ingest Argo files (`floatchat ingest …`, the admin upload, "
                           "or `make demo` for the bundled sample).")
            return
        try:
            from floatchat_core.search import search

            hits = search(q, kind="dataset", limit=self.limit)
        except ImportError:
            hits = None
        except Exception as exc:
            self.status = f"⚠️ Search failed: {exc}"
            return
        if hits is None:   # search package not installed yet: plain substring match
            ql = q.lower()
            self.cards = [c for c in self._all if ql in f"{c.get('name')} {c.get('summary')} "
                          f"{' '.join(c.get('parameters') or [])}".lower()]
        else:
            by_id = {str(c["id"]): c for c in self._all}
            self.cards = [by_id[str(h["ref"])] for h in hits if str(h["ref"]) in by_id]
            self._why = {str(h["ref"]): h.get("why", "") for h in hits}
        self.status = f"**{len(self.cards)}** of {len(self._all)} dataset(s) match “{q}”"

    @param.depends("cards", "status", watch=True)
    def _render(self) -> None:
        self._status.object = self.status
        self._box.objects = [pn.pane.HTML(card_html(c, self._why.get(str(c.get("id")))),
                                          styles={"border": "1px solid #cfd8dc", "border-radius": "6px",
                                                  "padding": "8px", "background": "white"},
                                          sizing_mode="stretch_width") for c in self.cards]

    def __panel__(self):
        search = pn.widgets.TextInput.from_param(self.param.query, name="Search datasets",
                                                 placeholder="e.g. oxygen in the Arabian Sea")
        return pn.Column(search, self._status, self._box, sizing_mode="stretch_width")
