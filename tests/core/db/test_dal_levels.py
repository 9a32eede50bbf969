"""``profile_levels``' wire format on a real database: arrays travel as pgvector ``vector_send``
values, NULL elements as a marked sentinel, and in the ``array_send`` format when a vector
cannot carry them — every path gives back exactly the stored values (checked against the
arrays unnested by PostgreSQL itself)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from floatchat_core.config import override
from floatchat_core.db import dal, get_engine
from floatchat_core.db.cache import clear_caches
from floatchat_core.db.maintenance import truncate_data

N = None
FLT_MAX = float(np.finfo(np.float32).max)

#: Profiles whose arrays take each path of the wire format (platform number → arrays).
CASES = {
    # no NULL element anywhere: plain vectors
    "9900101": dict(pres=[5, 10, 20], pres_qc=[1, 1, 1], temp=[20.5, 19.25, 18.0], temp_qc=[1, 2, 1],
                    temp_adjusted=[20.4, 19.2, 17.9], temp_adjusted_qc=[1, 1, 4]),
    # NULL elements: marked vectors (the sentinel comes back as NaN), NULL QC elements as -1
    "9900102": dict(pres=[5, 10, 20, 30], pres_qc=[1, N, 1, 1], temp=[N, 19.0, N, 17.0], temp_qc=[N, 1, 9, 1],
                    temp_adjusted=[20.0, N, N, 16.5], temp_adjusted_qc=[1, N, N, 2]),
    # the sentinel itself beside a NULL: this array travels as array_send, the value is kept
    "9900103": dict(pres=[5, 10, 20], pres_qc=[1, 1, 1], temp=[-FLT_MAX, N, 3.0], temp_qc=[4, N, 1],
                    psal=[FLT_MAX, 35.0, 34.9], psal_qc=[1, 1, 1]),
}
#: A NaN stored as an element (``db.writer`` stores NULL instead; a hand-written row might not):
#: no vector holds it, so the whole statement runs again in the array_send format.
NAN_CASE = {"9900104": dict(pres=[5, 10], pres_qc=[1, 1], temp=["NaN", 12.0], temp_qc=[1, 1])}


def _insert(conn, pn: str, arrays: dict) -> int:
    cols = {"platform_number": pn, "cycle_number": 1, "direction": "A", "juld": "2022-06-01T00:00:00Z",
            "latitude": 10.0, "longitude": 60.0, "position_qc": 1, "data_mode": "D", "core_rank": 1,
            **{f"{p}_data_mode": "D" for p in ("pres", "temp", "psal") if p in arrays}, **arrays}
    vals = ", ".join(f"CAST(:{k} AS {'smallint[]' if k.endswith('_qc') else 'real[]'})" if isinstance(v, list)
                     else f":{k}" for k, v in cols.items())
    return conn.execute(text(f"INSERT INTO profiles ({', '.join(cols)}) VALUES ({vals}) RETURNING id"),
                        cols).scalar()


@pytest.fixture(scope="module")
def ids(database):
    truncate_data()
    with get_engine().begin() as c:
        out = {pn: _insert(c, pn, a) for pn, a in {**CASES, **NAN_CASE}.items()}
        c.execute(text("UPDATE app_state SET value = value + 1 WHERE key = 'cache_generation'"))
    clear_caches()
    yield out
    truncate_data()


def _stored(pid: int, col: str) -> list:
    """The stored array as PostgreSQL unnests it (NULL → None), independent of the wire format."""
    with get_engine(readonly=True).connect() as c:
        return c.execute(text(f"SELECT u.v::float8 FROM profiles p, unnest(p.{col}) WITH ORDINALITY AS u(v, o) "
                              "WHERE p.id = :id ORDER BY u.o"), {"id": pid}).scalars().all()


def _expect(values: list, fill: float) -> np.ndarray:
    return np.array([fill if v is None else v for v in values], dtype=np.float64)


@pytest.mark.parametrize("pn", sorted(CASES))
def test_every_path_returns_the_stored_values(ids, pn):
    pid = ids[pn]
    with override(cache_ttl_s=0):
        lv = dal.profile_levels([pid], mode="expert")
    q = dal.last_query()
    assert "vector_send" in q["sql"]                  # the fast format was the one that ran
    for prefix in ("pres", "temp", "psal"):
        if prefix not in CASES[pn]:
            continue
        for col, fill in ((f"{prefix}_raw", np.nan), (f"{prefix}_raw_qc", -1)):
            stored = _stored(pid, prefix + ("_qc" if col.endswith("_qc") else ""))
            got = lv[col].to_numpy(np.float64)
            # float32 exactly: the stored real, not a rounding of it
            np.testing.assert_array_equal(got, _expect(stored, fill))
        if f"{prefix}_adjusted" in CASES[pn]:
            np.testing.assert_array_equal(lv[f"{prefix}_adjusted"].to_numpy(np.float64),
                                          _expect(_stored(pid, f"{prefix}_adjusted"), np.nan))
            np.testing.assert_array_equal(lv[f"{prefix}_adjusted_qc"].to_numpy(np.float64),
                                          _expect(_stored(pid, f"{prefix}_adjusted_qc"), -1))
    assert lv.level.tolist() == list(range(len(CASES[pn]["pres"])))


def test_sentinel_and_extremes_survive(ids):
    lv = dal.profile_levels([ids["9900103"]], mode="expert")
    assert lv.temp_raw.iloc[0] == np.float32(-FLT_MAX) and np.isnan(lv.temp_raw.iloc[1])
    assert lv.psal_raw.iloc[0] == np.float32(FLT_MAX)
    assert lv.temp_raw_qc.tolist() == [4, -1, 1]
    # the marked vector: its NULLs are NaN, its values untouched
    lv2 = dal.profile_levels([ids["9900102"]], mode="expert")
    assert np.isnan(lv2.temp_raw.to_numpy()[[0, 2]]).all() and lv2.temp_raw.to_numpy()[[1, 3]].tolist() == [19, 17]
    assert lv2.pres_raw_qc.tolist() == [1, -1, 1, 1]
    # standard mode over the same arrays: adjusted where available (levels 0, 3), else raw (level 1:
    # 19.0 QC 1, but its pressure's QC is blank, so NaN; level 2: raw NULL with QC 9)
    s = dal.profile_levels([ids["9900102"]], mode="standard")
    np.testing.assert_array_equal(s.temp.to_numpy(np.float64), [20.0, np.nan, np.nan, 16.5])
    assert s.temp_qc.tolist() == [1, 1, 9, 2] and list(s.temp_mode) == ["D", "R", "R", "D"]


def test_a_nan_element_falls_back_to_array_send(ids):
    pid = ids["9900104"]
    with override(cache_ttl_s=0):
        lv = dal.profile_levels([pid, ids["9900101"]], mode="expert")
    q = dal.last_query()
    assert "vector_send" not in q["sql"] and "array_send" in q["sql"]
    first = lv[lv.profile_id == pid]
    assert np.isnan(first.temp_raw.iloc[0]) and first.temp_raw.iloc[1] == 12.0
    other = lv[lv.profile_id == ids["9900101"]]
    np.testing.assert_array_equal(other.temp_raw.to_numpy(np.float64), np.float32([20.5, 19.25, 18.0]))
    # through the query cache too (its generation read first: the failed COPY is inside that transaction)
    clear_caches()
    with override(cache_ttl_s=60):
        cached = dal.profile_levels([pid, ids["9900101"]], mode="expert")
    assert "vector_send" not in dal.last_query()["sql"]
    pd.testing.assert_frame_equal(cached, lv)
    # the connection is usable after the failed statement: the next call takes the fast path again
    with override(cache_ttl_s=0):
        again = dal.profile_levels([ids["9900101"]], mode="expert")
    assert "vector_send" in dal.last_query()["sql"] and len(again) == 3
