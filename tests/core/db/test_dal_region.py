"""Region lists on a synthetic archive-shaped population: the walk-or-gather decision's estimates
from one ``EXPLAIN``, one connection and few round trips per call, and the same rows whichever
strategy runs (regions across the antimeridian included)."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import event, text

from floatchat_core.config import get_settings, override
from floatchat_core.db import dal, dalcore as core, get_engine
from floatchat_core.db.maintenance import truncate_data
from floatchat_core.db.synthdb import populate

PLACES = [dict(region="South Pacific Ocean", time_start="2010-01-01", time_end="2016-01-01"),
          dict(region="Equatorial Pacific"), dict(region="North Atlantic Ocean", time_start="2015-01-01"),
          dict(region="Arabian Sea"), dict(box=(170, -30, -150, 10), time_start="2005-01-01")]


@pytest.fixture(scope="module")
def synth(database):
    from floatchat_core.db import regions

    regions.seed_if_needed()
    truncate_data()
    populate(4000, n_floats=80, seed=5, dataset="region-test")
    with get_engine().begin() as c:
        c.execute(text("ANALYZE profiles"))
    yield
    truncate_data()


def _separately(c, params: dict, where: list[str]) -> float:
    sql = "EXPLAIN (FORMAT JSON) SELECT 1 FROM profiles p " + ("WHERE " + " AND ".join(where) if where else "")
    return max(float(c.execute(text(sql), params).scalar()[0]["Plan"]["Plan Rows"]), 1.0)


@pytest.mark.parametrize("filters", PLACES)
def test_both_estimates_from_one_explain_equal_separate_ones(synth, filters):
    s = get_settings()
    f = core.make_filters({**filters, "limit": 100})
    with get_engine(readonly=True).connect() as c:
        conds, params = core.where_clause(f, s, conn=c)
        test = core.REGION_TEST.format(a="p")
        box = [x for x in conds if x != test]
        period = core.where_clause(replace(f, box=None, region=None, region_info=None), s)[0]
        expected = [_separately(c, params, box), _separately(c, params, period)]
        assert core._estimates(c, params, box, period) == expected
        # ... and it left no parallel plan for the rest of the transaction
        assert c.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"


def _gather_and_walk(limit: int, **filters) -> tuple[list[int], list[int]]:
    s = get_settings()
    f = core.make_filters(filters)
    conds, params = core.where_clause(f, s)
    params["limit"] = limit
    gather = f"SELECT p.id FROM profiles p WHERE {' AND '.join(conds)} ORDER BY p.juld DESC NULLS LAST, p.id LIMIT :limit"
    walk = core.walk_sql("p.id", core.where_clause(f, s, walk=True)[0])
    with get_engine(readonly=True).begin() as c:
        a = c.execute(text(gather), params).scalars().all()
        c.execute(text("SET LOCAL enable_seqscan = off; " + core.settings_sql(True)))
        b = c.execute(text(walk), params).scalars().all()
    return a, b


@pytest.mark.parametrize("filters", PLACES)
def test_walk_and_gather_agree(synth, filters):
    for limit in (5, 1000):
        gathered, walked = _gather_and_walk(limit, **filters)
        assert gathered and walked == gathered, (filters, limit)
    # the region's box holds every profile its polygon does (boxes are rounded outwards)
    if "region" in filters:
        f = core.make_filters(filters)
        conds, params = core.where_clause(f, get_settings())
        polygon_only = [x for x in conds if "rb" not in x]
        with get_engine(readonly=True).connect() as c:
            n_box = c.execute(text(f"SELECT count(*) FROM profiles p WHERE {' AND '.join(conds)}"), params).scalar()
            n_poly = c.execute(text(f"SELECT count(*) FROM profiles p WHERE {' AND '.join(polygon_only)}"),
                               params).scalar()
        assert n_box == n_poly > 0


def test_a_region_list_takes_one_connection_and_two_statements(synth):
    eng = get_engine(readonly=True)
    statements, checkouts = [], []
    on_sql = lambda *a: statements.append(a[2])                # noqa: E731
    on_checkout = lambda *a: checkouts.append(1)               # noqa: E731
    with override(cache_ttl_s=0):
        dal.find_profiles(**PLACES[0], limit=10)               # names and the region's row now known
        event.listen(eng, "before_cursor_execute", on_sql)
        event.listen(eng, "checkout", on_checkout)
        try:
            df = dal.find_profiles(**PLACES[0], limit=10)
        finally:
            event.remove(eng, "before_cursor_execute", on_sql)
            event.remove(eng, "checkout", on_checkout)
    # the regions' state, then both estimates (with the SET LOCAL); the rows come by COPY
    assert len(checkouts) == 1 and len(statements) == 2, statements
    assert "app_state" in statements[0] and "UNION ALL" in statements[1]
    assert len(df) == 10 and df.juld.is_monotonic_decreasing
    assert df.attrs["region"]["name"] == "South Pacific Ocean"
    q = dal.last_query()
    assert q["settings"]["max_parallel_workers_per_gather"] == "0"
