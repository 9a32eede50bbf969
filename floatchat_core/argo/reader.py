"""The Argo NetCDF reader: every kind of profile file → one columnar :class:`ProfileBatch`.

Supported (Argo User's Manual v3.x):

========================  =========  ==========================================
file name                 kind       levels
========================  =========  ==========================================
``<wmo>_prof.nc``         ``prof``   core axis (PRES, TEMP, PSAL), primary scheme
``R|D<wmo>_<ccc>[D].nc``  ``core``   core axis, every sampling scheme (N_PROF)
``<wmo>_Sprof.nc``        ``Sprof``  synthetic merged axis → core *and* bgc groups
``SR|SD<wmo>_<ccc>.nc``   ``S``      synthetic merged axis → core *and* bgc groups
``BR|BD<wmo>_<ccc>.nc``   ``B``      BGC axis (its own PRES), every sampling scheme
``<wmo>_meta.nc``         ``meta``   float metadata (:func:`read_meta`)
========================  =========  ==========================================

The file is opened with netCDF4 and auto-masking off; every array is read once
as a whole and decoded with numpy (:mod:`.decode`). Nothing loops per level.
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import ArgoFileError, DimensionError, MissingVariableError
from .batch import BGC_RANK, CORE_RANK, LevelGroup, ParameterLevels, ProfileBatch
from .decode import (
    classic_expected_size,
    decode_char1,
    decode_chars,
    decode_qc,
    fill_value,
    parse_date_time,
    reference_offset_days,
    to_float,
)
from .variables import BGC_PARAMETERS, BY_NAME, CORE_PARAMETERS

_NAME_PATTERNS = (
    (re.compile(r"^(\d+)_meta\.nc$", re.IGNORECASE), "meta"),
    (re.compile(r"^(\d+)_Sprof\.nc$", re.IGNORECASE), "Sprof"),
    (re.compile(r"^(\d+)_prof\.nc$", re.IGNORECASE), "prof"),
    (re.compile(r"^S[RD](\d+)_\d+D?\.nc$", re.IGNORECASE), "S"),
    (re.compile(r"^B[RD](\d+)_\d+D?\.nc$", re.IGNORECASE), "B"),
    (re.compile(r"^[RD](\d+)_\d+D?\.nc$", re.IGNORECASE), "core"),
)
_UNSUPPORTED = re.compile(r"_(Rtraj|Dtraj|BRtraj|BDtraj|tech|Mprof|Mtraj)\.nc$", re.IGNORECASE)

#: What every real profile file carries; a file without one of these is refused by name.
REQUIRED = ("PLATFORM_NUMBER", "CYCLE_NUMBER", "JULD", "LATITUDE", "LONGITUDE", "PRES")


def classify(name: str) -> str:
    """The Argo file kind from a file name: ``prof|core|Sprof|S|B|meta``.

    Raises :class:`ArgoFileError` for trajectory/technical files and names that are
    not Argo file names at all (uploads are renamed by nobody, so the name is the
    contract; :func:`open_profiles` double-checks the content).
    """
    base = os.path.basename(str(name))
    for pat, kind in _NAME_PATTERNS:
        if pat.match(base):
            return kind
    if _UNSUPPORTED.search(base):
        raise ArgoFileError(f"{base}: trajectory/technical files are not profile data (not supported yet)")
    if base.lower().endswith(".nc"):
        return "unknown"  # decided from the content (DATA_TYPE) by open_profiles
    raise ArgoFileError(f"{base}: not an Argo NetCDF file name (expected e.g. 6901929_prof.nc, D6901929_001.nc, "
                        f"SD3902131_001.nc, BR3902131_001.nc or 6901929_meta.nc)")


def _is_delayed_file(name: str) -> bool:
    """Single-profile D/SD/BD files outrank R/SR/BR files of the same cycle."""
    base = os.path.basename(str(name)).upper()
    return base.startswith(("D", "SD", "BD"))


@contextmanager
def _dataset(source, name: str):
    import netCDF4

    _check_not_truncated(source, name)
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            ds = netCDF4.Dataset(name or "memory.nc", mode="r", memory=bytes(source))
        else:
            ds = netCDF4.Dataset(str(source), mode="r")
    except OSError as exc:
        raise ArgoFileError(f"{name}: not a readable NetCDF file ({exc})") from exc
    try:
        ds.set_auto_maskandscale(False)
        ds.set_always_mask(False)
        yield ds
    finally:
        ds.close()


def _check_not_truncated(source, name: str) -> None:
    """Refuse a cut NetCDF classic file (its header says how long it must be)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        head, size = bytes(source[:1 << 20]), len(source)
    else:
        size = os.path.getsize(source)
        with open(source, "rb") as fh:
            head = fh.read(1 << 20)
    expected = classic_expected_size(head)
    if expected is not None and size < expected:
        raise ArgoFileError(f"{name}: truncated NetCDF file ({size:,} bytes, its header needs {expected:,})")


