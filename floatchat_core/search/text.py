"""The text of each search document: what a float or a dataset is, in the words people search with.

A document says the float type in plain words ("biogeochemical (BGC) float"), each parameter
by Argo name and by name ("dissolved oxygen (DOXY)"), the data assembly centre with its
country, project, PI, platform and maker, the regions visited (with "southern"/"northern" for
the three basins), where it was last seen, the time span with every calendar year spelled out
(so "1997" finds a float active in 1997), the profile count and data modes. Structured
``filters`` (parameters, float types, DACs, region ids, data modes, datasets) go along for the
filtered search.

Each document also gets an ``embed_text``: what the embedding model reads. It keeps the body's
sentences about what a float *is* (type, platform, DAC and country, project, PI, parameters in
plain words, regions visited, where it was last seen, first and last month, data modes) and
leaves out what only the full-text half can use (platform number, coordinates, dates, every
year, profile count, Argo codes): ~90 word pieces instead of ~165 (up to 256, the model's cut,
for long lives), so embedding costs ~1.8× less and the vector is not diluted by numbers.
(Tried and measured on the labelled set: a terser ~65-piece text lost semantic top-5 from
0.93 to 0.81; this one keeps 0.90.) A document is re-embedded only when its
``embed_text`` changes (a new profile changes the body, rarely the embed text). Internal module.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ..argo.variables import BY_NAME

#: Data assembly centres (GDAC folder names) → how people name them.
DAC_NAMES: dict[str, str] = {
    "aoml": "AOML (NOAA Atlantic Oceanographic and Meteorological Laboratory, USA)",
    "bodc": "BODC (British Oceanographic Data Centre, UK)",
    "coriolis": "Coriolis (Ifremer, France, Euro-Argo)",
    "csio": "CSIO (China Second Institute of Oceanography)",
    "csiro": "CSIRO (Australia)",
    "incois": "INCOIS (Indian National Centre for Ocean Information Services, India)",
    "jma": "JMA (Japan Meteorological Agency)",
    "kma": "KMA (Korea Meteorological Administration)",
    "kordi": "KIOST (Korea Institute of Ocean Science and Technology)",
    "meds": "MEDS (Marine Environmental Data Section, Canada)",
    "nmdis": "NMDIS (China National Marine Data and Information Service)",
}

#: The same, short (the embedding text): the centre and its country.
DAC_SHORT: dict[str, str] = {
    "aoml": "AOML (NOAA, USA)", "bodc": "BODC (UK)", "coriolis": "Coriolis (Ifremer, France)",
    "csio": "CSIO (China)", "csiro": "CSIRO (Australia)", "incois": "INCOIS (India)", "jma": "JMA (Japan)",
    "kma": "KMA (Korea)", "kordi": "KIOST (Korea)", "meds": "MEDS (Canada)", "nmdis": "NMDIS (China)",
}

FLOAT_TYPE_WORDS = {"core": "core Argo float", "bgc": "biogeochemical (BGC) float", "deep": "Deep Argo float"}
DATA_MODE_WORDS = {"R": "real-time", "A": "adjusted", "D": "delayed-mode"}

#: Regions named with a hemisphere qualifier when visited ("southern Indian Ocean").
HEMISPHERE_REGIONS = ("Indian Ocean", "Atlantic Ocean", "Pacific Ocean")

#: Parameters that are technical (sensor phases, clock) rather than what people ask for.
_TECHNICAL = ("C1PHASE_", "C2PHASE_", "TEMP_DOXY", "MTIME", "PPOX_", "BPHASE_", "TPHASE_", "RPHASE_")


def _list(v) -> list:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return []
    return [x for x in v if x is not None and x == x]


#: Plain words for the embedding text where the catalogue's first synonym is too terse.
_PLAIN = {"DOXY": "dissolved oxygen", "CHLA": "chlorophyll", "BBP700": "particle backscatter",
          "PH_IN_SITU_TOTAL": "pH", "DOWNWELLING_PAR": "downwelling PAR irradiance"}


@lru_cache(maxsize=4096)
def _parameter_words(names: tuple[str, ...], plain_only: bool) -> tuple[str, ...]:
    names_ = [n for n in names if not any(str(n).startswith(t) for t in _TECHNICAL)]
    known = [p for p in BY_NAME.values() if p.name in names_]
    other = sorted(n for n in names_ if n not in BY_NAME)
    words = []
    for p in known:
        if plain_only:
            if p.name != "PRES":            # every float measures pressure: no meaning to add
                words.append(_PLAIN.get(p.name) or (p.synonyms[0] if p.synonyms else p.long_name.lower()))
            continue
        plain = p.synonyms[0] if p.synonyms else p.long_name.lower()
        if p.name == "DOXY":
            plain = "dissolved oxygen"
        words.append(f"{plain} ({p.name})")
    return tuple(words + other)


def parameter_words(names, plain_only: bool = False) -> list[str]:
    """``["temperature (TEMP)", "dissolved oxygen (DOXY)", …]`` in catalogue order; with
    ``plain_only`` the plain words alone, without pressure (``["temperature", "dissolved oxygen"]``)."""
    return list(_parameter_words(tuple(str(n) for n in _list(names)), plain_only))


def _s(v) -> str:
    """A text field as a clean string ("" for None/NaN)."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    return " ".join(str(v).split())


