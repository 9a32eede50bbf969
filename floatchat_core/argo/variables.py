"""The parameter catalogue: which Argo parameters FloatChat stores, and how.

Every parameter listed here has a column family in ``profiles``
(``<name>``, ``<name>_qc``, ``<name>_adjusted``, ``<name>_adjusted_qc``,
``<name>_adjusted_error``, ``<name>_data_mode``, ``<name>_profile_qc``).
The schema, the reader, the writer and the DAL all derive their column lists
from :data:`PARAMETERS`, so adding a parameter is a one-line change here plus a
migration.

Two vertical axes exist per profile:

* ``core`` — the pressure axis of the core file (``PRES``), carrying TEMP, PSAL.
* ``bgc``  — the pressure axis of the B- or S-file, carrying the BGC parameters
  (stored as ``bgc_pres``).

Valid ranges are the cleaning limits (``argo.cleaning``): values outside are
flagged, never removed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Axis = Literal["core", "bgc"]


@dataclass(frozen=True)
class Parameter:
    """One Argo physical parameter as FloatChat stores it."""

    name: str                 # Argo variable name, e.g. "TEMP"
    column: str               # column-family prefix in the database, e.g. "temp"
    axis: Axis                # which pressure axis its levels belong to
    units: str
    long_name: str
    valid_min: float
    valid_max: float
    synonyms: tuple[str, ...] = ()

    @property
    def is_bgc(self) -> bool:
        return self.axis == "bgc"


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("PRES", "pres", "core", "decibar", "Sea water pressure, equals 0 at sea-level",
              0.0, 12000.0, ("pressure", "depth", "dbar")),
    Parameter("TEMP", "temp", "core", "degree_Celsius", "Sea temperature in-situ ITS-90 scale",
              -2.5, 40.0, ("temperature", "temp", "sst", "sea surface temperature")),
    Parameter("PSAL", "psal", "core", "psu", "Practical salinity",
              0.0, 42.0, ("salinity", "psal", "salt", "sss")),
    Parameter("DOXY", "doxy", "bgc", "micromole/kg", "Dissolved oxygen",
              0.0, 600.0, ("oxygen", "o2", "doxy", "dissolved oxygen")),
    Parameter("CHLA", "chla", "bgc", "mg/m3", "Chlorophyll-A",
              -0.1, 100.0, ("chlorophyll", "chl", "chla", "chlorophyll-a")),
    Parameter("NITRATE", "nitrate", "bgc", "micromole/kg", "Nitrate",
              -2.0, 70.0, ("nitrate", "no3")),
    Parameter("PH_IN_SITU_TOTAL", "ph_in_situ_total", "bgc", "dimensionless", "pH",
              7.0, 8.6, ("ph", "acidity")),
    Parameter("BBP700", "bbp700", "bgc", "m-1", "Particle backscattering at 700 nanometers",
              -0.000025, 0.1, ("backscatter", "bbp", "backscattering", "bbp700")),
    Parameter("DOWNWELLING_PAR", "downwelling_par", "bgc", "microMoleQuanta/m^2/sec",
              "Downwelling photosynthetic available radiation", -1.0, 5000.0,
              ("par", "irradiance", "light", "photosynthetically available radiation")),
    Parameter("DOWN_IRRADIANCE380", "down_irradiance380", "bgc", "W/m^2/nm",
              "Downwelling irradiance at 380 nanometers", -1.0, 1.7, ("irradiance 380",)),
    Parameter("DOWN_IRRADIANCE412", "down_irradiance412", "bgc", "W/m^2/nm",
              "Downwelling irradiance at 412 nanometers", -1.0, 2.9, ("irradiance 412",)),
    Parameter("DOWN_IRRADIANCE490", "down_irradiance490", "bgc", "W/m^2/nm",
              "Downwelling irradiance at 490 nanometers", -1.0, 3.4, ("irradiance 490",)),
)

BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}
BY_COLUMN: dict[str, Parameter] = {p.column: p for p in PARAMETERS}
CORE_PARAMETERS: tuple[Parameter, ...] = tuple(p for p in PARAMETERS if p.axis == "core")
BGC_PARAMETERS: tuple[Parameter, ...] = tuple(p for p in PARAMETERS if p.axis == "bgc")

#: Per-level array twins stored for each parameter (suffix, SQL element type).
LEVEL_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("", "real"),
    ("_qc", "smallint"),
    ("_adjusted", "real"),
    ("_adjusted_qc", "smallint"),
    ("_adjusted_error", "real"),
)


def get_parameter(name: str) -> Parameter:
    """Look a parameter up by Argo name (``"TEMP"``) or column prefix (``"temp"``)."""
    p = BY_NAME.get(name.upper()) or BY_COLUMN.get(name.lower())
    if p is None:
        allowed = ", ".join(x.name for x in PARAMETERS)
        raise KeyError(f"unknown Argo parameter {name!r}; known: {allowed}")
    return p

#: Argo DATA_CENTRE codes → the DAC folder name on the GDAC (Argo User's Manual, reference table 4).
DATA_CENTRES: dict[str, str] = {
    "AO": "aoml", "BO": "bodc", "IF": "coriolis", "CS": "csiro", "HZ": "csio", "IN": "incois",
    "JA": "jma", "KM": "kma", "KO": "kordi", "ME": "meds", "NA": "nmdis", "PL": "coriolis",
    "GE": "coriolis", "NM": "nmdis", "VL": "coriolis",
}
