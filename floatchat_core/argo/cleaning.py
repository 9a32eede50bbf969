"""Vectorised cleaning: flag what is suspicious, never delete it.

* values (raw or adjusted) outside the parameter's valid range (:mod:`.variables`)
  → ``out_of_range`` per level;
* latitude/longitude filled, not finite or outside ±90/±180 → ``position_invalid``
  (longitudes given on 0…360 are brought to −180…180 first, as the Argo manual's
  convention requires);
* JULD filled → ``timestamp_missing``;
* data modes other than ``R``/``A``/``D`` → ``R`` (the most cautious reading) with a warning.
"""
from __future__ import annotations

import logging

import numpy as np

from .batch import ParameterLevels, ProfileBatch

log = logging.getLogger(__name__)

_VALID_MODES = np.array(["R", "A", "D"])


def _fix_modes(modes: np.ndarray, what: str, warnings: list[str], allow_blank: bool = True) -> np.ndarray:
    m = np.char.upper(np.asarray(modes, dtype="<U1"))
    bad = ~np.isin(m, _VALID_MODES) & ~((m == "") if allow_blank else False)
    if bad.any():
        found = sorted(set(np.asarray(modes)[bad].tolist()))
        warnings.append(f"unknown data mode {found} for {what} in {int(bad.sum())} profiles: taken as 'R'")
        m = np.where(bad, "R", m)
    return m.astype("<U1")


def _out_of_range(lv: ParameterLevels) -> np.ndarray:
    lo, hi = lv.parameter.valid_min, lv.parameter.valid_max
    with np.errstate(invalid="ignore"):
        raw = np.isfinite(lv.values) & ((lv.values < lo) | (lv.values > hi))
        adj = np.isfinite(lv.adjusted) & ((lv.adjusted < lo) | (lv.adjusted > hi))
    return raw | adj


def clean(batch: ProfileBatch) -> ProfileBatch:
    """Set the cleaning flags of ``batch`` in place and return it."""
    warnings = batch.warnings
    lat, lon = batch.latitude, batch.longitude
    east = np.isfinite(lon) & (lon > 180.0) & (lon <= 360.0)
    if east.any():
        batch.longitude = lon = np.where(east, lon - 360.0, lon)
        warnings.append(f"{int(east.sum())} longitudes given on 0…360 converted to −180…180")
    with np.errstate(invalid="ignore"):
        batch.position_invalid = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0)
                                   & (np.abs(lon) <= 180.0))
    batch.timestamp_missing = ~np.isfinite(batch.juld)
    if batch.position_invalid.any():
        warnings.append(f"{int(batch.position_invalid.sum())} profiles without a valid position")
    if batch.timestamp_missing.any():
        warnings.append(f"{int(batch.timestamp_missing.sum())} profiles without a date (JULD filled)")

    batch.data_mode = _fix_modes(batch.data_mode, "DATA_MODE", warnings)
    n_oor = 0
    for group in batch.groups.values():
        for lv in (group.pressure, *group.parameters.values()):
            lv.data_mode = _fix_modes(lv.data_mode, lv.parameter.name, warnings)
            lv.out_of_range = _out_of_range(lv)
            n_oor += int(lv.out_of_range.sum())
    if n_oor:
        warnings.append(f"{n_oor} level values outside their valid range (flagged, kept)")
    if warnings:
        log.info("argo.cleaned file=%s warnings=%s", batch.source_file, "; ".join(warnings))
    return batch
