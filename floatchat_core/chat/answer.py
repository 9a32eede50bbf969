"""``Answer``: what a question gives back — text with the key numbers, a DataFrame, a plot recipe,
provenance (the SQL and its parameters, rows, time, QC mode, source) and follow-up suggestions.

The plot recipe is a dict (``answer.plot["kind"]``) that is also callable: ``answer.plot()``
renders it with the workbench (imported only then).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .spec import Clarification, QuerySpec

#: Unit symbols for answers (Argo units are spelt for machines).
UNITS = {"TEMP": "°C", "PSAL": "PSU", "DOXY": "µmol/kg", "CHLA": "mg/m³", "NITRATE": "µmol/kg",
         "PH_IN_SITU_TOTAL": "", "BBP700": "m⁻¹", "DOWNWELLING_PAR": "µmol quanta/m²/s",
         "DOWN_IRRADIANCE380": "W/m²/nm", "DOWN_IRRADIANCE412": "W/m²/nm", "DOWN_IRRADIANCE490": "W/m²/nm"}
NAMES = {"TEMP": "temperature", "PSAL": "salinity", "DOXY": "oxygen", "CHLA": "chlorophyll-a",
         "NITRATE": "nitrate", "PH_IN_SITU_TOTAL": "pH", "BBP700": "backscatter (700 nm)",
         "DOWNWELLING_PAR": "PAR", "DOWN_IRRADIANCE380": "irradiance (380 nm)",
         "DOWN_IRRADIANCE412": "irradiance (412 nm)", "DOWN_IRRADIANCE490": "irradiance (490 nm)"}


class PlotRecipe(dict):
    """A plot recipe (``{"kind": …, "x": …, "y": …}``) that renders itself when called."""

    def __init__(self, *args, answer: Answer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._answer = answer

    def __call__(self, **kwargs):
        from workbench.plots import render_answer    # the core never imports panel/holoviews at import

        return render_answer((self._answer.frame if self._answer is not None else pd.DataFrame(), dict(self)),
                             **kwargs)


@dataclass
class Answer:
    """The answer to one question (contract section 4)."""

    text: str
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    plot: PlotRecipe | None = None
    spec: QuerySpec | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    suggestions: list[str] = field(default_factory=list)
    clarification: str | None = None
    message: str | None = None
    question: str = ""
    candidates: list[str] = field(default_factory=list)

    def __post_init__(self):
        if self.plot is not None and not isinstance(self.plot, PlotRecipe):
            self.plot = PlotRecipe(self.plot)
        if self.plot is not None:
            self.plot._answer = self

    # ------------------------------------------------------------------ views
    @property
    def plot_recipe(self) -> dict | None:
        """The plot recipe as a plain dict (or None)."""
        return dict(self.plot) if self.plot is not None else None

    @property
    def sql(self) -> str:
        """Every SQL statement that produced this answer, separated by blank lines."""
        return "\n\n".join(q.get("sql", "") for q in self.provenance.get("queries", []))

    @property
    def ok(self) -> bool:
        """False for clarifications and errors."""
        return self.clarification is None and not self.provenance.get("error")

    def to_dict(self, rows: int | None = 50) -> dict[str, Any]:
        """JSON-ready: text, spec, plot recipe, provenance, suggestions and the first ``rows`` rows."""
        frame = self.frame if rows is None else self.frame.head(rows)
        return {"question": self.question, "text": self.text, "message": self.message,
                "clarification": self.clarification, "candidates": self.candidates,
                "spec": self.spec.model_dump(mode="json", exclude_defaults=True) if self.spec else None,
                "plot": self.plot_recipe, "provenance": self.provenance, "suggestions": self.suggestions,
                "n_rows": int(len(self.frame)), "columns": [str(c) for c in self.frame.columns],
                "rows": _jsonable_records(frame)}

    # ------------------------------------------------------------------ exports
    def _export(self, kind: str, path) -> Path:
        from .. import exports

        fn = getattr(exports, f"to_{kind}")
        out = fn(self.frame, path, provenance=self.provenance)
        return Path(out) if out is not None else Path(path)

    def to_csv(self, path) -> Path:
        """Write the frame as CSV with the provenance in a header (``floatchat_core.exports``)."""
        return self._export("csv", path)

    def to_parquet(self, path) -> Path:
        """Write the frame as Parquet with the provenance in its metadata."""
        return self._export("parquet", path)

    def to_netcdf(self, path) -> Path:
        """Write the frame as NetCDF (Argo/CF conventions)."""
        return self._export("netcdf", path)

    def __repr__(self) -> str:
        return f"Answer({self.text!r}, rows={len(self.frame)}, plot={self.plot_recipe})"

    def _repr_markdown_(self) -> str:
        out = self.text
        if self.message:
            out += f"\n\n*{self.message}*"
        if self.suggestions:
            out += "\n\nTry: " + " · ".join(self.suggestions)
        return out


def _jsonable_records(frame: pd.DataFrame) -> list[dict]:
    import json

    return json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))


def clarification_answer(c: Clarification, question: str = "") -> Answer:
    """An ``Answer`` that asks back."""
    return Answer(text=c.question, clarification=c.question, suggestions=list(c.suggestions)[:3],
                  spec=c.partial, question=question, candidates=list(c.candidates),
                  provenance={"queries": [], "clarification_reason": c.reason})


# ----------------------------------------------------------------------------- formatting
def fmt_num(v: float | None, unit: str = "", digits: int = 3) -> str:
    """``35.1234`` → ``"35.12 PSU"`` (3 significant digits past the integer part, trimmed)."""
    if v is None or pd.isna(v):
        return "n/a"
    a = abs(float(v))
    if a >= 100:
        s = f"{v:,.1f}"
    elif a >= 1 or a == 0:
        s = f"{v:.{digits - 1}f}"
    else:
        s = f"{v:.{digits}g}"
    return f"{s} {unit}".strip()


def fmt_time(t) -> str:
    if t is None or (not isinstance(t, str) and pd.isna(t)):
        return "?"
    return pd.Timestamp(t).strftime("%Y-%m-%d")


def fmt_span(t0, t1) -> str:
    """``"2019-01-23 to 2020-08-05"``."""
    if t0 is None and t1 is None:
        return "no dates"
    return f"{fmt_time(t0)} to {fmt_time(t1)}"


def fmt_point(lat: float, lon: float) -> str:
    """``"10°N 65°E"``."""
    from .spec import fmt_lat, fmt_lon

    return f"{fmt_lat(round(float(lat), 3))} {fmt_lon(round(float(lon), 3))}"


def param_label(name: str) -> str:
    return NAMES.get(name, name.lower())


def plural(n: int, word: str) -> str:
    """``plural(2, "match")`` → ``"2 matches"``."""
    if n == 1:
        return f"{n:,} {word}"
    return f"{n:,} {word}{'es' if word.endswith(('ch', 'sh', 's', 'x')) else 's'}"


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
