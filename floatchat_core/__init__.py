"""FloatChat Workbench core: ARGO float data from NetCDF files to answers.

Importing this package is light: heavy dependencies (psycopg2, dask.distributed,
panel, torch, openai) are imported inside the functions that need them.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
