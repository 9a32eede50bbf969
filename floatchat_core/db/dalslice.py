"""The depth slice's windows for ``dal.depth_slice``: the statement cutting each profile's
arrays around a target pressure, their decoding and the interpolation in numpy. Internal
(``dal`` is the API)."""
from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..argo.variables import BY_NAME
from . import dalcore as core

log = logging.getLogger(__name__)

_F4 = np.dtype([("len", ">i4"), ("v", ">f4")])
_I2 = np.dtype([("len", ">i4"), ("v", ">i2")])


def decode_many(bufs: Sequence, kind: str, n: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Many ``array_send`` values (1-D, no NULL elements; None for a NULL array) → all their elements as one flat numpy array (float32 / int16) and each value's
    element count. The element bytes of every value (past its 20-byte array header) are joined
    once and decoded by one ``frombuffer``: no decode per row.

    With ``n`` (the expected length of each), a missing value, or one of another length (never
    written so; logged), contributes ``n[i]`` fill values (NaN / -1) instead."""
    dt, out_t, fill = (_F4, np.float32, np.nan) if kind == "real" else (_I2, np.int16, -1)
    blen = np.array([len(b) if b is not None and len(b) >= 20 else 0 for b in bufs], dtype=np.int64)
    counts = np.maximum(blen - 20, 0) // dt.itemsize
    if n is None:
        parts = [memoryview(b)[20:] for b, k in zip(bufs, blen.tolist()) if k]
    else:
        filler = np.zeros(1, dt)                 # one element holding the fill value
        filler["len"] = dt.itemsize - 4
        filler["v"] = fill
        one = filler.tobytes()
        odd = (counts != n) & (counts > 0)
        if odd.any():
            log.warning("dal: %d arrays whose length differs from their axis", int(odd.sum()))
        parts = [memoryview(b)[20:] if k == m and k else one * m for b, k, m in zip(bufs, counts.tolist(), n.tolist())]
        counts = np.asarray(n, np.int64)
    joined = b"".join(parts)
    if not joined:
        return np.empty(0, out_t), counts
    return np.frombuffer(joined, dt)["v"].astype(out_t), counts


#: Levels fetched on each side of the binary-searched target level (QC-failing levels near the
#: target are skipped within this window; a profile whose window runs out is refetched whole).
SLICE_WINDOW = 4


def slice_columns(name: str) -> str:
    """The columns ``slice_sql`` reads from its source (``profiles AS p``): the array columns pass
    through the source's sort and limit as TOAST pointers, so only the kept profiles' arrays are
    ever decompressed, and the table is read once."""
    p = BY_NAME[name]
    axis = "pres" if p.axis == "core" else "bgc_pres"
    col = p.column
    cols = ["id", "platform_number", "cycle_number", "juld", "latitude", "longitude", "data_mode",
            f"{axis}_data_mode", f"{col}_data_mode"]
    cols += [f"{x}{t}" for x in (axis, col) for t in ("", "_adjusted", "_qc", "_adjusted_qc")]
    return ", ".join(f"p.{c}" for c in cols)


def slice_sql(name: str, source: str, window: bool) -> str:
    """Per profile of ``source`` (a query over ``profiles AS p`` giving ``slice_columns`` and an
    ``ord`` column): data modes, whether the window was cut, and two ``array_send`` values — the
    window's pressure/value arrays (raw, adjusted) back to back as one real[] and their four QC
    arrays as one smallint[] (each part ``L`` long; missing arrays are NaN / -1)."""
    p = BY_NAME[name]
    axis = "pres" if p.axis == "core" else "bgc_pres"
    col = p.column
    reals = [f"p.{axis}", f"p.{axis}_adjusted", f"p.{col}", f"p.{col}_adjusted"]
    qcs = [f"p.{axis}_qc", f"p.{axis}_adjusted_qc", f"p.{col}_qc", f"p.{col}_adjusted_qc"]
    sl = "[w.lo:w.hi]" if window else ""
    # the axis array is detoasted once (d.ax); a slice of it stands in for p.<axis> when that is its source
    real_parts = [f"(CASE WHEN p.{axis} IS NOT NULL THEN d.ax{sl} END)"] + [
        f"coalesce({a}{sl}, array_fill('NaN'::real, ARRAY[w.len]))" for a in reals[1:]]
    real_parts[0] = f"coalesce({real_parts[0]}, array_fill('NaN'::real, ARRAY[w.len]))"
    real_sql = " || ".join(real_parts)
    qc_parts = " || ".join(f"coalesce({a}{sl}, array_fill((-1)::smallint, ARRAY[w.len]))" for a in qcs)
    lo = f"greatest(k0.k - {SLICE_WINDOW}, 1)" if window else "1"
    hi = f"least(k0.k + {SLICE_WINDOW} + 1, k0.n)" if window else "k0.n"
    # width_bucket binary-searches the target in the axis when it is NULL-free (ascending, as
    # Argo's pressure-increasing test requires); otherwise the whole profile is sent
    return f"""
SELECT p.id AS profile_id, p.platform_number, p.cycle_number, (extract(epoch FROM p.juld) * 1000000)::int8 AS juld, p.latitude, p.longitude,
       coalesce(nullif(p.{axis}_data_mode, ''), nullif(p.data_mode, ''), 'R') AS pdm,
       coalesce(nullif(p.{col}_data_mode, ''), nullif(p.data_mode, ''), 'R') AS vdm,
       w.lo > 1 AS cut_low, w.hi < w.n AS cut_high,
       array_send(array_replace({real_sql}, NULL, 'NaN'::real)) AS reals,
       array_send(array_replace({qc_parts}, NULL, (-1)::smallint)) AS qcs
FROM ({source}) p
CROSS JOIN LATERAL (SELECT coalesce(p.{axis}, p.{axis}_adjusted) || '{{}}'::real[] AS ax OFFSET 0) d
CROSS JOIN LATERAL (SELECT CASE WHEN array_position(d.ax, NULL) IS NULL
                                THEN width_bucket(CAST(:target AS real), d.ax) END AS k,
                           coalesce(cardinality(d.ax), 0) AS n) k0
CROSS JOIN LATERAL (SELECT coalesce({lo}, 1) AS lo, coalesce({hi}, k0.n) AS hi) w0
CROSS JOIN LATERAL (SELECT w0.lo, w0.hi, k0.n, greatest(w0.hi - w0.lo + 1, 0) AS len) w
ORDER BY p.ord"""


def window_matrix(bufs: list, kind: str, parts: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Rows' ``array_send`` values, each ``parts`` arrays of one length ``L_r`` back to back →
    a (sum L_r, parts) matrix and the row of each of its lines (``core.decode_many``, then index
    arithmetic)."""
    flat, counts = decode_many(bufs, kind)
    L = counts // parts
    row = np.repeat(np.arange(len(bufs)), L)
    j = np.arange(int(L.sum())) - np.repeat(np.cumsum(L) - L, L)
    base = (np.cumsum(counts) - counts)[row] + j
    if not row.size:
        return np.empty((0, parts), flat.dtype), row
    return np.stack([flat[base + c * L[row]] for c in range(parts)], axis=1), row


#: depth_slice cuts this many profiles' windows or more over two connections at once (tried for
#: profile_levels' 100 profiles too: no gain, the decoding is as large as the server's share).
SPLIT = 2000


def brackets(rows, target: float, mode: str) -> tuple[pd.Series, set[int]]:
    """Interpolated value per profile id (a Series on the ids) from fetched (windowed) arrays, and the ids whose
    window was too narrow to decide (to be refetched whole). Vectorised: the bracketing levels
    are the last QC-passing level at or above the target and the first at or below it, found
    by one sort of (row, pressure)."""
    if not rows:
        return pd.Series([], dtype=np.float64), set()
    R, row = window_matrix([r[10] for r in rows], "real")
    Q, _ = window_matrix([r[11] for r in rows], "qc")
    pdm = np.array([r[6] for r in rows], dtype="<U1")[row]
    vdm = np.array([r[7] for r in rows], dtype="<U1")[row]
    pr, _, _ = core.select_values(R[:, 0], Q[:, 0], R[:, 1], Q[:, 1], pdm, mode)
    v, _, _ = core.select_values(R[:, 2], Q[:, 2], R[:, 3], Q[:, 3], vdm, mode)
    ok = ~np.isnan(pr) & ~np.isnan(v)
    row, pr, v = row[ok], pr[ok].astype(np.float64), v[ok].astype(np.float64)
    order = np.arange(row.size)

    def pick(sel: np.ndarray, deepest: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # per row: the largest pressure (deepest=True) or the smallest, the first level on ties
        r_, p_, v_, o_ = row[sel], pr[sel], v[sel], order[sel]
        if r_.size == 0:
            return r_, p_, v_
        idx = np.lexsort((-o_ if deepest else o_, p_, r_))
        r_, p_, v_ = r_[idx], p_[idx], v_[idx]
        edge = np.r_[r_[1:] != r_[:-1], True] if deepest else np.r_[True, r_[1:] != r_[:-1]]
        return r_[edge], p_[edge], v_[edge]

    lo_r, lo_p, lo_v = pick(pr <= target, deepest=True)
    hi_r, hi_p, hi_v = pick(pr >= target, deepest=False)
    both, il, ih = np.intersect1d(lo_r, hi_r, assume_unique=True, return_indices=True)
    span = hi_p[ih] - lo_p[il]
    safe = np.where(span > 0, span, 1.0)
    val = np.where(span > 0, lo_v[il] + (hi_v[ih] - lo_v[il]) * (target - lo_p[il]) / safe, lo_v[il])
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    values = pd.Series(val, index=ids[both], dtype=np.float64)
    cut_low = np.array([bool(r[8]) for r in rows])
    cut_high = np.array([bool(r[9]) for r in rows])
    decided = np.zeros(len(rows), bool)
    decided[both] = True
    has_lo = np.zeros(len(rows), bool)
    has_lo[lo_r] = True
    has_hi = np.zeros(len(rows), bool)
    has_hi[hi_r] = True
    unsure = ~decided & ((cut_low & ~has_lo) | (cut_high & ~has_hi))
    return values, set(ids[unsure].tolist())
