"""The project-managed local PostgreSQL cluster (the embedded default).

``up()`` runs ``initdb`` under ``FLOATCHAT_HOME`` on first use, starts the server on
127.0.0.1 on a free port, creates the database, an owner role and a read-only role,
the extensions ``postgis``, ``vector`` and ``pg_trgm``, and applies all migrations.
Calling it again is harmless.

PostgreSQL refuses to run as root, so when the caller is root the server runs as an
unprivileged system user (``floatchat``, created on first use) and the data directory
is owned by it. When ``FLOATCHAT_HOME`` is not reachable by that user (``/root`` is
mode 700), the data directory lives under ``/var/lib/floatchat/`` and
``FLOATCHAT_HOME/pg.json`` points at it.

When ``DATABASE_URL`` is set nothing here starts a server: ``up()`` only migrates.
"""
from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings, get_settings
from ..errors import DatabaseError

log = logging.getLogger(__name__)

SERVICE_USER = "floatchat"
OWNER_ROLE = "floatchat_owner"
READER_ROLE = "floatchat_reader"
EXTENSIONS = ("postgis", "vector", "pg_trgm", "btree_gist")


# ----------------------------------------------------------------------------- binaries
def find_pg_bin(settings: Settings | None = None) -> Path:
    """Folder holding ``initdb`` and ``pg_ctl``: setting, conda env, PATH, then Debian's layout."""
    settings = settings or get_settings()
    candidates: list[Path] = []
    if settings.pg_bin:
        candidates.append(settings.pg_bin)
    if os.environ.get("CONDA_PREFIX"):
        candidates.append(Path(os.environ["CONDA_PREFIX"]) / "bin")
    which = shutil.which("pg_ctl")
    if which:
        candidates.append(Path(which).parent)
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
                    if Path(p).parent.name.isdigit() else 0, reverse=True)
    candidates += [Path(p) for p in debian]
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    raise DatabaseError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found. Run `scripts/setup-system.sh` "
        "(or `make setup`), set FLOATCHAT_PG_BIN, or set DATABASE_URL to an existing server.")


# ----------------------------------------------------------------------------- state
@dataclass
class ClusterState:
    data_dir: Path
    port: int
    password: str          # superuser 'postgres'
    owner_password: str
    reader_password: str
    run_as: str | None     # system user the server runs as (None: the caller)

    def to_json(self) -> str:
        d = dict(self.__dict__, data_dir=str(self.data_dir))
        return json.dumps(d, indent=2)

    @classmethod
    def from_json(cls, text: str) -> ClusterState:
        d = json.loads(text)
        d["data_dir"] = Path(d["data_dir"])
        return cls(**d)


def _state_file(settings: Settings) -> Path:
    return settings.home / "pg.json"


def load_state(settings: Settings | None = None) -> ClusterState | None:
    settings = settings or get_settings()
    f = _state_file(settings)
    return ClusterState.from_json(f.read_text()) if f.exists() else None


def _save_state(settings: Settings, state: ClusterState) -> None:
    f = _state_file(settings)
    f.parent.mkdir(parents=True, exist_ok=True)
    tmp = f.with_suffix(".tmp")
    tmp.write_text(state.to_json())
    os.chmod(tmp, 0o600)       # holds passwords
    tmp.replace(f)


# ----------------------------------------------------------------------------- helpers
def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _ensure_service_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        log.info("cluster.create_service_user", extra={"user": SERVICE_USER})
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", SERVICE_USER], check=True)
        return pwd.getpwnam(SERVICE_USER)


def _traversable_by(path: Path, uid: int, gid: int) -> bool:
    """Can a process of ``uid``/``gid`` reach ``path`` (x on every ancestor)?"""
    for p in [path, *path.parents]:
        if not p.exists():
            continue
        st = p.stat()
        if st.st_uid == uid:
            ok = st.st_mode & stat.S_IXUSR
        elif st.st_gid == gid:
            ok = st.st_mode & stat.S_IXGRP
        else:
            ok = st.st_mode & stat.S_IXOTH
        if not ok:
            return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _run(cmd: list[str], run_as: str | None, **kw) -> subprocess.CompletedProcess:
    if run_as:
        cmd = ["runuser", "-u", run_as, "--", *cmd]
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise DatabaseError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip() or res.stdout.strip()}")
    return res


def _connect(state: ClusterState, dbname: str = "postgres", user: str = "postgres", password: str | None = None):
    import psycopg2

    return psycopg2.connect(host="127.0.0.1", port=state.port, dbname=dbname, user=user,
                            password=password if password is not None else state.password, connect_timeout=10)