def _latlon(lat: float, lon: float) -> str:
    return f"{abs(lat):.2f}°{'N' if lat >= 0 else 'S'}, {abs(lon):.2f}°{'E' if lon >= 0 else 'W'}"


def _span(t0, t1) -> str:
    if t0 is None or pd.isna(t0):
        return "dates unknown"
    return f"{pd.Timestamp(t0):%B %Y} to {pd.Timestamp(t1):%B %Y}"


def _year_span(t0, t1) -> str:
    if t0 is None or pd.isna(t0):
        return ""
    y0, y1 = pd.Timestamp(t0).year, pd.Timestamp(t1).year
    return f"{y0}" if y0 == y1 else f"{y0} to {y1}"


def _years(years) -> str:
    ys = sorted({int(y) for y in _list(years)})
    return " ".join(str(y) for y in ys)


def _grouped_regions(regions: pd.DataFrame, key: str) -> dict[Any, tuple[list, list, list, list]]:
    """``{key: (names, lat_mins, lat_maxs, region_ids)}`` sorted by area then name: one sort and
    one pass over the rows (no per-key DataFrame)."""
    if regions is None or regions.empty:
        return {}
    r = regions.sort_values([key, "area_km2", "region"], kind="stable")
    keys = r[key].to_numpy()
    cols = (r["region"].tolist(), r["lat_min"].to_numpy(float).tolist(), r["lat_max"].to_numpy(float).tolist(),
            r["region_id"].to_numpy(np.int64).tolist())
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.array([], int)
    ends = np.r_[starts[1:], len(keys)]
    return {keys[a]: tuple(c[a:b] for c in cols) for a, b in zip(starts, ends)}


def _region_phrases(group: tuple[list, list, list, list] | None) -> tuple[list[str], list[int]]:
    """Region names (smallest area first, basins with hemisphere words) and ids of one
    :func:`_grouped_regions` entry."""
    if not group:
        return [], []
    names, lat_mins, lat_maxs, ids = group
    words: list[str] = []
    for name, lat0, lat1 in zip(names, lat_mins, lat_maxs):
        if name in HEMISPHERE_REGIONS:
            if lat1 > 0:
                words.append(f"northern {name}")
            if lat0 < 0:
                words.append(f"southern {name}")
            if not words or not words[-1].endswith(name):
                words.append(name)
        else:
            words.append(name)
    return words, [int(i) for i in ids]


def _float_types(float_type: str | None, is_bgc: bool) -> list[str]:
    types = [float_type or "core"]
    if is_bgc and "bgc" not in types:
        types.append("bgc")
    return types


def _who(dac: str | None, project: str, pi: str, operator: str, *, argo_codes: bool) -> list[str]:
    """A float's people sentences: with the Argo codes ("(DAC)", "(PI)", full centre names) for the
    body, without them (short centre names) for the embedded text."""
    out = []
    if dac:
        out.append(f"Data assembly centre (DAC): {DAC_NAMES.get(dac, dac.upper())}." if argo_codes
                   else f"Data assembly centre: {DAC_SHORT.get(dac, dac.upper())}.")
    if project:
        out.append(f"Project: {project}.")
    if pi:
        out.append(f"Principal investigator{' (PI)' if argo_codes else ''}: {pi}.")
    if operator:
        out.append(f"Operated by {operator}.")
    return out


