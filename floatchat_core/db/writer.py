"""The COPY writer: one transaction per file, binary ``COPY`` into a temporary table,
then upserts of profiles (on the profile key), positions and floats.

Why this shape:

* Binary COPY of whole level arrays (``pgbinary``) — no float→text conversions.
* Group precedence (``header_rank``/``core_rank``/``bgc_rank`` with the source file
  name as tie-break) makes the final content independent of the order files arrive
  in, so serial and Dask-parallel ingestion give identical databases, and
  re-ingesting a file changes nothing.
* ``position``, ``parameters`` and level counts are generated columns: they can never
  disagree with the arrays.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..argo.batch import LevelGroup, ProfileBatch
from ..argo.decode import juld_to_datetime64
from ..argo.variables import BGC_PARAMETERS, CORE_PARAMETERS, DATA_CENTRES
from . import pgbinary as pb

log = logging.getLogger(__name__)

KEY = ("platform_number", "cycle_number", "direction", "scheme_index")
HEADER = ("dataset_id", "juld", "juld_qc", "juld_location", "latitude", "longitude", "position_qc",
          "positioning_system", "position_invalid", "timestamp_missing", "data_mode",
          "vertical_sampling_scheme", "config_mission_number", "data_centre", "dc_reference",
          "project_name", "pi_name", "platform_type", "header_rank", "header_source")
_TWINS = (("", "real"), ("_qc", "smallint"), ("_adjusted", "real"), ("_adjusted_qc", "smallint"),
          ("_adjusted_error", "real"))


def _group_columns(axis: str) -> list[tuple[str, str]]:
    """(column, type) of a group's columns, rank and source first."""
    prefixes = ["pres"] + [p.column for p in CORE_PARAMETERS if p.column != "pres"] if axis == "core" \
        else ["bgc_pres"] + [p.column for p in BGC_PARAMETERS]
    cols = [(f"{axis}_rank", "smallint"), (f"{axis}_source", "text")]
    for pre in prefixes:
        cols += [(f"{pre}{s}", f"{t}[]") for s, t in _TWINS]
        cols += [(f"{pre}_data_mode", "char(1)"), (f"{pre}_profile_qc", "char(1)"),
                 (f"{pre}_out_of_range", "boolean[]")]
    return cols


CORE_COLUMNS = _group_columns("core")
BGC_COLUMNS = _group_columns("bgc")
_HEADER_TYPES = {
    "dataset_id": "bigint", "juld": "timestamptz", "juld_qc": "smallint", "juld_location": "timestamptz",
    "latitude": "double precision", "longitude": "double precision", "position_qc": "smallint",
    "position_invalid": "boolean", "timestamp_missing": "boolean", "data_mode": "char(1)",
    "config_mission_number": "integer", "header_rank": "smallint",
}


@dataclass
class WriteResult:
    n_profiles: int
    n_levels: int
    n_duplicates: int


# ----------------------------------------------------------------------------- encoding
def _chars(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a).astype(str)
    return a, a == ""


def _encode_levels(lv, offsets, kind_prefix: str, cols: list[pb.Encoded], n: int) -> None:
    """Encode one parameter's 8 columns (arrays, data mode, profile QC, out-of-range)."""
    if lv is None:
        cols += [pb.encode_array(np.empty(0, np.float32), np.zeros(n + 1, np.int64), "real")] * 8
        return
    cols.append(pb.encode_array(lv.values, offsets, "real"))
    cols.append(pb.encode_array(lv.qc.astype(np.int16), offsets, "smallint", null=lv.qc < 0))
    cols.append(pb.encode_array(lv.adjusted, offsets, "real"))
    cols.append(pb.encode_array(lv.adjusted_qc.astype(np.int16), offsets, "smallint", null=lv.adjusted_qc < 0))
    cols.append(pb.encode_array(lv.adjusted_error, offsets, "real"))
    dm, dm_null = _chars(lv.data_mode)
    cols.append(pb.encode_text(dm, null=dm_null))
    pq, pq_null = _chars(lv.profile_qc)
    cols.append(pb.encode_text(pq, null=pq_null))
    oor = getattr(lv, "out_of_range", None)
    if oor is None or not oor.any():
        cols.append(pb.encode_array(np.empty(0, bool), np.zeros(n + 1, np.int64), "boolean"))
    else:
        # store the flags only for profiles that have an out-of-range level (sparse: NULL elsewhere)
        row_of = np.repeat(np.arange(n), np.diff(offsets))
        has = np.zeros(n, bool)
        np.logical_or.at(has, row_of, oor)
        cols.append(pb.encode_array(oor, offsets, "boolean", null=~has[row_of]))


