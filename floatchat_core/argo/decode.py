"""Decoding Argo NetCDF variables exactly as the Argo User's Manual defines them.

Files are read with CF decoding *off* (``set_auto_maskandscale(False)``) so that
nothing is guessed: every fill value comes from the variable's own ``_FillValue``
attribute, QC flags are decoded from their bytes, and JULD is converted with
integer arithmetic.
"""
from __future__ import annotations

import numpy as np

#: JULD epoch: "days since 1950-01-01 00:00:00 UTC" (Argo User's Manual §2.2.3).
ARGO_EPOCH = np.datetime64("1950-01-01T00:00:00", "us")
ARGO_REFERENCE_DATE_TIME = "19500101000000"
_US_PER_DAY = 86_400_000_000


def fill_value(var) -> object | None:
    """The variable's ``_FillValue`` (netCDF's default fill for its type when absent)."""
    try:
        return var.getncattr("_FillValue")
    except AttributeError:
        import netCDF4

        key = var.dtype.str[1:]
        return netCDF4.default_fillvals.get(key)


def to_float(var, raw: np.ndarray | None = None, dtype=np.float32) -> np.ndarray:
    """Numeric values with the fill value (and NaN) as ``NaN``.

    The comparison is done in the variable's own dtype, so a float32 fill of
    99999.0 and a float64 fill of 999999.0 are both matched exactly.
    """
    a = np.asarray(var[:] if raw is None else raw)
    fv = fill_value(var)
    out = a.astype(dtype, copy=True)
    if fv is not None:
        out[a == np.asarray(fv, dtype=a.dtype)] = np.nan
    return out


_QC_LUT = np.full(256, -1, dtype=np.int8)
_QC_LUT[ord("0"):ord("9") + 1] = np.arange(10, dtype=np.int8)


def decode_qc(raw: np.ndarray) -> np.ndarray:
    """QC flags: bytes ``b'0'``–``b'9'`` → 0–9; blank, NUL or anything else → -1 (missing)."""
    a = np.asarray(raw)
    if a.dtype.kind == "S":
        codes = a.view(np.uint8) if a.dtype.itemsize == 1 else np.frombuffer(a.tobytes(), np.uint8)[::a.dtype.itemsize]
        return _QC_LUT[codes].reshape(a.shape)
    if a.dtype.kind in "iu":           # some writers store QC as integers
        out = a.astype(np.int8)
        out[(a < 0) | (a > 9)] = -1
        return out
    raise TypeError(f"unexpected QC dtype {a.dtype}")


def decode_chars(raw: np.ndarray) -> np.ndarray:
    """A char array ``(..., STRINGn)`` → str array ``(...)``, blanks and NULs stripped."""
    a = np.asarray(raw)
    if a.dtype.kind == "U":
        return np.char.strip(a)
    if a.dtype.kind != "S":
        raise TypeError(f"not a character variable: {a.dtype}")
    if a.ndim == 0:
        return np.asarray(a.tobytes().decode("latin-1").strip(" \x00"))
    width = a.shape[-1]
    codes = np.ascontiguousarray(a).view(np.uint8).copy()
    codes[codes == 0] = 32            # NUL padding counts as blank
    joined = codes.view(f"S{width}").reshape(a.shape[:-1])
    return np.char.strip(np.char.decode(joined, "latin-1"))


def decode_char1(raw: np.ndarray) -> np.ndarray:
    """One character per element (DATA_MODE, DIRECTION, PROFILE_x_QC) → '<U1', blank → ''."""
    a = np.asarray(raw)
    if a.dtype.kind == "S":
        codes = np.ascontiguousarray(a).view(np.uint8).copy()
        codes[codes == 0] = 32
        return np.char.strip(np.char.decode(codes.view("S1").reshape(a.shape), "latin-1")).astype("<U1")
    return np.char.strip(a.astype(str)).astype("<U1")


def reference_offset_days(raw_reference: np.ndarray | None) -> float:
    """Offset in days between the file's REFERENCE_DATE_TIME and the Argo epoch.

    Argo files always use 1950-01-01; a file declaring another reference is still
    converted correctly instead of silently shifted.
    """
    if raw_reference is None:
        return 0.0
    ref = str(decode_chars(raw_reference)).strip()
    if not ref or ref == ARGO_REFERENCE_DATE_TIME:
        return 0.0
    t = parse_date_time(np.asarray([ref]))[0]
    if np.isnat(t):
        return 0.0
    return float((t - ARGO_EPOCH) / np.timedelta64(1, "us")) / _US_PER_DAY