#: Columns of a document frame.
DOCUMENT_COLUMNS = ["kind", "ref", "title", "body", "filters", "time_start", "time_end", "embed_text"]


def float_documents(facts: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """One document per float: ``kind, ref, title, body, filters, time_start, time_end, embed_text``."""
    cols = DOCUMENT_COLUMNS
    if facts.empty:
        return pd.DataFrame(columns=cols)
    by_float = _grouped_regions(regions, "platform_number")
    out = []
    for r in facts.itertuples(index=False):
        pn = str(r.platform_number)
        params = _list(r.parameters) or [p for p in _list(r.meta_parameters) if p in BY_NAME]
        pwords = parameter_words(params)
        is_bgc = bool(r.is_bgc) or any(BY_NAME[p].is_bgc for p in params if p in BY_NAME)
        types = _float_types(r.float_type, is_bgc)
        type_words = " and ".join(FLOAT_TYPE_WORDS[t] for t in types)
        if "bgc" in types and "deep" in types:
            type_words = "Deep Argo biogeochemical (BGC) float"
        dac = _s(r.dac).lower() or None
        platform_type, maker, project, pi, operator = (_s(r.platform_type), _s(r.platform_maker),
                                                       _s(r.project_name), _s(r.pi_name),
                                                       _s(r.operating_institution))
        reg_words, reg_ids = _region_phrases(by_float.get(pn))
        core_only = set(params) <= {"PRES", "TEMP"} and "TEMP" in params
        sentences = [f"Argo float {pn}: {type_words}"
                     + (f", platform {platform_type}" if platform_type else "")
                     + (f" made by {maker}" if maker else "") + "."]
        sentences += _who(dac, project, pi, operator, argo_codes=True)
        if pwords:
            sentences.append("Measures " + ", ".join(pwords)
                             + ("; temperature only, no salinity" if core_only else "") + ".")
        if reg_words:
            sentences.append("Regions visited: " + ", ".join(reg_words) + ".")
        last = [x for x in _list(r.last_regions) if not str(x).endswith("(open ocean)")]
        if r.last_juld is not None and not pd.isna(r.last_juld):
            where = f" in the {last[0]}" if last else ""
            sentences.append(f"Last position{where} ({_latlon(r.last_latitude, r.last_longitude)}) "
                             f"on {pd.Timestamp(r.last_juld):%Y-%m-%d}.")
        sentences.append(f"{int(r.n_profiles):,} profiles from {_span(r.time_start, r.time_end)}"
                         + (f" (years {_years(r.years)})" if _list(r.years) else "") + ".")
        modes = sorted(_list(r.data_modes))
        if modes:
            sentences.append("Data modes: " + ", ".join(DATA_MODE_WORDS.get(m, m) for m in modes) + ".")
        title = (f"Float {pn} — {FLOAT_TYPE_WORDS[types[0]]}"
                 + (f", {dac.upper() if dac not in DAC_NAMES else DAC_NAMES[dac].split(' (')[0]}" if dac else "")
                 + (f", {project}" if project else ""))
        filters: dict[str, Any] = {
            "parameters": sorted(set(params)), "float_types": types, "dacs": [dac] if dac else [],
            "region_ids": reg_ids, "data_modes": modes,
            "dataset_ids": sorted(int(x) for x in _list(r.dataset_ids)), "platform_number": pn,
            "last_region_names": last[:3],
        }
        # the body's sentences without numbers the model cannot use (platform number, coordinates,
        # dates, every year, counts) and without Argo codes: ~90 word pieces instead of ~165
        emb = [f"Argo float: {type_words.replace(' (BGC)', '')}"
               + (f", platform {platform_type}" if platform_type else "") + (f" made by {maker}" if maker else "") + "."]
        emb += _who(dac, project, pi, operator, argo_codes=False)
        plain = parameter_words(params, plain_only=True)
        if plain:
            emb.append("Measures " + ", ".join(plain) + ("; temperature only, no salinity" if core_only else "") + ".")
        if reg_words:
            emb.append("Regions visited: " + ", ".join(reg_words) + ".")
        if last:
            emb.append(f"Last position in the {last[0]}.")
        if r.time_start is not None and not pd.isna(r.time_start):
            emb.append(f"Profiles from {_span(r.time_start, r.time_end)}.")
        if modes:
            emb.append("Data modes: " + ", ".join(DATA_MODE_WORDS.get(m, m) for m in modes) + ".")
        out.append(("float", pn, title, " ".join(sentences), filters, r.time_start, r.time_end, " ".join(emb)))
    return pd.DataFrame(out, columns=cols)


def dataset_documents(facts: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """One document per active dataset: ``kind, ref, title, body, filters, time_start, time_end, embed_text``."""
    cols = DOCUMENT_COLUMNS
    if facts.empty:
        return pd.DataFrame(columns=cols)
    by_ds = _grouped_regions(regions, "dataset_id")
    out = []
    for r in facts.itertuples(index=False):
        params = _list(r.parameters)
        types = sorted(set(_list(r.float_types)) | ({"bgc"} if r.has_bgc else set()))
        dacs = sorted(str(d).lower() for d in _list(r.dacs))
        reg_words, reg_ids = _region_phrases(by_ds.get(r.id))
        modes = sorted(_list(r.data_modes))
        sentences = [f"Argo dataset {r.name} ({r.source}): {int(r.n_profiles or 0):,} profiles from "
                     f"{int(r.n_floats or 0):,} floats, {_span(r.time_start, r.time_end)}"
                     + (f" (years {_years(r.years)})" if _list(r.years) else "") + "."]
        if _s(r.description):
            sentences.append(_s(r.description).rstrip(".") + ".")
        if params:
            sentences.append("Parameters: " + ", ".join(parameter_words(params)) + ".")
        if types:
            sentences.append("Float types: " + ", ".join(FLOAT_TYPE_WORDS[t] for t in types if t in FLOAT_TYPE_WORDS)
                             + ".")
        if dacs:
            sentences.append("Data assembly centres: " + ", ".join(DAC_NAMES.get(d, d.upper()) for d in dacs) + ".")
        if _list(r.projects):
            sentences.append("Projects: " + ", ".join(sorted(_list(r.projects))[:20]) + ".")
        if _list(r.pis):
            sentences.append("PIs: " + ", ".join(sorted(_list(r.pis))[:20]) + ".")
        if reg_words:
            sentences.append("Regions: " + ", ".join(reg_words[:40]) + ".")
        if modes:
            sentences.append("Data modes: " + ", ".join(DATA_MODE_WORDS.get(m, m) for m in modes) + ".")
        filters = {"parameters": sorted(set(params)), "float_types": types, "dacs": dacs, "region_ids": reg_ids,
                   "data_modes": modes, "dataset_ids": [int(r.id)]}
        title = f"Dataset {r.name} — {int(r.n_floats or 0):,} floats, {int(r.n_profiles or 0):,} profiles"
        span = _year_span(r.time_start, r.time_end)
        emb = [f"Argo dataset {r.name} ({r.source}) of {int(r.n_floats or 0):,} floats"
               + (f", {span}" if span else "") + "."]
        emb += [x for x in sentences[1:] if not x.startswith(("Parameters:", "Data assembly centres:"))]
        if params:
            emb.insert(2, "Parameters: " + ", ".join(parameter_words(params, plain_only=True)) + ".")
        if dacs:
            emb.append("Data assembly centres: " + ", ".join(DAC_SHORT.get(d, d.upper()) for d in dacs) + ".")
        out.append(("dataset", str(r.id), title, " ".join(sentences), filters, r.time_start, r.time_end,
                    " ".join(emb)))
    return pd.DataFrame(out, columns=cols)


def cut(text: str, n: int = 300) -> str:
    """``text`` cut to at most ``n`` characters at a word boundary, with an ellipsis when cut."""
    text = " ".join(str(text or "").split())
    if len(text) <= n:
        return text
    head = text[:n - 1]
    if " " in head[n // 2:]:
        head = head[:head.rfind(" ")]
    return head.rstrip(" ,;:") + "…"