def _encode_group(group: LevelGroup, source: np.ndarray, n: int) -> list[pb.Encoded]:
    cols = [pb.encode_scalar(np.full(n, group.rank, np.int16), "smallint"), pb.encode_text(source)]
    _encode_levels(group.pressure, group.offsets, "pres", cols, n)
    params = CORE_PARAMETERS if group.axis == "core" else BGC_PARAMETERS
    for p in params:
        if p.name == "PRES":
            continue
        _encode_levels(group.parameters.get(p.name), group.offsets, p.column, cols, n)
    return cols


def _take(batch: ProfileBatch, keep: np.ndarray) -> ProfileBatch:
    """The batch restricted to profile indexes ``keep`` (used to drop duplicate keys)."""
    import copy

    out = copy.copy(batch)
    for name in ("platform_number", "cycle_number", "direction", "scheme_index", "juld", "juld_qc",
                 "juld_location", "latitude", "longitude", "position_qc", "data_mode",
                 "vertical_sampling_scheme", "config_mission_number", "positioning_system", "data_centre",
                 "dc_reference", "project_name", "pi_name", "platform_type", "position_invalid",
                 "timestamp_missing"):
        v = getattr(batch, name)
        if v is not None:
            setattr(out, name, v[keep])
    groups = {}
    for axis, g in batch.groups.items():
        starts, counts = g.offsets[:-1][keep], np.diff(g.offsets)[keep]
        idx = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(counts.sum())
        new_off = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)

        def sub(lv, idx=idx, keep=keep):
            c = copy.copy(lv)
            for f in ("values", "qc", "adjusted", "adjusted_qc", "adjusted_error"):
                setattr(c, f, getattr(lv, f)[idx])
            for f in ("data_mode", "profile_qc"):
                setattr(c, f, getattr(lv, f)[keep])
            if getattr(lv, "out_of_range", None) is not None:
                c.out_of_range = lv.out_of_range[idx]
            return c

        groups[axis] = LevelGroup(axis, g.rank, new_off, sub(g.pressure),
                                  {k: sub(v) for k, v in g.parameters.items()})
    out.groups = groups
    return out


def _dedupe(batch: ProfileBatch) -> tuple[ProfileBatch, int]:
    """Keep the last row of each profile key (a file may repeat a cycle)."""
    n = len(batch)
    keys = np.rec.fromarrays([batch.platform_number.astype(str), batch.cycle_number, batch.direction.astype(str),
                              batch.scheme_index])
    _, first_rev = np.unique(keys[::-1], return_index=True)
    if first_rev.size == n:
        return batch, 0
    keep = np.sort(n - 1 - first_rev)
    log.warning("writer.duplicate_keys file=%s dropped=%d", batch.source_file, n - keep.size)
    return _take(batch, keep), n - keep.size


