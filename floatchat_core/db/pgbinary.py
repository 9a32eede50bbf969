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


def _scatter_words(out: np.ndarray, starts: np.ndarray, words: np.ndarray, width: int) -> None:
    """Write ``words`` (uint8, shape (k, width)) at byte offsets ``starts`` of ``out``."""
    if starts.size:
        out[starts[:, None] + np.arange(width)] = words


def _be_bytes(values: np.ndarray, dtype: str) -> np.ndarray:
    a = np.ascontiguousarray(values.astype(dtype, copy=False))
    return a.view(np.uint8).reshape(-1, np.dtype(dtype).itemsize)


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
    width = np.dtype(dtype).itemsize
    lengths = np.where(null, 4, 4 + width).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    out = np.empty(int(lengths.sum()), np.uint8)
    _scatter_words(out, starts, _be_bytes(np.where(null, -1, width), ">i4"), 4)
    ok = ~null
    _scatter_words(out, starts[ok] + 4, _be_bytes(np.asarray(data)[ok], dtype), width)
    return Encoded(out, lengths)


def encode_text(values: np.ndarray, null: np.ndarray | None = None) -> Encoded:
    """Text / char(n) columns from a str (or object) array; ``None`` and ``null`` rows are NULL."""
    vals = np.asarray(values, dtype=object)
    if null is None:
        null = np.equal(vals, None)
    vals = np.where(null, "", vals)
    enc = np.char.encode(vals.astype(str), "utf-8")            # fixed-width bytes array 'S<k>'
    width = enc.dtype.itemsize
    lens = np.char.str_len(enc).astype(np.int64) if width else np.zeros(len(vals), np.int64)
    lengths = np.where(null, 4, 4 + lens)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    out = np.empty(int(lengths.sum()), np.uint8)
    _scatter_words(out, starts, _be_bytes(np.where(null, -1, lens), ">i4"), 4)
    if width and lens.sum():
        chars = enc.view(np.uint8).reshape(-1, width)
        keep = np.arange(width)[None, :] < lens[:, None]          # real characters, not padding
        dest = starts[:, None] + 4 + np.arange(width)[None, :]
        out[dest[keep]] = chars[keep]
    return Encoded(out, lengths)


def encode_array(values: np.ndarray, offsets: np.ndarray, kind: str,
                 null: np.ndarray | None = None) -> Encoded:
    """1-D arrays per row from flat ``values`` split by ``offsets`` (length n+1).

    NaN elements (or ``null``) become NULL elements; a row with no element, or whose
    elements are all NULL, becomes a NULL array.
    """
    dtype, oid = _ELEM[kind]
    width = np.dtype(dtype).itemsize
    n = offsets.shape[0] - 1
    if null is None:
        null = np.isnan(values) if values.dtype.kind == "f" else np.zeros(values.shape[0], bool)
    counts = np.diff(offsets).astype(np.int64)
    # valid elements per row from a cumulative sum (reduceat mishandles empty rows, trailing ones included)
    csum = np.concatenate(([0], np.cumsum(~null, dtype=np.int64)))
    valid_per_row = csum[offsets[1:]] - csum[offsets[:-1]]
    row_null = valid_per_row == 0
    nulls_per_row = counts - valid_per_row
    # row bytes: 4 (field len) + 20 (array header) + 4 per element + width per valid element
    data_len = 20 + 4 * counts + width * valid_per_row
    lengths = np.where(row_null, 4, 4 + data_len)
    row_start = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    out = np.empty(int(lengths.sum()), np.uint8)
    # field length words and array headers
    hdr = np.zeros((n, 6), dtype=">i4")
    hdr[:, 0] = np.where(row_null, -1, data_len)
    hdr[:, 1] = 1
    hdr[:, 2] = (nulls_per_row > 0).astype(np.int32)
    hdr[:, 3] = oid
    hdr[:, 4] = counts
    hdr[:, 5] = 1
    hdr_bytes = hdr.view(np.uint8).reshape(n, 24)
    _scatter_words(out, row_start[~row_null], hdr_bytes[~row_null][:, :4], 4)
    _scatter_words(out, row_start[row_null], hdr_bytes[row_null][:, :4], 4)
    full = ~row_null
    if full.any():
        _scatter_words(out, row_start[full] + 4, hdr_bytes[full][:, 4:], 20)
        # elements of non-NULL rows only
        row_of = np.repeat(np.arange(n), counts)
        keep_el = full[row_of]
        el_null = null[keep_el]
        el_rows = row_of[keep_el]
        el_size = np.where(el_null, 4, 4 + width)
        # position of each element inside its row: exclusive cumsum restarted per row
        csum = np.cumsum(el_size) - el_size
        first_of_row = np.concatenate(([0], np.cumsum(counts[full])[:-1]))
        base = np.repeat(csum[first_of_row], counts[full])
        el_start = row_start[el_rows] + 24 + (csum - base)
        _scatter_words(out, el_start, _be_bytes(np.where(el_null, -1, width), ">i4"), 4)
        ok = ~el_null
        _scatter_words(out, el_start[ok] + 4, _be_bytes(values[keep_el][ok], dtype), width)
    return Encoded(out, lengths)


def assemble(columns: list[Encoded]) -> bytes:
    """Interleave encoded columns into one binary COPY stream (signature, tuples, trailer)."""
    n = columns[0].lengths.shape[0]
    ncols = len(columns)
    L = np.stack([c.lengths for c in columns], axis=1)                 # (n, ncols)
    row_len = 2 + L.sum(axis=1)
    row_start = len(SIGNATURE) + np.concatenate(([0], np.cumsum(row_len)[:-1]))
    total = len(SIGNATURE) + int(row_len.sum()) + len(TRAILER)
    out = np.empty(total, np.uint8)
    out[: len(SIGNATURE)] = np.frombuffer(SIGNATURE, np.uint8)
    out[-2:] = 255
    _scatter_words(out, row_start, _be_bytes(np.full(n, ncols), ">i2"), 2)
    col_off = np.concatenate((np.zeros((n, 1), np.int64), np.cumsum(L, axis=1)[:, :-1]), axis=1)
    for j, c in enumerate(columns):
        dest_row = row_start + 2 + col_off[:, j]
        src_row = np.concatenate(([0], np.cumsum(c.lengths)[:-1]))
        # byte k of column j's buffer goes to dest_row[r] + (k - src_row[r]) for its row r
        shift = np.repeat(dest_row - src_row, c.lengths)
        out[np.arange(c.buf.shape[0]) + shift] = c.buf
    return out.tobytes()
