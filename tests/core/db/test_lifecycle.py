"""The managed database: lifecycle, extensions, migrations, roles, DATABASE_URL override."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from floatchat_core import db
from floatchat_core.config import override
from floatchat_core.db import cluster, manage


def test_up_creates_extensions_and_migrates(database):
    s = db.status()
    assert s["running"] is True
    assert {"postgis", "vector", "pg_trgm"} <= set(s["extensions"])
    assert s["hnsw_available"] is True
    assert s["revision"] == manage.head_revision()
    assert s["size_bytes"] > 0
    assert set(s["row_counts"]) >= {"profiles", "floats", "datasets", "ingestion_jobs"}


def test_up_twice_is_harmless(database):
    before = cluster.load_state()
    urls = db.up()
    assert urls == database
    after = cluster.load_state()
    assert (before.port, before.data_dir) == (after.port, after.data_dir)


def test_server_listens_on_loopback_only(database):
    su = create_engine(cluster.urls(cluster.load_state(), "floatchat")["superuser"])
    try:
        with su.connect() as c:
            assert c.execute(text("SHOW listen_addresses")).scalar() == "127.0.0.1"
            assert c.execute(text("SHOW unix_socket_directories")).scalar() == ""
    finally:
        su.dispose()
    with db.get_engine().connect() as c:     # the owner role is not a superuser
        assert c.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar() is False


@pytest.mark.skipif(os.geteuid() != 0, reason="only meaningful when the tests run as root")
def test_server_runs_unprivileged_when_caller_is_root(database):
    state = cluster.load_state()
    assert state.run_as == cluster.SERVICE_USER
    pid = int((state.data_dir / "postmaster.pid").read_text().split()[0])
    uid = os.stat(f"/proc/{pid}").st_uid
    assert uid != 0


def test_readonly_role_refuses_writes(database):
    ro = db.get_engine(readonly=True)
    with ro.connect() as c:
        assert c.execute(text("SELECT count(*) FROM profiles")).scalar() >= 0
    with pytest.raises(DBAPIError, match="read-only"), ro.begin() as c:
        c.execute(text("INSERT INTO datasets (name) VALUES ('nope')"))
    # not only the session default: the role itself has no write privilege
    eng = create_engine(database["reader"])
    try:
        with pytest.raises(DBAPIError, match="permission denied|read-only"), eng.begin() as c:
            c.execute(text("SET TRANSACTION READ WRITE"))
            c.execute(text("INSERT INTO datasets (name) VALUES ('nope')"))
    finally:
        eng.dispose()


def test_readonly_engine_has_statement_timeout(database):
    with db.get_engine(readonly=True).connect() as c:
        assert c.execute(text("SHOW statement_timeout")).scalar() not in ("0", "0ms")


def test_schema_shape(database):
    with db.get_engine().connect() as c:
        cols = {r[0] for r in c.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'profiles'"))}
        for p in ("pres", "temp", "psal", "doxy", "chla", "nitrate", "ph_in_situ_total", "bbp700",
                  "downwelling_par", "down_irradiance380", "down_irradiance412", "down_irradiance490"):
            for suffix in ("", "_qc", "_adjusted", "_adjusted_qc", "_adjusted_error", "_data_mode"):
                assert f"{p}{suffix}" in cols
        assert {"position", "direction", "scheme_index", "bgc_pres"} <= cols
        idx = {r[0]: r[1] for r in c.execute(text("SELECT indexname, indexdef FROM pg_indexes"))}
        assert "gist" in idx["profiles_position_gist"]
        assert "brin" in idx["profiles_juld_brin"]
        assert "hnsw" in idx["search_documents_hnsw"] and "vector_cosine_ops" in idx["search_documents_hnsw"]
        assert "gist" in idx["ocean_regions_geog_gist"]
        mvs = {r[0] for r in c.execute(text("SELECT matviewname FROM pg_matviews"))}
        assert {"mv_latest_float_positions", "mv_dataset_stats"} <= mvs
        key = c.execute(text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'profiles_key'")).scalar()
        assert key == "UNIQUE (platform_number, cycle_number, direction, scheme_index)"


def test_profile_key_keeps_descending_and_secondary_schemes_apart(clean_db):
    with db.get_engine().begin() as c:
        for direction, scheme in (("A", 0), ("D", 0), ("A", 1)):
            c.execute(text("INSERT INTO profiles (platform_number, cycle_number, direction, scheme_index) "
                           "VALUES ('9999999', 1, :d, :s)"), {"d": direction, "s": scheme})
        assert c.execute(text("SELECT count(*) FROM profiles")).scalar() == 3
        with pytest.raises(DBAPIError), c.begin_nested():
            c.execute(text("INSERT INTO profiles (platform_number, cycle_number, direction, scheme_index) "
                           "VALUES ('9999999', 1, 'A', 0)"))


def test_levels_view_unnests_both_axes(clean_db):
    with db.get_engine().begin() as c:
        c.execute(text("INSERT INTO profiles (platform_number, cycle_number, direction, pres, temp, bgc_pres, doxy)"
                       " VALUES ('9999998', 3, 'A', '{5,10,20}', '{25.5,24.0,NULL}', '{5,50}', '{200.5,180}')"))
        rows = c.execute(text("SELECT axis, level, pres, temp, doxy FROM levels WHERE platform_number = '9999998' "
                              "ORDER BY axis DESC, level")).all()
    assert [tuple(r) for r in rows] == [
        ("core", 1, 5.0, 25.5, None), ("core", 2, 10.0, 24.0, None), ("core", 3, 20.0, None, None),
        ("bgc", 1, 5.0, None, 200.5), ("bgc", 2, 50.0, None, 180.0)]


def test_generated_columns(clean_db):
    with db.get_engine().begin() as c:
        c.execute(text("INSERT INTO profiles (platform_number, cycle_number, direction, latitude, longitude, "
                       "pres, temp, bgc_pres, doxy) VALUES ('9999997', 1, 'A', 15.5, 63.25, '{1,2}', '{20,19}', "
                       "'{1}', '{150}')"))
        c.execute(text("INSERT INTO profiles (platform_number, cycle_number, direction, latitude, longitude, "
                       "position_invalid, pres) VALUES ('9999997', 2, 'A', 99, 63, true, '{1}')"))
        rows = c.execute(text("SELECT cycle_number, ST_Y(position::geometry), ST_X(position::geometry), parameters, "
                              "n_levels, n_bgc_levels FROM profiles WHERE platform_number = '9999997' "
                              "ORDER BY cycle_number")).all()
    assert tuple(rows[0]) == (1, 15.5, 63.25, ["PRES", "TEMP", "DOXY"], 2, 1)
    assert rows[1][1] is None and rows[1][3] == ["PRES"]


def test_migrations_down_and_up(database):
    manage.downgrade("base")
    with db.get_engine().connect() as c:
        assert c.execute(text("SELECT to_regclass('profiles')")).scalar() is None
    db.up()
    assert manage.current_revision() == manage.head_revision()
    with db.get_engine(readonly=True).connect() as c:   # grants re-applied to new tables
        assert c.execute(text("SELECT count(*) FROM profiles")).scalar() == 0
    from floatchat_core.db.regions import seed_regions

    seed_regions()                                       # other tests expect the regions


def test_database_url_override_uses_that_server_and_only_migrates(database, tmp_path):
    """With DATABASE_URL set, nothing is started: `up` migrates that server."""
    state = cluster.load_state()
    url = (f"postgresql://postgres:{state.password}@127.0.0.1:{state.port}/postgres")
    # a separate database on the same server stands in for "an external PostGIS"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg2://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text("DROP DATABASE IF EXISTS external_test"))
        c.execute(text("CREATE DATABASE external_test"))
    admin.dispose()
    ext_url = url.rsplit("/", 1)[0] + "/external_test"
    try:
        with override(database_url=ext_url, home=tmp_path / "elsewhere"):
            db.dispose_engines()
            db.up()
            s = db.status()
            assert s["managed"] is False and s["database"] == "external_test" and s["revision"] == manage.head_revision()
            assert not (tmp_path / "elsewhere" / "pg.json").exists()      # no cluster created
            assert db.down() is False                                      # nothing to stop
            # the CLI sees the same override through the environment
            env = dict(os.environ, DATABASE_URL=ext_url, FLOATCHAT_HOME=str(tmp_path / "cli"))
            out = subprocess.run([sys.executable, "-m", "floatchat_core.cli", "db", "url"], env=env,
                                 capture_output=True, text=True, check=True).stdout
            assert out.strip().endswith("/external_test")
    finally:
        db.dispose_engines()
        admin = create_engine(url.replace("postgresql://", "postgresql+psycopg2://"), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text("DROP DATABASE IF EXISTS external_test WITH (FORCE)"))
        admin.dispose()


def test_cli_status_reports_extensions(database):
    out = subprocess.run([sys.executable, "-m", "floatchat_core.cli", "db", "status"], capture_output=True,
                         text=True, check=True).stdout
    assert "postgis" in out and "vector" in out and "pg_trgm" in out and "HNSW available" in out


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to an ordinary user")
def test_db_up_as_an_ordinary_user(database, tmp_path):
    """`db up` + `db status` as a non-root user: its own cluster, run as the caller.

    A forked child drops to an unprivileged uid (the interpreter may live under /root,
    which that user could not exec, so we fork rather than exec a new Python).
    """
    import json
    import pwd
    import shutil
    import tempfile

    pw = pwd.getpwnam(cluster.SERVICE_USER)
    top = Path(tempfile.mkdtemp(prefix="floatchat-user-"))      # pytest's tmp_path is root-only (0700)
    os.chmod(top, 0o755)
    home = top / "home"
    home.mkdir()
    shutil.chown(home, pw.pw_uid, pw.pw_gid)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                         # child: never returns into pytest
        code = 1
        try:
            os.close(r)
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            os.environ["HOME"] = str(home)
            db.dispose_engines(close=False)
            with override(home=home):
                db.up()
                s = db.status()
                state = cluster.load_state()
                out = {"ext": sorted(s["extensions"]), "hnsw": s["hnsw_available"], "run_as": state.run_as,
                       "uid": os.getuid(), "revision": s["revision"]}
                db.down()
            os.write(w, json.dumps(out).encode())
            code = 0
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            os.write(w, json.dumps({"error": repr(exc)}).encode())
        finally:
            os._exit(code)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    shutil.rmtree(top, ignore_errors=True)
    out = json.loads(data or b"{}")
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert {"postgis", "vector", "pg_trgm"} <= set(out["ext"]) and out["hnsw"] is True
    assert out["run_as"] is None and out["uid"] == pw.pw_uid and out["revision"] == manage.head_revision()
