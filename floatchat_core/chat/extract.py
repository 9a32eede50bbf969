"""Pure text extraction for the rule-based parser (internal): parameters, places, coordinates,
radii, depths, times, float numbers and QC words found in a question.

No database, no network, deterministic. Each ``find_*`` function takes the working text,
returns what it found and the text with the matched span blanked out, so later patterns do not
read a depth as a year or a WMO number as a pressure. Units: degrees, decibar, km, UTC dates.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from dataclasses import dataclass, field

from ..argo.variables import PARAMETERS

# ----------------------------------------------------------------------------- parameters
_EXTRA_SYNONYMS: dict[str, tuple[str, ...]] = {
    "TEMP": ("temperature", "temp", "sst", "sea surface temperature", "water temperature", "thermal", "warmth"),
    "PSAL": ("salinity", "psal", "salt", "sss", "saltiness", "practical salinity"),
    "DOXY": ("oxygen", "o2", "doxy", "dissolved oxygen", "oxygenation"),
    "CHLA": ("chlorophyll", "chl", "chla", "chl-a", "chlorophyll-a", "chlorophyll a"),
    "NITRATE": ("nitrate", "nitrates", "no3"),
    "PH_IN_SITU_TOTAL": ("ph", "acidity", "ph_in_situ_total"),
    "BBP700": ("backscatter", "backscattering", "bbp", "bbp700", "particle backscatter"),
    "DOWNWELLING_PAR": ("par", "irradiance", "light", "downwelling_par", "photosynthetically available radiation"),
    "DOWN_IRRADIANCE380": ("irradiance 380", "irradiance at 380", "down_irradiance380"),
    "DOWN_IRRADIANCE412": ("irradiance 412", "irradiance at 412", "down_irradiance412"),
    "DOWN_IRRADIANCE490": ("irradiance 490", "irradiance at 490", "down_irradiance490"),
}


def _synonyms() -> list[tuple[str, str]]:
    pairs = {(s.lower(), p.name) for p in PARAMETERS if p.name != "PRES" for s in p.synonyms}
    pairs |= {(s, name) for name, syns in _EXTRA_SYNONYMS.items() for s in syns}
    return sorted(pairs, key=lambda x: -len(x[0]))            # longest first


_SYN = _synonyms()
_PARAM_RE = re.compile(r"(?<![a-z0-9_])(" + "|".join(re.escape(s).replace(r"\ ", r"[\s_-]+")
                                                   for s, _ in _SYN) + r")(?:e?s)?(?![a-z0-9_])")
_SYN_MAP = {s: name for s, name in _SYN}
_SURFACE_SYNONYMS = {"sst", "sss", "sea surface temperature"}


def find_parameters(text: str) -> tuple[list[str], bool, str]:
    """Argo parameter names in mention order, whether a surface-only synonym (SST) was used,
    and the text with the mentions blanked."""
    found: list[str] = []
    surface = False
    for m in _PARAM_RE.finditer(text):
        key = re.sub(r"[\s_-]+", " ", m.group(1))
        name = _SYN_MAP.get(key) or _SYN_MAP.get(m.group(1)) or _SYN_MAP.get(key.replace(" ", "-"))
        if name is None:
            continue
        surface |= key in _SURFACE_SYNONYMS
        if name not in found:
            found.append(name)
    return found, surface, _PARAM_RE.sub(lambda m: " " * len(m.group(0)), text)


#: Change words that imply the parameter (checked only when no parameter is named).
_TREND_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(warming|cooling|(?:getting|becoming) (?:warmer|colder|cooler)|heat(?:ing)? up)\b", "TEMP"),
    (r"\b(freshening|salinification|(?:getting|becoming) (?:saltier|fresher)|saltier|fresher)\b", "PSAL"),
    (r"\b(de-?oxygenation|oxygen loss|losing oxygen|hypoxia)\b", "DOXY"),
)


def find_trend_parameters(text: str) -> list[str]:
    """Parameters implied by change words: warming/cooling → TEMP, freshening/saltier → PSAL,
    deoxygenation/oxygen loss → DOXY (in mention order)."""
    hits = sorted((m.start(), name) for rx, name in _TREND_WORDS for m in re.finditer(rx, text))
    return list(dict.fromkeys(name for _, name in hits))


# ----------------------------------------------------------------------------- numbers and units
NUM = r"(\d+(?:\.\d+)?)"
_M_UNITS = r"(m|meters?|metres?|mtrs?)"
_P_UNITS = r"(dbar|db|decibars?|hpa)"
_DEPTH_UNIT = rf"(?:{_M_UNITS}|{_P_UNITS})(?![a-z])"


def depth_to_pressure(depth_m: float, lat: float = 45.0) -> float:
    """Depth (m, positive down) → sea pressure (dbar), Saunders (1981), at latitude ``lat``.

    Accurate to ~0.1 % of the TEOS-10 ``gsw.p_from_z`` over the oceanic range; rounded to 0.1 dbar.
    """
    c1 = (5.92 + 5.25 * math.sin(math.radians(abs(lat))) ** 2) * 1e-3
    p = ((1 - c1) - math.sqrt((1 - c1) ** 2 - 8.84e-6 * depth_m)) / 4.42e-6
    return round(p, 1)


@dataclass
class Depth:
    """A depth phrase: a target or a range, in metres (``metres=True``) or decibar."""

    target: float | None = None
    low: float | None = None
    high: float | None = None
    metres: bool = False
    surface: bool = False


_RANGE_RE = re.compile(rf"(?:between|from)?\s*{NUM}\s*(?:{_DEPTH_UNIT})?\s*(?:-|–|to|and)\s*{NUM}\s*{_DEPTH_UNIT}"
                       rf"(?:\s*(?:depth|deep|pressure))?")
_UPPER_RE = re.compile(rf"(?:upper|top|first|shallowest|above|shallower than|less than|within the (?:upper|top)"
                       rf"|in the (?:upper|top)|down to|to a depth of)\s+{NUM}\s*{_DEPTH_UNIT}")
_BELOW_RE = re.compile(rf"(?:below|deeper than|beneath|under|greater than|more than|beyond)\s+{NUM}\s*{_DEPTH_UNIT}")
_AT_RE = re.compile(rf"(?:(?:at|@|near|around|of)\s+(?:a\s+)?(?:depth\s+(?:of\s+)?|pressure\s+(?:of\s+)?)?)?"
                    rf"{NUM}\s*{_DEPTH_UNIT}(?:\s*(?:depth|deep|level|pressure|isobar))?")
_SURFACE_RE = re.compile(r"\b(sea[\s-]surface|near[\s-]surface|surface|at the top|top of the ocean)\b")


def _unit_is_metres(m_unit: str | None, p_unit: str | None) -> bool:
    return bool(m_unit) and not p_unit


def find_depth(text: str) -> tuple[Depth | None, str]:
    """The first depth phrase: "at 1000 m", "upper 200 m", "below 1500 dbar", "100–500 m", "surface"."""
    blank = lambda m: " " * len(m.group(0))   # noqa: E731
    m = _RANGE_RE.search(text)
    if m:
        a, mu1, pu1, b, mu2, pu2 = m.groups()
        metres = _unit_is_metres(mu2 or mu1, pu2 or pu1)
        lo, hi = sorted((float(a), float(b)))
        return Depth(low=lo, high=hi, metres=metres), text[:m.start()] + blank(m) + text[m.end():]
    for rx, kind in ((_UPPER_RE, "upper"), (_BELOW_RE, "below"), (_AT_RE, "at")):
        m = rx.search(text)
        if m:
            v, mu, pu = float(m.group(1)), m.group(2), m.group(3)
            d = Depth(metres=_unit_is_metres(mu, pu))
            if kind == "upper":
                d.low, d.high = 0.0, v
            elif kind == "below":
                d.low = v
            else:
                d.target = v
            return d, text[:m.start()] + blank(m) + text[m.end():]
    m = _SURFACE_RE.search(text)
    if m:
        return Depth(surface=True), text[:m.start()] + blank(m) + text[m.end():]
    return None, text


# ----------------------------------------------------------------------------- radius
_RADIUS_RE = re.compile(rf"(?:within|inside|in a radius of|radius(?: of)?|less than|up to)?\s*{NUM}\s*"
                        r"(km|kms|kilomet(?:er|re)s?|nautical miles?|nmi|nm|miles?|mi)\b"
                        r"(?:\s*(?:radius|around|of|from))?")
_KM_PER = {"km": 1.0, "kms": 1.0, "nautical": 1.852, "nmi": 1.852, "nm": 1.852, "mile": 1.609344, "mi": 1.609344}


def find_radius(text: str) -> tuple[float | None, str]:
    """A search radius in km ("within 300 km", "100 nautical miles")."""
    m = _RADIUS_RE.search(text)
    if not m:
        return None, text
    unit = m.group(2)
    factor = next((f for k, f in _KM_PER.items() if unit.startswith(k)), 1.0)
    if unit.startswith("kilomet"):
        factor = 1.0
    return float(m.group(1)) * factor, text[:m.start()] + " " * (m.end() - m.start()) + text[m.end():]


# ----------------------------------------------------------------------------- coordinates
_HEMI = (r"(?<![\w.])(-?\d{1,3}(?:\.\d+)?)\s*(?:°|º|˚|deg(?:rees?)?)?\s*(?:(\d{1,2}(?:\.\d+)?)\s*['′’]\s*)?"
         r"(north|south|east|west|[nsew])(?![a-z])")
_HEMI_RE = re.compile(_HEMI, re.IGNORECASE)
_LATLON_WORDS_RE = re.compile(r"\blat(?:itude)?\s*[=:]?\s*(-?\d{1,3}(?:\.\d+)?)\s*,?\s*(?:and\s+)?"
                              r"lon(?:gitude)?\s*[=:]?\s*(-?\d{1,3}(?:\.\d+)?)", re.IGNORECASE)
_PAIR_RE = re.compile(r"(?<![\w.])\(?\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*\)?(?![\w.])")


@dataclass
class Coordinates:
    """Latitudes and longitudes found, in order, as degrees; problems as messages."""

    lats: list[float] = field(default_factory=list)
    lons: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _check(lat: float | None, lon: float | None, out: Coordinates) -> None:
    if lat is not None:
        if -90 <= lat <= 90:
            out.lats.append(lat)
        else:
            out.errors.append(f"latitude {lat:g}° is impossible (latitudes run from 90°S to 90°N)")
    if lon is not None:
        if -180 <= lon <= 360:
            out.lons.append(((lon + 180) % 360) - 180 if lon > 180 else lon)
        else:
            out.errors.append(f"longitude {lon:g}° is impossible (longitudes run from 180°W to 180°E, or 0–360)")


def find_coordinates(text: str) -> tuple[Coordinates, str]:
    """Coordinates as people write them: ``10°N 65°E``, ``15N, 60E``, ``12°30'S``,
    ``lat 10 lon 65``, ``-12.5, 110`` (latitude first)."""
    out = Coordinates()
    spans = []
    for m in _HEMI_RE.finditer(text):
        v = float(m.group(1)) + (float(m.group(2)) / 60 if m.group(2) else 0.0)
        h = m.group(3)[0].lower()
        if v < 0 and h in "sw":
            h = "n" if h == "s" else "e"
        if h in "ns":
            _check(-v if h == "s" else v, None, out)
        else:
            _check(None, -v if h == "w" else v, out)
        spans.append(m.span())
    if not spans:
        for rx in (_LATLON_WORDS_RE, _PAIR_RE):
            for m in rx.finditer(text):
                a, b = float(m.group(1)), float(m.group(2))
                if rx is _PAIR_RE and "." not in m.group(0) and "-" not in m.group(0) and "(" not in m.group(0):
                    continue                       # "5, 10" alone is too weak a signal
                _check(a, b, out)
                spans.append(m.span())
            if spans:
                break
    for a, b in reversed(spans):
        text = text[:a] + " " * (b - a) + text[b:]
    return out, text


# ----------------------------------------------------------------------------- floats
_WMO_KW_RE = re.compile(r"\b(?:floats?|wmos?|platforms?|argo|buoys?|id|#)\s*(?:#|no\.?|number|numbers|id)?\s*:?\s*"
                        r"(\d{5,7}(?:\s*(?:,|and|&|or)\s*\d{5,7})*)\b")
_WMO_BARE_RE = re.compile(r"(?<![\d.])([1-7]\d{6})(?![\d.])")


def find_floats(text: str) -> tuple[list[str], str]:
    """Float WMO numbers: "float 13857", "WMO 2902269", bare 7-digit numbers."""
    found: list[str] = []
    for m in _WMO_KW_RE.finditer(text):
        found += re.findall(r"\d{5,7}", m.group(1))
    text = _WMO_KW_RE.sub(lambda m: m.group(0)[:m.start(1) - m.start()] + " " * len(m.group(1)), text)
    for m in _WMO_BARE_RE.finditer(text):
        if len(m.group(1)) == 7:
            found.append(m.group(1))
    text = _WMO_BARE_RE.sub(lambda m: " " * len(m.group(0)) if len(m.group(1)) == 7 else m.group(0), text)
    return list(dict.fromkeys(found)), text


# ----------------------------------------------------------------------------- times
MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTHS["sept"] = 9
_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december|" \
         r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_YEAR = r"((?:19|20)\d{2})"
_SEASONS = {"winter": (12, 2), "spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11),
            "monsoon": (6, 9), "southwest monsoon": (6, 9), "northeast monsoon": (12, 2)}
_SEASON = r"(southwest monsoon|northeast monsoon|monsoon|winter|spring|summer|autumn|fall)"


@dataclass
class Period:
    """A time item found in the text: inclusive dates; ``joined`` if written as one range."""

    start: dt.date | None
    end: dt.date | None
    label: str
    pos: int = 0
    joined: bool = False


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _season(name: str, year: int) -> tuple[dt.date, dt.date]:
    m0, m1 = _SEASONS[name]
    if m0 > m1:                      # winter 2020 = Dec 2019 – Feb 2020 (boreal)
        return dt.date(year - 1, m0, 1), month_end(year, m1)
    return dt.date(year, m0, 1), month_end(year, m1)


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def _date(y: int, mo: int, d: int, errors: list[str], raw: str) -> dt.date | None:
    try:
        return dt.date(y, mo, d)
    except ValueError:
        errors.append(f"{raw.strip()!r} is not a real date")
        return None


def find_times(text: str, reference, errors: list[str]) -> tuple[list[Period], str, bool]:
    """Time items in text order, the text with them blanked, and whether any was relative.

    Relative phrases ("the last 6 months", "last winter", "this year") count back from
    ``reference`` (the newest data time: a date, or a callable returning one, called only when
    needed); with no reference they are reported in ``errors``.
    """
    items: list[Period] = []
    relative = False

    def take(m, start, end, label, joined=False):
        nonlocal text
        items.append(Period(start, end, label, m.start(), joined))
        text = text[:m.start()] + " " * (m.end() - m.start()) + text[m.end():]

    def ref() -> dt.date | None:
        nonlocal relative, reference
        relative = True
        if callable(reference):
            reference = reference()
        if reference is None:
            errors.append("a relative time needs the newest data time, which is unknown")
        return reference

    # ISO dates and date ranges
    for m in list(re.finditer(r"\b((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})\b", text)):
        d = _date(int(m.group(1)), int(m.group(2)), int(m.group(3)), errors, m.group(0))
        if d:
            take(m, d, d, m.group(0))
    # "15 March 2023", "March 15, 2023", "February 30 2021"
    for m in list(re.finditer(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", text)):
        d = _date(int(m.group(3)), MONTHS[m.group(2)], int(m.group(1)), errors, m.group(0))
        if d:
            take(m, d, d, m.group(0))
    for m in list(re.finditer(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YEAR}\b", text)):
        d = _date(int(m.group(3)), MONTHS[m.group(1)], int(m.group(2)), errors, m.group(0))
        if d:
            take(m, d, d, m.group(0))
    # "March to May 2021", "between March and June 2022"
    for m in list(re.finditer(rf"\b{_MONTH}\s*(?:-|–|to|through|until|and)\s*{_MONTH}\s+{_YEAR}\b", text)):
        y = int(m.group(3))
        a, b = MONTHS[m.group(1)], MONTHS[m.group(2)]
        take(m, dt.date(y if a <= b else y - 1, a, 1), month_end(y, b), m.group(0), joined=True)
    # "March 2023"
    for m in list(re.finditer(rf"\b{_MONTH}\s*(?:of\s+)?,?\s*{_YEAR}\b", text)):
        y, mo = int(m.group(2)), MONTHS[m.group(1)]
        take(m, dt.date(y, mo, 1), month_end(y, mo), m.group(0).strip())
    # seasons with a year: "winter 2020", "summer of 2019"
    for m in list(re.finditer(rf"\b{_SEASON}\s+(?:of\s+)?{_YEAR}\b", text)):
        s, e = _season(m.group(1), int(m.group(2)))
        take(m, s, e, m.group(0))
    # relative: "the last 6 months", "past 2 years", "last 30 days", "last decade"
    for m in list(re.finditer(r"\b(?:in\s+)?(?:the\s+)?(?:last|past|previous|recent)\s+(\d+|a|one|two|three|six|"
                              r"twelve|few)?\s*(day|week|month|year|decade)s?\b", text)):
        n = {"a": 1, "one": 1, "two": 2, "three": 3, "six": 6, "twelve": 12, "few": 3, None: 1}.get(
            m.group(1), None)
        n = int(m.group(1)) if n is None else n
        r = ref()
        if r is None:
            take(m, None, None, m.group(0))
            continue
        unit = m.group(2)
        if unit == "day":
            start = r - dt.timedelta(days=n)
        elif unit == "week":
            start = r - dt.timedelta(weeks=n)
        elif unit == "month":
            start = _add_months(r, -n)
        elif unit == "year" and m.group(1) is None and "last year" in m.group(0):
            start, r = dt.date(r.year - 1, 1, 1), dt.date(r.year - 1, 12, 31)      # the previous calendar year
        else:
            start = _add_months(r, -12 * n * (10 if unit == "decade" else 1))
        take(m, start, r, m.group(0).strip())
    for m in list(re.finditer(rf"\b(last|this|previous|past)\s+{_SEASON}\b", text)):
        r = ref()
        if r is None:
            take(m, None, None, m.group(0))
            continue
        y = r.year + (1 if m.group(2) in ("winter", "northeast monsoon") and r.month == 12 else 0)
        s, e = _season(m.group(2), y)
        while e > r or (m.group(1) != "this" and e >= r):
            y -= 1
            s, e = _season(m.group(2), y)
        take(m, s, e, m.group(0))
    for m in list(re.finditer(r"\bthis\s+year\b|\byear\s+to\s+date\b", text)):
        r = ref()
        take(m, dt.date(r.year, 1, 1) if r else None, r, m.group(0))
    # decades "the 2010s"
    for m in list(re.finditer(r"\b(?:the\s+)?((?:19|20)\d)0s\b", text)):
        y = int(m.group(1)) * 10
        take(m, dt.date(y, 1, 1), dt.date(y + 9, 12, 31), m.group(0).strip(), joined=True)
    # year ranges "2019-2021", "2019–2021", "2019 to 2021", "from 2019 to 2021", "2019/20"
    for m in list(re.finditer(rf"\b(?:from\s+)?{_YEAR}\s*(?:-|–|—|to|through|until|till)\s*{_YEAR}\b", text)):
        a, b = sorted((int(m.group(1)), int(m.group(2))))
        take(m, dt.date(a, 1, 1), dt.date(b, 12, 31), f"{a}–{b}", joined=True)
    # open-ended: "since 2020", "after 2019", "before 2015", "until 2018"
    for m in list(re.finditer(rf"\b(since|from|after|starting(?: in)?|before|until|till|up to|through|prior to)\s+"
                              rf"{_YEAR}\b", text)):
        y, w = int(m.group(2)), m.group(1)
        if w in ("since", "from") or w.startswith("starting"):
            take(m, dt.date(y, 1, 1), None, m.group(0))
        elif w == "after":
            take(m, dt.date(y + 1, 1, 1), None, m.group(0))
        elif w in ("before", "prior to"):
            take(m, None, dt.date(y - 1, 12, 31), m.group(0))
        else:
            take(m, None, dt.date(y, 12, 31), m.group(0))
    # single years
    for m in list(re.finditer(rf"(?<![\d.-]){_YEAR}(?![\d.])", text)):
        y = int(m.group(1))
        take(m, dt.date(y, 1, 1), dt.date(y, 12, 31), m.group(0))
    # a month without a year ("in March"): the latest such month up to the reference
    for m in list(re.finditer(rf"\b(?:in|during|for)\s+{_MONTH}\b", text)):
        r = ref()
        if r is None:
            take(m, None, None, m.group(0))
            continue
        mo = MONTHS[m.group(1)]
        y = r.year if mo <= r.month else r.year - 1
        take(m, dt.date(y, mo, 1), month_end(y, mo), m.group(0).split(None, 1)[1])
    # impossible years ("in 99999", "year 3000")
    for m in re.finditer(r"\b(?:in|year|since|during|from)\s+(\d{5,}|[3-9]\d{3}|1[0-8]\d{2})\b", text):
        errors.append(f"the year {m.group(1)} is outside the Argo record (1997 onwards)")
    items.sort(key=lambda p: p.pos)
    return items, text, relative


# ----------------------------------------------------------------------------- limits, QC, types
_LIMIT_RE = re.compile(r"\b(?:latest|last|first|top|most recent|newest|oldest|nearest|closest)\s+(\d{1,6})\s+"
                       r"(?:\w+\s+)?(?:profiles?|floats?|casts?|cycles?|records?|results?)\b"
                       r"|\b(\d{1,6})\s+(?:most recent|latest|newest|nearest|closest)\b"
                       r"|\blimit\s+(?:to\s+)?(\d{1,6})\b")


def find_limit(text: str) -> tuple[int | None, str]:
    m = _LIMIT_RE.search(text)
    if not m:
        return None, text
    v = int(next(g for g in m.groups() if g))
    return (v if v > 0 else None), text[:m.start()] + " " * (m.end() - m.start()) + text[m.end():]


QC_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(raw|unfiltered|unadjusted|all flags|with (?:qc )?flags|including bad|no qc|expert mode|expert|"
     r"every value|all values)\b", "expert"),
    (r"\b(delayed[\s-]?mode|dmqc|research[\s-](?:quality|grade|mode)|best[\s-]quality|highest[\s-]quality|"
     r"scientific[\s-]quality|fully qc'?d)\b", "research"),
    (r"\b(quality[\s-]controll?ed|qc'?e?d|good[\s-](?:quality|data|qc)|standard (?:qc|mode|quality))\b", "standard"),
)


def find_qc(text: str) -> tuple[str | None, str | None]:
    """``(qc_mode, data_mode)`` from QC words: "delayed mode" → research + D, "raw" → expert,
    "quality controlled" → standard, "real-time only" → data mode R."""
    data_mode = None
    if re.search(r"\bdelayed[\s-]?mode\b", text):
        data_mode = "D"
    elif re.search(r"\b(real[\s-]?time|realtime)\b", text):
        data_mode = "R"
    elif re.search(r"\badjusted[\s-]mode\b", text):
        data_mode = "A"
    for rx, mode in QC_WORDS:
        if re.search(rx, text):
            return mode, data_mode
    return None, data_mode


def find_float_type(text: str) -> str | None:
    if re.search(r"\b(bgc|bio[\s-]?argo|biogeochemical|bio[\s-]?geo[\s-]?chemical|bio)\b", text):
        return "bgc"
    if re.search(r"\bdeep(?:[\s-]?argo)?\s+(?:floats?|profilers?)\b|\bdeep[\s-]argo\b", text):
        return "deep"
    if re.search(r"\bcore(?:[\s-]?argo)?\s+(?:floats?|only)\b|\bcore[\s-]argo\b", text):
        return "core"
    return None


def find_statistic(text: str) -> str | None:
    for rx, stat in ((r"\b(how many|count|number of|how much data)\b", "count"),
                     (r"\b(median)\b", "median"),
                     (r"\b(std|standard deviation|variability|spread)\b", "std"),
                     (r"\b(range|min(?:imum)? and max(?:imum)?|extremes?)\b", "range"),
                     (r"\b(max(?:imum)?|highest|warmest|saltiest|peak|largest)\b", "max"),
                     (r"\b(min(?:imum)?|lowest|coldest|freshest|smallest)\b", "min"),
                     (r"\b(average|mean|typical|avg)\b", "mean")):
        if re.search(rx, text):
            return stat
    return None


def find_export_format(text: str) -> str | None:
    if re.search(r"\bnet\s?cdf\b|\.nc\b|\bnc file\b", text):
        return "netcdf"
    if re.search(r"\bparquet\b", text):
        return "parquet"
    if re.search(r"\bcsv\b|\bspreadsheet\b|\bexcel\b", text):
        return "csv"
    return None
