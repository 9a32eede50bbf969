"""Roles and the ``floatchat serve`` command: credentials parsing, the authorization rule,
secrets kept out of argv, the admin gate outside a server."""
from __future__ import annotations

import json
import os
import stat

import pytest

from floatchat_core.config import override
from floatchat_core.serve import load_credentials, serve_command
from workbench.auth import authorize_path, require_admin, role_of

CREDS = {"users": {"ana": "ana-secret-pw", "ben": {"password": "ben-secret-pw", "role": "viewer"}, "cy": "cy-pw"},
         "roles": {"ana": "admin"}}


@pytest.fixture
def creds(tmp_path):
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(CREDS))
    return path


def test_load_credentials_both_shapes(creds):
    c = load_credentials(creds)
    assert c["users"] == {"ana": "ana-secret-pw", "ben": "ben-secret-pw", "cy": "cy-pw"}
    assert c["roles"] == {"ana": "admin", "ben": "viewer"}


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"users": {"x": "pw"}, "roles": {"x": "root"}}), "unknown role"),
    (json.dumps({"users": {"x": ""}}), "non-empty string"),
    (json.dumps({"users": {}}), "defines no users"),
])
def test_bad_credentials_are_named_without_passwords(tmp_path, content, message):
    path = tmp_path / "c.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as exc:
        load_credentials(path)
    assert "pw" not in str(exc.value).replace("pw\"", "")   # never echo a password


def test_roles_gate_the_admin_path(creds):
    with override(auth_file=creds):
        assert role_of("ana") == "admin" and role_of("ben") == "viewer"
        assert role_of("cy") == "viewer"              # no mapping → FLOATCHAT_DEFAULT_ROLE
        assert role_of(None) is None                  # login configured: nobody is nobody
        assert authorize_path("ana", "/admin") and authorize_path("ana", "/admin/ws")
        assert not authorize_path("ben", "/admin") and not authorize_path("ben", "/admin/autoload.js")
        assert not authorize_path(None, "/admin") and not authorize_path(None, "/dashboard")
        assert authorize_path("ben", "/dashboard")
    with override(auth_file=creds, admin_users="cy, dee"):
        assert role_of("cy") == "admin" and role_of("dee") == "admin"
    with override(auth_file=None, default_role="viewer"):
        assert role_of(None) == "viewer" and not authorize_path(None, "/admin")


def test_outside_a_server_the_process_owner_is_admin():
    # in a notebook the user already holds the database credentials
    assert require_admin("upload") is None


def test_serve_command_keeps_secrets_out_of_argv(creds):
    with override(auth_file=None, cookie_secret="cookie-secret-123", serve_processes=1):
        sc = serve_command(port=5999, auth_file=creds)
    try:
        argv = " ".join(sc.argv)
        assert "--basic-auth" in sc.argv and "--setup" in sc.argv
        assert any(p.endswith("admin.py") for p in sc.argv)         # admin app served when login is on
        assert "cookie-secret-123" not in argv and "ana-secret-pw" not in argv
        assert sc.env["PANEL_COOKIE_SECRET"] == "cookie-secret-123"
        assert sc.env["FLOATCHAT_AUTH_FILE"] == str(creds.resolve())
        users_file = sc.argv[sc.argv.index("--basic-auth") + 1]
        assert users_file == users_file.lower()                      # Panel lower-cases this path
        assert json.loads(open(users_file).read()) == {"ana": "ana-secret-pw", "ben": "ben-secret-pw",
                                                       "cy": "cy-pw"}
        assert stat.S_IMODE(os.stat(users_file).st_mode) == 0o600
    finally:
        sc.remove_temp_files()
    assert not os.path.exists(users_file)


def test_serve_command_without_auth_and_with_oauth():
    with override(auth_file=None, oauth_provider=None):
        sc = serve_command(port=5998)
        assert "--basic-auth" not in sc.argv and sc.env == {"FLOATCHAT_WARM_PAGE": "http://127.0.0.1:5998/dashboard"}
        assert not any(p.endswith("admin.py") for p in sc.argv)
    with override(auth_file=None, oauth_provider="github"):
        sc = serve_command(port=5998)
        assert sc.argv[sc.argv.index("--oauth-provider") + 1] == "github"
        assert len(sc.env["PANEL_COOKIE_SECRET"]) >= 32


def test_several_processes_share_one_secret_and_allow_the_public_port(creds):
    """Behind the router: n processes on their own 127.0.0.1 ports, one random cookie secret and one
    users file for all (a login checked by any of them), websockets allowed from the public port."""
    from floatchat_core.serve import resolve_processes, serve_commands

    with override(auth_file=None, cookie_secret=None, serve_processes=3):
        commands = serve_commands(port=5997, address="0.0.0.0", auth_file=creds)
    try:
        assert len(commands) == 3
        ports = {sc.argv[sc.argv.index("--port") + 1] for sc in commands}
        assert len(ports) == 3 and "5997" not in ports
        assert {sc.argv[sc.argv.index("--address") + 1] for sc in commands} == {"127.0.0.1"}
        assert len({sc.env["PANEL_COOKIE_SECRET"] for sc in commands}) == 1
        assert len({sc.argv[sc.argv.index("--basic-auth") + 1] for sc in commands}) == 1
        for sc in commands:
            origins = {sc.argv[i + 1] for i, a in enumerate(sc.argv) if a == "--allow-websocket-origin"}
            assert "0.0.0.0:5997" in origins and "localhost:5997" in origins
            assert sc.argv[sc.argv.index("--num-procs") + 1] == "1"
            assert "FLOATCHAT_WARM_PAGE" not in sc.env          # logins: no page without a user
    finally:
        for sc in commands:
            sc.remove_temp_files()
    with override(serve_processes=1):
        assert len(serve_commands(port=5997)) == 1 and serve_commands(port=5997)[0].argv.count("5997") == 1
    with override(auth_file=None, oauth_provider=None, serve_processes=2):
        # without logins each process warms up with one dashboard page of its own, on itself
        warm = [(sc.listen, sc.env["FLOATCHAT_WARM_PAGE"]) for sc in serve_commands(port=5997, address="0.0.0.0")]
    assert len(warm) == 2 and all(url == f"http://127.0.0.1:{port}/dashboard" for (_, port), url in warm)
    assert resolve_processes(0) == max(1, min(len(os.sched_getaffinity(0)), 8))
    assert resolve_processes(5) == 5


def test_websocket_origins_for_a_server_reached_by_name():
    """On every interface the machine's own names are allowed; FLOATCHAT_ALLOWED_ORIGINS adds
    others (a bare name takes the public port); the default stays local only."""
    import socket

    def origins(sc):
        return {sc.argv[i + 1] for i, a in enumerate(sc.argv) if a == "--allow-websocket-origin"}

    with override(auth_file=None, oauth_provider=None, allowed_origins=""):
        assert origins(serve_command(port=5996)) == {"127.0.0.1:5996", "localhost:5996"}
        assert f"{socket.gethostname()}:5996" in origins(serve_command(port=5996, address="0.0.0.0"))
    with override(auth_file=None, oauth_provider=None, allowed_origins="argo.example.org, proxy.lan:443"):
        got = origins(serve_command(port=5996))
        assert {"argo.example.org:5996", "proxy.lan:443", "localhost:5996"} <= got