def encode_batch(batch: ProfileBatch, dataset_id: int) -> tuple[list[tuple[str, str]], bytes]:
    """The staging columns (name, SQL type) and the binary COPY payload for ``batch``."""
    n = len(batch)
    source = np.full(n, batch.source_file, dtype=object)
    has_core = "core" in batch.groups
    header_rank = batch.groups["core"].rank if has_core else 0
    juld = juld_to_datetime64(batch.juld)
    juld_loc = juld_to_datetime64(batch.juld_location)
    cols_def: list[tuple[str, str]] = [("platform_number", "text"), ("cycle_number", "integer"),
                                       ("direction", "char(1)"), ("scheme_index", "smallint")]
    enc = [pb.encode_text(batch.platform_number.astype(str)),
           pb.encode_scalar(batch.cycle_number.astype(np.int32), "integer"),
           pb.encode_text(batch.direction.astype(str)),
           pb.encode_scalar(batch.scheme_index.astype(np.int16), "smallint")]
    pos_invalid = batch.position_invalid if batch.position_invalid is not None else ~(
        np.isfinite(batch.latitude) & np.isfinite(batch.longitude))
    t_missing = batch.timestamp_missing if batch.timestamp_missing is not None else np.isnat(juld)
    dm, dm_null = _chars(batch.data_mode)
    cmn = batch.config_mission_number.astype(np.int32)
    header_values = {
        "dataset_id": pb.encode_scalar(np.full(n, dataset_id, np.int64), "bigint"),
        "juld": pb.encode_scalar(juld, "timestamptz"),
        "juld_qc": pb.encode_scalar(batch.juld_qc.astype(np.int16), "smallint", null=batch.juld_qc < 0),
        "juld_location": pb.encode_scalar(juld_loc, "timestamptz"),
        "latitude": pb.encode_scalar(batch.latitude.astype(np.float64), "double"),
        "longitude": pb.encode_scalar(batch.longitude.astype(np.float64), "double"),
        "position_qc": pb.encode_scalar(batch.position_qc.astype(np.int16), "smallint",
                                        null=batch.position_qc < 0),
        "positioning_system": pb.encode_text(batch.positioning_system),
        "position_invalid": pb.encode_scalar(np.asarray(pos_invalid, bool), "boolean"),
        "timestamp_missing": pb.encode_scalar(np.asarray(t_missing, bool), "boolean"),
        "data_mode": pb.encode_text(dm, null=dm_null),
        "vertical_sampling_scheme": pb.encode_text(batch.vertical_sampling_scheme),
        "config_mission_number": pb.encode_scalar(cmn, "integer", null=cmn < 0),
        "data_centre": pb.encode_text(batch.data_centre),
        "dc_reference": pb.encode_text(batch.dc_reference),
        "project_name": pb.encode_text(batch.project_name),
        "pi_name": pb.encode_text(batch.pi_name),
        "platform_type": pb.encode_text(batch.platform_type),
        "header_rank": pb.encode_scalar(np.full(n, header_rank, np.int16), "smallint"),
        "header_source": pb.encode_text(source),
    }
    for name in HEADER:
        cols_def.append((name, _HEADER_TYPES.get(name, "text")))
        enc.append(header_values[name])
    for axis, coldefs in (("core", CORE_COLUMNS), ("bgc", BGC_COLUMNS)):
        if axis in batch.groups:
            cols_def += coldefs
            enc += _encode_group(batch.groups[axis], source, n)
    return cols_def, pb.assemble(enc)


# ----------------------------------------------------------------------------- SQL
def _upsert_sql(cols_def: list[tuple[str, str]]) -> str:
    names = [c for c, _ in cols_def]
    set_parts = []

    def wins(prefix: str) -> str:
        return (f"(EXCLUDED.{prefix}_rank, EXCLUDED.{prefix}_source) >= "
                f"(profiles.{prefix}_rank, profiles.{prefix}_source)")

    for c in HEADER:
        set_parts.append(f"{c} = CASE WHEN {wins('header')} THEN EXCLUDED.{c} ELSE profiles.{c} END")
    for axis, coldefs in (("core", CORE_COLUMNS), ("bgc", BGC_COLUMNS)):
        if coldefs[0][0] in names:
            for c, _ in coldefs:
                set_parts.append(f"{c} = CASE WHEN {wins(axis)} THEN EXCLUDED.{c} ELSE profiles.{c} END")
    collist = ", ".join(names)
    # ORDER BY the key: concurrent writers lock rows in one order, so they never deadlock
    return (f"INSERT INTO profiles ({collist}) SELECT {collist} FROM _stage "
            f"ORDER BY platform_number, cycle_number, direction, scheme_index "
            f"ON CONFLICT ON CONSTRAINT profiles_key DO UPDATE SET " + ", ".join(set_parts))


_POSITIONS_SQL = """
INSERT INTO float_positions (platform_number, cycle_number, direction, profile_id, juld, latitude, longitude,
                             position, position_qc, position_invalid)
SELECT p.platform_number, p.cycle_number, p.direction, p.id, p.juld, p.latitude, p.longitude,
       p.position, p.position_qc, p.position_invalid
FROM profiles p
JOIN (SELECT DISTINCT platform_number, cycle_number, direction FROM _stage) s
  USING (platform_number, cycle_number, direction)
WHERE p.scheme_index = 0
ORDER BY p.platform_number, p.cycle_number, p.direction
ON CONFLICT (platform_number, cycle_number, direction) DO UPDATE SET
  profile_id = EXCLUDED.profile_id, juld = EXCLUDED.juld, latitude = EXCLUDED.latitude,
  longitude = EXCLUDED.longitude, position = EXCLUDED.position, position_qc = EXCLUDED.position_qc,
  position_invalid = EXCLUDED.position_invalid
"""

