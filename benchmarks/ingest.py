#!/usr/bin/env python
"""Ingestion benchmark: profiles per minute on this machine, against a bare-COPY ceiling.

    python benchmarks/ingest.py            # 24,000 synthetic profiles + the shared GDAC corpus
    python benchmarks/ingest.py --smoke    # 2,000 profiles: a quick check that it all runs (CI)

It uses its own throw-away managed PostgreSQL (a temporary FLOATCHAT_HOME), never your
database. Measured:

* ``read``     — reader + cleaning only (one process), profiles/s;
* ``ingest``   — the real path: stage → read → clean → binary COPY → upsert, on a Dask
  LocalCluster (``--workers``, default 2), profiles/min;
* ``ceiling``  — the same profiles' values and QC as CSV text (prepared beforehand, not
  timed), ``COPY``'d by one connection into an index-free table: what PostgreSQL alone
  needs to take the data in. The target is ingest ≤ 3 × ceiling;
* ``gdac``     — the real shared corpus (1,451 profiles in ~1,400 small files), if present,
  with its own ceiling (``gdac_ceiling``: every profile record of every file, as CSV).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _machine() -> dict:
    import psutil  # distributed depends on it

    return {"cpus": os.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def bench_read(paths) -> dict:
    from floatchat_core.argo import clean, open_profiles

    t0 = time.perf_counter()
    n = lv = 0
    for p in paths:
        b = clean(open_profiles(p))
        n += len(b)
        lv += b.n_levels_total
    dt = time.perf_counter() - t0
    return {"profiles": n, "levels": lv, "seconds": round(dt, 3), "profiles_per_s": round(n / dt)}


def bench_ceiling(paths) -> dict:
    """COPY of the same profiles' arrays (pressure + two parameters per axis, each with its QC,
    adjusted, adjusted-QC and error twins) as CSV into a bare table: the PostgreSQL floor."""
    import numpy as np

    from floatchat_core.argo import clean, open_profiles
    from floatchat_core.argo.decode import juld_to_datetime64
    from floatchat_core.db.engine import raw_connection

    cols = ["pres", "p1", "p2"]
    twins = ["", "_qc", "_adjusted", "_adjusted_qc", "_adjusted_error"]
    buf = io.StringIO()
    n = n_prof = 0

    def arr(a, off, i, is_qc):
        seg = a[off[i]:off[i + 1]]
        if is_qc:
            return "{" + ",".join("NULL" if v < 0 else str(int(v)) for v in seg) + "}"
        return "{" + ",".join("NULL" if not np.isfinite(v) else repr(float(v)) for v in seg) + "}"

    for p in paths:   # preparing the text is not timed: only the COPY is
        b = clean(open_profiles(p))
        n_prof += len(b)
        t = juld_to_datetime64(b.juld)
        for g in b.groups.values():     # one row per profile and axis, pressure + two parameters
            params = [g.pressure, *list(g.parameters.values())[:2]]
            params += [None] * (3 - len(params))
            for i in range(len(b)):
                fields = [b.platform_number[i], str(b.cycle_number[i]), str(t[i]) + "Z",
                          repr(float(b.latitude[i])), repr(float(b.longitude[i]))]
                for lv in params:
                    for tw in twins:
                        if lv is None:
                            fields.append("{}")
                            continue
                        a = {"": lv.values, "_qc": lv.qc, "_adjusted": lv.adjusted,
                             "_adjusted_qc": lv.adjusted_qc, "_adjusted_error": lv.adjusted_error}[tw]
                        fields.append('"' + arr(a, g.offsets, i, tw.endswith("qc")) + '"')
                buf.write(",".join(fields) + "\n")
                n += 1
    payload = buf.getvalue()
    ddl = ", ".join(f"{c}{tw} {'smallint' if tw.endswith('qc') else 'real'}[]" for c in cols for tw in twins)
    conn = raw_connection()
    try:
        cur = conn.cursor()
        cur.execute(f"CREATE TABLE bench_ceiling (platform_number text, cycle_number int, juld timestamptz, "
                    f"latitude float8, longitude float8, {ddl})")
        conn.commit()
        t0 = time.perf_counter()
        cur.copy_expert("COPY bench_ceiling FROM STDIN WITH (FORMAT csv)", io.StringIO(payload))
        conn.commit()
        dt = time.perf_counter() - t0
        cur.execute("DROP TABLE bench_ceiling")
        conn.commit()
    finally:
        conn.close()
    return {"profiles": n_prof, "rows": n, "csv_mb": round(len(payload) / 2**20, 1), "seconds": round(dt, 3),
            "profiles_per_min": round(n_prof / dt * 60)}


def bench_ingest(paths_or_dirs, workers: int, name: str) -> dict:
    from floatchat_core.ingest import ingest

    t0 = time.perf_counter()
    job = ingest(list(paths_or_dirs), name=name, dataset=name, workers=workers, executor="dask")
    dt = time.perf_counter() - t0
    if job["status"] != "succeeded" or job["files_failed"]:
        raise SystemExit(f"benchmark ingest failed: {job['errors'][:3]}")
    return {"files": job["files_ok"], "profiles": int(job["n_profiles"]), "levels": int(job["n_levels"]),
            "seconds": round(dt, 2), "profiles_per_min": round(job["n_profiles"] / dt * 60),
            "levels_per_s": round(job["n_levels"] / dt)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profiles", type=int, default=24_000, help="synthetic profiles (default 24,000)")
    ap.add_argument("--levels", type=int, default=None,
                    help="fix N_LEVELS of every synthetic float (default: Argo-like mix 70–1000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="2,000 profiles, no ceiling: a CI check that it runs")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    if args.smoke:
        args.profiles = 2_000

    home = Path(tempfile.mkdtemp(prefix="floatchat-bench-"))
    os.chmod(home, 0o755)
    os.environ["FLOATCHAT_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    # search indexing (embedding float documents) runs after each job; it is its own stage
    # with its own benchmark (benchmarks/search.py): ingestion is measured without it
    os.environ["FLOATCHAT_SEARCH_INDEX_ON_INGEST"] = "0"
    sys.path.insert(0, str(REPO))
    from floatchat_core import db
    from floatchat_core.argo import synth
    from floatchat_core.db import cluster
    from floatchat_core.db.maintenance import truncate_data
    from floatchat_core.ingest import close_client

    results: dict = {"machine": _machine()}
    try:
        t0 = time.perf_counter()
        db.up()
        results["db_up_seconds"] = round(time.perf_counter() - t0, 1)
        corpus = home / "synthetic"
        t0 = time.perf_counter()
        paths = synth.make_corpus(corpus, args.profiles, n_levels=args.levels, bgc_fraction=0.2, seed=7)
        results["synthetic"] = {"files": len(paths), "profiles": args.profiles,
                                "generate_seconds": round(time.perf_counter() - t0, 1)}
        results["read"] = bench_read(paths)
        if not args.smoke:
            results["ceiling"] = bench_ceiling(paths)
        results["ingest"] = bench_ingest([corpus], args.workers, "bench-synthetic")
        t0 = time.perf_counter()
        results["ingest_again"] = bench_ingest([corpus], args.workers, "bench-synthetic")
        gdac = REPO.parent / "shared" / "data" / "argo" / "gdac" / "dac"
        if gdac.is_dir():
            truncate_data()
            # smoke: one data centre's files (INCOIS, ~110 small files) instead of all 1,423
            results["gdac"] = bench_ingest([gdac / "incois" if args.smoke else gdac], args.workers, "bench-gdac")
            if not args.smoke:
                results["gdac_ceiling"] = bench_ceiling(sorted(p for p in gdac.rglob("*.nc")
                                                               if not p.name.endswith("_meta.nc")))
        if "ceiling" in results:
            results["ingest_vs_ceiling"] = round(results["ceiling"]["profiles_per_min"]
                                                 / results["ingest"]["profiles_per_min"], 2)
    finally:
        close_client()
        db.dispose_engines()
        cluster.remove()
        shutil.rmtree(home, ignore_errors=True)

    print(json.dumps(results, indent=2))
    lv = results["ingest"]["levels"] / max(results["ingest"]["profiles"], 1)
    print(f"\nsynthetic corpus: {results['synthetic']['files']} files, mean {lv:.0f} levels per profile")
    r = results
    print(f"\ningest  {r['ingest']['profiles']:,} profiles in {r['ingest']['seconds']} s = "
          f"{r['ingest']['profiles_per_min']:,} profiles/min ({args.workers} workers)")
    if "ceiling" in r:
        print(f"ceiling {r['ceiling']['profiles_per_min']:,} profiles/min (bare COPY of CSV, 1 connection); "
              f"ingest takes {r['ingest_vs_ceiling']}x the ceiling's time (target <= 3x)")
    print(f"re-ingest (every profile replaced) {r['ingest_again']['profiles_per_min']:,} profiles/min; "
          f"load average at the end {tuple(round(x, 2) for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
