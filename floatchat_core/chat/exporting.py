"""The export intent (internal): the data of a question written to a file.

Profiles matching the spec (newest first, at most ``EXPORT_MAX_PROFILES``), with their levels
when the question names parameters, written under ``<FLOATCHAT_HOME>/exports/`` through
``floatchat_core.exports`` (CSV, Parquet, NetCDF with provenance). The answer gives the path.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from . import answer as A
from .answer import Answer

if TYPE_CHECKING:
    from .executor import Run

#: Most profiles one export question writes.
EXPORT_MAX_PROFILES = 5000
SUFFIX = {"csv": "csv", "parquet": "parquet", "netcdf": "nc"}


def export_answer(run: Run) -> Answer:
    from .executor import narrowed

    s = run.spec
    f = run.filters()
    total = run.dal("count_profiles", **f)
    if total["n_profiles"] == 0:
        return Answer(text="Nothing to export: no profiles match.")
    n = int(min(s.limit or EXPORT_MAX_PROFILES, EXPORT_MAX_PROFILES, run.settings.row_cap))
    prof = run.dal("find_profiles", **f, limit=n)
    run.note_datasets(prof)
    frame = prof
    if s.parameters:
        frame = run.dal("profile_levels", prof["profile_id"].tolist(), parameters=list(s.parameters),
                        pres_min=s.pres_min, pres_max=s.pres_max, mode=s.qc_mode)
    fmt = s.export_format or "csv"
    folder = run.settings.home / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"floatchat-{stamp}.{SUFFIX[fmt]}"
    ans = Answer(text="", frame=frame, plot={"kind": "table"}, message=narrowed(len(prof), total["n_profiles"]))
    from .executor import provenance

    ans.provenance = provenance(run, 0.0)
    try:
        written = getattr(ans, f"to_{fmt}")(path)
    except ImportError:
        if fmt == "netcdf":
            return Answer(text="NetCDF export needs floatchat_core.exports, which is not installed yet; "
                               "ask for CSV or Parquet.", frame=frame)
        written = _pandas_write(frame, path, fmt, ans.provenance)
    ans.text = (f"Exported {A.plural(len(frame), 'row')} ({A.plural(len(prof), 'profile')} from "
                f"{A.plural(int(prof['platform_number'].nunique()), 'float')}) as {fmt.upper()} to {written}.")
    ans.provenance["export_path"] = str(written)
    return ans


def _pandas_write(frame, path, fmt, provenance):
    import json

    if fmt == "csv":
        with open(path, "w", encoding="utf-8") as fh:
            for q in provenance.get("queries", []):
                fh.write("# sql: " + q.get("sql", "").replace("\n", " ") + "\n")
            frame.to_csv(fh, index=False)
    else:
        frame.attrs = {}
        t = frame.copy()
        for c in t.columns:
            if t[c].dtype == object:
                t[c] = t[c].map(lambda v: json.dumps(list(v)) if isinstance(v, (list, tuple)) else v)
        t.to_parquet(path, index=False)
    return path
