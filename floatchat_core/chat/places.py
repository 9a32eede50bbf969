"""Towns and cities from the bundled Natural Earth populated places (public domain).

Used for "off Chennai", "near Cape Town": ``find_place("chennai")`` gives the city's position.
Pure and in-memory (1,249 places, loaded once); no database.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from ..db.regions import normalise

log = logging.getLogger(__name__)

LAYER = "ne_50m_populated_places_simple"

#: Former or common English names → the Natural Earth name (and country, to pick among twins).
ALIASES: dict[str, tuple[str, str | None]] = {
    "madras": ("Chennai", None), "bombay": ("Mumbai", None), "calcutta": ("Kolkata", None),
    "cochin": ("Kochi", "India"), "vizag": ("Vishakhapatnam", None), "visakhapatnam": ("Vishakhapatnam", None),
    "kochi": ("Kochi", "India"), "saigon": ("Ho Chi Minh City", None), "rio": ("Rio de Janeiro", None),
    "new york city": ("New York", None), "nyc": ("New York", None), "la": ("Los Angeles", None),
}


@dataclass(frozen=True)
class Place:
    """A populated place: name, country, longitude/latitude in degrees, population."""

    name: str
    country: str
    lon: float
    lat: float
    population: int

    @property
    def label(self) -> str:
        return f"{self.name} ({self.country})"


@functools.lru_cache(maxsize=1)
def _index() -> dict[str, list[Place]]:
    from ..data import naturalearth

    index: dict[str, list[Place]] = {}
    for f in naturalearth.load(LAYER)["features"]:
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"][:2]
        place = Place(p["name"], p.get("adm0name") or "", float(lon), float(lat), int(p.get("pop_max") or 0))
        keys = {normalise(p["name"]), normalise(p.get("nameascii") or ""), normalise(p.get("namealt") or "")}
        for key in keys - {""}:
            index.setdefault(key, []).append(place)
    for places in index.values():
        places.sort(key=lambda x: -x.population)
    return index


def find_place(name: str) -> Place | None:
    """The most populous place called ``name`` (accents, case, punctuation ignored), or None."""
    key = normalise(name or "")
    if not key:
        return None
    alias = ALIASES.get(key)
    if alias:
        candidates = _index().get(normalise(alias[0]), [])
        if alias[1]:
            candidates = [p for p in candidates if p.country == alias[1]] or candidates
        return candidates[0] if candidates else None
    candidates = _index().get(key)
    return candidates[0] if candidates else None


def place_names() -> set[str]:
    """Every normalised name (for the parser's phrase matching)."""
    return set(_index()) | set(ALIASES)