# ----------------------------------------------------------------------------- lifecycle
def _init_cluster(settings: Settings) -> ClusterState:
    pg_bin = find_pg_bin(settings)
    settings.home.mkdir(parents=True, exist_ok=True)
    run_as = None
    data_dir = settings.cluster_dir
    if _is_root():
        pw = _ensure_service_user()
        run_as = SERVICE_USER
        if not _traversable_by(settings.home, pw.pw_uid, pw.pw_gid):
            digest = hashlib.sha256(str(settings.home.resolve()).encode()).hexdigest()[:16]
            data_dir = Path("/var/lib/floatchat") / f"pg-{digest}"
            Path("/var/lib/floatchat").mkdir(parents=True, exist_ok=True)
            os.chmod("/var/lib/floatchat", 0o755)
        data_dir.mkdir(parents=True, exist_ok=True)
        os.chown(data_dir, pw.pw_uid, pw.pw_gid)
    state = ClusterState(data_dir=data_dir, port=settings.db_port or free_port(),
                         password=secrets.token_urlsafe(18), owner_password=secrets.token_urlsafe(18),
                         reader_password=secrets.token_urlsafe(18), run_as=run_as)
    if data_dir.exists() and (data_dir / "PG_VERSION").exists():
        raise DatabaseError(f"{data_dir} already holds a cluster but {_state_file(settings)} is missing; "
                            "run `floatchat db reset` to start over")
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    pwfile = data_dir.parent / f".pw-{os.getpid()}"
    pwfile.write_text(state.password + "\n")
    try:
        if run_as:
            pw = pwd.getpwnam(run_as)
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        os.chmod(pwfile, 0o600)
        log.info("cluster.initdb data_dir=%s", data_dir)
        _run([str(pg_bin / "initdb"), "-D", str(data_dir), "-U", "postgres", "--pwfile", str(pwfile),
              "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8",
              "--locale=C", "--no-instructions"], run_as)
    finally:
        pwfile.unlink(missing_ok=True)
    conf = data_dir / "postgresql.conf"
    with open(conf, "a") as f:
        # TCP on loopback only; no unix socket (paths under temp dirs can exceed its 107-byte limit)
        f.write("\n# --- floatchat managed settings ---\n"
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\n"
                "max_connections = 100\n"
                "shared_buffers = '256MB'\n"
                "work_mem = '32MB'\n"
                "maintenance_work_mem = '256MB'\n"
                "synchronous_commit = off\n"
                "wal_compression = on\n"
                "max_wal_size = '2GB'\n"
                "checkpoint_timeout = '15min'\n"
                "jit = off\n"
                "password_encryption = 'scram-sha-256'\n")
    _save_state(settings, state)
    return state


def is_running(settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    state = load_state(settings)
    if state is None:
        return False
    res = subprocess.run(["runuser", "-u", state.run_as, "--"] * bool(state.run_as)
                         + [str(find_pg_bin(settings) / "pg_ctl"), "status", "-D", str(state.data_dir)],
                         check=False, capture_output=True, text=True)
    return res.returncode == 0


def start(settings: Settings | None = None) -> ClusterState:
    """Start the managed server (initdb first when needed); return its state."""
    settings = settings or get_settings()
    state = load_state(settings) or _init_cluster(settings)
    if is_running(settings):
        return state
    if settings.db_port:
        state.port = settings.db_port
    elif not _port_free(state.port):
        state.port = free_port()
    _save_state(settings, state)
    logfile = state.data_dir / "server.log"
    log.info("cluster.start port=%s", state.port)
    _run([str(find_pg_bin(settings) / "pg_ctl"), "start", "-D", str(state.data_dir), "-w", "-t", "60",
          "-l", str(logfile), "-o", f"-p {state.port}"], state.run_as)
    return state


def stop(settings: Settings | None = None) -> bool:
    """Stop the managed server if it runs. Returns whether it was running."""
    settings = settings or get_settings()
    state = load_state(settings)
    if state is None or not is_running(settings):
        return False
    _run([str(find_pg_bin(settings) / "pg_ctl"), "stop", "-D", str(state.data_dir), "-m", "fast", "-w"],
         state.run_as)
    return True


def remove(settings: Settings | None = None) -> None:
    """Stop the server and delete the cluster and its state file."""
    settings = settings or get_settings()
    state = load_state(settings)
    stop(settings)
    if state is not None:
        shutil.rmtree(state.data_dir, ignore_errors=True)
    _state_file(settings).unlink(missing_ok=True)


def bootstrap(state: ClusterState, dbname: str) -> None:
    """Create roles, database and extensions (idempotent)."""
    conn = _connect(state)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for role, pw in ((OWNER_ROLE, state.owner_password), (READER_ROLE, state.reader_password)):
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE ROLE "{role}" LOGIN PASSWORD %s', (pw,))
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{dbname}" OWNER "{OWNER_ROLE}"')
    finally:
        conn.close()
    conn = _connect(state, dbname)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for ext in EXTENSIONS:
                cur.execute(f'CREATE EXTENSION IF NOT EXISTS "{ext}"')
            cur.execute(f'GRANT CONNECT ON DATABASE "{dbname}" TO "{READER_ROLE}"')
            cur.execute(f'ALTER ROLE "{READER_ROLE}" SET default_transaction_read_only = on')
            # PostGIS's spatial_ref_sys must be readable by both roles
            cur.execute(f'GRANT SELECT ON spatial_ref_sys TO "{OWNER_ROLE}", "{READER_ROLE}"')
    finally:
        conn.close()


def urls(state: ClusterState, dbname: str) -> dict[str, str]:
    """SQLAlchemy URLs for the owner, read-only and superuser roles."""
    base = f"postgresql+psycopg2://{{user}}:{{pw}}@127.0.0.1:{state.port}/{dbname}"
    return {
        "owner": base.format(user=OWNER_ROLE, pw=state.owner_password),
        "reader": base.format(user=READER_ROLE, pw=state.reader_password),
        "superuser": base.format(user="postgres", pw=state.password),
    }


def wait_ready(state: ClusterState, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _connect(state).close()
            return
        except Exception as exc:
            if time.monotonic() > deadline:
                raise DatabaseError(f"managed PostgreSQL did not accept connections: {exc}") from exc
            time.sleep(0.2)
