"""FloatChat Workbench: Panel components built on ``floatchat_core`` (render in JupyterLab
and in ``panel serve``). Components call the core's public functions and never write SQL."""
from __future__ import annotations

__all__: list[str] = []
