"""Configuration: the only place that reads environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: Where the embedded default keeps its SQLite file.
INSTANCE_DIR = Path(os.environ.get("AGENTDESK_INSTANCE", Path.cwd() / "instance"))


#: The signing key of the embedded default when SECRET_KEY is unset: public, for trials only.
TRIAL_SECRET_KEY = "dev-only-change-me"
#: The shortest SECRET_KEY production accepts (`secrets.token_urlsafe(32)` gives 43).
MIN_SECRET_KEY_LENGTH = 32


class ConfigurationError(ValueError):
    """A setting that makes the app unsafe or unable to run; the message says how to fix it."""


def is_trial(settings: dict[str, Any]) -> bool:
    """Whether this is the embedded default (SQLite, in-process worker): a trial, not production."""
    return (str(settings["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite")
            and not settings.get("REDIS_URL"))


def check_secret_key(settings: dict[str, Any]) -> None:
    """Refuse to run production without a strong SECRET_KEY of its own.

    The key signs session cookies and, without CREDENTIAL_KEYS, seals SIP passwords: with the
    public default anyone could forge an admin's cookie.
    """
    key = str(settings.get("SECRET_KEY") or "")
    if settings.get("TESTING") or is_trial(settings):
        return
    if key == TRIAL_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigurationError(
            f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY_LENGTH} "
            "characters, the same for the web, the workers and the relay (e.g. the output of "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`). Only the "
            "embedded default (SQLite without REDIS_URL), which is for trials, runs without it.")


def database_url(raw: str | None) -> str:
    """The SQLAlchemy URL for `raw`, with psycopg 3 for PostgreSQL."""
    if not raw:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{INSTANCE_DIR / 'agentdesk.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def _seconds(raw: str | None) -> float | None:
    """A number of seconds, or None when unset."""
    return float(raw) if raw else None


def _flag(name: str, default: str = "0") -> bool:
    """A boolean environment variable."""
    return os.environ.get(name, default).lower() in {"1", "true", "yes", "on"}


def from_env() -> dict[str, Any]:
    """Every setting agentdesk reads, from the environment, with defaults."""
    env = os.environ.get
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(env("DATABASE_URL")),
        "REDIS_URL": env("REDIS_URL") or None,
        "SECRET_KEY": env("SECRET_KEY", TRIAL_SECRET_KEY),
        "PHONE_SYSTEM": env("PHONE_SYSTEM", "directory"),
        "KAMAILIO_DATABASE_URL": database_url(env("KAMAILIO_DATABASE_URL"))
        if env("KAMAILIO_DATABASE_URL") else None,
        "KAMAILIO_RPC_URL": env("KAMAILIO_RPC_URL", "http://127.0.0.1:5081/RPC"),
        "SIP_DOMAIN": env("SIP_DOMAIN", "agentdesk.local"),
        "CREDENTIAL_KEYS": env("CREDENTIAL_KEYS") or None,
        "CREDENTIAL_LINK_HOURS": float(env("CREDENTIAL_LINK_HOURS", "72")),
        "BASE_URL": env("BASE_URL", "http://localhost:5000"),
        "PROVISIONING_LINK_SECONDS": float(env("PROVISIONING_LINK_SECONDS", "900")),
        "PROVISIONING_TRANSPORT": env("PROVISIONING_TRANSPORT", "udp").lower(),
        # Where set-up phones send SIP (host[:port]); unset: the SIP domain itself.
        "PROVISIONING_PROXY": env("PROVISIONING_PROXY") or None,
        "MAIL_SERVER": env("MAIL_SERVER") or None,
        "MAIL_PORT": int(env("MAIL_PORT", "25")),
        "MAIL_USERNAME": env("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS"),
        "MAIL_DEFAULT_SENDER": env("MAIL_DEFAULT_SENDER", "agentdesk@localhost"),
        "PROVISION_LEASE_SECONDS": float(env("PROVISION_LEASE_SECONDS", "60")),
        "PROVISION_MAX_ATTEMPTS": int(env("PROVISION_MAX_ATTEMPTS", "5")),
        "PROVISION_RETRY_SECONDS": float(env("PROVISION_RETRY_SECONDS", "2")),
        "PROVISION_BATCH": int(env("PROVISION_BATCH", "20")),
        "RELAY_GRACE_SECONDS": float(env("RELAY_GRACE_SECONDS", "10")),
        # Unset: 10 s on PostgreSQL (emails wake the relay), 1 s on SQLite (it polls).
        "RELAY_INTERVAL_SECONDS": _seconds(env("RELAY_INTERVAL_SECONDS")),
        "WORKER_POLL_MS": int(env("WORKER_POLL_MS", "1000")),
        "WORKER_THREADS": int(env("WORKER_THREADS", "4")),
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
        "FORCE_HTTPS": _flag("FORCE_HTTPS"),
        "TIMEZONE": env("TIMEZONE", "Asia/Ho_Chi_Minh"),
        "LOGIN_FAILURES_PER_ADDRESS": env("LOGIN_FAILURES_PER_ADDRESS", "30 per 10 minutes"),
        "LOGIN_FAILURES_PER_ACCOUNT": env("LOGIN_FAILURES_PER_ACCOUNT", "10 per 10 minutes"),
        # How long a web process may trust a bearer token's identity it read, on PostgreSQL
        # (a change to users, tokens or refusals makes it forget at once); 0: never.
        "BEARER_IDENTITY_SECONDS": float(env("BEARER_IDENTITY_SECONDS", "30")),
        "TRUSTED_PROXIES": int(env("TRUSTED_PROXIES", "0")),
        "SESSION_HOURS": float(env("SESSION_HOURS", "12")),
        # How long the devices registered on the phone system are reused across pages.
        "REGISTRATIONS_CACHE_SECONDS": float(env("REGISTRATIONS_CACHE_SECONDS", "5")),
        # How long a page's last calls read from the phone system are reused for that page.
        "LAST_CALLS_CACHE_SECONDS": float(env("LAST_CALLS_CACHE_SECONDS", "5")),
        # How long /readyz waits for each dependency before calling it unavailable.
        "READINESS_TIMEOUT_SECONDS": float(env("READINESS_TIMEOUT_SECONDS", "2")),
        # How long one check of /readyz and one reading of /metrics' database gauges serve
        # every caller: a flood of probes makes one check a second, not one per request.
        "PROBE_CACHE_SECONDS": float(env("PROBE_CACHE_SECONDS", "1")),
        "WEBPHONE_SECRET": env("WEBPHONE_SECRET") or None,
        "WEBPHONE_CREDENTIAL_SECONDS": int(env("WEBPHONE_CREDENTIAL_SECONDS", "3600")),
        "WEBPHONE_WS_URL": env("WEBPHONE_WS_URL") or None,
        # When set, `/metrics` answers only requests bearing this token.
        "METRICS_TOKEN": env("METRICS_TOKEN") or None,
    }
