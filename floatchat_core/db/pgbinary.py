"""Vectorised encoder for PostgreSQL's binary ``COPY`` format (internal module).

A whole batch of rows — scalar columns and array columns whose elements are
flattened over rows with an offsets index — is encoded with numpy only: no Python
loop over rows or elements. Binary COPY spares both sides the float↔text
conversions that dominate a text ``COPY`` of float arrays.

Format (PostgreSQL docs, "COPY — Binary Format"): signature, flags, extension area;
per tuple an int16 field count then, per field, an int32 byte length (-1 = NULL)
followed by the value in the type's binary ``send`` form; an int16 -1 trailer.
Arrays: ndim, has-null flag, element OID, then (dim, lower bound) per dimension,
then per element an int32 length (-1 = NULL) and the element bytes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"

# element type: (numpy big-endian dtype, PostgreSQL OID)
_ELEM = {
    "real": (">f4", 700),
    "double": (">f8", 701),
    "smallint": (">i2", 21),
    "integer": (">i4", 23),
    "bigint": (">i8", 20),
    "boolean": ("u1", 16),
}
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 minus 1970-01-01 in microseconds


@dataclass
class Encoded:
    """One column: its field bytes for all rows, back to back, and each row's byte length."""

    buf: np.ndarray      # uint8
    lengths: np.ndarray  # int64 per row, including the 4-byte length word


@dataclass
class Split:
    """A field written as two consecutive parts per row (an array's header, then its elements)."""

    head: Encoded
    body: Encoded

    @property
    def lengths(self) -> np.ndarray:
        return self.head.lengths + self.body.lengths

    def encoded(self) -> Encoded:
        """The field as one ``Encoded`` (each row's head and body joined)."""
        return _merge([self.head, self.body])


# Technique: every encoder lays its rows out in a dense (rows, max bytes) block of uint8 with a
# same-shaped boolean "keep" mask (what a NULL drops, what is padding), filled by whole-row or
# whole-element strided assignments; one boolean-mask compress then yields the bytes in row
# order. Every pass runs at memory speed in numpy's C loops: no Python loop over rows or
# elements, and no byte-granular fancy indexing.
def _len_words(lengths: np.ndarray) -> np.ndarray:
    """int32 big-endian length words as (n, 4) uint8."""
    return np.ascontiguousarray(lengths.astype(">i4")).view(np.uint8).reshape(-1, 4)


def _native_word(v: int) -> np.uint32:
    """The native uint32 whose memory bytes are ``v`` as a big-endian int32."""
    return np.frombuffer(np.array([v], ">i4").tobytes(), np.uint32)[0]


def encode_scalar(values: np.ndarray, kind: str, null: np.ndarray | None = None) -> Encoded:
    """Fixed-width scalars (``real``, ``double``, ``smallint``, ``integer``, ``bigint``, ``boolean``,
    ``timestamptz`` from datetime64). ``null`` marks NULL rows (NaN/NaT are NULL by default)."""
    n = values.shape[0]
    if kind == "timestamptz":
        us = values.astype("datetime64[us]")
        null = np.isnat(us) if null is None else null
        data = us.astype(np.int64) - _PG_EPOCH_US
        dtype = ">i8"
    else:
        dtype = _ELEM[kind][0]
        if null is None:
            null = np.isnan(values) if values.dtype.kind == "f" else np.zeros(n, bool)
        data = values.astype(np.uint8) if kind == "boolean" else values
    null = np.asarray(null, bool)
    width = np.dtype(dtype).itemsize
    block = np.empty((n, 4 + width), np.uint8)
    block[:, :4] = _len_words(np.where(null, -1, width))
    block[:, 4:] = np.ascontiguousarray(np.asarray(data).astype(dtype)).view(np.uint8).reshape(n, width)
    lengths = np.where(null, 4, 4 + width).astype(np.int64)
    if not null.any():
        return Encoded(block.reshape(-1), lengths)
    keep = np.ones((n, 4 + width), bool)
    keep[null, 4:] = False
    return Encoded(block[keep], lengths)


def encode_text(values: np.ndarray, null: np.ndarray | None = None) -> Encoded:
    """Text / char(n) columns from a str (or object) array; ``None`` and ``null`` rows are NULL."""
    vals = np.asarray(values, dtype=object)
    n = vals.shape[0]
    if null is None:
        null = np.equal(vals, None)
    null = np.asarray(null, bool)
    vals = np.where(null, "", vals)
    enc = np.char.encode(vals.astype(str), "utf-8")            # fixed-width bytes array 'S<k>'
    width = enc.dtype.itemsize
    lens = np.char.str_len(enc).astype(np.int64) if width else np.zeros(n, np.int64)
    lengths = np.where(null, 4, 4 + lens).astype(np.int64)
    block = np.empty((n, 4 + width), np.uint8)
    block[:, :4] = _len_words(np.where(null, -1, lens))
    if width:
        block[:, 4:] = np.ascontiguousarray(enc).view(np.uint8).reshape(n, width)
    keep = np.arange(4 + width)[None, :] < lengths[:, None]     # drops the bytes-array padding
    return Encoded(block[keep], lengths)


