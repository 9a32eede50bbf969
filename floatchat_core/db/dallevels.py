"""Levels of many profiles for ``dal.profile_levels``: the statement, its wire format and the
long frame built from it. Internal (``dal`` is the API).

Why a wire format of its own: a profile's arrays must reach numpy as flat big-endian words.
``array_send`` gives that, but calls the element type's send function once per element (a
palloc'd ``bytea`` each: ~40 ns an element, 14 ms of server time for the ~400,000 elements of
100 profiles). pgvector's ``vector`` (installed for the search index) holds float4 exactly and
``vector_send`` writes its elements in one loop: the same bytes without the per-element calls,
half the server time. A vector holds no NULL or NaN, 1–16,000 elements, so:

* a ``real[]`` without NULL elements travels as ``vector_send`` (``4 + 4 n`` bytes); one with
  NULL elements has them replaced by ``-FLT_MAX`` (never a measured value) and is marked by a
  leading zero byte (``5 + 4 n`` bytes) — unless the array holds ``-FLT_MAX`` itself, when it
  travels as ``array_send`` with NaN for NULL (``20 + 8 n`` bytes). The three lengths never
  coincide for one ``n``, so each value is decoded by its length, exactly;
* a ``smallint[]`` (QC) travels as a vector of its values, NULL elements as -1 (what the frame
  shows for a blank flag): float4 holds every smallint exactly;
* an axis of 0 or more than 16,000 levels uses ``array_send`` throughout, and a vector that
  cannot be built all the same (a NaN or infinity in an array not written by ``db.writer``) makes
  the whole statement run again in the ``array_send`` format (``profile_levels``).
"""
from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..argo.variables import BY_NAME
from . import dalcore as core

log = logging.getLogger(__name__)

_FLT_MAX = float(np.finfo(np.float32).max)
_NULL_REAL = f"'{-_FLT_MAX!r}'::real"          # a real[]'s NULL element inside a vector (see above)
_VECTOR_MAX = 16000                             # pgvector's most elements in a vector
_F4 = np.dtype([("len", ">i4"), ("v", ">f4")])
_I2 = np.dtype([("len", ">i4"), ("v", ">i2")])


def _slow(col: str, fill: str) -> str:
    # array_replace builds a new array even when there is nothing to replace: asking first
    # (array_position scans the null bitmap only) is cheaper, though it detoasts a second time
    return (f"(CASE WHEN array_position({col}, NULL) IS NULL THEN array_send({col}) "
            f"ELSE array_send(array_replace({col}, NULL, {fill})) END)")


def send_real(col: str, n: str, fast: bool = True) -> str:
    """SQL: a ``real[]`` column as bytes (see the module doc), ``n`` the SQL of its axis length.
    ``fast=False``: ``array_send`` only (NULL elements as NaN)."""
    slow = _slow(col, "'NaN'::real")
    if not fast:
        return slow
    return (f"(CASE WHEN NOT {n} BETWEEN 1 AND {_VECTOR_MAX} THEN {slow} "
            f"WHEN array_position({col}, NULL) IS NULL THEN vector_send({col}::vector) "
            f"WHEN array_position({col}, {_NULL_REAL}) IS NULL "
            f"THEN '\\x00'::bytea || vector_send(array_replace({col}, NULL, {_NULL_REAL})::vector) "
            f"ELSE array_send(array_replace({col}, NULL, 'NaN'::real)) END)")


def send_qc(col: str, n: str, fast: bool = True) -> str:
    """SQL: a ``smallint[]`` QC column as bytes, NULL elements as -1 (see the module doc)."""
    slow = _slow(col, "(-1)::smallint")
    if not fast:
        return slow
    return (f"(CASE WHEN NOT {n} BETWEEN 1 AND {_VECTOR_MAX} THEN {slow} "
            f"WHEN array_position({col}, NULL) IS NULL THEN vector_send({col}::int4[]::vector) "
            f"ELSE vector_send(array_replace({col}, NULL, (-1)::smallint)::int4[]::vector) END)")


