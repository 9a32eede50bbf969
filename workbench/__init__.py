"""FloatChat Workbench: Panel components built on ``floatchat_core`` (render in JupyterLab
and in ``panel serve``). Components call the core's public functions and never write SQL."""
from __future__ import annotations

__all__: list[str] = []

from . import walks as _walks

_walks.install()      # Bokeh's document walks at a third of the cost (see workbench/walks.py)
