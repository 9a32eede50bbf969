"""The rule-based question parser: offline, deterministic, fast.

``parse_rules(question, context)`` → ``QuerySpec`` or ``Clarification``. Text extraction is pure
(``extract.py``); region names are matched against the bundled Natural Earth names and region
aliases offline, then resolved to ``ocean_regions`` rows through ``resolve_region`` (a
``resolver`` callable, so tests and tools can run without a database).
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from ..db.regions import ALIASES, normalise
from . import extract as ex
from .places import find_place, place_names
from .spec import Clarification, QuerySpec

log = logging.getLogger(__name__)

#: Longest question the parser reads (characters); longer ones get a clarification.
MAX_QUESTION_CHARS = 2000
#: Radius (km) the executor uses for a point without one (nearest-float questions use none), and
#: the radius of "off <city>".
DEFAULT_RADIUS_KM = 300.0
PLACE_RADIUS_KM = 500.0
#: Pressure range (dbar) meant by "surface", and the level a surface depth slice uses.
SURFACE_PRES = (0.0, 10.0)
SURFACE_TARGET = 10.0

#: Intents that need a parameter, and statistics that do.
NEEDS_PARAMETER = {"depth_slice", "timeseries", "compare", "anomaly"}
VALUE_STATISTICS = {"mean", "min", "max", "range", "std", "median"}

Resolver = Callable[[str], dict]

SUGGESTIONS = [
    "show me salinity profiles near the equator in March 2023",
    "map the floats in the Arabian Sea",
    "temperature at 1000 m in the Indian Ocean since 2010",
    "compare oxygen at 200 dbar in the Arabian Sea between 2019 and 2020",
    "tell me about float 2902269",
]

# ----------------------------------------------------------------------------- intents
_INTENT_RULES: tuple[tuple[str, str], ...] = (
    ("export", r"\b(export|download|save|write (?:it |them |that )?(?:to|as))\b|\b(?:as|to|in)\s+(?:a\s+)?"
               r"(?:csv|parquet|netcdf|net cdf)\b"),
    ("anomaly", r"\b(anomal(?:y|ies|ous)|departures? from (?:the )?(?:climatology|normal|average)|"
                r"(?:relative|compared) to (?:the )?(?:climatology|normal))\b"),
    ("compare", r"\b(compare|comparison|compared|versus|vs\.?|difference between|differ(?:ence)?s?|contrast)\b"),
    ("ts_diagram", r"\b(t-?s|θ-?s|theta-?s|temperature[\s-]+salinity|t/s|ts)[\s-]+(diagram|plot|relation(?:ship)?|"
                   r"space|curve|scatter)\b|\bwater[\s-]mass(?:es)?\b|\bt-s\b"),
    ("trajectory", r"\b(trajector(?:y|ies)|tracks?|path|drift(?:ed|ing)?|route|where (?:has|did|was) (?:float|it)|"
                   r"movements?|went)\b"),
    ("nearest_floats", r"\b(nearest|closest)\b"),
    ("discover", r"\b(datasets?|data[\s-]?sets?|what data|which data|catalog(?:ue)?|discover|what floats measure|"
                 r"which floats (?:measure|carry|record|have|sample)|floats (?:that|which) (?:measure|carry|record))\b"),
    ("timeseries", r"\b(time[\s-]?series|trends?|over time|through time|evolution|evolved?|chang(?:e|ed|ing|es)|"
                   r"monthly|seasonal cycle|year[\s-]over[\s-]year|interannual|warming|cooling|freshening|"
                   r"(?:getting|becoming) (?:warmer|colder|cooler|saltier|fresher)|salinification|"
                   r"deoxygenation|de-oxygenation|oxygen loss|losing oxygen)\b"),
    ("float_info", r"\b(tell me about|info(?:rmation)?|details?|metadata|describe|summar(?:y|ise|ize)|"
                   r"what (?:is|about) (?:float|wmo)|who (?:operates|deployed|owns))\b"),
    ("statistics", r"\b(how many|count|number of|average|mean|median|max(?:imum)?|min(?:imum)?|highest|lowest|"
                   r"warmest|coldest|saltiest|freshest|range|std|standard deviation|variability|statistics|stats)\b"),
    ("depth_slice", r"\b(depth[\s-]?slice|slice|horizontal (?:map|distribution)|spatial distribution|"
                    r"map (?:of|the)\s+(?:the\s+)?(?:temperature|salinity|oxygen|chlorophyll|nitrate|ph|"
                    r"backscatter|sst|sss|o2|doxy|psal|temp))\b"),
    ("map_floats", r"\b(map|where (?:are|is|were)|locations?|positions?|active floats|show (?:me )?(?:the |all )?"
                   r"floats|which floats|what floats|floats (?:are )?(?:in|near|around|off))\b"),
    ("plot_profiles", r"\b(plot|draw|graph|chart|visuali[sz]e|vertical (?:profiles?|structure)|profiles? of|"
                      r"show (?:me )?(?:the )?\w+ profiles?)\b"),
    ("find_profiles", r"\b(find|list|search|get|fetch|retrieve|which profiles|what profiles|table)\b"),
    ("profiles", r"\b(profiles?|casts?|measurements?|observations?|data|values?|readings?)\b"),
)
_INTENT_RES = tuple((name, re.compile(rx)) for name, rx in _INTENT_RULES)

_FOLLOWUP_RE = re.compile(r"^\s*(now|same|only|just|zoom|what about|how about|and\b|also|instead|but|then|"
                          r"make it|switch|change|try|redo|again|with|without|for|in|at|restrict|limit|"
                          r"show (?:it|them|that|those)|plot (?:it|them|that|those)|map (?:it|them|that|those)|"
                          r"export|download|save)\b")
_REFERENCE_RE = re.compile(r"\b(that|those|these|them|it|this|same|instead|again|previous|above)\b")


def detect_intent(text: str) -> str | None:
    """The first matching intent rule, or None when no intent word is present."""
    for name, rx in _INTENT_RES:
        if rx.search(text):
            return name
    return None


# ----------------------------------------------------------------------------- regions (offline names)
_RISKY_ALIASES = {"a", "i", "p", "indian", "southern", "med"}


@functools.lru_cache(maxsize=1)
def region_names() -> dict[str, str]:
    """Normalised name or alias → canonical region name (bundled data, no database)."""
    from ..db.regions import expected_names

    index = {normalise(n): n for n in expected_names()}
    index.pop(normalise("Indian Ocean (open ocean)"), None)
    for alias, target in ALIASES.items():
        key = normalise(alias)
        if key not in _RISKY_ALIASES:
            index.setdefault(key, target)
    index["the med"] = "Mediterranean Sea"
    index["north indian ocean"] = "Indian Ocean"
    index["south indian ocean"] = "Indian Ocean"
    return index


def _words(text: str) -> list[str]:
    return normalise(text).split()


def find_region_names(text: str) -> list[str]:
    """Canonical region names mentioned (longest match first, in text order, no repeats)."""
    index, words = region_names(), _words(text)
    found: list[tuple[int, str]] = []
    i = 0
    while i < len(words):
        for n in range(min(6, len(words) - i), 0, -1):
            name = index.get(" ".join(words[i:i + n]))
            if name:
                found.append((i, name))
                i += n
                break
        else:
            i += 1
    return list(dict.fromkeys(name for _, name in found))


_FUZZY_REGION_RE = re.compile(
    r"\b(?:in|of|over|across|around|inside|to|within|for|from|on)\s+(?:the\s+)?"
    r"((?:[a-z][a-z'.-]*\s+){1,3}(?:sea|ocean|gulf|bay|strait|channel|basin|sound|bight|passage)s?)\b"
    r"|\b((?:gulf|bay|sea|strait|straits|bight)\s+of\s+(?:the\s+)?[a-z][a-z'-]+)")
_NOT_REGION_WORDS = {"the", "deep", "surface", "open", "whole", "entire", "same", "this", "that"}


def find_fuzzy_region(text: str) -> str | None:
    """A region-looking phrase the offline names do not know ("Arabain Sea"), for fuzzy lookup."""
    for m in _FUZZY_REGION_RE.finditer(text):
        phrase = (m.group(1) or m.group(2)).strip()
        words = [w for w in phrase.split() if w not in _NOT_REGION_WORDS]
        if len(words) >= 2:
            return " ".join(words)
    return None


_PLACE_RE = re.compile(r"\b(?:off(?:shore(?: of)?)?|near|around|close to|by|outside|(?:off )?the coast of|"
                       r"coast of|west of|east of|north of|south of)\s+(?:the\s+)?([a-z][\w'’.-]*(?:\s+[\w'’.-]+){0,2})")


def find_city(text: str):
    """A populated place after "off", "near", "around", "coast of" (longest name first)."""
    names = place_names()
    for m in _PLACE_RE.finditer(text):
        words = normalise(m.group(1)).split()
        for n in range(min(3, len(words)), 0, -1):
            cand = " ".join(words[:n])
            if cand in names and cand not in _NOT_PLACES:
                return find_place(cand)
    return None


#: Place names that are also ordinary words in questions.
_NOT_PLACES = {"surface", "bottom", "deep", "float", "floats", "argo", "sea", "ocean", "equator", "same",
               "coast", "here", "there", "me", "it", "mode", "date", "time", "depth", "pressure", "victoria"}

#: Names oceanographers use that are not Natural Earth regions: boxes (degrees).
NAMED_BOXES: dict[str, dict] = {
    "nordic seas": {"kind": "box", "west": -30.0, "south": 60.0, "east": 20.0, "north": 80.0,
                    "label": "the Nordic Seas (60°N–80°N, 30°W–20°E)"},
    "gin seas": {"kind": "box", "west": -30.0, "south": 60.0, "east": 20.0, "north": 80.0,
                 "label": "the Nordic Seas (60°N–80°N, 30°W–20°E)"},
}

_EQUATOR_RE = re.compile(r"\b(?:near|at|along|around|on|close to|across|over)?\s*(?:the\s+)?equator\b")


# ----------------------------------------------------------------------------- resolution
def db_resolver(settings=None) -> Resolver:
    """A resolver backed by ``regions.resolve_region`` (cached per name and database in this process)."""
    from ..config import get_settings

    settings = settings or get_settings()
    key = str(settings.database_url or settings.home)
    return functools.partial(_resolve_cached, key=key, settings=settings)


_REGION_CACHE: dict[tuple[str, str], dict] = {}


def _resolve_cached(name: str, *, key: str, settings) -> dict:
    from ..db.regions import resolve_region
    from ..errors import DatabaseError

    hit = _REGION_CACHE.get((key, name))
    if hit is not None:
        return hit
    try:
        result = resolve_region(name, settings=settings)
    except DatabaseError:
        return {"status": "unresolved", "region": None, "candidates": []}
    if len(_REGION_CACHE) > 2048:
        _REGION_CACHE.clear()
    _REGION_CACHE[(key, name)] = result
    return result


def clear_region_cache() -> None:
    """Forget cached region resolutions (after regions are re-seeded)."""
    _REGION_CACHE.clear()


def _named_region(name: str, resolver: Resolver, *, fuzzy: bool) -> tuple[dict | None, Clarification | None]:
    """``(region dict for QuerySpec, clarification)`` for a name."""
    r = resolver(name)
    status = r.get("status")
    if status in ("exact", "alias", "fuzzy") and r.get("region"):
        reg = r["region"]
        return {"kind": "named", "name": reg["name"], "region_id": reg["id"], "_bbox": reg.get("bbox")}, None
    if status == "unresolved":              # no database: keep the name, the DAL resolves it
        return {"kind": "named", "name": name}, None
    cands = [c["name"] for c in r.get("candidates", [])]
    if status == "ambiguous":
        return None, Clarification(question=f"Which region do you mean by “{name}”: {_or(cands[:4])}?",
                                   candidates=cands, reason="ambiguous_region",
                                   suggestions=[f"… in the {c}" for c in cands[:3]])
    return None, Clarification(
        question=f"I don't know a region called “{name}”." + (f" Did you mean {_or(cands[:3])}?" if cands else
                                                             " Try an ocean, sea or gulf name, or coordinates."),
        candidates=cands, reason="unknown_region",
        suggestions=["… in the Arabian Sea", "… near 10°N 65°E within 300 km", "… between 10N and 20N, 60E and 70E"])


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1] if items else ""


def _clean(question: Any) -> str:
    text = unicodedata.normalize("NFKC", str(question if question is not None else ""))
    text = "".join(ch if (ch.isprintable() or ch in " \t") else " " for ch in text)
    return re.sub(r"[–—−‐]", "-", text).strip()


# ----------------------------------------------------------------------------- the parser
def parse_rules(question: Any, context: QuerySpec | None = None, *, reference_time=None,
                resolver: Resolver | None = None, settings=None) -> QuerySpec | Clarification:
    """Parse a question with rules.

    Parameters
    ----------
    question
        The user's text (anything; non-strings are converted).
    context
        The previous question's ``QuerySpec``; a follow-up ("now salinity", "same for 2021",
        "zoom to the Bay of Bengal", "export that") changes it instead of starting afresh.
    reference_time
        "Now" for relative times ("the last 6 months"): a date/timestamp or a callable returning
        one; by default ``dal.last_data_time()`` (the newest profile), fetched only when needed.
    resolver
        Region name → ``resolve_region``-shaped dict; by default the database's.
    """
    text = _clean(question)
    if not re.search(r"\w", text):
        return Clarification(question="What would you like to know about the Argo floats?",
                             suggestions=SUGGESTIONS[:3], reason="empty")
    if len(text) > MAX_QUESTION_CHARS:
        return Clarification(question=f"That question is {len(text):,} characters long; please ask it in a "
                                      f"sentence or two (at most {MAX_QUESTION_CHARS:,} characters).",
                             suggestions=SUGGESTIONS[:3], reason="invalid")
    resolver = resolver or db_resolver(settings)
    low = text.lower()
    errors: list[str] = []

    w = low
    radius, w = ex.find_radius(w)
    coords, w = ex.find_coordinates(w)
    errors += coords.errors
    floats, w = ex.find_floats(w)
    depth, w = ex.find_depth(w)
    limit, w = ex.find_limit(w)
    times, w, _ = ex.find_times(w, _reference(reference_time, settings), errors)
    params, sst, _ = ex.find_parameters(low)
    if not params:                           # "is it warming?" → temperature, "freshening" → salinity
        params = ex.find_trend_parameters(low)
    qc_mode, data_mode = ex.find_qc(low)
    float_type = ex.find_float_type(low)
    intent = detect_intent(low)
    explicit_intent = intent is not None
    if intent == "profiles":                 # only a generic noun: plot a parameter, else list
        intent = "plot_profiles" if params else "find_profiles"
    if intent == "map_floats" and params:    # "temperature map" is a depth slice, "… from floats in X" profiles
        if re.search(r"\bmaps?\b", low) and not re.search(r"\bfloats?\b", low):
            intent = "depth_slice"
        elif not re.search(r"\b(maps?|where|locations?|positions?)\b", low):
            intent = "plot_profiles"
    if intent is None and context is None:
        intent = ("plot_profiles" if params else "map_floats" if re.search(r"\bfloats?\b", low)
                  else None)

    followup = context is not None and (bool(_FOLLOWUP_RE.search(low)) or intent is None
                                        or (len(low.split()) <= 5 and bool(_REFERENCE_RE.search(low))))
    spec: dict[str, Any] = context.model_dump() if followup else {"intent": intent or "find_profiles"}
    if followup:
        if intent is not None and intent != "find_profiles":
            spec["intent"] = intent
        if spec["intent"] != "compare":
            spec["compare"] = []

    # ---- where
    region: dict | None = None
    region_names_found = find_region_names(text)
    equator = bool(_EQUATOR_RE.search(low))
    if equator:
        basin = next((n for n in region_names_found if n in ("Atlantic Ocean", "Pacific Ocean", "Indian Ocean")), None)
        if basin:
            region_names_found = ["Equatorial " + basin.split()[0] + (" Ocean" if basin.startswith("Indian") else "")]
            equator = False
        else:
            region = {"kind": "box", "west": -180.0, "south": -5.0, "east": 180.0, "north": 5.0,
                      "label": "near the equator (5°S–5°N)"}
    if coords.lats and coords.lons:
        if len(coords.lats) >= 2 and len(coords.lons) >= 2:
            region = {"kind": "box", "west": coords.lons[0], "east": coords.lons[1],
                      "south": min(coords.lats[:2]), "north": max(coords.lats[:2])}
        else:
            region = {"kind": "point", "lat": coords.lats[0], "lon": coords.lons[0], "radius_km": radius}
    elif coords.lats or coords.lons:
        if len(coords.lats) == 2:                                   # a latitude band
            region = {"kind": "box", "west": -180.0, "east": 180.0, "south": min(coords.lats),
                      "north": max(coords.lats)}
        elif not errors:
            errors.append("I found only a " + ("latitude" if coords.lats else "longitude")
                          + "; please give both (e.g. 10°N 65°E)")
    if region is None and not equator:
        box = next((b for k, b in NAMED_BOXES.items() if re.search(rf"\b{k}\b", low)), None)
        if box:
            region = dict(box)
    if region is None and not equator:
        city = find_city(low)
        if city is not None and not region_names_found:
            region = {"kind": "point", "lat": city.lat, "lon": city.lon, "radius_km": radius or PLACE_RADIUS_KM,
                      "label": f"off {city.name} ({city.country}) ± {radius or PLACE_RADIUS_KM:g} km"}
    named: list[dict] = []
    if region is None or spec.get("intent") == "compare" or intent == "compare":
        names = region_names_found
        if not names and region is None:
            fuzzy = find_fuzzy_region(low)
            names = [fuzzy] if fuzzy else []
        for name in names:
            reg, clar = _named_region(name, resolver, fuzzy=name not in region_names().values())
            if clar is not None:
                return clar
            named.append(reg)
    if region is None and named:
        region = named[0]
    cur_intent = spec["intent"]
    if len(named) > 1 and cur_intent != "compare":
        return Clarification(question="Your question names several regions: " + _or([n["name"] for n in named])
                             + ". Which one do you mean, or do you want to compare them?",
                             candidates=[n["name"] for n in named], reason="ambiguous_region",
                             suggestions=[f"… in the {n['name']}" for n in named]
                             + ["compare " + " and ".join(n["name"] for n in named)])
    if errors:
        return Clarification(question="I can't use that: " + "; ".join(dict.fromkeys(errors)) + ".",
                             suggestions=SUGGESTIONS[:3], reason="invalid")

    bbox = (region or {}).pop("_bbox", None) if region else None
    if region is not None:
        spec["region"] = {k: v for k, v in region.items() if not k.startswith("_")}
    elif followup and radius and spec.get("region") and spec["region"].get("kind") == "point":
        spec["region"]["radius_km"] = radius

    # ---- when
    periods = [p for p in times if p.start or p.end]
    if cur_intent == "compare" and len(periods) >= 2 and len(named) < 2:
        spec["compare"] = [{"label": p.label, "time_start": p.start, "time_end": p.end} for p in periods]
    elif periods:
        starts = [p.start for p in periods]
        ends = [p.end for p in periods]
        spec["time_start"] = None if None in starts else min(starts)
        spec["time_end"] = None if None in ends else max(ends)
    if cur_intent == "compare" and len(named) >= 2:
        spec["compare"] = [{"label": n["name"], "region": {k: v for k, v in n.items() if not k.startswith("_")}}
                           for n in named]
        spec["region"] = None if not followup else spec.get("region")

    # ---- depth
    lat = _latitude(spec.get("region"), bbox)
    conv = (lambda v: ex.depth_to_pressure(v, lat)) if depth is not None and depth.metres else (lambda v: v)
    if depth is not None or sst:
        if depth is None or depth.surface:
            if cur_intent == "depth_slice":
                spec.update(pressure=SURFACE_TARGET, pres_min=None, pres_max=None)
            else:
                spec.update(pressure=None, pres_min=SURFACE_PRES[0], pres_max=SURFACE_PRES[1])
        elif depth.target is not None:
            spec.update(pressure=conv(depth.target), pres_min=None, pres_max=None)
        else:
            spec.update(pressure=None, pres_min=None if depth.low is None else conv(depth.low),
                        pres_max=None if depth.high is None else conv(depth.high))
        if spec["intent"] in ("plot_profiles", "find_profiles") and spec.get("pressure") is not None \
                and params and not followup:
            spec["intent"] = "depth_slice"
    # ---- what and which
    if params:
        spec["parameters"] = params
    if floats:
        spec["platform_numbers"] = floats
        if followup and region is None:
            spec["region"] = None
    if float_type:
        spec["float_type"] = float_type
    if qc_mode:
        spec["qc_mode"] = qc_mode
    if data_mode:
        spec["data_mode"] = data_mode
    if limit:
        spec["limit"] = limit
    stat = ex.find_statistic(low)
    if spec["intent"] == "statistics":
        spec["statistic"] = stat or "count"
    if spec["intent"] == "export":
        spec["export_format"] = ex.find_export_format(low) or spec.get("export_format") or "csv"
    if spec["intent"] == "discover":
        spec["query"] = text[:300]
    if spec["intent"] == "ts_diagram" and not spec.get("parameters"):
        spec["parameters"] = ["TEMP", "PSAL"]
    if spec["intent"] == "float_info" and not spec.get("platform_numbers"):
        spec["intent"] = "find_profiles" if explicit_intent and not followup else spec["intent"]
    if spec["intent"] in ("find_profiles", "map_floats") and not followup and floats and not explicit_intent:
        spec["intent"] = "float_info"

    if spec["intent"] == "map_floats" and spec.get("region", {}) and (spec["region"] or {}).get("kind") == "point" \
            and re.search(r"\bfloats?\b", low) and not re.search(r"\bprofiles?\b", low):
        spec["intent"] = "nearest_floats"

    return _finish(spec, text, explicit_intent or followup or bool(params or floats or region or periods))


def _latitude(region: dict | None, bbox) -> float:
    if not region:
        return 45.0
    if region.get("kind") == "point":
        return float(region["lat"])
    if region.get("kind") == "box":
        return (float(region["south"]) + float(region["north"])) / 2
    if bbox:
        return (bbox[1] + bbox[3]) / 2
    return 45.0


def _reference(reference_time, settings):
    if reference_time is not None:
        if callable(reference_time):
            return lambda: _as_date(reference_time())
        return _as_date(reference_time)

    def newest():
        try:
            from ..db import dal

            return _as_date(dal.last_data_time(settings=settings))
        except Exception as e:             # no database / no data: fall back to today
            log.info("no newest data time (%s); relative times count back from today", e)
            return dt.datetime.now(dt.UTC).date()
    return newest


def _as_date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    import pandas as pd

    ts = pd.Timestamp(value)
    return None if pd.isna(ts) else ts.date()


def _finish(spec: dict, text: str, understood: bool) -> QuerySpec | Clarification:
    intent = spec["intent"]
    if not understood:
        return Clarification(question="I couldn't find what to look for in that. Ask about a parameter "
                                      "(temperature, salinity, oxygen…), a region, a time or a float.",
                             suggestions=SUGGESTIONS[:3], reason="empty")
    try:
        partial = QuerySpec.model_validate(spec)
    except ValidationError as e:
        msgs = "; ".join(err["msg"].removeprefix("Value error, ") for err in e.errors()[:3])
        return Clarification(question=f"I can't use that: {msgs}.", suggestions=SUGGESTIONS[:3], reason="invalid")
    if intent in ("float_info", "trajectory") and not partial.platform_numbers:
        return Clarification(question="Which float? Give its WMO number, e.g. “trajectory of float 2902269”.",
                             reason="missing_float", partial=partial,
                             suggestions=["tell me about float 2902269", "trajectory of float 6901929"])
    if intent == "nearest_floats" and (partial.region is None or partial.region.kind != "point"):
        return Clarification(question="Nearest to where? Give a position, e.g. “nearest floats to 10°N 65°E”.",
                             reason="missing_point", partial=partial,
                             suggestions=["nearest floats to 15N, 65E", "5 closest floats off Chennai"])
    needs = intent in NEEDS_PARAMETER or (intent == "statistics" and partial.statistic in VALUE_STATISTICS)
    if needs and not partial.parameters:
        what = {"depth_slice": "map", "timeseries": "follow through time", "compare": "compare",
                "anomaly": "compute the anomaly of"}.get(
            intent, f"compute the {partial.statistic} of")
        return Clarification(question=f"Which parameter should I {what}: temperature, salinity, oxygen, "
                                      f"chlorophyll, nitrate, pH…?", reason="missing_parameter", partial=partial,
                             suggestions=[f"{p} {text[:60]}" for p in ("temperature", "salinity", "oxygen")])
    if intent == "anomaly" and partial.time_start is None and partial.time_end is None:
        return Clarification(question="An anomaly of which period? Give a year or months, e.g. “oxygen "
                                      "anomaly at 200 dbar in 2021”; the other years make the climatology.",
                             reason="missing_period", partial=partial,
                             suggestions=[f"{text[:60]} in 2021", f"{text[:60]} in the last 6 months"])
    if intent == "compare" and len(partial.compare) < 2:
        return Clarification(question="Compare what with what? Name two regions or two periods.",
                             reason="invalid", partial=partial,
                             suggestions=["compare temperature in the Arabian Sea and the Bay of Bengal",
                                          "compare salinity at 1000 m in 2019 and 2020"])
    return partial


def resolve_spec(spec: QuerySpec, text: str = "", resolver: Resolver | None = None,
                 settings=None) -> QuerySpec | Clarification:
    """Resolve the named regions of a spec from elsewhere (an LLM) and apply the same checks as
    the rule-based parser (missing parameter, float or point → a clarification).

    A ``region_id`` the model wrote is ignored: names are always looked up again.
    """
    resolver = resolver or db_resolver(settings)
    data = spec.model_dump()

    def fix(reg: dict | None) -> tuple[dict | None, Clarification | None]:
        if not reg or reg.get("kind") != "named":
            return reg, None
        found, clar = _named_region(str(reg.get("name") or ""), resolver, fuzzy=True)
        if clar is not None:
            return None, clar
        return {**reg, "region_id": None, **{k: v for k, v in found.items() if not k.startswith("_")}}, None

    data["region"], clar = fix(data.get("region"))
    if clar is not None:
        return clar
    for side in data.get("compare") or []:
        side["region"], clar = fix(side.get("region"))
        if clar is not None:
            return clar
    return _finish(data, text, True)
