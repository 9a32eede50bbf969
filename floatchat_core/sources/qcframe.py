"""QC modes on long-format level frames from a live source (internal module).

The value choice itself is :func:`floatchat_core.db.dalcore.select_values`, the very
function the DAL applies to database levels, so "standard" means the same thing whichever
source served a question. This module only adapts ERDDAP-shaped columns to it.

Input frame, one row per level, for each parameter prefix ``p`` (``pres``, ``temp``…):
``p_raw``, ``p_raw_qc`` (int, -1 blank), ``p_adjusted``, ``p_adjusted_qc``,
``p_adjusted_error`` and ``p_data_mode`` (``'R' | 'A' | 'D'`` or ``''``).

Output per parameter: ``p`` (chosen value, NaN when the mode rejects it — the row is kept
so pressure stays aligned), ``p_qc`` (QC of the chosen value), ``p_mode`` (data mode of the
chosen value: ``'R'`` when the raw value was chosen); expert mode keeps the twins as
``p_raw``, ``p_raw_qc``, ``p_adjusted``, ``p_adjusted_qc``, ``p_adjusted_error``.
A level whose chosen pressure is rejected has every value set to NaN (research/standard).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_SUFFIXES = ("_raw", "_raw_qc", "_adjusted", "_adjusted_qc", "_adjusted_error", "_data_mode")

__all__ = ["apply_qc_mode"]


def _prefixes(frame: pd.DataFrame) -> list[str]:
    return [c[: -len("_raw")] for c in frame.columns if c.endswith("_raw")]


def apply_qc_mode(
    frame: pd.DataFrame, mode: str = "standard", parameters: list[str] | None = None, pressure: str = "pres"
) -> pd.DataFrame:
    """Choose each parameter's value per level according to ``mode`` (research | standard | expert).

    Row count and order are unchanged; non-parameter columns pass through.
    """
    from ..db.dalcore import check_mode, select_values

    check_mode(mode)
    present = _prefixes(frame)
    prefixes = [p.lower() for p in parameters] if parameters else present
    if pressure in present and pressure not in prefixes:
        prefixes = [pressure, *prefixes]
    out = frame.copy()
    n = len(frame)

    def col(p, suffix, default):
        name = f"{p}{suffix}"
        return frame[name].to_numpy() if name in frame.columns else np.full(n, default)

    chosen = {}
    for p in prefixes:
        raw_qc = (
            pd.to_numeric(pd.Series(col(p, "_raw_qc", -1)), errors="coerce").fillna(-1).to_numpy(np.int16)
        )
        adj_qc = (
            pd.to_numeric(pd.Series(col(p, "_adjusted_qc", -1)), errors="coerce")
            .fillna(-1)
            .to_numpy(np.int16)
        )
        dm = pd.Series(col(p, "_data_mode", ""), dtype=object)
        dm = dm.where(dm.notna(), "").astype(str).to_numpy()
        chosen[p] = select_values(
            col(p, "_raw", np.nan).astype(np.float64),
            raw_qc,
            col(p, "_adjusted", np.nan).astype(np.float64),
            adj_qc,
            dm,
            mode,
        )
    bad_pres = ~np.isfinite(chosen[pressure][0]) if pressure in chosen and mode != "expert" else None
    for p, (value, qc, vmode) in chosen.items():
        value = np.asarray(value, dtype=np.float64)
        if bad_pres is not None and p != pressure:
            value = np.where(bad_pres, np.nan, value)
        out[p] = value
        out[f"{p}_qc"] = np.asarray(qc).astype(np.int8)
        # categorical like the DAL's (blank → NaN), so live and local frames concatenate cleanly
        out[f"{p}_mode"] = pd.Categorical(np.asarray(vmode).astype(str), categories=["R", "A", "D"])
        if mode != "expert":
            out = out.drop(columns=[f"{p}{s}" for s in _SUFFIXES if f"{p}{s}" in out.columns])
    return out