# Profile files only fill what no meta file has filled; meta files overwrite (see write_meta),
# so the outcome does not depend on which arrives first.
_FLOATS_SQL = """
INSERT INTO floats (platform_number, dac, project_name, pi_name, platform_type, positioning_system, is_bgc)
SELECT DISTINCT ON (platform_number) platform_number, %(dac)s, nullif(project_name, ''), nullif(pi_name, ''),
       nullif(platform_type, ''), nullif(positioning_system, ''), %(is_bgc)s
FROM _stage ORDER BY platform_number
ON CONFLICT (platform_number) DO UPDATE SET
  dac = coalesce(floats.dac, EXCLUDED.dac),
  project_name = coalesce(floats.project_name, EXCLUDED.project_name),
  pi_name = coalesce(floats.pi_name, EXCLUDED.pi_name),
  platform_type = coalesce(floats.platform_type, EXCLUDED.platform_type),
  positioning_system = coalesce(floats.positioning_system, EXCLUDED.positioning_system),
  is_bgc = floats.is_bgc OR EXCLUDED.is_bgc
"""


def _key_arrays(batch: ProfileBatch) -> list:
    return [batch.platform_number.astype(str).tolist(), batch.cycle_number.astype(int).tolist(),
            batch.direction.astype(str).tolist(), batch.scheme_index.astype(int).tolist()]


def _key_sorted(batch: ProfileBatch) -> ProfileBatch:
    """The batch in profile-key order (concurrent writers then take row locks in one order)."""
    order = np.lexsort((batch.scheme_index, batch.direction.astype(str), batch.cycle_number,
                        batch.platform_number.astype(str)))
    return batch if np.array_equal(order, np.arange(len(batch))) else _take(batch, order)


_KEYS_FROM = ("unnest(%s::text[], %s::integer[], %s::char(1)[], %s::smallint[]) "
              "AS k(platform_number, cycle_number, direction, scheme_index)")


def _direct_copy(conn, cur, batch: ProfileBatch, cols_def, payload: bytes) -> bool:
    """New profiles (no key of the batch in the table yet — a first ingestion) are COPY'd straight
    into ``profiles``: no staging table to write and read back. ``_stage`` then holds only the
    keys and header fields the position and float upserts read. Returns False (nothing done)
    when a key exists, or when a concurrent writer inserts one of the keys first (its unique
    conflict or deadlock rolls back to a savepoint): the caller takes the staged upsert path,
    whose precedence rules merge the rows."""
    import psycopg2.errors

    keys = _key_arrays(batch)
    cur.execute(f"SELECT EXISTS (SELECT 1 FROM profiles p JOIN {_KEYS_FROM} "
                "USING (platform_number, cycle_number, direction, scheme_index))", keys)
    if cur.fetchone()[0]:
        return False
    cur.execute("SAVEPOINT direct_copy")
    try:
        cur.copy_expert(f"COPY profiles ({', '.join(c for c, _ in cols_def)}) FROM STDIN (FORMAT binary)",
                        io.BytesIO(payload))
    except (psycopg2.errors.UniqueViolation, psycopg2.errors.DeadlockDetected):
        cur.execute("ROLLBACK TO SAVEPOINT direct_copy")
        return False
    cur.execute("RELEASE SAVEPOINT direct_copy")
    cur.execute("CREATE TEMP TABLE _stage ON COMMIT DROP AS SELECT k.platform_number, k.cycle_number, k.direction, "
                "k.scheme_index, p.project_name, p.pi_name, p.platform_type, p.positioning_system "
                f"FROM {_KEYS_FROM} JOIN profiles p USING (platform_number, cycle_number, direction, scheme_index)",
                keys)
    return True


def write_batch(conn, batch: ProfileBatch, dataset_id: int, *, sha256: str | None = None,
                job_id: str | None = None) -> WriteResult:
    """Write one file's batch inside the caller's open transaction on ``conn`` (psycopg2).

    The caller commits, or rolls back on any error: nothing partial is ever visible.
    """
    batch, dropped = _dedupe(batch)
    n = len(batch)
    if n == 0:
        return WriteResult(0, 0, dropped)
    batch = _key_sorted(batch)
    cols_def, payload = encode_batch(batch, dataset_id)
    cur = conn.cursor()
    if not _direct_copy(conn, cur, batch, cols_def, payload):
        cur.execute("CREATE TEMP TABLE _stage (" + ", ".join(f"{c} {t}" for c, t in cols_def) + ") ON COMMIT DROP")
        cur.copy_expert("COPY _stage FROM STDIN (FORMAT binary)", io.BytesIO(payload))
        cur.execute(_upsert_sql(cols_def))
    cur.execute(_POSITIONS_SQL)
    centre = str(batch.data_centre[0]).strip() if len(batch.data_centre) else ""
    cur.execute(_FLOATS_SQL, {"dac": DATA_CENTRES.get(centre), "is_bgc": "bgc" in batch.groups and any(
        np.isfinite(lv.values).any() for lv in batch.groups["bgc"].parameters.values())})
    if sha256:
        record_version(conn, dataset_id, batch.source_file, sha256, n, batch.n_levels_total, job_id)
    cur.execute("DROP TABLE _stage")
    return WriteResult(n, batch.n_levels_total, dropped)


