#!/usr/bin/env python
"""Question-engine benchmark: question → Answer latency (p50/p95), offline parser.

    python benchmarks/chat.py                      # shared corpus + 1,000,000-profile synthetic DB
    python benchmarks/chat.py --profiles 200000    # a smaller synthetic database
    python benchmarks/chat.py --smoke              # the shared INCOIS float + 5,000 synthetic profiles:
                                                   # a quick check that it all runs (CI, < 60 s)

Uses its own throw-away managed PostgreSQL (a temporary FLOATCHAT_HOME), never your database.
Each question of a fixed mix (every intent) is asked ``--repeat`` times through ``ask`` (a fresh
session, so nothing is remembered between questions); the query cache is cleared before each
round so round one is cold and later rounds show the warm path. Targets: p95 < 300 ms on the
shared corpus, < 1 s on the 1M-profile database.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FLOATCHAT_SHARED", REPO.parent / "shared")) / "data" / "argo" / "gdac" / "dac"

#: The question mix (every intent but discover, whose cost is the embedding model's).
CORPUS_QUESTIONS = [
    "how many profiles in the Arabian Sea?",
    "list profiles in the Arabian Sea during 2019",
    "temperature at 1000 m in the Arabian Sea",
    "salinity profiles of float 2902269 in 2019",
    "map the floats in the Indian Ocean",
    "nearest floats to 15N, 65E",
    "tell me about float 6901929",
    "trajectory of float 1900857",
    "T-S diagram for float 5900865",
    "compare temperature at 200 dbar in the Arabian Sea between 2019 and 2020",
    "salinity trend at the surface for float 6901929",
    "average temperature in the upper 200 m of the Indian Ocean",
    "list profiles in the last 6 months",
    "show me salinity profiles near the equator in March 2023",
]
SYNTH_QUESTIONS = [
    "how many profiles in the Arabian Sea?",
    "list profiles in the Arabian Sea during 2019",
    "temperature at 1000 m in the Arabian Sea in March 2019",
    "map the floats in the Bay of Bengal in 2020",
    "nearest floats to 15N, 65E",
    "salinity profiles within 300 km of 10N 65E in 2021",
    "compare temperature at 200 dbar in the Arabian Sea between 2019 and 2020",
    "average salinity in the upper 100 m of the Labrador Sea in 2018",
    "list profiles in the last 6 months",
    "how many delayed mode profiles since 2020",
]


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * (len(s) - 1)))))]


def run_questions(questions: list[str], repeat: int) -> dict:
    from floatchat_core.chat import ask
    from floatchat_core.db.cache import clear_caches

    times: list[float] = []
    per_q: dict[str, list[float]] = {q: [] for q in questions}
    bad = []
    t0 = time.perf_counter()
    for q in questions:                  # warm-up: imports (scipy, analytics), engines, region names
        ask(q)
    warmup_ms = (time.perf_counter() - t0) * 1000
    for r in range(repeat):
        clear_caches()
        for q in questions:
            t0 = time.perf_counter()
            a = ask(q)
            dt = (time.perf_counter() - t0) * 1000
            times.append(dt)
            per_q[q].append(dt)
            if r == 0 and (a.clarification or a.provenance.get("error")):
                bad.append(f"{q}: {a.text}")
    return {"n": len(times), "p50_ms": round(_pct(times, 50), 1), "p95_ms": round(_pct(times, 95), 1),
            "max_ms": round(max(times), 1), "mean_ms": round(statistics.mean(times), 1),
            "slowest": sorted(((round(max(v), 1), q) for q, v in per_q.items()), reverse=True)[:3],
            "problems": bad, "warmup_ms": round(warmup_ms, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="quick run (CI)")
    ap.add_argument("--profiles", type=int, default=None, help="synthetic profiles (default 1,000,000; smoke 20,000)")
    ap.add_argument("--repeat", type=int, default=None, help="rounds of the question mix (default 5; smoke 2)")
    ap.add_argument("--no-corpus", action="store_true", help="skip the shared-corpus part")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--home", type=Path,
                    help="use (and keep) the synthetic database in this FLOATCHAT_HOME, e.g. the one "
                         "`benchmarks/queries.py --home` filled: only the synthetic part runs, and profiles "
                         "are added only if it holds fewer than --profiles")
    args = ap.parse_args()
    n_synth = args.profiles if args.profiles is not None else (5_000 if args.smoke else 1_000_000)
    repeat = args.repeat or (2 if args.smoke else 5)

    keep = args.home is not None
    if keep:
        args.no_corpus = True            # the corpus part truncates the database: never on a kept one
    os.environ["FLOATCHAT_SEARCH_INDEX_ON_INGEST"] = "false"
    from _benchdb import bench_database, profile_count

    out: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    t_all = time.perf_counter()
    with bench_database(args.home, "floatchat-bench-chat-"):
        from floatchat_core.db.maintenance import truncate_data

        if not args.no_corpus and SHARED.is_dir():
            from floatchat_core.ingest import ingest

            t0 = time.perf_counter()
            # smoke: the INCOIS float only (57 profiles, 114 files), to stay well under a minute
            ingest([str(SHARED / "incois") if args.smoke else str(SHARED)], dataset="gdac", executor="serial")
            out["corpus_ingest_s"] = round(time.perf_counter() - t0, 1)
            out["corpus"] = run_questions(CORPUS_QUESTIONS, repeat)
            truncate_data()
        if n_synth:
            from floatchat_core.chat.parser import clear_region_cache
            from floatchat_core.db.synthdb import populate

            clear_region_cache()
            have = profile_count() if keep else 0
            t0 = time.perf_counter()
            if have < n_synth:
                populate(n_synth - have, seed=7)
                out["synthetic_populate_s"] = round(time.perf_counter() - t0, 1)
            out["synthetic_profiles"] = max(have, n_synth)
            out["synthetic"] = run_questions(SYNTH_QUESTIONS, repeat)
    out["total_s"] = round(time.perf_counter() - t_all, 1)
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        for part in ("corpus", "synthetic"):
            if part in out:
                r = out[part]
                label = (("shared corpus, INCOIS float" if args.smoke else "shared corpus (865 profiles)")
                         if part == "corpus" else f"synthetic ({out['synthetic_profiles']:,} profiles)")
                print(f"{label:<34} p50 {r['p50_ms']:>7.1f} ms   p95 {r['p95_ms']:>7.1f} ms   max {r['max_ms']:>7.1f} ms"
                      f"   ({r['n']} answers)")
                for ms, q in r["slowest"]:
                    print(f"    slowest: {ms:7.1f} ms  {q}")
                for p in r["problems"]:
                    print("    PROBLEM", p)
        print(f"total {out['total_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
