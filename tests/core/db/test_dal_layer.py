"""``region_profile_values`` (layer means, computed in numpy over windows the database cuts)
against the definition written in SQL — the per-level QC selection over an ``unnest`` of the
arrays, averaged by PostgreSQL — on a synthetic archive-shaped population, every QC mode, in
one statement or in pieces over two connections, and across pages of the row cap."""
from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from floatchat_core.argo.variables import BY_NAME
from floatchat_core.config import get_settings, override
from floatchat_core.db import dal, dallayer, dalcore as core, get_engine
from floatchat_core.db.maintenance import truncate_data
from floatchat_core.db.synthdb import populate


@pytest.fixture(scope="module")
def synth(database):
    from floatchat_core.db import regions

    regions.seed_if_needed()
    truncate_data()
    populate(3000, n_floats=60, bgc_fraction=0.3, seed=4, dataset="layer-test")
    yield
    truncate_data()


def _select(cols: tuple[str, str, str, str], dm: str, mode: str) -> tuple[str, str]:
    """SQL (value, passes) of the QC modes for one level: the definition ``select_values`` follows."""
    raw, rq, adj, aq = cols
    if mode == "research":
        return adj, f"({dm} = 'D' AND {aq} = 1 AND {adj} IS NOT NULL AND {adj} <> 'NaN')"
    avail = f"({dm} IN ('A', 'D') AND ({adj} IS NOT NULL OR {aq} IS NOT NULL))"
    value = f"(CASE WHEN {avail} THEN {adj} ELSE {raw} END)"
    if mode == "expert":
        return value, f"({value} IS NOT NULL AND {value} <> 'NaN')"
    qc = f"(CASE WHEN {avail} THEN {aq} ELSE {rq} END)"
    return value, f"({qc} IN (1, 2) AND {value} IS NOT NULL AND {value} <> 'NaN')"


def _reference(parameter: str, lo: float, hi: float, mode: str, **filters) -> pd.DataFrame:
    """The layer means by SQL alone, over every level of each profile (no window)."""
    p = BY_NAME[parameter]
    axis = "pres" if p.axis == "core" else "bgc_pres"
    col = p.column
    pdm = f"coalesce(nullif(p.{axis}_data_mode, ''), nullif(p.data_mode, ''), 'R')"
    vdm = f"coalesce(nullif(p.{col}_data_mode, ''), nullif(p.data_mode, ''), 'R')"
    pval, pok = _select(("u.pr", "u.prq", "u.pra", "u.praq"), pdm, mode)
    vval, vok = _select(("u.v", "u.vq", "u.va", "u.vaq"), vdm, mode)
    f = core.make_filters({**filters, "pres_min": lo, "pres_max": hi})
    conds, params = core.where_clause(f, get_settings())
    conds += ["p.parameters @> CAST(:slice_param AS text[])", "s.n > 0"]
    sql = f"""
SELECT p.id AS profile_id, p.platform_number, p.juld, p.latitude, p.longitude, s.value, s.n AS n_levels
FROM profiles p CROSS JOIN LATERAL (
    SELECT avg(x.v) AS value, count(*)::int AS n FROM (
        SELECT {pval}::float8 AS pr, {vval}::float8 AS v
        FROM unnest(p.{axis}, p.{axis}_qc, p.{axis}_adjusted, p.{axis}_adjusted_qc,
                    p.{col}, p.{col}_qc, p.{col}_adjusted, p.{col}_adjusted_qc) AS u(pr, prq, pra, praq, v, vq, va, vaq)
        WHERE {pok} AND {vok}) x
    WHERE x.pr BETWEEN :lo AND :hi) s
WHERE {' AND '.join(conds)}
ORDER BY p.juld ASC NULLS LAST, p.id LIMIT :limit"""
    with get_engine(readonly=True).connect() as c:
        rows = c.execute(text(sql), {**params, "slice_param": [p.name], "lo": lo, "hi": hi,
                                     "limit": core.limit_of(f, get_settings())}).all()
    df = pd.DataFrame([tuple(r) for r in rows], columns=dallayer.COLUMNS)
    return core.utc(df, "juld")


CASES = [("TEMP", 0, 100, dict(time_start="2010-01-01")), ("PSAL", 500, 1500, dict(region="Atlantic Ocean")),
         ("DOXY", 0, 300, {}), ("TEMP", 5, 15, dict(box=(-180, -90, 180, 0))), ("TEMP", 0, 2000, dict(limit=40))]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("mode", ["research", "standard", "expert"])
def test_layer_means_equal_the_sql_definition(synth, case, mode, monkeypatch):
    parameter, lo, hi, filters = case
    expected = _reference(parameter, lo, hi, mode, **filters)
    assert mode != "standard" or parameter == "DOXY" or len(expected) > 10          # the tests compare something
    with override(cache_ttl_s=0):
        got = dal.region_profile_values(parameter, lo, hi, mode, **filters)
        # pieces over two connections, and pages of a small row cap
        monkeypatch.setattr(dallayer, "SPLIT", 10)
        monkeypatch.setattr(dallayer, "CHUNK", 50)
        pieces = dal.region_profile_values(parameter, lo, hi, mode, **filters)
    if expected.empty:
        assert got.empty and pieces.empty and list(got.columns) == dallayer.COLUMNS
        return
    # the float8 sum in level order: exactly PostgreSQL's avg
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_exact=True)
    pd.testing.assert_frame_equal(pieces, got, check_exact=True)
    assert got.attrs["parameter"] == parameter and got.attrs["mode"] == mode


def test_the_row_cap_pages_until_enough_profiles_have_the_layer(synth):
    expected = _reference("TEMP", 1500, 2000, "standard")          # a deep layer: many profiles lack it
    assert 30 < len(expected) < 3000
    with override(cache_ttl_s=0, row_cap=25):
        got = dal.region_profile_values("TEMP", 1500, 2000)
    pd.testing.assert_frame_equal(got, expected.iloc[:25], check_exact=True)
