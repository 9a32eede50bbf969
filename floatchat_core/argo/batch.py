"""``ProfileBatch``: the columnar contract between the Argo reader and the database writer.

A batch holds the profiles of one file (or one synthetic chunk) as numpy arrays,
never as per-profile or per-level Python objects.

Profile arrays have length ``n`` (one element per profile). Level arrays are
flattened over profiles: profile ``i`` owns ``levels[offsets[i]:offsets[i+1]]``
of its axis. A batch carries one or two *groups* of levels:

* ``core`` — axis ``PRES`` with TEMP/PSAL (core files, and S-files' merged axis);
* ``bgc``  — the BGC axis (B-file or S-file ``PRES``) with the BGC parameters.

Missing values are ``NaN`` in float arrays and ``-1`` in QC arrays (a blank QC
byte in the file). Data modes are single characters ``'R' | 'A' | 'D'``;
an empty string means "not given by this file".

Group precedence (``rank``) lets several files describing one profile
(``_prof.nc``, ``R/D``, ``_Sprof.nc``, ``SR/SD``, ``BR/BD``) be ingested in any
order with the same final content: a group is written when its
``(rank, source_file)`` is greater than or equal to what the row holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .variables import Parameter

#: Precedence of each file kind for the core and BGC groups (higher wins). A single-profile
#: delayed-mode file (D, SD, BD) adds 1, so it outranks the real-time file (R, SR, BR) of the
#: same cycle when both are on disk (the shared corpus holds BR and BD files of one cycle).
CORE_RANK = {"Sprof": 10, "S": 20, "prof": 30, "core": 40}
BGC_RANK = {"Sprof": 10, "B": 20, "S": 30}

FILE_KINDS = ("prof", "core", "Sprof", "S", "B")


@dataclass
class ParameterLevels:
    """One parameter's levels on its group's axis, flattened over profiles."""

    parameter: Parameter
    values: np.ndarray            # float32, NaN = fill value
    qc: np.ndarray                # int8, -1 = blank
    adjusted: np.ndarray          # float32
    adjusted_qc: np.ndarray       # int8
    adjusted_error: np.ndarray    # float32
    data_mode: np.ndarray         # '<U1' per profile: 'R','A','D' or '' when absent
    profile_qc: np.ndarray        # '<U1' per profile: 'A'..'F' or '' when blank
    out_of_range: np.ndarray | None = None  # bool per level (argo.cleaning), None = not checked


@dataclass
class LevelGroup:
    """The levels of one axis (``core`` or ``bgc``) for all profiles of a batch."""

    axis: str                                  # "core" | "bgc"
    rank: int                                  # precedence, see CORE_RANK / BGC_RANK
    offsets: np.ndarray                        # int64, length n + 1
    pressure: ParameterLevels                  # PRES on this axis
    parameters: dict[str, ParameterLevels] = field(default_factory=dict)  # by Argo name, PRES excluded

    @property
    def n_levels(self) -> np.ndarray:
        return np.diff(self.offsets)


@dataclass
class ProfileBatch:
    """All profiles read from one file, column by column."""

    source_file: str                 # file name (not path) the batch came from
    file_kind: str                   # one of FILE_KINDS
    # --- profile arrays, length n -------------------------------------------------
    platform_number: np.ndarray      # '<U8'-ish str array, stripped
    cycle_number: np.ndarray         # int32
    direction: np.ndarray            # '<U1': 'A' ascending, 'D' descending
    scheme_index: np.ndarray         # int16: N_PROF index in single-profile files, 0 in multi-profile files
    juld: np.ndarray                 # float64 days since 1950-01-01T00:00:00Z, NaN = missing
    juld_qc: np.ndarray              # int8, -1 = blank
    juld_location: np.ndarray        # float64 days since 1950-01-01, NaN = missing
    latitude: np.ndarray             # float64 degrees north, NaN = missing
    longitude: np.ndarray            # float64 degrees east, NaN = missing
    position_qc: np.ndarray          # int8, -1 = blank
    data_mode: np.ndarray            # '<U1' profile DATA_MODE ('' in S/B files that have none)
    vertical_sampling_scheme: np.ndarray  # object array of str ('' when absent)
    config_mission_number: np.ndarray     # int32, -1 = missing
    positioning_system: np.ndarray   # object array of str
    data_centre: np.ndarray          # object array of str
    dc_reference: np.ndarray         # object array of str
    project_name: np.ndarray         # object array of str
    pi_name: np.ndarray              # object array of str
    platform_type: np.ndarray        # object array of str
    # --- levels ------------------------------------------------------------------
    groups: dict[str, LevelGroup] = field(default_factory=dict)   # "core" and/or "bgc"
    # --- cleaning flags (argo.cleaning fills them) -------------------------------
    position_invalid: np.ndarray | None = None   # bool
    timestamp_missing: np.ndarray | None = None  # bool
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.cycle_number.shape[0])

    @property
    def n_levels_total(self) -> int:
        return int(sum(int(g.offsets[-1]) for g in self.groups.values()))

    def parameters_present(self) -> list[str]:
        """Argo names of parameters with at least one non-missing value, PRES included."""
        names: list[str] = []
        for g in self.groups.values():
            if np.isfinite(g.pressure.values).any() and "PRES" not in names:
                names.append("PRES")
            for name, lv in g.parameters.items():
                if (np.isfinite(lv.values).any() or np.isfinite(lv.adjusted).any()) and name not in names:
                    names.append(name)
        return names
