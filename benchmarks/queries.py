#!/usr/bin/env python
"""Query benchmark: p50/p95 latency of each DAL call at archive scale, cache off.

    python benchmarks/queries.py                          # 100,000 and 1,000,000 profiles
    python benchmarks/queries.py --profiles 100000        # one size
    python benchmarks/queries.py --smoke                  # 10,000 profiles, few repeats (CI, < 90 s)

It builds its own throw-away managed PostgreSQL (a temporary FLOATCHAT_HOME), fills it with
``floatchat_core.db.synthdb.populate`` (sizes in ascending order, each adding to the last), and
times every DAL call with the query cache switched off (``cache_ttl_s=0``) after one warm-up
call; each repetition asks about a different random place / time / float. Targets (at 1 M
profiles): radius, box+time, region and nearest-floats p95 < 50 ms for results up to 1,000
profiles; latest positions of all floats < 200 ms; levels of 100 profiles < 50 ms; a depth
slice over 10,000 profiles < 1 s. A missed target prints the query's ``EXPLAIN (ANALYZE,
BUFFERS)``. Also printed: database size per million profiles, and the load average before and
after (the machine may be shared).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

REGIONS = ("Arabian Sea", "Bay of Bengal", "Mediterranean Sea", "Gulf of Mexico", "Labrador Sea", "Coral Sea",
           "Tasman Sea", "North Atlantic Ocean", "Southern Ocean", "Equatorial Pacific", "Caribbean Sea",
           "South Pacific Ocean")

#: name → (target ms, which percentile must meet it)
TARGETS = {"radius 200 km": (50, "p95"), "box 5° + 2 years": (50, "p95"), "region + 1 year": (50, "p95"),
           "nearest 10 floats": (50, "p95"), "latest positions (all floats)": (200, "p95"),
           "levels of 100 profiles": (50, "p95"), "depth slice 10,000 profiles": (1000, "p95")}


def _machine() -> dict:
    import platform

    import psutil

    return {"cpus": os.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def _cases(rng: np.random.Generator, sample: dict) -> dict:
    """name → a function(i) running one DAL call on the i-th random choice."""
    from floatchat_core.db import dal

    lon, lat, t = sample["lon"], sample["lat"], sample["t"]
    pids, pns = sample["profile_ids"], sample["platform_numbers"]
    k = len(lon)

    def pick(i):
        j = int(rng.integers(k))
        return float(lon[j]), float(lat[j]), t[j]

    def year_window(tc, years):
        import pandas as pd

        end = pd.Timestamp(tc).tz_convert("UTC") + pd.Timedelta(days=365.25 * years / 2)
        return end - pd.Timedelta(days=365.25 * years), end

    def radius(i):
        x, y, _ = pick(i)
        return dal.find_profiles(point=(x, y), radius_m=200_000, limit=1000)

    def box(i):
        x, y, tc = pick(i)
        t0, t1 = year_window(tc, 2)
        return dal.find_profiles(box=(x - 2.5, max(-90, y - 2.5), x + 2.5, min(90, y + 2.5)), time_start=t0,
                                 time_end=t1, limit=1000)

    def region(i):
        _, _, tc = pick(i)
        t0, t1 = year_window(tc, 1)
        return dal.find_profiles(region=REGIONS[i % len(REGIONS)], time_start=t0, time_end=t1, limit=1000)

    def region_count(i):
        _, _, tc = pick(i)
        t0, t1 = year_window(tc, 1)
        return dal.count_profiles(region=REGIONS[i % len(REGIONS)], time_start=t0, time_end=t1)

    def nearest(i):
        x, y, _ = pick(i)
        return dal.nearest_floats(x, y, k=10)

    def levels(i):
        return dal.profile_levels(rng.choice(pids, 100, replace=False).tolist())

    def depth(i):
        _, _, tc = pick(i)
        t0, t1 = year_window(tc, 6)
        return dal.depth_slice("TEMP", 500, time_start=t0, time_end=t1, limit=10_000)

    def layer(i):
        _, _, tc = pick(i)
        t0, t1 = year_window(tc, 5)
        return dal.region_profile_values("TEMP", 0, 100, region=REGIONS[i % len(REGIONS)], time_start=t0,
                                         time_end=t1)

    def trajectory(i):
        return dal.float_trajectory(str(pns[int(rng.integers(len(pns)))]))

    def info(i):
        return dal.float_info(str(pns[int(rng.integers(len(pns)))]))

    return {"radius 200 km": radius, "box 5° + 2 years": box, "region + 1 year": region,
            "count in region + 1 year": region_count, "nearest 10 floats": nearest,
            "latest positions (all floats)": lambda i: dal.latest_positions(),
            "levels of 100 profiles": levels, "depth slice 10,000 profiles": depth,
            "layer mean 0–100 dbar, region + 5 years": layer, "float trajectory": trajectory,
            "float info": info, "dataset stats": lambda i: dal.dataset_stats(),
            "last data time": lambda i: dal.last_data_time(),
            "all profile positions (map)": lambda i: dal.profile_positions()}


def _sample(n: int = 2000) -> dict:
    from sqlalchemy import text

    from floatchat_core.db import get_engine

    with get_engine(readonly=True).connect() as c:
        rows = c.execute(text("SELECT id, platform_number, longitude, latitude, juld FROM profiles "
                              "TABLESAMPLE SYSTEM (5) WHERE position IS NOT NULL LIMIT :n"), {"n": n}).all()
        if len(rows) < 100:
            rows = c.execute(text("SELECT id, platform_number, longitude, latitude, juld FROM profiles "
                                  "WHERE position IS NOT NULL ORDER BY random() LIMIT :n"), {"n": n}).all()
    return {"profile_ids": np.array([r[0] for r in rows]), "platform_numbers": np.array([r[1] for r in rows]),
            "lon": np.array([r[2] for r in rows]), "lat": np.array([r[3] for r in rows]),
            "t": [r[4] for r in rows]}


def _explain(q: dict) -> str:
    from sqlalchemy import text

    from floatchat_core.db import get_engine

    if not q or not q.get("sql", "").lstrip().upper().startswith("SELECT"):
        return "(no plan: not a single SELECT)"
    try:
        with get_engine(readonly=True).connect() as c:
            c.execute(text("SET statement_timeout = 120000"))
            sets = q.get("settings") or {}       # the SET LOCALs the call ran under (a time-index walk)
            for name, value in sets.items():
                c.execute(text(f"SET LOCAL {name} = {value}"))
            rows = c.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"]), q["params"]).scalars().all()
        head = [f"(under SET LOCAL {', '.join(f'{k} = {v}' for k, v in sets.items())})"] if sets else []
        return "\n".join(head + rows)
    except Exception as exc:                   # noqa: BLE001 — a plan is a diagnostic, never fatal
        return f"(EXPLAIN failed: {type(exc).__name__}: {str(exc).splitlines()[0]})"


def bench_size(n_profiles: int, repeat: int, seed: int, only: Sequence[str] = ()) -> dict:
    import importlib

    from floatchat_core.config import override
    from floatchat_core.db import dal, dalcore

    # a long run (1 M profiles populate for a long time) measures the DAL as it is when the step starts
    importlib.reload(dalcore)
    importlib.reload(dal)
    rng = np.random.default_rng(seed)
    sample = _sample()
    out = {}
    with override(cache_ttl_s=0):
        for name, fn in _cases(rng, sample).items():
            if only and not any(o.lower() in name.lower() for o in only):
                continue
            reps = 3 if name == "all profile positions (map)" else repeat
            times, rows, plans = [], [], []
            try:
                fn(0)                              # warm-up (connections, plans, page cache)
            except Exception as exc:               # noqa: BLE001 — a failed query is a result, not a crash
                out[name] = {"p50_ms": float("nan"), "p95_ms": float("nan"), "rows_median": 0, "rows_max": 0,
                             "n": 0, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
                             **({"target_ms": TARGETS[name][0], "met": False} if name in TARGETS else {})}
                print(f"  {name}: FAILED {out[name]['error']}", flush=True)
                continue
            for i in range(1, reps + 1):
                t0 = time.perf_counter()
                try:
                    res = fn(i)
                except Exception as exc:           # noqa: BLE001
                    times.append(float("inf"))
                    rows.append(0)
                    plans.append((times[-1], None))
                    print(f"  {name}: call {i} failed: {type(exc).__name__}", flush=True)
                    continue
                times.append((time.perf_counter() - t0) * 1000)
                rows.append(len(res) if hasattr(res, "__len__") and not isinstance(res, dict) else 1)
                plans.append((times[-1], dal.last_query()))
            p50, p95 = float(np.percentile(times, 50)), float(np.percentile(times, 95))
            r = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1), "rows_median": int(np.median(rows)),
                 "rows_max": int(max(rows)), "n": reps}
            if name in TARGETS:
                target, which = TARGETS[name]
                r["target_ms"] = target
                r["met"] = bool(r[f"{which}_ms"] < target)
                if not r["met"]:
                    slowest = max((p for p in plans if p[1]), key=lambda x: x[0], default=(0, None))[1]
                    r["explain"] = _explain(slowest)
                    r["explain_sql"] = slowest.get("sql") if slowest else None
            if any(np.isinf(times)):
                r["failed_calls"] = int(np.isinf(times).sum())
            out[name] = r
    return out


def db_size() -> dict:
    from sqlalchemy import text

    from floatchat_core.db import get_engine

    with get_engine().connect() as c:
        return {"database_bytes": int(c.execute(text("SELECT pg_database_size(current_database())")).scalar()),
                "profiles_bytes": int(c.execute(text("SELECT pg_total_relation_size('profiles')")).scalar()),
                "n_profiles": int(c.execute(text("SELECT count(*) FROM profiles")).scalar()),
                "n_floats": int(c.execute(text("SELECT count(DISTINCT platform_number) FROM float_positions")).scalar())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profiles", default="100000,1000000", help="comma-separated sizes (default 100000,1000000)")
    ap.add_argument("--repeat", type=int, default=40, help="timed calls per query (default 40)")
    ap.add_argument("--smoke", action="store_true", help="10,000 profiles, 5 repeats: a CI check that it runs")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--home", type=Path,
                    help="keep the benchmark database in this FLOATCHAT_HOME and reuse it: a size already "
                         "filled there is not filled again (filling 1 M profiles takes ~40 min)")
    ap.add_argument("--fill-only", action="store_true", help="fill the database to the sizes, time nothing")
    ap.add_argument("--only", default="", help="comma-separated parts of query names: time only those "
                    "(e.g. 'levels,region +')")
    args = ap.parse_args(argv)
    sizes = sorted({int(x) for x in str(args.profiles).split(",") if x.strip()})
    if args.smoke:
        sizes, args.repeat = [10_000], 5

    sys.path.insert(0, str(REPO))
    from _benchdb import bench_database, calibrate, profile_count

    from floatchat_core.db.synthdb import populate

    only = [x.strip() for x in args.only.split(",") if x.strip()]
    results: dict = {"machine": _machine(), "load_before": os.getloadavg(), "calibration_s": calibrate(),
                     "sizes": {}}
    print(f"calibration: 10 M Python additions in {results['calibration_s']} s", flush=True)
    t_all = time.perf_counter()
    with bench_database(args.home, "floatchat-qbench-") as home:
        done, floats_done = profile_count(), 0
        if done:
            floats_done = db_size()["n_floats"]
            print(f"reusing {home}: {done:,} profiles, {floats_done:,} floats already there", flush=True)
        for i, size in enumerate(sizes):
            want_floats = max(1, min(17_000, size // 50))
            if size > done:
                info = populate(size - done, n_floats=max(1, min(size - done, want_floats - floats_done)),
                                seed=1 + i, dataset=f"bench-{size}")
                done, floats_done = size, floats_done + info["n_floats"]
            elif size < done:
                print(f"skipping {size:,}: the kept database already holds {done:,} profiles", flush=True)
                continue
            else:
                info = {"n_floats": floats_done, "n_levels": 0, "seconds": 0.0, "profiles_per_min": 0,
                        "reused": True}
            if args.fill_only:
                print(f"filled to {size:,} profiles ({info['seconds']} s)", flush=True)
                continue
            res = {"populate": info, "size": db_size(), "load_before": os.getloadavg()}
            res["calibration_s"] = calibrate()
            res["queries"] = bench_size(size, args.repeat, seed=i, only=only)
            res["load_after"] = os.getloadavg()
            res["calibration_after_s"] = calibrate()
            results["sizes"][size] = res
            _print_size(size, res)
    results["load_after"] = os.getloadavg()
    results["seconds"] = round(time.perf_counter() - t_all, 1)
    print(f"\nload average before {results['load_before']}, after {results['load_after']} "
          f"({results['machine']['cpus']} CPUs); total {results['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


def _print_size(size: int, res: dict) -> None:
    pop, sz = res["populate"], res["size"]
    per_m = sz["database_bytes"] / max(sz["n_profiles"], 1) * 1e6 / 2**30
    print(f"\n=== {size:,} profiles ({sz['n_floats']:,} floats, {pop['n_levels']:,} levels added in this step; "
          f"populate {pop['seconds']} s = {pop['profiles_per_min']:,} profiles/min)")
    print(f"database {sz['database_bytes'] / 2**30:.2f} GiB = {per_m:.2f} GiB per million profiles "
          f"(profiles table {sz['profiles_bytes'] / 2**30:.2f} GiB); load average {res['load_before']}")
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')}; calibration (10 M Python additions) {res['calibration_s']} s "
          f"before, {res['calibration_after_s']} s after; load average after {res['load_after']}")
    print(f"{'query':42s} {'p50 ms':>9s} {'p95 ms':>9s} {'rows (median/max)':>18s}  target")
    for name, r in res["queries"].items():
        tgt = "" if "target_ms" not in r else f"< {r['target_ms']} ms {'ok' if r['met'] else 'MISSED'}"
        if r.get("error") or r.get("failed_calls"):
            tgt += f"  FAILED: {r.get('error') or str(r['failed_calls']) + ' calls (statement timeout?)'}"
        print(f"{name:42s} {r['p50_ms']:9.1f} {r['p95_ms']:9.1f} {r['rows_median']:>9,}/{r['rows_max']:<8,}  {tgt}")
    for name, r in res["queries"].items():
        if r.get("explain"):
            print(f"\n--- EXPLAIN of the slowest '{name}' ({r['p95_ms']} ms p95):\n{r['explain_sql']}\n{r['explain']}")


if __name__ == "__main__":
    raise SystemExit(main())