#: Deep Argo platforms (reference table 23 names): profile below 2000 dbar.
DEEP_PLATFORM_TYPES = ("SOLO_D", "SOLO_D_MRV", "ARVOR_D", "APEX_D", "NAVIS_EBR_D", "DEEP_NINJA")

_META_COLUMNS = ("dac", "wmo_inst_type", "platform_type", "platform_maker", "float_serial_no", "firmware_version",
                 "project_name", "pi_name", "operating_institution", "positioning_system", "launch_date",
                 "launch_latitude", "launch_longitude", "launch_qc", "start_date", "deployment_platform",
                 "sensors", "parameters")


def write_meta(conn, meta: dict[str, Any], source_file: str) -> None:
    """Upsert a float from its ``_meta.nc`` (the authority on float metadata)."""
    from ..argo.variables import BY_NAME

    row = {c: meta.get(c) for c in _META_COLUMNS}
    if not row["dac"] and meta.get("data_centre"):
        row["dac"] = DATA_CENTRES.get(str(meta["data_centre"]).strip())
    for c in ("launch_date", "start_date"):
        v = row[c]
        row[c] = None if v is None or (isinstance(v, np.datetime64) and np.isnat(v)) else str(
            np.datetime_as_string(np.datetime64(v, "us"))) + "+00:00"
    for c in ("launch_latitude", "launch_longitude"):
        v = row[c]
        row[c] = None if v is None or not np.isfinite(float(v)) else float(v)
    row["launch_qc"] = None if row["launch_qc"] in (None, -1) else int(row["launch_qc"])
    row["sensors"] = list(row["sensors"] or [])
    row["parameters"] = list(row["parameters"] or [])
    params = set(row["parameters"])
    is_bgc = any(p in BY_NAME and BY_NAME[p].is_bgc for p in params) or any(
        p.split("_")[0] in ("DOXY", "CHLA", "NITRATE", "BBP700", "PH") for p in params)
    ptype = (row["platform_type"] or "").upper()
    is_deep = "DEEP" in ptype or ptype in DEEP_PLATFORM_TYPES
    row.update(platform_number=str(meta["platform_number"]).strip(), is_bgc=is_bgc, is_deep=is_deep,
               meta_source=source_file)
    cols = ["platform_number", *_META_COLUMNS, "is_bgc", "is_deep", "meta_source"]
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in _META_COLUMNS if c not in ("launch_latitude",))
    sql = (f"INSERT INTO floats ({', '.join(cols)}, launch_position) VALUES ("
           + ", ".join(f"%({c})s" for c in cols)
           + ", CASE WHEN %(launch_latitude)s IS NOT NULL AND %(launch_longitude)s IS NOT NULL THEN "
             "ST_SetSRID(ST_MakePoint(%(launch_longitude)s, %(launch_latitude)s), 4326)::geography END) "
           f"ON CONFLICT (platform_number) DO UPDATE SET {sets}, launch_latitude = EXCLUDED.launch_latitude, "
           "launch_position = EXCLUDED.launch_position, is_bgc = floats.is_bgc OR EXCLUDED.is_bgc, "
           "is_deep = EXCLUDED.is_deep, meta_source = EXCLUDED.meta_source")
    conn.cursor().execute(sql, row)


def record_version(conn, dataset_id: int, source_file: str, sha256: str, n_profiles: int = 0,
                   n_levels: int = 0, job_id: str | None = None) -> None:
    """Remember that ``source_file`` (by content) belongs to ``dataset_id``: what ``reingest`` replays."""
    conn.cursor().execute(
        "INSERT INTO dataset_versions (dataset_id, source_file, sha256, n_profiles, n_levels, first_job_id)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (dataset_id, source_file, sha256, n_profiles, n_levels, job_id))


def bump_cache_generation(conn) -> None:
    """Invalidate every cached query result (the cache compares generations, never scans keys)."""
    conn.cursor().execute("UPDATE app_state SET value = value + 1 WHERE key = 'cache_generation'")
