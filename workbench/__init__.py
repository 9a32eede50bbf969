"""FloatChat Workbench: Panel components built on ``floatchat_core`` (render in JupyterLab
and in ``panel serve``). Components call the core's public functions and never write SQL."""
from __future__ import annotations

__all__: list[str] = []

from floatchat_core.config import get_settings as _settings

if _settings().bokeh_speedups:     # Bokeh's document bookkeeping at a fraction of the cost
    from . import docspeed as _docspeed

    _docspeed.install()
