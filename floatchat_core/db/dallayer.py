"""Layer means for ``dal.region_profile_values``: per profile, the mean of a parameter's
QC-selected values within a pressure layer. Internal (``dal`` is the API).

How: the matching profiles' ids first (oldest first, at most the row cap); then, per profile,
the database binary-searches the layer in its pressure axis (``width_bucket``) and sends only
that window of the pressure and parameter arrays (raw, adjusted and their QC flags, in
``dallevels``' wire format); the QC selection (``dalcore.select_values``), the layer test and
the mean run in numpy over all windows at once. Many profiles are cut over two connections at
once.

Why not in SQL: the per-level QC selection, written as SQL expressions over an ``unnest`` of
eight arrays, cost ~110 µs a profile of server time (a region over five years at 1 M profiles:
53,000 profiles, 7 s warm, 13 s cold — one such call of 40 hit the read-only engine's 15 s
statement timeout). The windows cost the server a few tens of µs a profile (the detoasting).

The result is exactly the SQL definition's: a level counts when its selected pressure and
value pass the mode's selection and the pressure lies in [``layer_lo``, ``layer_hi``]; the mean
is the float8 sum in level order divided by the count (PostgreSQL's ``avg(float8)``).
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from ..argo.variables import BY_NAME
from . import dalcore as core
from . import dallevels as levels

#: Pressure margin (dbar) of the layer window: the window is searched on the raw pressure axis,
#: the layer test runs on the QC-selected (possibly adjusted) pressure, which Argo's surface
#: pressure corrections move by a few dbar at most.
LAYER_MARGIN_DBAR = 20.0

#: At or above this many profiles, the windows are cut over two connections at once, in
#: statements of at most ``CHUNK`` profiles each (~1 s of server time at 1 M profiles).
SPLIT = 2000
CHUNK = 10_000

COLUMNS = ["profile_id", "platform_number", "juld", "latitude", "longitude", "value", "n_levels"]


def windows_sql(parameter: str) -> str:
    """Per id of ``:ids`` (in their order): the profile's columns, its axis' and the parameter's
    data modes, the window's length ``L`` and eight arrays of ``L`` elements in ``dallevels``'
    wire format: pressure raw, adjusted, value raw, adjusted, then their QC flags (NULL when
    missing).

    The window ``w.lo..w.hi`` holds the levels within [``:layer_lo_m``, ``:layer_hi_m``] (plus
    the one just above), found by binary search in the NULL-free ascending axis (the raw axis,
    or the adjusted one when the raw is missing); the whole axis otherwise. The arrays are cut
    once (``OFFSET 0``: not again per reference in the sends). Measured at 1 M profiles: ~50 µs
    a profile, nearly all of it detoasting; joining the eight cuts into two arrays cost three
    times that."""
    p = BY_NAME[parameter]
    axis = "pres" if p.axis == "core" else "bgc_pres"
    col = p.column
    cuts = [f"CASE WHEN p.{axis} IS NOT NULL THEN d.ax[w.lo:w.hi] END", f"p.{axis}_adjusted[w.lo:w.hi]",
            f"p.{col}[w.lo:w.hi]", f"p.{col}_adjusted[w.lo:w.hi]"]
    cuts += [f"p.{x}[w.lo:w.hi]" for x in (f"{axis}_qc", f"{axis}_adjusted_qc", f"{col}_qc", f"{col}_adjusted_qc")]
    sends = ([levels.send_real(f"c.a{i}", "w.len") for i in range(4)]
             + [levels.send_qc(f"c.a{i}", "w.len") for i in range(4, 8)])
    return f"""
SELECT p.id, p.platform_number::text, (extract(epoch FROM p.juld) * 1000000)::int8, p.latitude::float8,
       p.longitude::float8,
       coalesce(nullif(p.{axis}_data_mode, ''), nullif(p.data_mode, ''), 'R')::text,
       coalesce(nullif(p.{col}_data_mode, ''), nullif(p.data_mode, ''), 'R')::text,
       w.len::int8, {', '.join(sends)}
FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS o(id, ord)
JOIN profiles p ON p.id = o.id
CROSS JOIN LATERAL (SELECT coalesce(p.{axis}, p.{axis}_adjusted) || '{{}}'::real[] AS ax OFFSET 0) d
CROSS JOIN LATERAL (SELECT array_position(d.ax, NULL) IS NULL AS sorted) ds
CROSS JOIN LATERAL (
    SELECT CASE WHEN ds.sorted THEN greatest(width_bucket(CAST(:layer_lo_m AS real), d.ax), 1) ELSE 1 END AS lo,
           CASE WHEN ds.sorted THEN width_bucket(CAST(:layer_hi_m AS real), d.ax)
                ELSE coalesce(cardinality(d.ax), 0) END AS hi) w0
