"""Roles (``admin``, ``viewer``) enforced on the server: the authorization callback that guards
``/admin`` and the check every admin action makes. Never logs passwords or cookies.

Credentials file (``floatchat serve --auth credentials.json`` / ``FLOATCHAT_AUTH_FILE``)::

    {"users": {"ana": "a-long-password", "ben": "another-one"},
     "roles": {"ana": "admin", "ben": "viewer"}}

``users`` may also map a name to ``{"password": ..., "role": ...}``. Users without a role get
``FLOATCHAT_DEFAULT_ROLE`` (``viewer``); names in ``FLOATCHAT_ADMIN_USERS`` are admins (OAuth).

>>> from workbench.auth import authorize_path
>>> authorize_path("ben", "/admin", roles={"ben": "viewer"})
False
"""
from __future__ import annotations

import logging
from typing import Any

from floatchat_core.config import Settings, get_settings
from floatchat_core.serve import ROLES, load_credentials

log = logging.getLogger(__name__)

#: URL paths (app names) only admins may open.
ADMIN_PATHS = ("/admin",)


class AuthorizationError(PermissionError):
    """The current user may not do this (an admin action by a viewer, or no login)."""


def role_mapping(settings: Settings | None = None) -> dict[str, str]:
    """User → role from the credentials file and ``FLOATCHAT_ADMIN_USERS``."""
    settings = settings or get_settings()
    roles: dict[str, str] = {}
    if settings.auth_file:
        try:
            roles.update(load_credentials(settings.auth_file)["roles"])
        except ValueError as exc:
            log.error("auth.credentials_unreadable %s", exc)
    for name in filter(None, (n.strip() for n in settings.admin_users.split(","))):
        roles[name] = "admin"
    return roles


def role_of(user: str | None, roles: dict[str, str] | None = None, settings: Settings | None = None) -> str | None:
    """The role of a logged-in ``user``; ``None`` when nobody is logged in and no default applies."""
    settings = settings or get_settings()
    roles = role_mapping(settings) if roles is None else roles
    if user is None or user == "guest":
        return settings.default_role if not (settings.auth_file or settings.oauth_provider) else None
    return roles.get(user, settings.default_role)


def _user_name(user_info: dict[str, Any] | None) -> str | None:
    if not user_info:
        return None
    for key in ("user", "login", "preferred_username", "username", "email", "name"):
        if user_info.get(key):
            return str(user_info[key])
    return None


def authorize_path(user: str | None, path: str, roles: dict[str, str] | None = None,
                   settings: Settings | None = None) -> bool:
    """May ``user`` open the app at URL ``path``? Admin apps need the ``admin`` role."""
    role = role_of(user, roles, settings)
    clean = "/" + path.strip("/").split("/")[0] if path else "/"
    if clean in ADMIN_PATHS:
        return role == "admin"
    return role in ROLES


def authorize(user_info: dict[str, Any] | None, path: str) -> bool:
    """``pn.config.authorize_callback``: refuses ``/admin`` (page and websocket) to non-admins."""
    import panel as pn

    user = _user_name(user_info) or pn.state.user
    ok = authorize_path(user, path)
    if not ok:
        log.warning("auth.refused user=%s path=%s", user, path)
    return ok


def current_user() -> str | None:
    """The logged-in user of this Panel session (``None`` in notebooks or without login)."""
    import panel as pn

    try:
        return pn.state.user
    except Exception:   # no session context (plain Python)
        return None


def current_role(settings: Settings | None = None) -> str | None:
    """Role of the current session's user.

    Under ``panel serve`` the login decides; in a notebook or plain Python the person running
    the process already holds the database credentials, so they act as ``admin``.
    """
    if not in_server_session():
        return "admin"
    return role_of(current_user(), settings=settings)


def in_server_session() -> bool:
    """True inside a Bokeh/Panel server session (``panel serve``), False in notebooks and scripts.

    (``pn.state.served`` inspects the *calling* module's name, so it is False when called from a
    library module even under ``panel serve``; the session context is what tells.)
    """
    import panel as pn

    doc = pn.state.curdoc
    return doc is not None and getattr(doc, "session_context", None) is not None


def require_admin(action: str, settings: Settings | None = None) -> str | None:
    """Raise :class:`AuthorizationError` unless the current user is an admin; return the user."""
    role = current_role(settings)
    user = current_user()
    if role != "admin":
        log.warning("auth.admin_action_refused user=%s action=%s", user, action)
        raise AuthorizationError(f"{action} needs the admin role (you are {user or 'not logged in'}"
                                 f"{', ' + role if role else ''})")
    return user
