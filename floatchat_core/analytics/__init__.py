"""Analytics on Argo values: TEOS-10 derived variables, mixed-layer depth, monthly series,
trends with uncertainty (OLS, Theil–Sen, Mann–Kendall), climatology and anomalies, seasonal
cycle, correlation. Pure numpy/scipy/gsw on DataFrames; knows nothing of the database."""

from __future__ import annotations

from .derived import MLD_REFERENCE_DBAR, MLD_THRESHOLD, add_teos10, mixed_layer_depth
from .timeseries import (
    anomalies,
    anomaly_summary,
    climatology,
    correlation,
    decimal_year,
    mann_kendall,
    monthly_series,
    seasonal_cycle,
    trend,
    trend_sentence,
)

__all__ = [
    "MLD_REFERENCE_DBAR",
    "MLD_THRESHOLD",
    "add_teos10",
    "anomalies",
    "anomaly_summary",
    "climatology",
    "correlation",
    "decimal_year",
    "mann_kendall",
    "mixed_layer_depth",
    "monthly_series",
    "seasonal_cycle",
    "trend",
    "trend_sentence",
]
