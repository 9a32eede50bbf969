"""The vectorised binary-COPY encoder against a plain reference written from PostgreSQL's
documented format (struct.pack per value), and against PostgreSQL itself."""
from __future__ import annotations

import io
import math
import struct

import numpy as np
import pytest

from floatchat_core.db import pgbinary as pb

_FMT = {"real": (">f", 700, 4), "double": (">d", 701, 8), "smallint": (">h", 21, 2), "integer": (">i", 23, 4),
        "bigint": (">q", 20, 8), "boolean": (">?", 16, 1)}


def _ref_scalar(v, kind) -> bytes:
    if v is None:
        return struct.pack(">i", -1)
    f, _, w = _FMT[kind]
    return struct.pack(">i", w) + struct.pack(f, v)


def _ref_array(elems, kind) -> bytes:
    """elems: list of values / None; all-None or empty → NULL array (the encoder's rule)."""
    if not elems or all(e is None for e in elems):
        return struct.pack(">i", -1)
    f, oid, w = _FMT[kind]
    body = b"".join(struct.pack(">i", -1) if e is None else struct.pack(">i", w) + struct.pack(f, e) for e in elems)
    head = struct.pack(">iiiii", 1, int(any(e is None for e in elems)), oid, len(elems), 1)
    return struct.pack(">i", len(head) + len(body)) + head + body


def _ref_text(s) -> bytes:
    if s is None:
        return struct.pack(">i", -1)
    b = s.encode()
    return struct.pack(">i", len(b)) + b


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_encoder_matches_the_documented_format(seed):
    rng = np.random.default_rng(seed)
    n = 37
    counts = rng.integers(0, 12, n)
    counts[3] = 0                                        # empty row
    offsets = np.concatenate(([0], np.cumsum(counts)))
    vals = rng.normal(size=int(offsets[-1])).astype(np.float32)
    vals[rng.random(vals.size) < 0.2] = np.nan           # NULL elements
    vals[offsets[5]:offsets[6]] = np.nan                 # an all-NULL row → NULL array
    qc = rng.integers(-1, 9, vals.size).astype(np.int16)
    flags = rng.random(vals.size) < 0.3
    ints = rng.integers(-2**31, 2**31 - 1, n).astype(np.int32)
    dbl = rng.normal(size=n)
    dbl[[2, 9]] = np.nan
    texts = np.array([None if i % 7 == 0 else "é" * (i % 4) + f"float {i}" for i in range(n)], dtype=object)

    cols = [pb.encode_array(vals, offsets, "real"), pb.encode_array(qc, offsets, "smallint", null=qc < 0),
            pb.encode_array(flags, offsets, "boolean"), pb.encode_scalar(ints, "integer"),
            pb.encode_scalar(dbl, "double"), pb.encode_text(texts)]
    got = pb.assemble(cols)

    ref = [pb.SIGNATURE]
    for r in range(n):
        seg = slice(offsets[r], offsets[r + 1])
        ref.append(struct.pack(">h", len(cols)))
        ref.append(_ref_array([None if math.isnan(x) else float(x) for x in vals[seg]], "real"))
        ref.append(_ref_array([None if q < 0 else int(q) for q in qc[seg]], "smallint"))
        ref.append(_ref_array([bool(x) for x in flags[seg]], "boolean"))
        ref.append(_ref_scalar(int(ints[r]), "integer"))
        ref.append(_ref_scalar(None if math.isnan(dbl[r]) else float(dbl[r]), "double"))
        ref.append(_ref_text(texts[r]))
    ref.append(pb.TRAILER)
    assert got == b"".join(ref)


def test_postgres_reads_what_the_encoder_writes(database):
    from floatchat_core.db.engine import raw_connection

    offsets = np.array([0, 3, 3, 5])
    vals = np.array([1.5, np.nan, -2.25, 7.0, 8.0], np.float32)
    when = np.array(["2021-03-04T05:06:07.123456", "NaT", "1997-07-28T20:26:20"], dtype="datetime64[us]")
    cols = [pb.encode_scalar(np.array([1, 2, 3], np.int64), "bigint"), pb.encode_array(vals, offsets, "real"),
            pb.encode_scalar(when, "timestamptz"), pb.encode_text(np.array(["a", None, "ü"], object))]
    conn = raw_connection()
    try:
        cur = conn.cursor()
        cur.execute("SET TIME ZONE 'UTC'")
        cur.execute("CREATE TEMP TABLE t (i bigint, a real[], t timestamptz, s text)")
        cur.copy_expert("COPY t FROM STDIN (FORMAT binary)", io.BytesIO(pb.assemble(cols)))
        cur.execute("SELECT i, a, to_char(t, 'YYYY-MM-DD HH24:MI:SS.US'), s FROM t ORDER BY i")
        rows = cur.fetchall()
    finally:
        conn.rollback()
        conn.close()
    assert rows == [(1, [1.5, None, -2.25], "2021-03-04 05:06:07.123456", "a"),
                    (2, None, None, None),
                    (3, [7.0, 8.0], "1997-07-28 20:26:20.000000", "ü")]
