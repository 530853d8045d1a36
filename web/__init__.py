"""The Flask application: the app core from the composition root, plus pages and API."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from web.auth import init_auth
from web.composition import create_core_app
from web.errors import register_error_handlers
from web.extensions import db, migrate
from web.health import init_health
from web.input_limits import install_input_limits
from web.metrics import init_metrics
from web.request_id import RequestId

logger = logging.getLogger(__name__)

#: The Alembic environment shipped with the package.
MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment (and `overrides`, for tests)."""
    # Imported here, not at the top: the worker's entry imports this package for its
    # composition root and must not load the views.
    from web.api import init_api
    from web.ui import init_ui

    app = create_core_app(overrides)
    init_metrics(app)  # first: its timer covers every other hook
    app.permanent_session_lifetime = timedelta(hours=app.config["SESSION_HOURS"])
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Vietnamese stays readable
    install_input_limits(app)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.session_interface = SessionCookies()
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    init_auth(app)
    _trust_proxies(app)  # outermost: everything inside sees the client's own address
    init_api(app)
    init_ui(app)
    register_error_handlers(app)
    init_health(app)
    app.wsgi_app = RequestId(app.wsgi_app)  # type: ignore[method-assign]
    return app


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookies, with the signer built once per set of keys rather than
    on every request (most of which, API calls with a bearer token, carry no cookie)."""

    def __init__(self) -> None:
        self._signers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if keys not in self._signers:
            self._signers[keys] = super().get_signing_serializer(app)
        return self._signers[keys]


def _trust_proxies(app: Flask) -> None:
    """Take the client's address and scheme from the TRUSTED_PROXIES reverse proxies in front.

    Without it, behind a proxy every client would share the proxy's address (one sign-in
    throttle for the whole office); with it set wrongly, clients could pick their address.
    """
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

