"""The `agentdesk` command: Flask's CLI plus serve, worker, relay, seed-demo, users, tokens,
pbx."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade

from tasks.logs import configure_logging
from tasks.pbx import certificate as tls_certificate
from tasks.runtime import runtime
from web import create_app
from web.access_log import ACCESS_LOGGER, AccessLog
from web.auth import hash_password
from web.config import ConfigurationError, is_trial
from web.extensions import db
from web.messages import render
from workflow.agents import reconcile
from workflow.calling import gateways, trunks
from workflow.demo.seed import seed_demo
from workflow.domain.errors import RuleViolation, WorkflowError
from workflow.domain.routing import RoutingType
from workflow.domain.rules import Role
from workflow.people.accounts import create_token, save_user
from workflow.ports import PhoneAccount


def _make_app() -> Flask:
    """The app from the environment; a setting that makes it unsafe stops the command."""
    try:
        return create_app()
    except ConfigurationError as error:
        click.echo(f"agentdesk: {error}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_make_app, add_version_option=False)
def cli() -> None:
    """agentdesk: agent account setup tickets, approvals and provisioning."""


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int, threads: int) -> None:
    """Apply migrations and serve; without REDIS_URL also run the worker and relay here."""
    import waitress

    from tasks.embedded import EmbeddedWorkers

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    upgrade()
    # After the migrations, whose logging setup raises the root logger to WARN: JSON lines,
    # one per request among them.
    configure_logging(logging.WARNING)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
    for name in ("tasks", "web", "workflow"):
        logging.getLogger(name).setLevel(logging.INFO)
    embedded = None
    if not app.config["REDIS_URL"]:
        embedded = EmbeddedWorkers(app)
        embedded.start()
    click.echo(f"agentdesk on http://{host}:{port} "
               f"({'embedded worker' if embedded else 'web only, workers via Redis'})")
    if is_trial(app.config):
        click.echo("This is the embedded default (SQLite, in-process worker), for trials: "
                   "production runs PostgreSQL and Redis with its own SECRET_KEY (see README).")
    try:
        waitress.serve(AccessLog(app), host=host, port=port, threads=threads, ident="agentdesk")
    finally:
        if embedded is not None:
            embedded.stop()


@cli.command("worker", context_settings={"ignore_unknown_options": True})
@click.option("--processes", "-p", default=2, show_default=True, type=int)
@click.option("--threads", "-t", default=4, show_default=True, type=int)
@click.argument("dramatiq_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def worker(processes: int, threads: int, dramatiq_args: tuple[str, ...]) -> None:
    """Run Dramatiq workers for every queue (needs REDIS_URL)."""
    if not current_app.config["REDIS_URL"]:
        raise click.UsageError("REDIS_URL is not set: `agentdesk serve` runs the worker itself")
    env = dict(os.environ)
    # Dramatiq reads its idle wait at import. Consumers wake on each new message, so the
    # wait only bounds how late a due retry and the heartbeat can be.
    env.setdefault("dramatiq_worker_timeout", str(current_app.config["WORKER_POLL_MS"]))
    argv = [sys.executable, "-m", "tasks.worker_cli", "tasks.worker", "--processes", str(processes),
            "--threads", str(threads), *dramatiq_args]
    os.execve(sys.executable, argv, env)


@cli.command("relay")
@with_appcontext
def relay() -> None:
    """Re-send unprocessed outbox messages and stuck tickets, forever."""
    from tasks.relay import wait_forever

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    configure_logging()
    wait_forever(current_app._get_current_object())  # type: ignore[attr-defined]


@cli.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Apply migrations, then create the demo organisation, its users (password: demo), its
    agents and tickets."""
    upgrade()
    deps = runtime(current_app)
    seed_demo(db.session(), hash_password("demo"), deps.phone_system, deps.provisioning)
    click.echo("demo data ready: requester@demo.vn, approver@demo.vn, admin@demo.vn / demo")


@cli.group("users")
def users() -> None:
    """Manage users."""


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--branch", "branches", type=int, multiple=True,
              help="Branch an approver decides for (repeat; none = all branches).")
