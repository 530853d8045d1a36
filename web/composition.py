"""The composition root: one function picks every adapter and builds the Runtime.

Both processes start here: `create_app()` (pages and API) and the Dramatiq worker's entry,
which builds the same app core without loading a single view. The web reaches the adapters
it needs (the Vault, the phone system) through the accessors below, never through `tasks`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tasks.actors import register_actors
from tasks.broker import build_broker
from tasks.dispatch import Dispatcher, install_outbox_hooks
from tasks.mail import SmtpMailer, SmtpSettings
from tasks.metrics import CountingMailer, WorkerMetrics
from tasks.pbx.directory import DirectoryPhoneSystem
from tasks.pbx.kamailio import KamailioPhoneSystem
from tasks.runtime import EXTENSION_KEY, Runtime, runtime
from tasks.vault import cipher_for
from tasks.wakeups import listen_url
from web import config
from web.extensions import db
from workflow.credentials import Vault
from workflow.ports import Mailer, PhoneSystem
from workflow.tickets.provisioning import ProvisioningSettings


@dataclass(frozen=True)
class PhoneSystemChoice:
    """A phone-system adapter as PHONE_SYSTEM names it."""

    #: Builds the adapter from the settings; the result binds it to a session.
    build: Callable[[Mapping[str, Any]], Callable[[Session], PhoneSystem]]
    #: Whether it writes in agentdesk's own transaction, so that one worker message may
    #: complete PROVISION_BATCH tickets in one commit (an outside switchboard takes one).
    shares_transaction: bool


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
PHONE_SYSTEMS: dict[str, PhoneSystemChoice] = {
    "directory": PhoneSystemChoice(_directory, shares_transaction=True),
    "kamailio": PhoneSystemChoice(_kamailio, shares_transaction=False),
}


#: The relay's default interval where NOTIFY wakes it for emails (PostgreSQL): only the
#: safety nets (re-sending, sweeping, expiring, emails that failed) wait for it, and each pass
#: is most of an idle relay's CPU (about 15 round trips).
LISTENING_RELAY_INTERVAL = 10.0
#: Its default interval where it polls for everything (SQLite).
POLLING_RELAY_INTERVAL = 1.0


class AgentdeskFlask(Flask):
    """Flask, remembering which hooks and views are coroutines: it asks for every one of them
    on every request (about twenty), and the answer never changes."""

    #: Functions remembered at most (hooks and views are a fixed set; anything beyond is
    #: simply asked again).
    MAX_REMEMBERED = 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._as_sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return self._as_sync[func]
        except KeyError:
            pass
        except TypeError:  # unhashable
            return super().ensure_sync(func)
        sync = super().ensure_sync(func)
        if len(self._as_sync) < self.MAX_REMEMBERED:
            self._as_sync[func] = sync
        return sync


def create_core_app(overrides: dict[str, Any] | None = None) -> Flask:
    """The app the workers run in: configuration, database and Runtime, no pages."""
    app = AgentdeskFlask("web", instance_relative_config=False)
    app.config.update(config.from_env())
    app.config.update(overrides or {})
    config.check_secret_key(app.config)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config)
    db.init_app(app)
    with app.app_context():
        _tune_sqlite(db.engine)
    app.extensions[EXTENSION_KEY] = build_runtime(app)
    return app


def build_runtime(app: Flask) -> Runtime:
    """Pick the broker, phone system, mailer and Vault from `app`'s configuration."""
    settings = app.config
    broker = build_broker(app, settings["REDIS_URL"])
    register_actors(broker)
    broker.add_middleware(WorkerMetrics(settings["PHONE_SYSTEM"]))
    dispatcher = Dispatcher(broker)
    install_outbox_hooks(FlaskSession, dispatcher_of_current_app)
    if settings["PHONE_SYSTEM"] not in PHONE_SYSTEMS:
        raise ValueError(f"PHONE_SYSTEM must be one of {sorted(PHONE_SYSTEMS)}, "
                         f"not {settings['PHONE_SYSTEM']!r}")
    phone = PHONE_SYSTEMS[settings["PHONE_SYSTEM"]]
    listen = listen_url(settings["SQLALCHEMY_DATABASE_URI"])
    return Runtime(
        broker=broker,
        dispatcher=dispatcher,
        session=lambda: db.session(),
        phone_system=phone.build(settings),
        mailer=_mailer(settings),
        provisioning=ProvisioningSettings(
            vault=Vault(cipher_for(settings["CREDENTIAL_KEYS"], settings["SECRET_KEY"]),
                        settings["SIP_DOMAIN"],
                        timedelta(hours=settings["CREDENTIAL_LINK_HOURS"])),
            lease=timedelta(seconds=settings["PROVISION_LEASE_SECONDS"]),
            max_attempts=settings["PROVISION_MAX_ATTEMPTS"],
            retry_backoff=timedelta(seconds=settings["PROVISION_RETRY_SECONDS"]),
            batch=settings["PROVISION_BATCH"] if phone.shares_transaction else 1,
        ),
        relay_grace=timedelta(seconds=settings["RELAY_GRACE_SECONDS"]),
        relay_interval=_relay_interval(settings["RELAY_INTERVAL_SECONDS"], listen),
        timezone=settings["TIMEZONE"],
        listen_url=listen,
    )


def _relay_interval(setting: float | None, listen: str | None) -> float:
    """RELAY_INTERVAL_SECONDS, by default 10 s where the relay is woken for emails, else 1 s."""
    if setting is not None:
        return setting
    return LISTENING_RELAY_INTERVAL if listen else POLLING_RELAY_INTERVAL


def _mailer(settings: Mapping[str, Any]) -> Mailer | None:
    """SMTP when MAIL_SERVER is set; None keeps emails pending."""
    if not settings["MAIL_SERVER"]:
        return None
    return CountingMailer(SmtpMailer(SmtpSettings(
        server=settings["MAIL_SERVER"], port=settings["MAIL_PORT"],
        username=settings["MAIL_USERNAME"], password=settings["MAIL_PASSWORD"],
        use_tls=settings["MAIL_USE_TLS"], sender=settings["MAIL_DEFAULT_SENDER"],
        base_url=settings["BASE_URL"], timezone=settings["TIMEZONE"],
    )))


def vault(app: Flask) -> Vault:
    """The Vault the composition root gave `app` (seals SIP and trunk passwords)."""
    return runtime(app).provisioning.vault


def phone_system(app: Flask, session: Session) -> PhoneSystem:
    """The phone system the composition root picked for `app`, bound to `session`."""
    return runtime(app).phone_system(session)


def dispatcher_of_current_app() -> Dispatcher | None:
    """The dispatcher of the app whose context is active (None outside any)."""
    if not has_app_context():
        return None
    return runtime(current_app).dispatcher


def _engine_options(settings: Mapping[str, Any]) -> dict[str, Any]:
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
