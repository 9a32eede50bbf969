"""Jobs: submit returns at once, stale jobs are recovered and retried, the CLI prints a
summary; more malformed inputs (wrong dimensions, zip bombs)."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile

import netCDF4
import numpy as np
from sqlalchemy import text

from floatchat_core.config import override
from floatchat_core.ingest import get_job, ingest, recover_stale_jobs, retry, submit, wait

PROF = "dac/incois/2902269/2902269_prof.nc"


def _count(engine, sql="SELECT count(*) FROM profiles") -> int:
    with engine.connect() as c:
        return c.execute(text(sql)).scalar()


def test_submit_returns_at_once_and_runs_in_background(clean_db, gdac_dir, engine):
    data = (gdac_dir / PROF).read_bytes()
    t0 = time.perf_counter()
    job_id = submit(("2902269_prof.nc", data), name="upload", executor="serial")
    took = time.perf_counter() - t0
    assert took < 2.0, f"submit took {took:.2f} s"
    assert get_job(job_id)["status"] in ("pending", "running", "succeeded")
    job = wait(job_id, timeout=120)
    assert job["status"] == "succeeded" and job["n_profiles"] == 57
    assert job["sha256"] and job["staged_uri"] and os.path.exists(job["staged_uri"])
    assert _count(engine) == 57


def test_stale_running_job_is_failed_and_retryable(clean_db, gdac_dir, engine):
    job = ingest([gdac_dir / PROF], name="will-die", executor="serial")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with engine.begin() as c:   # as if the process running it had been killed mid-way
        c.execute(text("UPDATE ingestion_jobs SET status='running', finished_at=NULL, pid=:p, "
                       "host=:h WHERE id=:id"), {"p": dead.pid, "h": os.uname().nodename, "id": job["id"]})
        c.execute(text("TRUNCATE profiles CASCADE"))
    assert str(job["id"]) in recover_stale_jobs()
    failed = get_job(job["id"])
    assert failed["status"] == "failed" and "interrupted" in failed["errors"][-1]["error"]
    again = retry(job["id"], executor="serial")
    assert again["status"] == "succeeded" and str(again["retry_of"]) == str(job["id"])
    assert _count(engine) == 57


def test_cli_ingest_prints_a_summary(clean_db, gdac_dir, engine):
    out = subprocess.run([sys.executable, "-m", "floatchat_core.cli", "ingest", str(gdac_dir / "dac/aoml/13857"),
                          "--workers", "2", "--dataset", "aoml"], capture_output=True, text=True, timeout=600,
                         env=dict(os.environ))
    assert out.returncode == 0, out.stderr[-3000:]
    assert "succeeded" in out.stdout and "profiles" in out.stdout and "profiles/min" in out.stdout
    assert _count(engine) == 140
    jobs = subprocess.run([sys.executable, "-m", "floatchat_core.cli", "jobs"], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    assert "succeeded" in jobs.stdout


def test_wrong_dimensions_fail_cleanly(clean_db, gdac_dir, tmp_path, engine):
    src = gdac_dir / PROF
    dst = tmp_path / src.name
    with netCDF4.Dataset(src) as s, netCDF4.Dataset(dst, "w", format=s.data_model) as d:
        s.set_auto_maskandscale(False)
        for name, dim in s.dimensions.items():
            d.createDimension(name, len(dim))
        d.createDimension("N_OTHER", 7)
        for name, var in s.variables.items():
            fv = var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None
            dims, data = var.dimensions, var[:]
            if name == "TEMP":
                dims, data = ("N_PROF", "N_OTHER"), np.zeros((data.shape[0], 7), data.dtype)
            v = d.createVariable(name, var.dtype, dims, fill_value=fv)
            v.set_auto_maskandscale(False)
            v[:] = data
    job = ingest([dst], name="dims", executor="serial")
    assert job["status"] == "failed"
    assert "TEMP has shape" in job["errors"][0]["error"]
    assert _count(engine) == 0


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_zip_bombs_are_refused(clean_db, gdac_dir, tmp_path, engine):
    good = (gdac_dir / PROF).read_bytes()
    # a member inflating > 1000:1 is refused, the honest member of the same archive goes on
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(_zip_bytes({"R1234567_001.nc": bytes(60 * 2**20), "2902269_prof.nc": good}))
    job = ingest([bomb], name="bomb", executor="serial")
    assert job["files_ok"] == 1 and job["files_failed"] == 1
    assert any("zip bomb" in e["error"] for e in job["errors"])
    assert _count(engine) == 57
    # the total uncompressed size is capped before anything is inflated
    with override(max_zip_uncompressed_bytes=1_000_000):
        job = ingest([tmp_path / "bomb.zip"], name="capped", executor="serial")
    assert job["status"] == "failed" and "zip bomb" in job["errors"][-1]["error"]


def test_file_over_the_size_limit(clean_db, gdac_dir, engine):
    with override(max_file_bytes=10_000):
        job = ingest([gdac_dir / PROF], name="big", executor="serial")
    assert job["status"] == "failed" and "limit" in job["errors"][0]["error"]
    assert _count(engine) == 0


def test_bgc_secondary_scheme_comes_from_the_delayed_b_file(clean_db, gdac_dir, engine):
    """S-files hold only the primary scheme; the secondary scheme's DOXY comes from the B-file,
    and the delayed-mode BD file wins over its real-time BR twin whatever the order."""
    prof = gdac_dir / "dac/coriolis/3902131/profiles"
    files = [prof / "BD3902131_005.nc", prof / "BR3902131_005.nc", prof / "SD3902131_005.nc",
             prof / "D3902131_005.nc"]
    ingest(files, name="bgc-one-cycle", executor="serial")
    with engine.connect() as c:
        rows = dict(c.execute(text("SELECT scheme_index, bgc_source FROM profiles WHERE cycle_number=5 "
                                   "AND direction='A' ORDER BY 1")).all())
    assert rows == {0: "SD3902131_005.nc", 1: "BD3902131_005.nc"}
