"""The ``QuerySpec``: what a question asks, as a validated model (language → data contract).

Both the rule-based parser and an LLM produce a ``QuerySpec``; the executor turns it into DAL
calls. Nothing here touches the database. Units: degrees (WGS 84), decibar, kilometres for
radii, UTC calendar dates (``time_start``/``time_end`` are both inclusive days).

A question that cannot be answered without asking back becomes a ``Clarification``.
"""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..argo.variables import PARAMETERS

#: What a question asks for.
Intent = Literal[
    "find_profiles",    # list the matching profiles
    "map_floats",       # where are the floats / profiles
    "plot_profiles",    # vertical profiles of parameters
    "ts_diagram",       # temperature–salinity diagram
    "compare",          # two or more regions or periods side by side
    "timeseries",       # a parameter through time (monthly means, trend)
    "anomaly",          # a period's departure from the monthly climatology of the other years
    "depth_slice",      # a parameter at one pressure across space
    "nearest_floats",   # floats closest to a point
    "float_info",       # one float's metadata and history
    "trajectory",       # one float's track
    "discover",         # which datasets / floats exist (semantic search)
    "statistics",       # count, mean, range, …
    "export",           # write the data to a file
]
INTENTS: tuple[str, ...] = Intent.__args__  # type: ignore[attr-defined]

#: Argo parameter names a question may ask about (pressure is an axis, not a parameter).
Parameter = Literal[tuple(p.name for p in PARAMETERS if p.name != "PRES")]  # type: ignore[valid-type]
PARAMETER_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS if p.name != "PRES")

QCMode = Literal["research", "standard", "expert"]
Statistic = Literal["count", "mean", "min", "max", "range", "std", "median"]
ExportFormat = Literal["csv", "parquet", "netcdf"]

#: Profiles a plot or listing shows at most unless the question sets a limit.
DEFAULT_LIMIT = 500


class Region(BaseModel):
    """Where: a named region, a longitude/latitude box or a point with a radius."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["named", "box", "point"] = Field(
        description="'named' (an ocean, sea, gulf… by name), 'box' (west/south/east/north) "
                    "or 'point' (lon/lat with radius_km).", examples=["named", "box", "point"])
    name: str | None = Field(None, max_length=120, description="Region name as the user wrote it (kind 'named'); "
                             "after resolution the canonical name.", examples=["Arabian Sea", "Bay of Bengal"])
    region_id: int | None = Field(None, description="ocean_regions.id once resolved (set by FloatChat, not the model).")
    west: float | None = Field(None, ge=-180, le=180, description="Western edge, degrees east (box). "
                               "west > east crosses the antimeridian.", examples=[60.0])
    south: float | None = Field(None, ge=-90, le=90, description="Southern edge, degrees north (box).",
                                examples=[5.0])
    east: float | None = Field(None, ge=-180, le=180, description="Eastern edge, degrees east (box).",
                               examples=[75.0])
    north: float | None = Field(None, ge=-90, le=90, description="Northern edge, degrees north (box).",
                                examples=[25.0])
    lon: float | None = Field(None, ge=-180, le=180, description="Point longitude, degrees east.", examples=[65.0])
    lat: float | None = Field(None, ge=-90, le=90, description="Point latitude, degrees north.", examples=[10.0])
    radius_km: float | None = Field(None, gt=0, le=5000, description="Search radius around the point, km.",
                                    examples=[300.0])
    label: str | None = Field(None, max_length=120, description="How to call it in answers (set by FloatChat).")

    @model_validator(mode="after")
    def _complete(self) -> Region:
        if self.kind == "named" and not (self.name or self.region_id is not None):
            raise ValueError("a named region needs a name")
        if self.kind == "box":
            if None in (self.west, self.south, self.east, self.north):
                raise ValueError("a box needs west, south, east and north")
            if self.south > self.north:
                raise ValueError(f"box south edge {self.south} is north of its north edge {self.north}")
        if self.kind == "point" and (self.lon is None or self.lat is None):
            raise ValueError("a point needs lon and lat")
        return self

    def describe(self) -> str:
        """A short human description: "the Arabian Sea", "10.0°N 65.0°E ± 300 km", a box."""
        if self.label:
            return self.label
        if self.kind == "named":
            return f"the {self.name}" if self.name and not self.name.lower().startswith("the ") else str(self.name)
        if self.kind == "point":
            r = f" ± {self.radius_km:g} km" if self.radius_km else ""
            return f"{fmt_lat(self.lat)} {fmt_lon(self.lon)}{r}"
        return f"{fmt_lat(self.south)}–{fmt_lat(self.north)}, {fmt_lon(self.west)}–{fmt_lon(self.east)}"


def fmt_lat(v: float) -> str:
    """``12.5`` → ``"12.5°N"``, ``-3`` → ``"3°S"``."""
    return f"{abs(v):g}°{'N' if v >= 0 else 'S'}"


def fmt_lon(v: float) -> str:
    """``65`` → ``"65°E"``, ``-20`` → ``"20°W"``."""
    return f"{abs(v):g}°{'E' if v >= 0 else 'W'}"


class Subset(BaseModel):
    """One side of a comparison: a region and/or a period overriding the question's own."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(max_length=120, description="Short label for the answer.", examples=["2019", "Arabian Sea"])
    region: Region | None = Field(None, description="Region of this side (else the question's region).")
    time_start: dt.date | None = Field(None, description="First day of this side's period (inclusive, UTC).",
                                       examples=["2019-01-01"])
    time_end: dt.date | None = Field(None, description="Last day of this side's period (inclusive, UTC).",
                                     examples=["2019-12-31"])

    @model_validator(mode="after")
    def _order(self) -> Subset:
        if self.time_start and self.time_end and self.time_start > self.time_end:
            raise ValueError(f"period {self.label!r} starts after it ends")
        return self


