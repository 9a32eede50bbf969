"""Data files bundled with FloatChat (sample Argo files, Natural Earth layers)."""
from __future__ import annotations

from pathlib import Path

__all__ = ["sample_dir", "sample_files"]


def sample_dir() -> Path:
    """The folder of bundled real Argo files (5 floats, core and BGC; see its ``README.md``).

    Works without network access and without ``../shared``: ingest it with
    ``floatchat_core.ingest.ingest([sample_dir()], dataset="sample")``.
    """
    return Path(__file__).parent / "sample"


def sample_files(pattern: str = "*.nc") -> list[Path]:
    """The bundled sample NetCDF files matching ``pattern``, sorted by name."""
    return sorted(sample_dir().glob(pattern))
