"""ERDDAP tabledap request building for the Ifremer Argo datasets (internal module).

URLs are built in ERDDAP's own syntax and in exactly the form the Argo community's
clients use (and the shared recordings hold), so a request is reproducible and
cacheable byte for byte:

``<base>/tabledap/<dataset>.<response>?<variables, sorted, comma-separated>``
``&platform_number=~"<wmo>|<wmo>"&cycle_number=~"<c>|<c>"`` (quoted regex constraints)
``&longitude>=W&longitude<=E&latitude>=S&latitude<=N&pres>=P0&pres<=P1``
``&time>=<epoch seconds>&time<=<epoch seconds>``
``[&pres_adjusted!=NaN&temp_adjusted!=NaN&psal_adjusted!=NaN]`` (research mode)
``&latitude!=NaN&longitude!=NaN&distinct()&orderBy("time,pres")``

Numbers keep the type they were given (``-20`` stays ``-20``, ``-16.0`` stays ``-16.0``);
chunk boundaries are computed, hence floats. Times are epoch seconds as floats.
The canonical URL is the unencoded form above; :func:`wire_url` percent-encodes it for
the wire (ERDDAP wants ``"``, ``<``, ``>``, ``|`` encoded).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import quote

import numpy as np
import pandas as pd

from ..argo.variables import BY_COLUMN, get_parameter

#: Short names → ERDDAP dataset ids at Ifremer.
DATASETS = {"phy": "ArgoFloats", "bgc": "ArgoFloats-synthetic-BGC", "ref": "ArgoFloats-reference"}
CORE_META = (
    "config_mission_number",
    "cycle_number",
    "data_mode",
    "direction",
    "latitude",
    "longitude",
    "platform_number",
    "position_qc",
    "time",
    "time_qc",
    "vertical_sampling_scheme",
)
BGC_META = (
    "config_mission_number",
    "cycle_number",
    "direction",
    "latitude",
    "longitude",
    "platform_number",
    "position_qc",
    "time",
    "time_qc",
)
REF_VARIABLES = (
    "cycle_number",
    "latitude",
    "longitude",
    "platform_number",
    "pres",
    "psal",
    "ptmp",
    "temp",
    "time",
)
CORE_COLUMNS = ("pres", "temp", "psal")
_FAMILY = ("", "_adjusted", "_adjusted_error", "_adjusted_qc", "_qc")
_ADJUSTED_FAMILY = ("_adjusted", "_adjusted_error", "_adjusted_qc")
#: Characters left as they are on the wire; everything else in the query is percent-encoded.
_SAFE = "=&,!~()_.-*/:"

__all__ = [
    "DATASETS",
    "TabledapRequest",
    "box_request",
    "chunk_request",
    "dataset_for",
    "float_request",
    "format_number",
    "format_time",
    "variables_for",
    "wire_url",
]


def format_number(v) -> str:
    """ERDDAP number text: integers stay integers, floats keep Python's shortest repr (``-16.0``)."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError("a boolean is not a coordinate")
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"coordinate must be finite, got {v!r}")
    return repr(f)


def format_time(t) -> str:
    """Epoch seconds (UTC) as ERDDAP wants them in constraints, e.g. ``1072915200.0``."""
    if isinstance(t, (float, np.floating)) and not isinstance(t, pd.Timestamp):
        return repr(float(t))
    ts = pd.Timestamp(t)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return repr(float(ts.value) / 1e9)


_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


def erddap_column(name: str) -> str:
    """ERDDAP's (lower-case) variable prefix of a parameter.

    Catalogue parameters by Argo name or synonym-free column (``"DOXY"`` → ``doxy``); other
    ERDDAP BGC variables (``cdom``, ``cp660``…) pass through when they are plain identifiers.
    """
    try:
        return get_parameter(name).column
    except KeyError:
        low = str(name).strip().lower()
        if _IDENT.match(low):
            return low
        raise


def _is_bgc(column: str) -> bool:
    p = BY_COLUMN.get(column)
    return p.is_bgc if p is not None else column not in CORE_COLUMNS


def dataset_for(parameters: Iterable[str] | None) -> str:
    """``ArgoFloats`` for core parameters, ``ArgoFloats-synthetic-BGC`` when a BGC one is asked."""
    for p in parameters or ():
        if _is_bgc(erddap_column(p)):
            return DATASETS["bgc"]
    return DATASETS["phy"]