def encode_array(values: np.ndarray, offsets: np.ndarray, kind: str,
                 null: np.ndarray | None = None) -> Split:
    """1-D arrays per row from flat ``values`` split by ``offsets`` (length n+1).

    NaN elements (or ``null``) become NULL elements; a row with no element, or whose
    elements are all NULL, becomes a NULL array. Returned as two parts per row — the field's
    length word and array header, then the elements — which ``assemble`` writes back to back.
    """
    dtype, oid = _ELEM[kind]
    width = np.dtype(dtype).itemsize
    offsets = np.asarray(offsets, np.int64)
    n = offsets.shape[0] - 1
    values = np.asarray(values)[: offsets[-1]]
    if null is None:
        null = np.isnan(values) if values.dtype.kind == "f" else np.zeros(values.shape[0], bool)
    null = np.asarray(null, bool)[: values.shape[0]]
    counts = np.diff(offsets)
    # NULL elements per row by locating each NULL's row (a bincount; cheap when NULLs are few,
    # still vectorised when whole rows are NULL)
    null_rows = np.searchsorted(offsets, np.flatnonzero(null), side="right") - 1
    valid = counts - np.bincount(null_rows, minlength=n)[:n]
    row_null = valid == 0
    if row_null.all():                                   # a column with no value in this batch
        return Split(Encoded(_len_words(np.full(n, -1)).reshape(-1), np.full(n, 4, np.int64)),
                     Encoded(np.empty(0, np.uint8), np.zeros(n, np.int64)))
    # elements as (length word, value) pairs built from native words holding big-endian bytes (no
    # per-element casts); a NULL element keeps only its -1 length word
    keep_el = np.repeat(~row_null, counts)                       # elements of non-NULL rows
    vals, el_null = (values, null) if keep_el.all() else (values[keep_el], null[keep_el])
    el = np.empty(vals.shape[0], np.dtype([("l", "u4"), ("v", f"u{width}")]))
    el["l"] = _native_word(width)
    el["v"] = np.ascontiguousarray(vals.astype(dtype)).view(f"u{width}")
    eb = el.view(np.uint8).reshape(vals.shape[0], 4 + width)
    if el_null.any():
        el["l"][el_null] = _native_word(-1)
        m = np.ones((vals.shape[0], 4 + width), bool)
        m[el_null, 4:] = False
        body = eb[m]
    else:
        body = eb.reshape(-1)
    body_len = np.where(row_null, 0, 4 * counts + width * valid)
    hdr = np.zeros((n, 6), dtype=">i4")          # field length, ndim, has-null, OID, dim, lower bound
    hdr[:, 0] = np.where(row_null, -1, 20 + body_len)
    hdr[:, 1] = 1
    hdr[:, 2] = (valid < counts).astype(np.int32)
    hdr[:, 3] = oid
    hdr[:, 4] = counts
    hdr[:, 5] = 1
    head_len = np.where(row_null, 4, 24)
    hm = np.arange(24)[None, :] < head_len[:, None]
    return Split(Encoded(hdr.view(np.uint8).reshape(n, 24)[hm], head_len.astype(np.int64)),
                 Encoded(body, body_len.astype(np.int64)))


def _merge(parts: list[Encoded]) -> Encoded:
    """Consecutive parts joined row by row into one part: each is placed in a dense (rows, its
    longest row) block of a row-major matrix with a keep mask; one compress gives the bytes.
    Meant for short parts (scalars, text, array headers), where the padding is small."""
    if len(parts) == 1:
        return parts[0]
    n = parts[0].lengths.shape[0]
    widths = [int(c.lengths.max()) if n else 0 for c in parts]
    mat = np.empty((n, sum(widths)), np.uint8)
    keep = np.empty((n, sum(widths)), bool)
    o = 0
    for c, w in zip(parts, widths):
        if w:
            m = np.arange(w)[None, :] < c.lengths[:, None]
            if c.buf.shape[0] == n * w:                       # every row full width: a plain reshape
                mat[:, o:o + w] = c.buf.reshape(n, w)
            else:
                mat[:, o:o + w][m] = c.buf
            keep[:, o:o + w] = m
        o += w
    return Encoded(mat[keep], np.sum([c.lengths for c in parts], axis=0).astype(np.int64))


#: A part whose rows are at most this long (bytes) is merged with its short neighbours.
_SHORT = 64


def assemble(columns: list[Encoded | Split]) -> bytes:
    """Interleave encoded columns into one binary COPY stream (signature, tuples, trailer).

    Runs of short parts (the tuple's field count, scalars, text, array headers) are merged
    into one part with ``_merge``; the stream is then joined from whole parts: per row, one
    memoryview slice per remaining part (a few per array column), copied by ``bytes.join``
    at memory speed. Per-value work is all vectorised above; this loop touches each row's
    long parts once, as a whole, which a byte-granular numpy scatter cannot match.
    """
    n = columns[0].lengths.shape[0]
    count = Encoded(np.tile(np.frombuffer(np.array([len(columns)], ">i2").tobytes(), np.uint8), n),
                    np.full(n, 2, np.int64))
    flat: list[Encoded] = [count]
    for c in columns:
        flat += [c.head, c.body] if isinstance(c, Split) else [c]
    parts: list[Encoded] = []
    run: list[Encoded] = []
    for p in flat:
        if n and int(p.lengths.max()) > _SHORT:
            if run:
                parts.append(_merge(run))
                run = []
            parts.append(p)
        else:
            run.append(p)
    if run:
        parts.append(_merge(run))
    if len(parts) == 1:
        return SIGNATURE + parts[0].buf.tobytes() + TRAILER
    views = [memoryview(np.ascontiguousarray(p.buf)) for p in parts]
    bounds = [np.concatenate(([0], np.cumsum(p.lengths))).tolist() for p in parts]
    pieces: list = [SIGNATURE]
    for r in range(n):
        pieces += [v[b[r]:b[r + 1]] for v, b in zip(views, bounds)]
    pieces.append(TRAILER)
    return b"".join(pieces)