def decode(bufs: Sequence, kind: str, n: np.ndarray) -> np.ndarray:
    """The values of ``send_real`` / ``send_qc`` (one per row; None for a NULL array) → all their
    elements as one flat array (float32 with NaN / int16 with -1 for a NULL element), ``n[i]``
    elements from row ``i``. A missing value, or one whose length is not ``n[i]`` elements (never
    written so; logged), contributes ``n[i]`` fill values (NaN / -1) instead. The element bytes
    of all rows are joined once and converted by one ``frombuffer``."""
    real = kind == "real"
    fill = (np.array([np.nan], ">f4") if real else np.array([-1.0], ">f4")).tobytes()
    parts: list = []
    marked = np.zeros(len(bufs), bool)
    odd = 0
    for i, (b, m) in enumerate(zip(bufs, n.tolist())):
        if not m:
            continue
        ln = -1 if b is None else len(b)
        if ln == 4 + 4 * m:                          # vector_send: int16 dim, int16 unused, float4s
            parts.append(b[4:])
        elif ln == 5 + 4 * m:                        # a marked vector: -FLT_MAX stands for NULL
            parts.append(b[5:])
            marked[i] = True
        elif ln == 20 + 8 * m:                       # array_send: 20-byte header, (len, value) pairs
            v = np.frombuffer(b, _F4 if real else _I2, offset=20)["v"]
            parts.append(v.astype(">f4").tobytes())
        else:
            odd += ln >= 0
            parts.append(fill * m)
    if odd:
        log.warning("dal: %d arrays whose length differs from their axis", odd)
    out = np.frombuffer(b"".join(parts), ">f4").astype(np.float32)
    if marked.any():
        out[np.repeat(marked, n) & (out == -_FLT_MAX)] = np.nan
    return out if real else out.astype(np.int16)


# ----------------------------------------------------------------------------- the statement
#: ``profile_levels`` reads its profiles over up to ``WAYS`` connections at once, ``SPLIT`` or
#: more each (each share's cold TOAST pages read by its own backend): 100 profiles not read
#: lately, at 1 M profiles, 31 ms of COPY on one connection, 24 on two, 20 on four; warm,
#: no gain and no loss.
SPLIT = 40
WAYS = 2


def copy_levels(c, statement: Callable[[bool], str], params: dict) -> tuple[io.BytesIO, str]:
    """The binary COPY stream of ``statement(fast=True)`` (``dalcore.copy_binary`` on the
    SQLAlchemy connection ``c``) and the statement that gave it: ``statement(fast=False)`` (the
    ``array_send`` format) when a vector could not be built (a NaN or an infinity, SQLSTATE
    class 22; more than 16,000 elements, class 54)."""
    sql = statement(True)
    try:
        return core.copy_binary(c.connection.driver_connection, sql, params), sql
    except Exception as exc:
        if getattr(exc, "pgcode", None) is None or exc.pgcode[:2] not in ("22", "54"):
            raise
        log.info("dal: profile_levels in the array_send format (%s)", str(exc).splitlines()[0])
        # the failed COPY ran on the driver's connection, maybe outside any transaction SQLAlchemy began
        c.rollback() if c.in_transaction() else c.connection.dbapi_connection.rollback()
        sql = statement(False)
        return core.copy_binary(c.connection.driver_connection, sql, params), sql


def axis_columns(prefixes: list[str], with_errors: bool, fast: bool = True) -> list[str]:
    """An axis as columns: its length ``n``; every parameter's raw and adjusted arrays (+ the
    adjusted error when ``with_errors``) then their raw and adjusted QC (``send_real`` /
    ``send_qc``; NULL when the array is missing); one data mode per parameter. Arrays travel as
    they are stored (no concatenation or filling on the server, which cost more than the
    detoasting) and are decoded column by column over all rows in ``levels_frame``.

    ``n`` is the stored ``n_levels`` / ``n_bgc_levels`` column (the axis' own array only when
    that is NULL): every reference to a TOASTed array decompresses it again."""
    axis = prefixes[0]
    stored = "n_levels" if axis == "pres" else "n_bgc_levels"
    n = f"(CASE WHEN p.{axis} IS NULL THEN coalesce(cardinality(p.{axis}_adjusted), 0) ELSE p.{stored} END)"
    twins = ("", "_adjusted", "_adjusted_error") if with_errors else ("", "_adjusted")
    reals = [send_real(f"p.{x}{t}", n, fast) for x in prefixes for t in twins]
    qcs = [send_qc(f"p.{x}{t}", n, fast) for x in prefixes for t in ("_qc", "_adjusted_qc")]
    return ([f"{n}::int8"] + reals + qcs
            + [f"coalesce(nullif(p.{x}_data_mode, ''), nullif(p.data_mode, ''), 'R')::text" for x in prefixes])


def axis_types(prefixes: list[str], with_errors: bool) -> list[str]:
    """``dalcore.copy_binary_rows`` types of ``axis_columns``."""
    k = len(prefixes)
    return ["int"] + ["bytes"] * ((3 if with_errors else 2) * k + 2 * k) + ["text"] * k


_PROFILE_COLS = ["p.id", "p.platform_number::text", "p.cycle_number::int8", "p.juld", "p.latitude::float8",
                 "p.longitude::float8"]
_PROFILE_TYPES = ["int", "text", "int", "ts", "float8", "float8"]


def _axes(wanted: list[str]) -> dict[str, list[str]]:
    """The wanted parameters by vertical axis (core, bgc)."""
    return {a: [p for p in wanted if BY_NAME[p].axis == a] for a in ("core", "bgc")}