def _kind_from_content(ds, name: str) -> str:
    dt = str(decode_chars(ds["DATA_TYPE"][:])) if "DATA_TYPE" in ds.variables else ""
    dt_l = dt.lower()
    if "meta" in dt_l:
        return "meta"
    multi = "N_PROF" in ds.dimensions and len(ds.dimensions["N_PROF"]) > 1
    if "b-argo" in dt_l or ("PARAMETER_DATA_MODE" in ds.variables and "DATA_MODE" in ds.variables):
        return "B"
    if "s-argo" in dt_l or "synthetic" in dt_l or "PARAMETER_DATA_MODE" in ds.variables:
        return "Sprof" if multi else "S"
    if "argo profile" in dt_l or "PRES" in ds.variables:
        return "prof" if multi else "core"
    raise ArgoFileError(f"{name}: DATA_TYPE {dt!r} is not an Argo profile or meta-data file")


# ----------------------------------------------------------------------------- helpers
def _var(ds, name: str, required: bool = False):
    v = ds.variables.get(name)
    if v is None and required:
        raise MissingVariableError(name, f"{ds.filepath() if hasattr(ds, 'filepath') else ''}: required variable "
                                         f"{name} is missing")
    return v


def _profile_chars(ds, name: str, n: int) -> np.ndarray:
    v = _var(ds, name)
    if v is None:
        return np.full(n, "", dtype=object)
    a = decode_chars(v[:]) if v.ndim >= 1 and v.dtype.kind == "S" and v.ndim == 2 else decode_char1(v[:])
    a = np.asarray(a)
    if a.shape != (n,):
        a = np.broadcast_to(a, (n,)) if a.ndim == 0 else a.reshape(-1)[:n]
    return a.astype(object)


def _profile_char1(ds, name: str, n: int) -> np.ndarray:
    v = _var(ds, name)
    if v is None:
        return np.full(n, "", dtype="<U1")
    return np.asarray(decode_char1(v[:])).reshape(-1)[:n].astype("<U1")