@click.option("--name", default=None)
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from standard input.")
@with_appcontext
def create_user(email: str, role: str, branches: tuple[int, ...], name: str | None,
                password_stdin: bool) -> None:
    """Create or update a user."""
    password = sys.stdin.readline().rstrip("\n")
    if len(password) < 4:
        raise click.UsageError("the password must have at least 4 characters")
    try:
        user = save_user(db.session(), email, Role(role), hash_password(password), name,
                         list(branches))
    except WorkflowError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"user {user.id} {user.email} ({user.role})")


@cli.group("tokens")
def tokens() -> None:
    """Manage API tokens."""


@tokens.command("create")
@click.argument("email")
@with_appcontext
def create_api_token(email: str) -> None:
    """Print a new bearer token for EMAIL (shown once)."""
    try:
        click.echo(create_token(db.session(), email))
    except WorkflowError as error:
        raise click.ClickException(f"no active user {email}") from error


@cli.group("pbx")
def pbx() -> None:
    """The phone system."""


@pbx.command("reconcile")
@click.option("--repair", is_flag=True, help="Make the phone system match the agent list.")
@with_appcontext
def reconcile_command(repair: bool) -> None:
    """List where the phone system differs from the agent list (exit 1 if it does)."""
    deps = runtime(current_app)
    session = deps.session()
    phone = deps.phone_system(session)
    found = reconcile.differences(session, phone)
    for difference in found:
        click.echo(f"{difference.drift.value:9} {difference.sip_username}: "
                   f"expected {_describe(difference.expected)}, "
                   f"phone system has {_describe(difference.actual)}")
    if repair and found:
        reconcile.repair(session, phone, deps.provisioning.vault, found)
        session.commit()  # new passwords, and the built-in directory's writes
        found = reconcile.differences(session, phone)
        click.echo(f"repaired; {len(found)} differences left")
    if found:
        raise SystemExit(1)
    click.echo("the phone system matches the agent list")


@pbx.command("certificate")
@click.option("--host", default=None,
              help="The name phones reach the proxy by (default: SIP_DOMAIN, if set).")
@click.option("--ip", "addresses", multiple=True,
              help="An IP address phones may use instead of the name (repeatable).")
@click.option("--days", default=365, show_default=True, type=int, help="Days it is valid.")
@click.option("--certificate", "certificate_path", type=click.Path(path_type=Path),
              default=tls_certificate.DEFAULT_CERTIFICATE, show_default=True)
@click.option("--private-key", "key_path", type=click.Path(path_type=Path),
              default=tls_certificate.DEFAULT_PRIVATE_KEY, show_default=True)
@click.option("--force", is_flag=True, help="Replace existing files.")
def certificate_command(host: str | None, addresses: tuple[str, ...], days: int,
                        certificate_path: Path, key_path: Path, force: bool) -> None:
    """Make a self-signed certificate and key for Kamailio's SIP-over-TLS listener."""
    # SIP_DOMAIN as the app reads it (environment or .env); without it the name is required.
    host = host or os.environ.get("SIP_DOMAIN") or None
    if not host:
        raise click.UsageError("--host is required when SIP_DOMAIN is not set")
    try:
        written = tls_certificate.write_certificate(host, addresses, days, certificate_path,
                                                    key_path, force)
    except tls_certificate.CertificateError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"certificate: {written.certificate}")
    click.echo(f"private key: {written.private_key} (mode 0600: make it readable by the "
               "user Kamailio runs as, e.g. chown kamailio)")
    click.echo("start Kamailio with: " + " ".join(written.kamailio_defines()))

@pbx.group("trunks")
def trunks_group() -> None:
    """Carrier trunks (the same rules and audit as the admin pages; the actor is "system")."""