def _layout(wanted: list[str]) -> list[tuple[str, list[str]]]:
    """The axes to send and their column prefixes (pressure first) for the wanted parameters:
    the core axis also when nothing else is wanted (its pressure alone)."""
    axes = _axes(wanted)
    return [(a, ["pres" if a == "core" else "bgc_pres"] + [BY_NAME[p].column for p in axes[a]])
            for a in ("core", "bgc") if axes[a] or (a == "core" and not wanted)]


def _spans(layout: list, nt: int) -> list[tuple[str, int, int, list[tuple[int, str]]]]:
    """Each axis of a statement's ``layout`` as (axis, first column, prefixes sent, [(index,
    prefix)] to show) — every prefix."""
    out, j0 = [], len(_PROFILE_COLS)
    for axis, prefixes in layout:
        k = len(prefixes)
        out.append((axis, j0, k, list(enumerate(prefixes))))
        j0 += 1 + nt * k + 3 * k
    return out


def fetch(c, ids: list[int], names: list[str], every: bool, mode: str, range_sql: str, params: dict,
          pres_min, pres_max, settings) -> pd.DataFrame:
    """``dal.profile_levels``' fetch on the read-only connection ``c``: ``names`` the parameters
    asked for, or ``every`` one the profiles hold (one small query finds which: sending every
    parameter's columns instead, NULL where absent, cost more than it, measured). The shares
    beyond the first are read on other connections by ``dalcore.side_pool`` (``SPLIT``, ``WAYS``;
    those threads only wait for their COPY stream, parsed here)."""
    from sqlalchemy import text

    wanted = names
    if every:
        present = set(c.execute(text("SELECT DISTINCT unnest(parameters) FROM profiles WHERE id = ANY(:ids)"),
                                {"ids": ids}).scalars().all())
        wanted = [p for p in BY_NAME if p in present and p != "PRES"]
    layout = _layout(wanted)
    types = list(_PROFILE_TYPES)
    for _a, prefixes in layout:
        types += axis_types(prefixes, with_errors=mode == "expert")

    def statement(fast: bool) -> str:
        cols = list(_PROFILE_COLS)
        for _a, prefixes in layout:
            cols += axis_columns(prefixes, with_errors=mode == "expert", fast=fast)
        return f"SELECT {', '.join(cols)} FROM profiles p WHERE p.id = ANY(:ids){range_sql}"

    # the arrays of profiles nobody asked for lately are read from disk (TOAST pages: ~5 a
    # profile): several backends wait for their share at once; the streams are parsed here
    parts = [[int(i) for i in x] for x in np.array_split(ids, max(1, min(WAYS, len(ids) // SPLIT)))]
    futs = [core.side_pool().submit(core.on_reader, settings,
                                    lambda c2, p=part: copy_levels(c2, statement, {**params, "ids": p}))
            for part in parts[1:]]
    try:
        streams = [copy_levels(c, statement, {**params, "ids": parts[0]})]
    finally:
        streams_more = [f.result() for f in futs]
    streams += streams_more
    rows = [r for buf, _sql in streams for r in core.binary_rows(buf, types)]
    sql = streams[0][1] if all(x[1] == streams[0][1] for x in streams) else statement(False)
    core.ran(sql)                  # the statement depends on the profiles' parameters
    spans = _spans(layout, 3 if mode == "expert" else 2)
    return levels_frame(rows, ids, _axes(wanted), spans, mode, pres_min, pres_max)


# ----------------------------------------------------------------------------- the frame
MODE_DTYPE = pd.CategoricalDtype(["R", "A", "D"])
#: a data mode (its first character, as ``select_values`` reads it) → its code in ``MODE_DTYPE``;
#: '' is 'R' (research), any other -1 (no mode)
_MODE_CODE = {"R": 0, "A": 1, "D": 2, "": 0}


def _filler(c: str, size: int) -> np.ndarray:
    if c.endswith("_mode"):
        return np.full(size, -1, np.int8)
    if c.endswith("_qc"):
        return np.full(size, -1, np.int16)
    return np.full(size, np.nan, np.float32)


def levels_frame(rows: list, ids: list[int], axes: dict, spans: list, mode: str, pres_min, pres_max) -> pd.DataFrame:
    """The long levels frame from the fetched rows (columns: six of the profile, then
    ``axis_columns`` per axis; ``spans`` from ``_spans``: where each axis shown starts and which
    of its parameters to show), ordered: profile as asked, core axis before BGC, level. Rows are
    put in the asked order first; each axis' levels are then decoded column by column over all
    rows and written at their final place (an axis' block of a profile starts after the
    profile's earlier blocks) — no sort, one DataFrame built at the end."""
    if not rows:
        cols = ["profile_id", "platform_number", "cycle_number", "juld", "latitude", "longitude", "axis", "level",
                "pres", "pres_qc", "pres_mode"]
        for p in axes["core"] + axes["bgc"]:
            c = BY_NAME[p].column
            cols += [c, f"{c}_qc", f"{c}_mode"]
        return pd.DataFrame(columns=cols)
    order = {pid: i for i, pid in enumerate(ids)}
    rows = sorted(rows, key=lambda r: order.get(r[0], 0))
    nt = 3 if mode == "expert" else 2                        # real twins per parameter (see axis_columns)
    counts = np.array([[r[j] for _a, j, _k, _p in spans] for r in rows], dtype=np.int64).reshape(len(rows), len(spans))
    per_row = counts.sum(axis=1)
    total = int(per_row.sum())
    row_start = np.cumsum(per_row) - per_row                 # where each profile's levels begin
    ri = np.repeat(np.arange(len(rows)), per_row)
    axis_code = np.empty(total, np.int8)
    level = np.empty(total, np.int32)
    merged: dict[str, np.ndarray] = {}
    for ai, (_axis, jn, k, shown) in enumerate(spans):
        n = counts[:, ai]
        block = row_start + counts[:, :ai].sum(axis=1)         # this axis' block in each profile
        lvl = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        dest = np.repeat(block, n) + lvl
        axis_code[dest] = ai
        level[dest] = lvl
        jr, jq, jd = jn + 1, jn + 1 + nt * k, jn + 1 + nt * k + 2 * k
        rix = np.repeat(np.arange(len(rows)), n)
        pres_ok = None
        for t, prefix in shown:
            raw, adj = (decode([r[jr + nt * t + i] for r in rows], "real", n) for i in (0, 1))
            err = decode([r[jr + nt * t + 2] for r in rows], "real", n) if nt == 3 else None
            rq, aq = (decode([r[jq + 2 * t + i] for r in rows], "qc", n) for i in (0, 1))
            dm = np.array([_MODE_CODE.get(r[jd + t][:1], -1) for r in rows], dtype=np.int8)
            value, qc, chosen = core.select_by_mode(raw, rq, adj, aq, (dm == 1)[rix], (dm == 2)[rix], mode)
            # the value's data mode (select_values): the parameter's where the adjusted value was
            # chosen ('R' elsewhere); research: the parameter's, 'R' for a blank one
            vmode = dm[rix] if mode == "research" else np.where(chosen, dm[rix], 0).astype(np.int8)
            name = "pres" if t == 0 else prefix
            if t == 0:
                pres_ok = ~np.isnan(value)
            elif mode != "expert":
                value = np.where(pres_ok, value, np.nan).astype(np.float32)
            cols = {name: value, f"{name}_qc": qc.astype(np.int16), f"{name}_mode": vmode}
            if mode == "expert":
                cols.update({f"{name}_raw": raw, f"{name}_raw_qc": rq, f"{name}_adjusted": adj,
                             f"{name}_adjusted_qc": aq, f"{name}_adjusted_error": err})
            for c, v in cols.items():
                if c not in merged:
                    merged[c] = _filler(c, total)
                merged[c][dest] = v
    keep = None
    if pres_min is not None:
        keep = merged["pres"] >= float(pres_min)
    if pres_max is not None:
        keep = (merged["pres"] <= float(pres_max)) if keep is None else keep & (merged["pres"] <= float(pres_max))
    idx = np.flatnonzero(keep) if keep is not None else slice(None)
    ri = ri[idx]
    pns, pn_codes = np.unique(np.array([r[1] for r in rows], dtype=object), return_inverse=True)
    df = {"profile_id": np.array([r[0] for r in rows], dtype=np.int64)[ri],
          "platform_number": pd.Categorical.from_codes(pn_codes[ri], categories=list(pns)),
          "cycle_number": np.array([r[2] for r in rows], dtype=np.int32)[ri],
          "juld": pd.DatetimeIndex(pd.to_datetime([r[3] for r in rows], utc=True)).as_unit("ns")[ri],
          "latitude": np.array([r[4] for r in rows], dtype=np.float64)[ri],
          "longitude": np.array([r[5] for r in rows], dtype=np.float64)[ri],
          "axis": pd.Categorical.from_codes(axis_code[idx], categories=[s[0] for s in spans]),
          "level": level[idx]}
    for c, v in merged.items():
        v = v[idx]
        # codes built here are in range: skip pandas' validation pass per column
        df[c] = pd.Categorical.from_codes(v, dtype=MODE_DTYPE, validate=False) if c.endswith("_mode") else v
    return pd.DataFrame(df, copy=False)       # no consolidation of the columns into 2-D blocks
