"""FloatChat Workbench core: ARGO float data from NetCDF files to answers.

Importing this package is light: heavy dependencies (psycopg2, dask.distributed,
panel, torch, openai) are imported inside the functions that need them.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["ChatSession", "__version__", "ask", "sample_dir"]


def __getattr__(name: str):
    """Lazy top-level shortcuts: ``fc.ask``, ``fc.ChatSession``, ``fc.sample_dir`` (imported on first use)."""
    if name in ("ask", "ChatSession"):
        from . import chat

        return getattr(chat, name)
    if name == "sample_dir":
        from .data import sample_dir

        return sample_dir
    raise AttributeError(f"module 'floatchat_core' has no attribute {name!r}")
