#!/usr/bin/env python
"""Search benchmark: hybrid search latency (query embedding included) at 20,000 floats.

    python benchmarks/search.py            # 20,000 synthetic floats, 300 timed queries
    python benchmarks/search.py --smoke    # 150 floats, 40 queries: a CI check that it runs (< 60 s)
    python benchmarks/search.py --home /tmp/bench-search-20k   # keep the database; a re-run only queries

It uses its own managed PostgreSQL (a temporary FLOATCHAT_HOME, or the kept ``--home``), never
your database, and the real local model (all-MiniLM-L6-v2 on the CPU). Measured:

* ``populate`` — synthetic floats and their profiles/positions written by SQL;
* ``index``    — documents built (regions visited by spatial join) and embedded, docs/s;
* ``query``    — ``search()`` end to end (query embedding; one SQL statement that gathers the
  HNSW and full-text candidates, fuses and ranks them; the hits' "why"), per query: p50 / p95 /
  p99 / max in milliseconds, after one warm-up query (the model load and the query encoder's
  trace are reported separately). No result or embedding cache is involved. The target is
  p95 < 50 ms.
* ``stages``   — the same queries' time per stage (``search(timings=…)``): ``embed`` (the query
  vector), ``sql`` (the search statement, round trip included), ``fuse`` (the hits' dicts and
  "why" — the fusion itself runs in the statement) and ``other`` (filters, facets, the rest),
  p50 / p95 in milliseconds.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

QUERIES = [
    "oxygen floats in the Arabian Sea", "which floats measured oxygen in the southern Indian Ocean last year?",
    "temperature-only float from 1997", "BODC float in the North Atlantic", "Coriolis BGC float with dissolved oxygen",
    "chlorophyll floats in the Mediterranean", "Deep Argo float in the South Pacific", "floats in the Sea of Japan",
    "Labrador Sea core float from Canada", "bio-optical float with backscatter in the Norwegian Sea",
    "pH and nitrate in the equatorial Pacific", "INCOIS floats in the Bay of Bengal", "Caribbean Sea float",
    "deep float with an oxygen sensor in the Weddell Sea", "Gulf of Alaska", "Black Sea biogeochemistry",
    "SOCCOM nitrate floats in the Southern Ocean", "recent float in the Great Australian Bight",
    "float 9500123", "APEX floats of Synthetic project 12", "floats of Synthetic PI 77",
    "JMA float near Japan with salinity", "KMA floats from 2015", "ARVOR float in the Tasman Sea",
    "NAVIS float with nitrate", "salinity profiles in the Gulf of Mexico", "floats in the Kuroshio region",
    "chocolate cake recipe", "delayed-mode floats in the South Atlantic", "real-time floats in the Indian Ocean",
]


def _machine() -> dict:
    import psutil

    return {"cpus": os.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]}


def _percentiles(ms, qs) -> dict:
    """``{"p50_ms": …}`` of times in milliseconds, rounded to 0.1 ms."""
    return {f"p{q}_ms": round(float(np.percentile(np.asarray(ms, dtype=float), q)), 1) for q in qs}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--floats", type=int, default=20_000)
    ap.add_argument("--queries", type=int, default=300, help="timed queries (cycling through the list)")
    ap.add_argument("--smoke", action="store_true", help="150 floats, 40 queries")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--home", type=Path, help="keep the benchmark database here; a re-run with the same "
                    "--floats reuses it (populate and index are skipped)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.floats, args.queries = 150, 40

    os.environ["FLOATCHAT_SEARCH_INDEX_ON_INGEST"] = "0"
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "benchmarks"))
    from _benchdb import bench_database, profile_count

    results: dict = {"machine": _machine()}
    with bench_database(args.home, "floatchat-bench-search-") as home:
        from floatchat_core.db.regions import seed_if_needed
        from floatchat_core.db.searchdb import document_counts
        from floatchat_core.db.searchsynth import insert_synthetic_floats
        from floatchat_core.search import reindex, search
        from floatchat_core.search.embeddings import get_provider
        from floatchat_core.search.synthetic import random_floats

        seed_if_needed()
        done = document_counts()["embedded"]
        if done >= args.floats:
            print(f"reusing {home}: {done:,} embedded documents already there", flush=True)
            results["populate"] = {"floats": done, "reused": True}
        elif profile_count() > 0:                 # populated earlier, the index was not finished
            results["populate"] = {"floats": args.floats, "reused_profiles": True}
        else:
            t0 = time.perf_counter()
            spec = random_floats(args.floats, seed=11, bgc_fraction=0.2, deep_fraction=0.05, years=(1999, 2024))
            info = insert_synthetic_floats(spec, dataset="bench-search")
            results["populate"] = {"floats": info["n_floats"], "profiles": info["n_profiles"],
                                   "seconds": round(time.perf_counter() - t0, 1)}

        t0 = time.perf_counter()
        prov = get_provider()
        prov.load()
        results["model_load_seconds"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        traced = prov.query_encoder() is not None          # built once per process, checked against encode
        results["query_encoder"] = {"traced": traced, "seconds": round(time.perf_counter() - t0, 2)}
        if not results["populate"].get("reused"):
            t0 = time.perf_counter()
            r = reindex()
            secs = time.perf_counter() - t0
            results["index"] = {**r, "seconds": round(secs, 1), "docs_per_s": round(r["documents"] / secs, 1)}

        search("warm-up query about oxygen floats")             # first query: caches, plans
        results["machine"]["load_avg_at_queries"] = [round(x, 2) for x in os.getloadavg()]
        times, n_hits, stages = [], [], []
        for i in range(args.queries):
            q = QUERIES[i % len(QUERIES)]
            st: dict = {}
            t0 = time.perf_counter()
            hits = search(q, limit=10, timings=st)
            times.append((time.perf_counter() - t0) * 1e3)
            n_hits.append(len(hits))
            stages.append(st)
        t = np.asarray(times)
        results["query"] = {"n": len(t), **_percentiles(t, (50, 95, 99)), "max_ms": round(float(t.max()), 1),
                            "mean_ms": round(float(t.mean()), 1), "mean_hits": round(float(np.mean(n_hits)), 1)}
        results["stages"] = {k: _percentiles([s.get(k, 0.0) for s in stages], (50, 95))
                             for k in ("embed", "sql", "fuse", "other")}
        results["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]

    print(json.dumps(results, indent=2, default=str))
    q, sg = results["query"], results["stages"]
    index = f"; index {results['index']['docs_per_s']} docs/s" if "index" in results else ""
    print(f"\nsearch at {results['populate']['floats']:,} floats: p50 {q['p50_ms']} ms, p95 {q['p95_ms']} ms, "
          f"p99 {q['p99_ms']} ms over {q['n']} queries{index}; load average "
          f"{results['machine']['load_avg_at_queries'][0]} -> {results['machine']['load_avg_at_end'][0]}")
    print("stages p50/p95 ms: " + ", ".join(f"{k} {v['p50_ms']}/{v['p95_ms']}" for k, v in sg.items())
          + ("" if results["query_encoder"]["traced"] else " (query encoder NOT traced: eager encode)"))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