CROSS JOIN LATERAL (SELECT w0.lo, w0.hi, greatest(w0.hi - w0.lo + 1, 0) AS len) w
CROSS JOIN LATERAL (SELECT {', '.join(f"{e} AS a{i}" for i, e in enumerate(cuts))} OFFSET 0) c
ORDER BY o.ord"""


_TYPES = ["int", "text", "int", "float8", "float8", "text", "text", "int"] + ["bytes"] * 8


def layer_means(rows: list, lo: float, hi: float, mode: str) -> pd.DataFrame:
    """The ``region_profile_values`` frame of fetched window rows (``windows_sql``, in order):
    profiles with at least one selected level in [``lo``, ``hi``] dbar."""
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    n = np.array([r[7] for r in rows], dtype=np.int64)
    # an array shorter than its axis (never written so by db.writer; logged) counts as missing
    pr_raw, pr_adj, v_raw, v_adj = (levels.decode([r[8 + i] for r in rows], "real", n) for i in range(4))
    pr_rq, pr_aq, v_rq, v_aq = (levels.decode([r[12 + i] for r in rows], "qc", n) for i in range(4))
    rix = np.repeat(np.arange(len(rows)), n)
    pdm = np.array([r[5] for r in rows], dtype="<U1")[rix]
    vdm = np.array([r[6] for r in rows], dtype="<U1")[rix]
    pr = core.select_values(pr_raw, pr_rq, pr_adj, pr_aq, pdm, mode)[0].astype(np.float64)
    v = core.select_values(v_raw, v_rq, v_adj, v_aq, vdm, mode)[0].astype(np.float64)
    ok = ~np.isnan(pr) & ~np.isnan(v) & (pr >= lo) & (pr <= hi)
    # bincount adds in input order: the float8 sum of PostgreSQL's avg, level by level
    sums = np.bincount(rix[ok], weights=v[ok], minlength=len(rows))
    counts = np.bincount(rix[ok], minlength=len(rows))
    keep = counts > 0
    if not keep.any():
        return pd.DataFrame(columns=COLUMNS)
    juld = pd.array([r[2] for r in rows], dtype="Int64")[keep]
    return pd.DataFrame({
        "profile_id": np.array([r[0] for r in rows], dtype=np.int64)[keep],
        "platform_number": pd.array(np.array([r[1] for r in rows], dtype=object)[keep], dtype="str"),
        "juld": pd.to_datetime(juld, unit="us", utc=True).astype("datetime64[ns, UTC]"),
        "latitude": np.array([r[3] for r in rows], dtype=np.float64)[keep],
        "longitude": np.array([r[4] for r in rows], dtype=np.float64)[keep],
        "value": sums[keep] / counts[keep],
        "n_levels": counts[keep].astype(np.int64)})


def fetch(c, ids_sql: str, params: dict, parameter: str, lo: float, hi: float, mode: str, limit: int,
          settings) -> pd.DataFrame:
    """``region_profile_values``' fetch on the read-only connection ``c``: ``ids_sql`` selects the
    matching profiles' ids oldest first (``LIMIT :limit OFFSET :offset``); pages of them are cut
    until ``limit`` profiles with levels in the layer are found, on this connection and a second
    one (``dalcore.side_pool``)."""
    from sqlalchemy import text

    sql = windows_sql(parameter)
    wparams = {"layer_lo_m": lo - LAYER_MARGIN_DBAR, "layer_hi_m": hi + LAYER_MARGIN_DBAR}

    def cut(conn, pieces: list[list[int]]) -> list[list]:
        return [core.copy_binary_rows(conn.connection.driver_connection, sql, {**wparams, "ids": x}, _TYPES)
                for x in pieces]

    frames, found, offset = [], 0, 0
    while True:
        ids = [int(i) for i in c.execute(text(ids_sql), {**params, "limit": limit, "offset": offset}).scalars()]
        # pieces of at most CHUNK profiles (no statement near the read-only engine's timeout),
        # the even ones cut on this connection while a second one cuts the odd ones
        pieces = [[int(i) for i in x] for x in np.array_split(ids, max(1, -(-len(ids) // CHUNK)))] \
            if len(ids) >= SPLIT else [ids]
        if len(pieces) == 1 and len(ids) >= SPLIT:
            pieces = [ids[:len(ids) // 2], ids[len(ids) // 2:]]
        fut = (core.side_pool().submit(core.on_reader, settings, lambda c2, odd=pieces[1::2]: cut(c2, odd))
               if len(pieces) > 1 else None)
        try:
            even = cut(c, pieces[0::2])
        finally:
            odd = fut.result() if fut is not None else []
        rows = [r for i in range(len(pieces)) for r in (even[i // 2] if i % 2 == 0 else odd[i // 2])]
        df = layer_means(rows, lo, hi, mode)
        frames.append(df)
        found += len(df)
        if found >= limit or len(ids) < limit:
            break
        offset += limit
    core.ran(ids_sql + ";\n" + sql)
    out = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return out.iloc[:limit].reset_index(drop=True) if len(out) > limit else out

