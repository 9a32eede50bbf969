"""The ``floatchat`` command.

    floatchat db up | down | status | url | reset
    floatchat ingest PATH... [--workers N] [--dataset NAME] [--serial]
    floatchat jobs [--status S] | jobs show ID | jobs retry ID
    floatchat reingest [--workers N]
    floatchat synth --profiles N [--files DIR]
    floatchat search "QUERY" [--floats|--datasets] | floats --region R [--any-position] | reindex [--dataset ID]
    floatchat demo | serve
    floatchat health [--json] | export --out PATH [--format F] (--float WMO | --question TEXT)
    floatchat ask "QUESTION" [--json] [--rows N]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .config import get_settings


def sample_dir() -> Path:
    """The bundled real Argo sample files."""
    return Path(__file__).parent / "data" / "sample"


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=str))


def _human_bytes(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return str(n)


# ----------------------------------------------------------------------------- db
def cmd_db(args) -> int:
    from . import db

    if args.action == "up":
        db.up()
        _seed_regions()
        s = db.status()
        print(f"database ready: PostgreSQL {s['server_version']} — "
              + ", ".join(f"{k} {v}" for k, v in s["extensions"].items() if k != "plpgsql"))
        return 0
    if args.action == "down":
        print("stopped" if db.down() else "not running (or external DATABASE_URL)")
        return 0
    if args.action == "reset":
        question = "Delete ALL data in the FloatChat database? [y/N] "
        if not args.yes and sys.stdin.isatty() and input(question).strip().lower() != "y":
            return 1
        db.reset()
        _seed_regions()
        print("database reset")
        return 0
    if args.action == "url":
        print(db.url(args.role))
        return 0
    if args.action == "status":
        s = db.status()
        if args.json:
            _print_json(s)
            return 0
        if s.get("managed") and not s.get("running"):
            print("managed database: not running (run `floatchat db up`)")
            return 3
        print(f"server      PostgreSQL {s['server_version']} ({'managed, port ' + str(s['port']) if s['managed'] else 'DATABASE_URL'})")
        print(f"database    {s['database']}  size {_human_bytes(s['size_bytes'])}  migration {s['revision']}")
        print("extensions  " + ", ".join(f"{k} {v}" for k, v in s["extensions"].items() if k != "plpgsql")
              + ("  (HNSW available)" if s["hnsw_available"] else ""))
        for t, n in s["row_counts"].items():
            print(f"  {t:<18} {n:>12,}")
        return 0
    return 2


def _seed_regions() -> None:
    """Ocean regions from the bundled Natural Earth data (only when missing or changed)."""
    from .db.regions import seed_if_needed

    seed_if_needed()


# ----------------------------------------------------------------------------- ingest
def _progress_bar(total_hint: str = "files"):
    from tqdm import tqdm

    bar = {"b": None}

    def cb(info: dict) -> None:
        if bar["b"] is None:
            bar["b"] = tqdm(total=info["n_files"], unit="file", desc="ingest", disable=not sys.stderr.isatty())
        bar["b"].update(len(info["results"]))
        bar["b"].set_postfix(profiles=info["n_profiles"], failed=info["files_failed"])

    def close():
        if bar["b"] is not None:
            bar["b"].close()

    return cb, close


def _print_job_summary(job: dict) -> int:
    secs = (job["finished_at"] - job["started_at"]).total_seconds() if job.get("finished_at") else float("nan")
    rate = job["n_profiles"] / secs * 60 if secs and secs > 0 else float("nan")
    lrate = job["n_levels"] / secs if secs and secs > 0 else float("nan")
    print(f"job {job['id']}  {job['status']}")
    print(f"  files      {job['files_ok']:,} ok, {job['files_failed']:,} failed (of {job['n_files']:,})")
    print(f"  profiles   {job['n_profiles']:,}   levels {job['n_levels']:,}")
    print(f"  time       {secs:.1f} s   {rate:,.0f} profiles/min   {lrate:,.0f} levels/s")
    for e in (job.get("errors") or [])[:20]:
        print(f"  ! {e.get('file', '')}: {e.get('error')}")
    if len(job.get("errors") or []) > 20:
        print(f"  … {len(job['errors']) - 20} more errors (floatchat jobs show {job['id']})")
    return 0 if job["status"] == "succeeded" else 1


def _yield_cpu(args) -> int | None:
    """A bulk ingestion yields the CPU from its start (``FLOATCHAT_INGEST_NICE``): this process, its
    Dask scheduler and result handling, and the workers it spawns, which inherit the value, so
    their start-up (~6 s of CPU a run) no longer competes with the dashboard's answers.

    Where Linux shares the CPU between sessions first (autogroups), the command runs again as the
    leader of a session of its own whose autogroup gets the same value, and this returns its exit
    status; otherwise ``None``, and the caller does the work (see ``ingest/priority.py``)."""
    from .ingest import priority

    nice = get_settings().ingest_nice
    if nice <= 0:
        return None
    if priority.needs_own_session(nice):
        return priority.run_in_own_session(args.argv)
    priority.follow_parent()
    own = priority.lower_autogroup(nice)
    priority.lower_priority(nice)
    priority.nice_backends(nice)       # the command's own database work (jobs, summaries) is bulk work too
    logging.getLogger(__name__).info("ingest.yield_cpu nice=%d session_leader=%s autogroup_nice=%s", os.getpriority(
        os.PRIO_PROCESS, 0), os.getsid(0) == os.getpid(), priority.autogroup_nice() if own else None)
    return None


def cmd_ingest(args) -> int:
    if (rc := _yield_cpu(args)) is not None:
        return rc
    from . import db
    from .ingest import ingest

    db.up()
    cb, close = _progress_bar()
    try:
        job = ingest(args.paths, name=args.name, dataset=args.dataset, workers=args.workers,
                     executor="serial" if args.serial else "dask", progress=cb)
    finally:
        close()
    return _print_job_summary(job)


def cmd_reingest(args) -> int:
    if (rc := _yield_cpu(args)) is not None:
        return rc
    from .ingest import reingest

    cb, close = _progress_bar()
    try:
        job = reingest(workers=args.workers, executor="serial" if args.serial else "dask", progress=cb)
    finally:
        close()
    return _print_job_summary(job)


def cmd_jobs(args) -> int:
    if args.action == "retry" and (rc := _yield_cpu(args)) is not None:
        return rc
    from .ingest import get_job, list_jobs, recover_stale_jobs, retry

    recover_stale_jobs()
    if args.action == "show":
        _print_json(get_job(args.job_id))
        return 0
    if args.action == "retry":
        cb, close = _progress_bar()
        try:
            job = retry(args.job_id, progress=cb)
        finally:
            close()
        return _print_job_summary(job)
    df = list_jobs(status=args.status, limit=args.limit)
    if df.empty:
        print("no jobs")
        return 0
    cols = ["id", "name", "status", "progress", "files_ok", "files_failed", "n_profiles", "created_at"]
    print(df[cols].to_string(index=False))
    return 0


# ----------------------------------------------------------------------------- search
def cmd_search(args) -> int:
    from .search.commands import run_search

    kind = "float" if args.floats else "dataset" if args.datasets else None
    return run_search(args.query, kind, args.limit, args.json,
                      {"parameter": args.parameter, "float_type": args.float_type, "region": args.region,
                       "time_start": args.since, "time_end": args.until})


def cmd_floats(args) -> int:
    from .search.commands import run_floats

    return run_floats(args.region, args.parameter, args.any_position, args.limit, args.json)


def cmd_reindex(args) -> int:
    from .search.commands import run_reindex

    return run_reindex(args.dataset)


# ----------------------------------------------------------------------------- synth / demo
def cmd_synth(args) -> int:
    from . import db
    from .argo import synth

    db.up()
    if args.files:
        paths = synth.make_corpus(Path(args.files), args.profiles, bgc_fraction=args.bgc_fraction, seed=args.seed)
        print(f"wrote {len(paths)} files under {args.files}")
        return 0
    from .db.synthdb import populate

    info = populate(args.profiles, n_floats=args.floats, bgc_fraction=args.bgc_fraction, seed=args.seed,
                    dataset=args.dataset)
    _print_json(info)
    return 0


def cmd_demo(args) -> int:
    """Database up, the bundled sample ingested (idempotent), then the dashboard."""
    from . import db
    from .ingest import ingest

    db.up()
    _seed_regions()
    job = ingest([sample_dir()], name="sample", dataset="sample", executor="serial")
    _print_job_summary(job)
    if args.no_serve:
        return 0 if job["status"] == "succeeded" else 1
    return cmd_serve(args)


def cmd_serve(args) -> int:
    from .serve import serve

    return serve(port=args.port, address=args.address, show=getattr(args, "show", False),
                 admin=getattr(args, "admin", False), auth_file=getattr(args, "auth", None),
                 processes=getattr(args, "processes", None))


# ----------------------------------------------------------------------------- health / export
def cmd_health(args) -> int:
    from .sources.health import EXIT_CODES, format_health, health

    report = health(probe=not args.no_probe)
    if args.json:
        _print_json(report)
    else:
        print(format_health(report))
    return EXIT_CODES.get(report["status"], 3)


def cmd_export(args) -> int:
    from .exports import export_command

    try:
        _, summary = export_command(args.out, args.format, platform_numbers=args.float, question=args.question,
                                    mode=args.mode, parameters=args.parameter)
    except ValueError as exc:
        print(f"floatchat export: {exc}", file=sys.stderr)
        return 2
    print(summary)
    return 0


def cmd_ask(args) -> int:
    from .chat.console import run_ask

    return run_ask(" ".join(args.question), as_json=args.json, rows=args.rows)


# ----------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="floatchat", description="FloatChat Workbench: ARGO data by question.")
    p.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("db", help="manage the database")
    d.add_argument("action", choices=["up", "down", "status", "url", "reset"])
    d.add_argument("--json", action="store_true", help="status as JSON")
    d.add_argument("--role", choices=["owner", "reader"], default="owner", help="url: which role")
    d.add_argument("--yes", action="store_true", help="reset without asking")
    d.set_defaults(func=cmd_db)

    i = sub.add_parser("ingest", help="ingest Argo NetCDF files, folders (GDAC dac/ trees) and ZIPs")
    i.add_argument("paths", nargs="+")
    i.add_argument("--workers", type=int, default=None, help="Dask LocalCluster workers (default 2)")
    i.add_argument("--name", default=None, help="job name")
    i.add_argument("--dataset", default=None, help="dataset name (default: the input's name)")
    i.add_argument("--serial", action="store_true", help="run in this process instead of Dask")
    i.set_defaults(func=cmd_ingest)

    r = sub.add_parser("reingest", help="re-run the whole staged archive on the cluster")
    r.add_argument("--workers", type=int, default=None)
    r.add_argument("--serial", action="store_true")
    r.set_defaults(func=cmd_reingest)

    j = sub.add_parser("jobs", help="list, show and retry ingestion jobs")
    j.add_argument("action", nargs="?", choices=["list", "show", "retry"], default="list")
    j.add_argument("job_id", nargs="?")
    j.add_argument("--status", choices=["pending", "running", "succeeded", "failed"])
    j.add_argument("--limit", type=int, default=30)
    j.set_defaults(func=cmd_jobs)

    s = sub.add_parser("synth", help="synthetic archive-shaped data (database, or Argo files with --files)")
    s.add_argument("--profiles", type=int, required=True)
    s.add_argument("--floats", type=int, default=None)
    s.add_argument("--bgc-fraction", type=float, default=0.2)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--dataset", default="synthetic")
    s.add_argument("--files", default=None, help="write Argo NetCDF files under this folder instead")
    s.set_defaults(func=cmd_synth)

    q = sub.add_parser("search", help="find floats and datasets by meaning and keywords")
    q.add_argument("query")
    g = q.add_mutually_exclusive_group()
    g.add_argument("--floats", action="store_true", help="floats only")
    g.add_argument("--datasets", action="store_true", help="datasets only")
    q.add_argument("--limit", type=int, default=None)
    q.add_argument("--parameter", default=None, help="must have measured this (e.g. DOXY, oxygen)")
    q.add_argument("--float-type", choices=["core", "bgc", "deep"], default=None)
    q.add_argument("--region", default=None, help="must have visited this region")
    q.add_argument("--since", default=None, help="data overlapping [since, until] (dates, UTC)")
    q.add_argument("--until", default=None)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_search)

    fl = sub.add_parser("floats", help="floats in a region (latest position) or with a parameter")
    fl.add_argument("--region", default=None)
    fl.add_argument("--parameter", default=None)
    fl.add_argument("--any-position", action="store_true", help="any position in the region, not the latest")
    fl.add_argument("--limit", type=int, default=None)
    fl.add_argument("--json", action="store_true")
    fl.set_defaults(func=cmd_floats)

    ri = sub.add_parser("reindex", help="rebuild the search index (documents + embeddings)")
    ri.add_argument("--dataset", type=int, default=None, help="only this dataset id and its floats")
    ri.set_defaults(func=cmd_reindex)

    h = sub.add_parser("health", help="status of database, Dask, embedding model, LLM and ERDDAP")
    h.add_argument("--json", action="store_true", help="the report as JSON")
    h.add_argument("--no-probe", action="store_true", help="skip network probes (LLM, ERDDAP)")
    h.set_defaults(func=cmd_health)

    x = sub.add_parser("export", help="floats or a question's answer to CSV, Parquet or NetCDF (Argo/CF)")
    x.add_argument("--format", choices=["csv", "parquet", "netcdf"], default=None,
                   help="default: from the --out suffix (.csv, .parquet, .nc)")
    x.add_argument("--out", required=True, help="output file")
    x.add_argument("--float", action="append", metavar="WMO", help="float(s) from the local database")
    x.add_argument("--question", default=None, help="export the answer to this question")
    x.add_argument("--mode", choices=["research", "standard", "expert"], default="expert", help="QC mode (floats)")
    x.add_argument("--parameter", action="append", metavar="NAME", help="parameters (default: all)")
    x.set_defaults(func=cmd_export)

    q = sub.add_parser("ask", help="ask a question in plain language (answer, table, SQL)")
    q.add_argument("question", nargs="+", help='e.g. "temperature at 1000 m in the Arabian Sea"')
    q.add_argument("--json", action="store_true", help="the answer as JSON (spec, provenance, rows)")
    q.add_argument("--rows", type=int, default=20, help="table rows to print (default 20)")
    q.set_defaults(func=cmd_ask)

    for name, helptext in (("demo", "database + bundled sample + dashboard"), ("serve", "serve the Panel apps")):
        a = sub.add_parser(name, help=helptext)
        a.add_argument("--port", type=int, default=int(os.environ.get("FLOATCHAT_PORT", "5006")))
        a.add_argument("--address", default="127.0.0.1")
        a.add_argument("--show", action="store_true", help="open a browser")
        a.add_argument("--admin", action="store_true", help="also serve the admin app")
        a.add_argument("--auth", default=None, metavar="CREDENTIALS_JSON",
                       help="basic-auth login with roles (admin app for admins only); default FLOATCHAT_AUTH_FILE")
        a.add_argument("--processes", type=int, default=None,
                       help="panel serve processes behind one port, each session kept on its process "
                            "(0: one per core; default FLOATCHAT_SERVE_PROCESSES)")
        if name == "demo":
            a.add_argument("--no-serve", action="store_true", help="stop after ingesting the sample")
        a.set_defaults(func=cmd_demo if name == "demo" else cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = build_parser().parse_args(argv)
    args.argv = argv            # a bulk command re-runs itself with these (``_yield_cpu``)
    level = logging.INFO if args.verbose else getattr(logging, get_settings().log_level.upper(), logging.WARNING)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("alembic", "distributed", "bokeh", "tornado"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    from .errors import FloatChatError

    try:
        return int(args.func(args) or 0)
    except FloatChatError as exc:
        print(f"floatchat: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
