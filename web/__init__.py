"""The Flask application and the composition root that picks every adapter."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, has_app_context, jsonify
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix

from tasks.actors import register_actors
from tasks.broker import build_broker
from tasks.dispatch import Dispatcher, install_outbox_hooks
from tasks.mail import SmtpMailer, SmtpSettings
from tasks.pbx.directory import DirectoryPhoneSystem
from tasks.pbx.kamailio import KamailioPhoneSystem
from tasks.runtime import EXTENSION_KEY, Runtime
from tasks.vault import cipher_for
from web import config
from web.api import init_api
from web.auth import init_auth
from web.errors import register_error_handlers
from web.extensions import db, migrate
from web.input_limits import install_input_limits
from web.ui import init_ui
from workflow.credentials import Vault
from workflow.ports import PhoneSystem
from workflow.provisioning import ProvisioningSettings

logger = logging.getLogger(__name__)

#: The Alembic environment shipped with the package.
MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")

def _directory(settings: Mapping[str, Any]) -> Callable[[Session], PhoneSystem]:
    """The built-in directory, written in the caller's session."""
    return DirectoryPhoneSystem


def _kamailio(settings: Mapping[str, Any]) -> Callable[[Session], PhoneSystem]:
    """Kamailio, through its own database (one pool per process) and JSON-RPC."""
    if not settings["KAMAILIO_DATABASE_URL"]:
        raise ValueError("PHONE_SYSTEM=kamailio needs KAMAILIO_DATABASE_URL")
    pbx = KamailioPhoneSystem(
        create_engine(settings["KAMAILIO_DATABASE_URL"], pool_pre_ping=True),
        settings["SIP_DOMAIN"], settings["KAMAILIO_RPC_URL"],
    )
    return lambda session: pbx


#: Phone-system adapters by the name used in PHONE_SYSTEM.
PHONE_SYSTEMS: dict[str, Callable[[Mapping[str, Any]], Callable[[Session], PhoneSystem]]] = {
    "directory": _directory,
    "kamailio": _kamailio,
}


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment (and `overrides`, for tests)."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(config.from_env())
    app.config.update(overrides or {})
    config.check_secret_key(app.config)
    app.permanent_session_lifetime = timedelta(hours=app.config["SESSION_HOURS"])
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Vietnamese stays readable
    install_input_limits(app)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    with app.app_context():
        _tune_sqlite(db.engine)
    init_auth(app)
    _trust_proxies(app)  # outermost: everything inside sees the client's own address
    init_api(app)
    init_ui(app)
    register_error_handlers(app)
    app.extensions[EXTENSION_KEY] = _build_runtime(app)
    app.add_url_rule("/healthz", "healthz", healthz)
    return app


def _trust_proxies(app: Flask) -> None:
    """Take the client's address and scheme from the TRUSTED_PROXIES reverse proxies in front.

    Without it, behind a proxy every client would share the proxy's address (one sign-in
    throttle for the whole office); with it set wrongly, clients could pick their address.
    """
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def _engine_options(settings: dict[str, Any]) -> dict[str, Any]:
    """Connection pool settings per database."""
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_size": 10, "max_overflow": 10, "pool_recycle": 1800}


def _tune_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout and foreign keys on every SQLite connection."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(connection: Any, record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _build_runtime(app: Flask) -> Runtime:
    """Pick the broker, phone system and mailer from configuration."""
    settings = app.config
    broker = build_broker(app, settings["REDIS_URL"])
    register_actors(broker)
    dispatcher = Dispatcher(broker)
    install_outbox_hooks(FlaskSession, dispatcher_of_current_app)
    if settings["PHONE_SYSTEM"] not in PHONE_SYSTEMS:
        raise ValueError(f"PHONE_SYSTEM must be one of {sorted(PHONE_SYSTEMS)}, "
                         f"not {settings['PHONE_SYSTEM']!r}")
    phone_system = PHONE_SYSTEMS[settings["PHONE_SYSTEM"]](settings)
    mailer = None
    if settings["MAIL_SERVER"]:
        mailer = SmtpMailer(SmtpSettings(
            server=settings["MAIL_SERVER"], port=settings["MAIL_PORT"],
            username=settings["MAIL_USERNAME"], password=settings["MAIL_PASSWORD"],
            use_tls=settings["MAIL_USE_TLS"], sender=settings["MAIL_DEFAULT_SENDER"],
            base_url=settings["BASE_URL"], timezone=settings["TIMEZONE"],
        ))

    return Runtime(
        broker=broker,
        dispatcher=dispatcher,
        session=lambda: db.session(),
        phone_system=phone_system,
        mailer=mailer,
        provisioning=ProvisioningSettings(
            vault=Vault(cipher_for(settings["CREDENTIAL_KEYS"], settings["SECRET_KEY"]),
                        settings["SIP_DOMAIN"],
                        timedelta(hours=settings["CREDENTIAL_LINK_HOURS"])),
            lease=timedelta(seconds=settings["PROVISION_LEASE_SECONDS"]),
            max_attempts=settings["PROVISION_MAX_ATTEMPTS"],
            retry_backoff=timedelta(seconds=settings["PROVISION_RETRY_SECONDS"]),
            batch=settings["PROVISION_BATCH"],
        ),
        relay_grace=timedelta(seconds=settings["RELAY_GRACE_SECONDS"]),
        relay_interval=settings["RELAY_INTERVAL_SECONDS"],
        timezone=settings["TIMEZONE"],
    )


def dispatcher_of_current_app() -> Dispatcher | None:
    """The dispatcher of the app whose context is active (None outside any)."""
    if not has_app_context():
        return None
    runtime: Runtime = current_app.extensions[EXTENSION_KEY]
    return runtime.dispatcher


def healthz() -> tuple[Response, int]:
    """Liveness and database reachability."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        logger.warning("health check failed: %s", error)
        return jsonify({"status": "unavailable"}), 503
    return jsonify({"status": "ok"}), 200