def _columns(parameters: Iterable[str] | None) -> list[str]:
    cols = list(CORE_COLUMNS)
    for p in parameters or ():
        c = erddap_column(p)
        if c not in cols:
            cols.append(c)
    return cols


def variables_for(dataset: str, parameters: Iterable[str] | None = None, mode: str = "standard") -> list[str]:
    """The sorted variable list of a request (pres/temp/psal are always asked for).

    ``ArgoFloats`` always carries every core family (raw, adjusted, error, QC) and the
    profile data mode; ``ArgoFloats-synthetic-BGC`` has no data mode and, in research
    mode, only the adjusted families.
    """
    if dataset == DATASETS["ref"]:
        return list(REF_VARIABLES)
    cols = _columns(parameters)
    if dataset == DATASETS["phy"]:
        extra = [c for c in cols if c not in CORE_COLUMNS]
        if extra:
            raise ValueError(f"{dataset} has no BGC parameter(s) {extra}; use {DATASETS['bgc']}")
        names = list(CORE_META) + [f"{c}{s}" for c in CORE_COLUMNS for s in _FAMILY]
    elif dataset == DATASETS["bgc"]:
        fam = _ADJUSTED_FAMILY if mode == "research" else _FAMILY
        names = list(BGC_META) + [f"{c}{s}" for c in cols for s in fam]
    else:
        raise ValueError(f"unknown ERDDAP dataset {dataset!r}; known: {sorted(DATASETS.values())}")
    return sorted(set(names))


@dataclass(frozen=True)
class TabledapRequest:
    """One tabledap request; :meth:`url` renders it (canonical, unencoded form)."""

    dataset: str
    variables: tuple[str, ...]
    mode: str = "standard"
    platform_numbers: tuple[str, ...] = ()
    cycle_numbers: tuple[int, ...] = ()
    box: tuple | None = None  # (west, south, east, north) degrees, kept as given
    pres: tuple | None = None  # (pres_min, pres_max) decibar, kept as given
    time: tuple | None = None  # (start, end) as given (Timestamp-like or epoch seconds)

    @property
    def pres_var(self) -> str:
        return "pres_adjusted" if self.mode == "research" and self.dataset != DATASETS["ref"] else "pres"

    def constraints(self) -> list[str]:
        c: list[str] = []
        if self.platform_numbers:
            c.append('platform_number=~"' + "|".join(str(p) for p in self.platform_numbers) + '"')
        if self.cycle_numbers:
            c.append('cycle_number=~"' + "|".join(str(int(x)) for x in self.cycle_numbers) + '"')
        if self.box is not None:
            w, s, e, n = self.box
            c += [
                f"longitude>={format_number(w)}",
                f"longitude<={format_number(e)}",
                f"latitude>={format_number(s)}",
                f"latitude<={format_number(n)}",
            ]
        if self.pres is not None:
            lo, hi = self.pres
            if lo is not None:
                c.append(f"{self.pres_var}>={format_number(lo)}")
            if hi is not None:
                c.append(f"{self.pres_var}<={format_number(hi)}")
        if self.time is not None:
            t0, t1 = self.time
            if t0 is not None:
                c.append(f"time>={format_time(t0)}")
            if t1 is not None:
                c.append(f"time<={format_time(t1)}")
        if self.mode == "research" and self.dataset != DATASETS["ref"]:
            c += ["pres_adjusted!=NaN", "temp_adjusted!=NaN", "psal_adjusted!=NaN"]
        c += ["latitude!=NaN", "longitude!=NaN", "distinct()", f'orderBy("time,{self.pres_var}")']
        return c

    def query(self) -> str:
        return ",".join(self.variables) + "&" + "&".join(self.constraints())

    def url(self, base_url: str, response: str = "nc") -> str:
        """Canonical (unencoded) URL; ``response`` is ``nc``, ``ncHeader`` or ``csv``."""
        return f"{base_url.rstrip('/')}/tabledap/{self.dataset}.{response}?{self.query()}"


def wire_url(canonical: str) -> str:
    """Percent-encode the query of a canonical URL for sending (``"`` → ``%22``, ``>`` → ``%3E``…)."""
    head, sep, q = canonical.partition("?")
    return head + sep + quote(q, safe=_SAFE) if sep else head