def _trunk_options(function: Callable[..., None]) -> Callable[..., None]:
    """The settings `add` and `set` take (a password only from standard input)."""
    options = [
        click.option("--name"), click.option("--address", help="The carrier's IP address."),
        click.option("--number", help="The trunk's main number."),
        click.option("--port", type=int), click.option("--transport", type=click.Choice(
            trunks.TRANSPORTS)),
        click.option("--format", "number_format", type=click.Choice(trunks.NUMBER_FORMATS)),
        click.option("--position", type=int, help="Order tried in: 1 first."),
        click.option("--username", help="Digest username towards the carrier ('' removes)."),
        click.option("--realm"),
        click.option("--password-stdin", is_flag=True, help="Read the password from stdin."),
        click.option("--enabled/--disabled", default=None),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@trunks_group.command("list")
@with_appcontext
def list_trunks_command() -> None:
    """Every trunk in the order tried (passwords only as set / not set)."""
    for row in gateways.list_trunks(runtime(current_app).session()):
        click.echo(f"{row.position:3} {row.name}: {row.address}:{row.port}/{row.transport}, "
                   f"{row.number} ({row.number_format}), "
                   f"{'user ' + row.auth_username if row.auth_username else 'no credentials'}"
                   f"{', password set' if row.auth_password_sealed else ''}, "
                   f"{'enabled' if row.enabled else 'disabled'}")


@trunks_group.command("add")
@_trunk_options
@with_appcontext
def add_trunk(**given: Any) -> None:
    """Add a trunk (--name, --address and --number are needed)."""
    _save_trunk(None, given)


@trunks_group.command("set")
@click.argument("trunk")
@_trunk_options
@with_appcontext
def set_trunk(trunk: str, **given: Any) -> None:
    """Change the settings given of TRUNK (its name or id)."""
    _save_trunk(trunk, given)


@trunks_group.command("remove")
@click.argument("trunk")
@with_appcontext
def remove_trunk(trunk: str) -> None:
    """Remove TRUNK (its name or id)."""
    session = runtime(current_app).session()
    try:
        trunks.delete_trunk(session, None, trunks.find_trunk(session, trunk).id)
    except WorkflowError as error:
        raise click.ClickException(_refusal(error)) from None
    click.echo(f"trunk {trunk} removed")


def _save_trunk(name_or_id: str | None, given: dict[str, Any]) -> None:
    """Add (no name) or change a trunk with the options given; refusals by field."""
    deps = runtime(current_app)
    session = deps.session()
    password = sys.stdin.readline().rstrip("\n") if given.pop("password_stdin") else ""
    renamed = {"username": "auth_username", "realm": "auth_realm"}
    values = {renamed.get(key, key): value for key, value in given.items() if value is not None}
    try:
        row = trunks.find_trunk(session, name_or_id) if name_or_id else None
        base = trunks.input_of(row).__dict__ if row else {"name": "", "address": "",
                                                          "number": ""}
        data = trunks.TrunkInput(**{**base, **values, "auth_password": password})
        saved = trunks.save_trunk(session, None, deps.provisioning.vault.cipher, data,
                                  row.id if row else None)
    except WorkflowError as error:
        raise click.ClickException(_refusal(error)) from None
    click.echo(f"trunk {saved.id} {saved.name} at position {saved.position}")


def _refusal(error: WorkflowError) -> str:
    """A refusal in English, field by field."""
    if isinstance(error, RuleViolation):
        return "; ".join(f"{name}: {render(problem.code, problem.params, 'en')}"
                         for name, problems in error.problems.items() for problem in problems)
    return render(error.code, error.params, "en")


def _describe(account: PhoneAccount | None) -> str:
    """An account in one line."""
    if account is None:
        return "nothing"
    routing = account.routing
    where = ("App and Web" if routing.type is RoutingType.APP_WEB
             else f"{routing.priority_number} then {routing.backup_number}")
    calling = account.calling
    rules = ("no calling rules" if calling is None else
             f"calling {'+'.join(sorted(each.value for each in calling.classes))}"
             f", out {'on' if calling.outgoing else 'off'}")
    return f"extension {account.extension or '-'} ringing {where}, {rules}"


def main() -> None:
    """Console-script entry point."""
    cli()
