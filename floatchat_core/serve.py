"""``floatchat serve``: ``panel serve`` of the workbench apps with the project's settings.

Authentication: ``--auth credentials.json`` (or ``FLOATCHAT_AUTH_FILE``) turns on Panel's basic
auth; the roles in the same file decide who may open ``/admin`` (an authorization callback
installed by ``workbench/server_setup.py``) and every admin action checks the role again on
the server. ``FLOATCHAT_OAUTH_PROVIDER`` uses a Panel OAuth provider instead (key and secret from
``PANEL_OAUTH_KEY`` / ``PANEL_OAUTH_SECRET``). Secrets travel in the child's environment, never on
its command line, and are never logged.

This module only builds a command line; it does not import panel.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings, get_settings

log = logging.getLogger(__name__)


ROLES = ("viewer", "admin")


def load_credentials(path: str | Path) -> dict[str, dict[str, str]]:
    """Read a credentials file → ``{"users": {name: password}, "roles": {name: role}}``.

    Raises ``ValueError`` naming the problem (never the passwords).
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"credentials file {path} not found") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"credentials file {path} is not valid JSON (line {exc.lineno})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"credentials file {path} must hold a JSON object")
    users_raw = raw.get("users", raw if "roles" not in raw else {})
    users: dict[str, str] = {}
    roles: dict[str, str] = {}
    for name, v in users_raw.items():
        if isinstance(v, dict):
            if not isinstance(v.get("password"), str) or not v["password"]:
                raise ValueError(f"user {name!r} in {path} has no password")
            users[str(name)] = v["password"]
            if v.get("role"):
                roles[str(name)] = str(v["role"])
        elif isinstance(v, str) and v:
            users[str(name)] = v
        else:
            raise ValueError(f"user {name!r} in {path}: the password must be a non-empty string")
    for name, role in (raw.get("roles") or {}).items():
        roles[str(name)] = str(role)
    bad = {u: r for u, r in roles.items() if r not in ROLES}
    if bad:
        raise ValueError(f"unknown role(s) {sorted(set(bad.values()))} in {path}; allowed: {list(ROLES)}")
    if not users:
        raise ValueError(f"credentials file {path} defines no users")
    return {"users": users, "roles": roles}


def _workbench_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("workbench")
    if spec is None or not spec.origin:
        raise ModuleNotFoundError("the workbench package is not installed (pip install -e .)")
    return Path(spec.origin).parent


def app_paths(admin: bool = False) -> list[Path]:
    """The Panel app scripts shipped inside the ``workbench`` package."""
    root = _workbench_dir() / "apps"
    names = ["dashboard.py"] + (["admin.py"] if admin else [])
    return [root / n for n in names]


