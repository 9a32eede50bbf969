"""Bundled Natural Earth layers (public domain): ``load(name)`` and ``path(name)``.

The GeoJSON files live gzipped in the ``naturalearth/`` folder next to this module::

    >>> from floatchat_core.data import naturalearth
    >>> fc = naturalearth.load("ne_10m_geography_marine_polys")
    >>> fc["type"], len(fc["features"]) > 300
    ('FeatureCollection', True)

Coordinates are longitude/latitude in degrees (WGS 84, EPSG:4326).

``python -m floatchat_core.data.naturalearth SRC_DIR`` rebuilds the bundle from the
original GeoJSON files (see ``naturalearth/README.md``).
"""
from __future__ import annotations

import gzip
import json
import sys
from itertools import pairwise
from pathlib import Path

#: Folder holding the ``*.json.gz`` files.
FOLDER = Path(__file__).with_suffix("")

#: The bundled layers (file stem without ``.json.gz``).
NAMES = ("ne_10m_geography_marine_polys", "ne_50m_coastline", "ne_110m_coastline", "ne_110m_land",
         "ne_50m_populated_places_simple")

#: Decimals kept when bundling: 1e-4 degree is at most ~11 m, far below the layers' own accuracy.
DECIMALS = 4


def path(name: str) -> Path:
    """The bundled file of layer ``name`` (``"ne_50m_coastline"``, with or without ``.json.gz``)."""
    stem = name.removesuffix(".gz").removesuffix(".json")
    p = FOLDER / f"{stem}.json.gz"
    if not p.is_file():
        raise FileNotFoundError(f"no bundled Natural Earth layer {stem!r}; available: {', '.join(NAMES)}")
    return p


def load(name: str) -> dict:
    """Layer ``name`` as a GeoJSON FeatureCollection (a fresh dict each call)."""
    with gzip.open(path(name), "rt", encoding="utf-8") as f:
        return json.load(f)


# ----------------------------------------------------------------------------- bundling
def _round_coords(coords, decimals: int = DECIMALS):
    """Round nested coordinate lists; drop consecutive duplicates that rounding creates.

    Rings keep their closing vertex and at least 4 positions (a ring that would collapse
    is kept unrounded-dedup so the geometry stays as in the source).
    """
    if coords and isinstance(coords[0], (int, float)):
        return [round(c, decimals) for c in coords]
    if coords and isinstance(coords[0][0], (int, float)):       # a line or ring
        pts = [[round(c, decimals) for c in p] for p in coords]
        out = [pts[0]] + [p for prev, p in pairwise(pts) if p != prev]
        closed = coords[0] == coords[-1]
        if (closed and len(out) < 4) or len(out) < 2:
            return pts                          # too small to dedupe safely
        return out
    return [_round_coords(c, decimals) for c in coords]


def bundle(src_dir: Path, dest_dir: Path = FOLDER, names=NAMES) -> list[Path]:
    """Write ``dest_dir/<name>.json.gz`` for each layer from ``src_dir/<name>.json``.

    Only coordinate precision changes (``DECIMALS``); properties and feature order are kept.
    A polygon that rounding would make invalid keeps its original coordinates.
    Output is deterministic (gzip mtime 0) so the files' sha256 only changes with the data.
    """
    from shapely.geometry import shape

    dest_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        fc = json.loads((Path(src_dir) / f"{name}.json").read_text(encoding="utf-8"))
        for feat in fc["features"]:
            geom = feat.get("geometry")
            if not geom:
                continue
            rounded = dict(geom, coordinates=_round_coords(geom["coordinates"]))
            if "Polygon" in geom["type"] and shape(geom).is_valid and not shape(rounded).is_valid:
                continue                        # e.g. two close vertices snapped onto one edge
            feat["geometry"] = rounded
        text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
        out = dest_dir / f"{name}.json.gz"
        with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9,
                                                   mtime=0) as gz:
            gz.write(text.encode("utf-8"))
        written.append(out)
    return written


if __name__ == "__main__":          # pragma: no cover - maintenance command
    for p in bundle(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/naturalearth")):
        print(p, p.stat().st_size)