def juld_to_datetime64(juld: np.ndarray) -> np.ndarray:
    """Days since 1950-01-01T00:00:00Z (float64, NaN = missing) → ``datetime64[us]`` (NaT = missing).

    Whole days and the day fraction are converted separately so the result is exact
    to the microsecond over the whole Argo era (a single float multiply would lose
    about a microsecond at 2.7e4 days; harmless, but there is no reason to).
    """
    d = np.asarray(juld, dtype=np.float64)
    ok = np.isfinite(d)
    whole = np.floor(np.where(ok, d, 0.0))
    frac_us = np.rint((np.where(ok, d, 0.0) - whole) * _US_PER_DAY).astype(np.int64)
    us = whole.astype(np.int64) * _US_PER_DAY + frac_us
    out = ARGO_EPOCH + us.astype("timedelta64[us]")
    out[~ok] = np.datetime64("NaT")
    return out


def datetime64_to_juld(t: np.ndarray) -> np.ndarray:
    """Inverse of :func:`juld_to_datetime64` (NaT → NaN)."""
    t = np.asarray(t, dtype="datetime64[us]")
    us = (t - ARGO_EPOCH).astype(np.int64).astype(np.float64)
    out = us / _US_PER_DAY
    out[np.isnat(t)] = np.nan
    return out


def parse_date_time(values: np.ndarray) -> np.ndarray:
    """Argo ``YYYYMMDDHHMISS`` strings → ``datetime64[s]`` (blank or invalid → NaT)."""
    import pandas as pd

    s = np.asarray(values, dtype=str)
    t = pd.to_datetime(pd.Series(s.ravel()), format="%Y%m%d%H%M%S", errors="coerce")
    return t.to_numpy(dtype="datetime64[s]").reshape(s.shape)


# ----------------------------------------------------------------------------- classic-format size check
_NC_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 8}


def classic_expected_size(head: bytes) -> int | None:
    """The size a NetCDF classic (CDF-1/2/5) file must have, from its header; ``None`` when
    ``head`` is not a classic file (NetCDF-4/HDF5 files detect truncation themselves).

    Why: the NetCDF-C library reads the missing tail of a truncated classic file as zeros
    instead of failing, which would turn a cut download into plausible-looking profiles.
    """
    import struct

    if len(head) < 8 or head[:3] != b"CDF" or head[3] not in (1, 2, 5):
        return None
    ver = head[3]
    n = 8 if ver == 5 else 4
    pos = 4

    def num(width=n):
        nonlocal pos
        v = int.from_bytes(head[pos:pos + width], "big")
        pos += width
        return v

    def name():
        nonlocal pos
        length = num()
        pos += (length + 3) // 4 * 4

    def attrs():
        nonlocal pos
        num(4)  # tag (NC_ATTRIBUTE or ABSENT)
        for _ in range(num()):
            name()
            t = num(4)
            count = num()
            pos += (count * _NC_TYPE_SIZE.get(t, 1) + 3) // 4 * 4

    try:
        numrecs = num()
        num(4)
        dims = []
        for _ in range(num()):
            name()
            dims.append(num())
        attrs()
        num(4)
        ends, rec_vars = [], []
        for _ in range(num()):
            name()
            dimids = [num() for _ in range(num())]
            attrs()
            num(4)
            vsize = num()
            begin = num(4 if ver == 1 else 8)
            if dimids and dims[dimids[0]] == 0:          # record variable
                rec_vars.append((begin, vsize))
            else:
                ends.append(begin + vsize)
        if pos > len(head):
            return None
    except (IndexError, struct.error):
        return None
    if rec_vars and numrecs not in (0, 0xFFFFFFFF):
        recsize = sum(v for _, v in rec_vars) if len(rec_vars) > 1 else rec_vars[0][1]
        ends += [b + (numrecs - 1) * recsize + v for b, v in rec_vars]
    # the last variable's padding is optional, so allow up to 3 bytes short
    return max(ends) - 3 if ends else 0