def _level_count(pres: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    """Levels per profile: up to the last level holding any value (trailing fill trimmed)."""
    present = np.isfinite(pres)
    for a in others:
        present |= np.isfinite(a)
    n_lev = pres.shape[1]
    idx = np.where(present, np.arange(1, n_lev + 1, dtype=np.int64)[None, :], 0)
    return idx.max(axis=1) if n_lev else np.zeros(pres.shape[0], np.int64)


def _flatten(a2d: np.ndarray, keep: np.ndarray) -> np.ndarray:
    return a2d[keep]


class _Levels:
    """Reads one parameter's family of (N_PROF, N_LEVELS) arrays."""

    def __init__(self, ds, name: str, shape: tuple[int, int]):
        self.name = name
        self.shape = shape
        self.values = self._float(ds, name)
        self.qc = self._qc(ds, f"{name}_QC")
        self.adjusted = self._float(ds, f"{name}_ADJUSTED")
        self.adjusted_qc = self._qc(ds, f"{name}_ADJUSTED_QC")
        self.adjusted_error = self._float(ds, f"{name}_ADJUSTED_ERROR")
        pq = _var(ds, f"PROFILE_{name}_QC")
        self.profile_qc = (decode_char1(pq[:]).reshape(-1) if pq is not None
                           else np.full(shape[0], "", dtype="<U1"))

    def _float(self, ds, name):
        v = _var(ds, name)
        if v is None:
            return np.full(self.shape, np.nan, np.float32)
        a = to_float(v)
        if a.shape != self.shape:
            raise DimensionError(f"{name} has shape {a.shape}, expected (N_PROF, N_LEVELS) = {self.shape}")
        return a

    def _qc(self, ds, name):
        v = _var(ds, name)
        if v is None:
            return np.full(self.shape, -1, np.int8)
        a = decode_qc(v[:])
        if a.shape != self.shape:
            raise DimensionError(f"{name} has shape {a.shape}, expected {self.shape}")
        return a

    def any_present(self) -> np.ndarray:
        return np.isfinite(self.values) | np.isfinite(self.adjusted)

    def to_parameter_levels(self, keep: np.ndarray, data_mode: np.ndarray) -> ParameterLevels:
        return ParameterLevels(BY_NAME[self.name], self.values[keep], self.qc[keep], self.adjusted[keep],
                               self.adjusted_qc[keep], self.adjusted_error[keep], data_mode, self.profile_qc)


def _parameter_data_modes(ds, n: int) -> dict[str, np.ndarray] | None:
    """Per-parameter data mode from PARAMETER_DATA_MODE aligned with STATION_PARAMETERS (B and S files)."""
    pdm, sp = _var(ds, "PARAMETER_DATA_MODE"), _var(ds, "STATION_PARAMETERS")
    if pdm is None or sp is None:
        return None
    modes = decode_char1(pdm[:]).reshape(n, -1)
    names = decode_chars(sp[:]).reshape(n, -1)
    rows = np.arange(n)
    out = {}
    for pname in {*names.ravel().tolist()} - {""}:
        match = names == pname
        has = match.any(axis=1)
        col = match.argmax(axis=1)
        out[pname] = np.where(has, modes[rows, col], "").astype("<U1")
    return out


# ----------------------------------------------------------------------------- profiles
def open_profiles(source, name: str | None = None) -> ProfileBatch:
    """Read every profile of one Argo profile file into a :class:`ProfileBatch`.

    ``source`` is a path or the file's bytes; ``name`` is the original file name
    (it tells the kind and the sampling-scheme convention). Raises
    :class:`MissingVariableError` naming the variable when a required one is
    absent, :class:`ArgoFileError` for anything that is not a readable profile file.
    """
    name = os.path.basename(str(name if name is not None else source if not isinstance(source, (bytes, bytearray))
                                else "memory.nc"))
    kind = classify(name)
    if kind == "meta":
        raise ArgoFileError(f"{name}: a meta-data file has no profiles (use read_meta)")
    with _dataset(source, name) as ds:
        if kind == "unknown":
            kind = _kind_from_content(ds, name)
            if kind == "meta":
                raise ArgoFileError(f"{name}: a meta-data file has no profiles (use read_meta)")
        try:
            return _read_profiles(ds, name, kind)
        except (ArgoFileError, MissingVariableError, DimensionError):
            raise
        except (IndexError, ValueError, KeyError, TypeError) as exc:
            raise ArgoFileError(f"{name}: malformed Argo file ({type(exc).__name__}: {exc})") from exc


def _read_profiles(ds, name: str, kind: str) -> ProfileBatch:
    for req in REQUIRED:
        if req not in ds.variables:
            raise MissingVariableError(req, f"{name}: required variable {req} is missing")
    if "N_PROF" not in ds.dimensions or "N_LEVELS" not in ds.dimensions:
        raise DimensionError(f"{name}: dimensions N_PROF and N_LEVELS are required")
    n, n_lev = len(ds.dimensions["N_PROF"]), len(ds.dimensions["N_LEVELS"])
    shape = (n, n_lev)
    if ds["PRES"].shape != shape:
        raise DimensionError(f"{name}: PRES has shape {ds['PRES'].shape}, expected (N_PROF, N_LEVELS) = {shape}")
    warnings: list[str] = []

    platform = decode_chars(ds["PLATFORM_NUMBER"][:]).reshape(-1)
    cyc_var = ds["CYCLE_NUMBER"]
    cyc = np.asarray(cyc_var[:]).reshape(-1).astype(np.int64)
    fv = fill_value(cyc_var)
    if fv is not None and (cyc == fv).any() or (cyc < 0).any():
        raise ArgoFileError(f"{name}: CYCLE_NUMBER is missing (fill value) for some profiles")
    if (platform == "").any():
        raise ArgoFileError(f"{name}: PLATFORM_NUMBER is blank for some profiles")

    if "DIRECTION" in ds.variables:
        direction = decode_char1(ds["DIRECTION"][:]).reshape(-1)
        bad = ~np.isin(direction, ["A", "D"])
        if bad.any():
            warnings.append(f"DIRECTION blank or invalid for {int(bad.sum())} profiles: taken as 'A'")
            direction = np.where(bad, "A", direction).astype("<U1")
    else:
        direction = np.full(n, "A", "<U1")
        warnings.append("DIRECTION absent: profiles taken as ascending")

    multi = kind in ("prof", "Sprof")
    scheme_index = np.zeros(n, np.int16) if multi else np.arange(n, dtype=np.int16)

    offset_days = reference_offset_days(ds["REFERENCE_DATE_TIME"][:] if "REFERENCE_DATE_TIME" in ds.variables
                                        else None)
    juld = to_float(ds["JULD"], dtype=np.float64).reshape(-1) + offset_days
    jl = _var(ds, "JULD_LOCATION")
    juld_location = (to_float(jl, dtype=np.float64).reshape(-1) + offset_days) if jl is not None \
        else np.full(n, np.nan)
    juld_qc = decode_qc(ds["JULD_QC"][:]).reshape(-1) if "JULD_QC" in ds.variables else np.full(n, -1, np.int8)
    lat = to_float(ds["LATITUDE"], dtype=np.float64).reshape(-1)
    lon = to_float(ds["LONGITUDE"], dtype=np.float64).reshape(-1)
    pos_qc = decode_qc(ds["POSITION_QC"][:]).reshape(-1) if "POSITION_QC" in ds.variables \
        else np.full(n, -1, np.int8)
    cmn_var = _var(ds, "CONFIG_MISSION_NUMBER")
    if cmn_var is not None:
        cmn = np.asarray(cmn_var[:]).reshape(-1).astype(np.int64)
        cfv = fill_value(cmn_var)
        cmn = np.where((cmn == cfv) if cfv is not None else False, -1, cmn).astype(np.int32)
    else:
        cmn = np.full(n, -1, np.int32)

    profile_dm = _profile_char1(ds, "DATA_MODE", n)
    param_dm = _parameter_data_modes(ds, n)

    def data_mode_of(pname: str) -> np.ndarray:
        if param_dm is not None and pname in param_dm:
            return param_dm[pname]
        return profile_dm

    delayed = _is_delayed_file(name) if not multi else False
    groups: dict[str, LevelGroup] = {}
    if kind in ("prof", "core", "Sprof", "S"):
        core_names = [p.name for p in CORE_PARAMETERS if p.name != "PRES" and p.name in ds.variables]
        bgc_names = [p.name for p in BGC_PARAMETERS if p.name in ds.variables] if kind in ("Sprof", "S") else []
    else:  # B-file: only the BGC axis
        core_names = []
        bgc_names = [p.name for p in BGC_PARAMETERS if p.name in ds.variables]

    pres = _Levels(ds, "PRES", shape)
    core = {nm: _Levels(ds, nm, shape) for nm in core_names}
    bgc = {nm: _Levels(ds, nm, shape) for nm in bgc_names}

    def make_group(axis: str, params: dict[str, _Levels], rank: int) -> LevelGroup:
        counts = _level_count(pres.values, [pres.adjusted] + [lv.values for lv in params.values()]
                              + [lv.adjusted for lv in params.values()])
        keep = np.arange(n_lev)[None, :] < counts[:, None]
        offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        return LevelGroup(axis, rank, offsets, pres.to_parameter_levels(keep, data_mode_of("PRES")),
                          {nm: lv.to_parameter_levels(keep, data_mode_of(nm)) for nm, lv in params.items()})

    rank_bonus = 1 if delayed else 0
    if kind in ("prof", "core", "Sprof", "S"):
        groups["core"] = make_group("core", core, CORE_RANK[kind] + rank_bonus)
    if kind == "B" or (kind in ("Sprof", "S") and bgc):
        groups["bgc"] = make_group("bgc", bgc, BGC_RANK[kind] + rank_bonus)

    batch = ProfileBatch(
        source_file=name, file_kind=kind, platform_number=platform.astype("<U12"),
        cycle_number=cyc.astype(np.int32), direction=direction.astype("<U1"), scheme_index=scheme_index,
        juld=juld, juld_qc=juld_qc, juld_location=juld_location, latitude=lat, longitude=lon,
        position_qc=pos_qc, data_mode=profile_dm,
        vertical_sampling_scheme=_profile_chars(ds, "VERTICAL_SAMPLING_SCHEME", n),
        config_mission_number=cmn, positioning_system=_profile_chars(ds, "POSITIONING_SYSTEM", n),
        data_centre=_profile_chars(ds, "DATA_CENTRE", n), dc_reference=_profile_chars(ds, "DC_REFERENCE", n),
        project_name=_profile_chars(ds, "PROJECT_NAME", n), pi_name=_profile_chars(ds, "PI_NAME", n),
        platform_type=_profile_chars(ds, "PLATFORM_TYPE", n), groups=groups, warnings=warnings)
    return batch


# ----------------------------------------------------------------------------- meta
def read_meta(source, name: str | None = None) -> dict:
    """Float metadata from ``<wmo>_meta.nc``: type, maker, sensors, deployment, project, PI, country.

    Dates are ``datetime64[s]`` (NaT when blank), positions degrees (NaN when filled).
    """
    name = os.path.basename(str(name if name is not None else source if not isinstance(source, (bytes, bytearray))
                                else "meta.nc"))
    with _dataset(source, name) as ds:
        if "PLATFORM_NUMBER" not in ds.variables:
            raise MissingVariableError("PLATFORM_NUMBER", f"{name}: required variable PLATFORM_NUMBER is missing")

        def s(var: str) -> str | None:
            v = ds.variables.get(var)
            if v is None:
                return None
            text = str(decode_chars(v[:]) if v.ndim >= 1 else decode_char1(v[:]))
            return text or None

        def lst(var: str) -> list[str]:
            v = ds.variables.get(var)
            if v is None:
                return []
            a = decode_chars(v[:]).reshape(-1)
            return [x for x in a.tolist() if x]

        def num(var: str) -> float:
            v = ds.variables.get(var)
            if v is None:
                return float("nan")
            return float(to_float(v, dtype=np.float64).reshape(-1)[0])

        def date(var: str):
            txt = s(var)
            return parse_date_time(np.asarray([txt or ""]))[0]

        lqc = ds.variables.get("LAUNCH_QC")
        launch_qc = int(decode_qc(np.asarray(lqc[:]).reshape(-1)[:1])[0]) if lqc is not None else -1
        platform = s("PLATFORM_NUMBER")
        if not platform:
            raise ArgoFileError(f"{name}: PLATFORM_NUMBER is blank")
        positioning = lst("POSITIONING_SYSTEM")
        centre = s("DATA_CENTRE")
        from .variables import DATA_CENTRES

        return {
            "platform_number": platform,
            "data_centre": centre,
            "dac": DATA_CENTRES.get(centre or ""),
            "wmo_inst_type": s("WMO_INST_TYPE"),
            "platform_type": s("PLATFORM_TYPE"),
            "platform_maker": s("PLATFORM_MAKER"),
            "float_serial_no": s("FLOAT_SERIAL_NO"),
            "firmware_version": s("FIRMWARE_VERSION"),
            "project_name": s("PROJECT_NAME"),
            "pi_name": s("PI_NAME"),
            "operating_institution": s("OPERATING_INSTITUTION"),
            "positioning_system": " ".join(positioning) or None,
            "launch_date": date("LAUNCH_DATE"),
            "launch_latitude": num("LAUNCH_LATITUDE"),
            "launch_longitude": num("LAUNCH_LONGITUDE"),
            "launch_qc": launch_qc,
            "start_date": date("START_DATE"),
            "deployment_platform": s("DEPLOYMENT_PLATFORM"),
            "sensors": lst("SENSOR"),
            "parameters": lst("PARAMETER"),
        }


def wmo_from_name(name: str) -> str | None:
    """The WMO platform number a file name refers to (``None`` when it has none)."""
    base = Path(str(name)).name
    for pat, _ in _NAME_PATTERNS:
        m = pat.match(base)
        if m:
            return m.group(1)
    return None