def _mode_dataset(parameters, mode, dataset):
    ds = dataset or dataset_for(parameters)
    return ds, tuple(variables_for(ds, parameters, mode))


def float_request(
    platform_numbers: Sequence[str] | str,
    cycle_numbers: Sequence[int] | int | None = None,
    parameters: Iterable[str] | None = None,
    mode: str = "standard",
    dataset: str | None = None,
) -> TabledapRequest:
    """A request for whole floats, or for some cycles of one float."""
    wmos = (platform_numbers,) if isinstance(platform_numbers, (str, int)) else tuple(platform_numbers)
    cycles = (
        ()
        if cycle_numbers is None
        else (
            (int(cycle_numbers),)
            if isinstance(cycle_numbers, (int, np.integer))
            else tuple(int(c) for c in cycle_numbers)
        )
    )
    ds, variables = _mode_dataset(parameters, mode, dataset)
    return TabledapRequest(ds, variables, mode, tuple(str(w).strip() for w in wmos), cycles)


def box_request(
    box: Sequence,
    pres: Sequence | None = None,
    time: Sequence | None = None,
    parameters: Iterable[str] | None = None,
    mode: str = "standard",
    dataset: str | None = None,
) -> TabledapRequest:
    """A request for a lon/lat box (degrees), a pressure band (decibar) and a time range (UTC)."""
    _w, s, _e, n = box
    if not (-90 <= float(s) <= float(n) <= 90):
        raise ValueError(f"latitudes must satisfy -90 <= south <= north <= 90, got {s}, {n}")
    ds, variables = _mode_dataset(parameters, mode, dataset)
    return TabledapRequest(
        ds,
        variables,
        mode,
        box=tuple(box),
        pres=tuple(pres) if pres is not None else None,
        time=tuple(time) if time is not None else None,
    )


def _split(lo, hi, k: int) -> list[tuple]:
    if k <= 1:
        return [(lo, hi)]
    edges = np.linspace(float(lo), float(hi), k + 1)
    return [(float(edges[i]), float(edges[i + 1])) for i in range(k)]


def _epoch(t) -> float:
    return float(format_time(t))


def chunk_request(req: TabledapRequest, lon: int = 1, lat: int = 1, time: int = 1) -> list[TabledapRequest]:
    """Split a box request into ``lon × lat × time`` requests (longitude outermost, time innermost).

    A box crossing the antimeridian (west > east) is first split in two at ±180°.
    Boundaries are shared between neighbours (ERDDAP's ``>=``/``<=``), so a row on an
    edge may come twice; callers drop duplicates after concatenating.
    """
    if req.box is None:
        return [req]
    w, s, e, n = req.box
    if float(w) > float(e):  # antimeridian: two boxes
        parts = [replace(req, box=(w, s, 180.0, n)), replace(req, box=(-180.0, s, e, n))]
        return [c for p in parts for c in chunk_request(p, lon, lat, time)]
    lons = _split(w, e, lon)
    lats = _split(s, n, lat)
    times = (
        [req.time]
        if req.time is None or time <= 1 or None in req.time
        else _split(_epoch(req.time[0]), _epoch(req.time[1]), time)
    )
    out = []
    for lo in lons:
        for la in lats:
            for t in times:
                out.append(replace(req, box=(lo[0], la[0], lo[1], la[1]), time=t))
    return out


def plan_chunks(req: TabledapRequest, n_rows: int, max_rows: int) -> dict[str, int]:
    """How to split a box request of ``n_rows`` rows (from ``.ncHeader``) into ≤ ``max_rows`` pieces.

    Time is split first (Argo sampling is roughly uniform in time), then longitude.
    """
    if req.box is None or n_rows <= max_rows:
        return {"lon": 1, "lat": 1, "time": 1}
    k = math.ceil(n_rows / max_rows)
    if req.time is not None and None not in req.time:
        return {"lon": 1, "lat": 1, "time": k}
    return {"lon": k, "lat": 1, "time": 1}


def parameter_columns(parameters: Iterable[str] | None) -> list[str]:
    """Column prefixes (``pres``, ``temp``… ) of the requested parameters, core ones first."""
    return _columns(parameters)