@dataclass
class ServeCommand:
    """A ``panel serve`` invocation: argv, the extra environment (secrets) and temp files to remove."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cleanup: list[Path] = field(default_factory=list)
    listen: tuple[str, int] = ("127.0.0.1", 5006)

    def remove_temp_files(self) -> None:
        for p in self.cleanup:
            shutil.rmtree(p, ignore_errors=True)


def _basic_auth_file(auth_file: Path) -> Path:
    """Panel's basic-auth JSON ({user: password}) in a private temporary folder (mode 0600).

    Panel lower-cases the path it is given, so the folder name is lower case.
    """
    users = load_credentials(auth_file)["users"]
    folder = Path(tempfile.mkdtemp(prefix="floatchat-auth-", dir="/tmp" if os.path.isdir("/tmp") else None))
    path = folder / "users.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(users, f)
    if str(path) != str(path).lower():
        raise RuntimeError(f"temporary folder {folder} is not lower case; set TMPDIR to a lower-case path")
    return folder


#: the dashboard address of a ``panel serve`` process on itself, for its warm-up page
WARM_PAGE = "FLOATCHAT_WARM_PAGE"
#: addresses that mean "listen on every interface"
_EVERY_INTERFACE = ("0.0.0.0", "::", "")


def _own_dashboard(address: str, port: int) -> str:
    host = "127.0.0.1" if address in _EVERY_INTERFACE else address
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/dashboard"


def serve_command(port: int = 5006, address: str = "127.0.0.1", admin: bool = False, show: bool = False,
                  auth_file: str | Path | None = None, processes: int | None = None,
                  extra: list[str] | None = None, settings: Settings | None = None,
                  public: tuple[str, int] | None = None) -> ServeCommand:
    """Build the ``panel serve`` command for the dashboard (and the admin app).

    Parameters
    ----------
    port, address
        Where to listen (``address`` 0.0.0.0 for all interfaces).
    admin
        Also serve ``/admin`` (always served when authentication is on).
    auth_file
        Credentials JSON (see :mod:`workbench.auth`); default ``FLOATCHAT_AUTH_FILE``.
    processes
        ``--num-procs`` (default 1). Several processes with sticky sessions: :func:`serve_commands`.
    public
        ``(address, port)`` the browser sees when this process sits behind :mod:`.router`.
    """
    settings = settings or get_settings()
    auth_file = Path(auth_file).expanduser() if auth_file else settings.auth_file
    env: dict[str, str] = {}
    cleanup: list[Path] = []
    authenticated = bool(auth_file or settings.oauth_provider)
    apps = app_paths(admin or authenticated)
    seen_address, seen_port = public or (address, port)
    origins = {f"{seen_address}:{seen_port}", f"localhost:{seen_port}", f"127.0.0.1:{seen_port}"}
    if seen_address in _EVERY_INTERFACE:          # every interface: the names this machine goes by
        import socket

        origins |= {f"{name}:{seen_port}" for name in {socket.gethostname(), socket.getfqdn()} if name}
    origins |= {o.strip() if (":" in o or o.strip() == "*") else f"{o.strip()}:{seen_port}"
                for o in settings.allowed_origins.split(",") if o.strip()}
    cmd = [sys.executable, "-m", "panel", "serve", *map(str, apps),
           "--address", address, "--port", str(port),
           *[a for o in sorted(origins) for a in ("--allow-websocket-origin", o)],
           "--websocket-max-message-size", str(min(settings.max_file_bytes + 1024**2, 2**31 - 1)),
           "--index", "dashboard",
           "--setup", str(_workbench_dir() / "server_setup.py"),
           "--num-procs", str(1 if processes is None else processes),
           "--check-unused-sessions", "5000", "--unused-session-lifetime", "60000",
           "--plugins", "floatchat_core.sources.health_http"]        # GET /health beside the apps
    if settings.serve_threads:
        cmd += ["--num-threads", str(settings.serve_threads)]
    if authenticated:
        env["PANEL_COOKIE_SECRET"] = (settings.cookie_secret.get_secret_value() if settings.cookie_secret
                                      else secrets.token_urlsafe(32))
    if auth_file:
        folder = _basic_auth_file(auth_file)
        cleanup.append(folder)
        cmd += ["--basic-auth", str(folder / "users.json"),
                "--basic-login-template", str(_workbench_dir() / "templates" / "login.html")]   # offline page
        env["FLOATCHAT_AUTH_FILE"] = str(Path(auth_file).resolve())
    elif settings.oauth_provider:
        cmd += ["--oauth-provider", settings.oauth_provider]
    else:   # each process builds one dashboard page of its own once it listens (workbench/server_setup.py)
        env[WARM_PAGE] = _own_dashboard(address, port)
    if show:
        cmd.append("--show")
    return ServeCommand(cmd + (extra or []), env, cleanup, (address, port))


def resolve_processes(processes: int | None = None, settings: Settings | None = None) -> int:
    """How many ``panel serve`` processes: ``processes`` or ``FLOATCHAT_SERVE_PROCESSES``; 0 = one per
    core this process may run on, at most 8 (each process holds its own warm caches, ~0.7 GB)."""
    n = (settings or get_settings()).serve_processes if processes is None else processes
    if n > 0:
        return n
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, 8))


def serve_commands(port: int = 5006, address: str = "127.0.0.1", admin: bool = False,
                   auth_file: str | Path | None = None, processes: int | None = None,
                   settings: Settings | None = None) -> list[ServeCommand]:
    """One ``panel serve`` command, or ``n`` of them on free 127.0.0.1 ports for :mod:`.router`.

    The processes share one environment (the cookie secret signs logins any of them checks) and one
    basic-auth file; each allows websockets from the public ``address:port`` the router listens on.
    """
    from .db.cluster import free_port

    settings = settings or get_settings()
    n = resolve_processes(processes, settings)
    if n == 1:
        return [serve_command(port, address, admin, auth_file=auth_file, processes=1, settings=settings)]
    first = serve_command(free_port(), "127.0.0.1", admin, auth_file=auth_file, processes=1,
                          settings=settings, public=(address, port))
    out = [first]
    at = first.argv.index("--port") + 1
    for _ in range(n - 1):
        argv, other, env = list(first.argv), free_port(), dict(first.env)
        argv[at] = str(other)
        if WARM_PAGE in env:
            env[WARM_PAGE] = _own_dashboard("127.0.0.1", other)
        out.append(ServeCommand(argv, env, listen=("127.0.0.1", other)))   # temp files: the first's
    return out


def serve(port: int = 5006, address: str = "127.0.0.1", admin: bool = False, show: bool = False,
          auth_file: str | Path | None = None, processes: int | None = None) -> int:
    """Run ``panel serve`` in the foreground until interrupted; with several processes, run
    :class:`.router.SessionRouter` on ``address:port`` in front of them."""
    import signal

    commands = serve_commands(port, address, admin, auth_file=auth_file, processes=processes)
    note = " (login required)" if commands[0].env.get("PANEL_COOKIE_SECRET") else ""
    several = f", {len(commands)} processes" if len(commands) > 1 else ""
    print(f"serving FloatChat on http://{address}:{port}/dashboard{note}{several}  (Ctrl+C to stop)", flush=True)
    if show and len(commands) == 1:
        commands[0].argv.append("--show")
    procs = [subprocess.Popen(sc.argv, env=dict(os.environ, **sc.env)) for sc in commands]
    stopping: list[int] = []

    def forward(signum, frame):   # stopping `floatchat serve` stops every panel serve (no orphans)
        stopping.append(signum)
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        if len(procs) == 1:
            while True:
                try:
                    return procs[0].wait()
                except KeyboardInterrupt:
                    continue
        return _route(procs, commands, address, port, show, stopping)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for sc in commands:
            sc.remove_temp_files()


def _route(procs: list[subprocess.Popen], commands: list[ServeCommand], address: str, port: int,
           show: bool, stopping: list[int]) -> int:
    """The router in this process until a signal arrives or a ``panel serve`` process ends."""
    import asyncio

    from .router import SessionRouter

    apps = {"/", *(f"/{p.stem}" for p in app_paths(True))}
    router = SessionRouter([sc.listen for sc in commands], apps)

    async def main() -> int:
        stop, started = asyncio.Event(), asyncio.Event()
        task = asyncio.ensure_future(router.serve(address, port, started, stop))
        await started.wait()
        if show:
            import webbrowser

            webbrowser.open(f"http://{'127.0.0.1' if address in ('0.0.0.0', '') else address}:{port}/dashboard")
        while not stopping and all(p.poll() is None for p in procs):
            if task.done():
                break
            await asyncio.sleep(0.2)
        stop.set()
        await task
        ended = [p.returncode for p in procs if p.poll() is not None]
        if ended and not stopping:
            log.error("a panel serve process ended (exit %s): stopping the others", ended[0])
        return 0 if stopping else (ended[0] if ended else 1)

    return asyncio.run(main())