class QuerySpec(BaseModel):
    """A question, understood: intent plus filters. Every field is optional except the intent."""

    model_config = ConfigDict(extra="forbid")

    intent: Intent = Field(description="What the user wants.", examples=["plot_profiles", "compare"])
    parameters: list[Parameter] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=12,
        description="Argo parameter names: TEMP, PSAL, DOXY, CHLA, NITRATE, PH_IN_SITU_TOTAL, BBP700, "
                    "DOWNWELLING_PAR, DOWN_IRRADIANCE380/412/490.", examples=[["PSAL"], ["TEMP", "PSAL"]])
    region: Region | None = Field(None, description="Where (named region, box, or point + radius).")
    time_start: dt.date | None = Field(None, description="First day (inclusive, UTC).", examples=["2023-03-01"])
    time_end: dt.date | None = Field(None, description="Last day (inclusive, UTC).", examples=["2023-03-31"])
    pressure: float | None = Field(None, ge=0, le=12000, description="A single target pressure in decibar "
                                   "(depth slices, comparisons 'at 200 dbar'; for anomalies the centre of "
                                   "a ±10 dbar layer).", examples=[1000.0])
    pres_min: float | None = Field(None, ge=0, le=12000, description="Shallowest pressure of interest, decibar.",
                                   examples=[0.0])
    pres_max: float | None = Field(None, ge=0, le=12000, description="Deepest pressure of interest, decibar.",
                                   examples=[200.0])
    platform_numbers: list[str] = Field(default_factory=list, max_length=50,
                                        description="Float WMO numbers (5 or 7 digits).", examples=[["2902269"]])
    float_type: Literal["core", "bgc", "deep"] | None = Field(None, description="Only this kind of float.",
                                                              examples=["bgc"])
    data_mode: Literal["R", "A", "D"] | None = Field(None, description="Only profiles in this data mode "
                                                     "(R real-time, A adjusted, D delayed).", examples=["D"])
    qc_mode: QCMode = Field("standard", description="research: delayed-mode QC=1 only; standard: adjusted "
                            "where available, QC 1-2; expert: everything with flags.", examples=["research"])
    statistic: Statistic | None = Field(None, description="For intent 'statistics': which number.",
                                        examples=["mean", "count"])
    compare: list[Subset] = Field(default_factory=list, max_length=6,
                                  description="For intent 'compare': the sides (two or more regions or periods).")
    export_format: ExportFormat | None = Field(None, description="For intent 'export'.", examples=["csv"])
    query: str | None = Field(None, max_length=300, description="Free text for dataset/float discovery.",
                              examples=["BGC floats with oxygen in the Indian Ocean"])
    limit: int | None = Field(None, ge=1, le=1_000_000, description="Most profiles/floats to return.",
                              examples=[10])

    @field_validator("platform_numbers")
    @classmethod
    def _wmo(cls, v: list[str]) -> list[str]:
        out = []
        for s in v:
            s = str(s).strip()
            if not s.isdigit() or not 4 <= len(s) <= 8:
                raise ValueError(f"{s!r} is not a float WMO number (5 or 7 digits)")
            if s not in out:
                out.append(s)
        return out

    @field_validator("parameters")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _ranges(self) -> QuerySpec:
        if self.time_start and self.time_end and self.time_start > self.time_end:
            raise ValueError(f"the period starts ({self.time_start}) after it ends ({self.time_end})")
        if self.pres_min is not None and self.pres_max is not None and self.pres_min > self.pres_max:
            raise ValueError(f"pres_min {self.pres_min} is deeper than pres_max {self.pres_max}")
        return self

    # ------------------------------------------------------------------ helpers
    def changed(self, **values) -> QuerySpec:
        """A validated copy with ``values`` replaced."""
        return QuerySpec.model_validate({**self.model_dump(), **values})

    def summary(self) -> str:
        """One line: what this spec asks, for logs and clarifications."""
        parts = [self.intent.replace("_", " ")]
        if self.parameters:
            parts.append("/".join(self.parameters))
        if self.region:
            parts.append("in " + self.region.describe())
        if self.time_start or self.time_end:
            parts.append(f"{self.time_start or '…'} to {self.time_end or '…'}")
        if self.pressure is not None:
            parts.append(f"at {self.pressure:g} dbar")
        elif self.pres_min is not None or self.pres_max is not None:
            parts.append(f"{self.pres_min or 0:g}–{self.pres_max if self.pres_max is not None else '…'} dbar")
        if self.platform_numbers:
            parts.append("float " + ", ".join(self.platform_numbers))
        if self.float_type:
            parts.append(f"{self.float_type} floats")
        if self.qc_mode != "standard":
            parts.append(f"{self.qc_mode} QC")
        return " ".join(str(p) for p in parts)


class Clarification(BaseModel):
    """The parser's answer when it should ask rather than guess."""

    question: str = Field(description="A short clarifying question for the user.")
    suggestions: list[str] = Field(default_factory=list, description="Questions the user could ask instead.")
    candidates: list[str] = Field(default_factory=list, description="E.g. the regions a name could mean.")
    reason: Literal["empty", "ambiguous_region", "unknown_region", "missing_parameter", "missing_float",
                    "missing_point", "missing_period", "invalid", "unsupported"] = "invalid"
    partial: QuerySpec | None = Field(None, description="What was understood so far.")


def spec_json_schema() -> dict:
    """The QuerySpec JSON schema sent to an LLM (FloatChat-only fields removed)."""
    schema = QuerySpec.model_json_schema()
    region = schema.get("$defs", {}).get("Region", {}).get("properties", {})
    for k in ("region_id", "label"):
        region.pop(k, None)
    return schema
