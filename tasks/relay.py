"""The outbox relay and the stale-work sweeper: what guarantees nothing promised is lost."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from flask import Flask

from tasks.metrics import relay_duty
from tasks.runtime import Runtime, runtime
from workflow import credentials, outbox
from workflow.agents import credential_letters
from workflow.calling import sync
from workflow.models import utcnow
from workflow.tickets import notifications
from workflow.tickets.notifications import EMAIL_MAX_AGE

logger = logging.getLogger(__name__)


def relay_once(deps: Runtime) -> int:
    """Re-send outbox rows that no worker has done within the grace period."""
    session = deps.session()
    rows = outbox.claim_due_messages(session, deps.relay_grace)
    sent = 0
    for row in rows:
        if not deps.dispatcher.send(row.actor_name, row.args, row.request_id):
            break
        row.last_sent_at = utcnow()
        row.send_count += 1
        sent += 1
    session.commit()
    if sent:
        logger.info("relay re-sent %s outbox message(s)", sent)
    return sent


def sweep_once(deps: Runtime) -> int:
    """Re-send provisioning for tickets stuck in approved or past their lease, and syncs."""
    session = deps.session()
    stuck = outbox.stuck_ticket_ids(session, deps.relay_grace * 2)
    syncs = sync.stuck_syncs(session, deps.relay_grace * 2)
    session.commit()
    sent = sum(deps.dispatcher.send(outbox.PROVISION_ACTOR, [ticket_id]) for ticket_id in stuck)
    sent += sum(deps.dispatcher.send(sync.SYNC_ACTOR, [sync_id]) for sync_id in syncs)
    if sent:
        logger.info("sweeper re-sent %s stuck ticket(s) or calling sync(s)", sent)
    return sent


def email_once(deps: Runtime) -> int:
    """Email the notices that have not been emailed yet (when a mail server is configured)."""
    if deps.mailer is None:
        return 0
    sent = notifications.email_pending(deps.session(), deps.mailer, EMAIL_MAX_AGE)
    if sent:
        logger.info("emailed %s notification(s)", sent)
    return sent


def expire_once(deps: Runtime) -> int:
    """Wipe the SIP passwords whose link ran out unseen."""
    session = deps.session()
    expired = credentials.expire(session)
    session.commit()
    if expired:
        logger.info("%s SIP password(s) expired unseen", expired)
    return expired


def letters_once(deps: Runtime) -> int:
    """Email the one-time links to new SIP passwords (when a mail server is configured)."""
    if deps.mailer is None:
        return 0
    sent = credential_letters.email_links(deps.session(), deps.mailer)
    if sent:
        logger.info("emailed %s SIP password link(s)", sent)
    return sent


#: What one pass of the relay does, each duty on its own: one failing stops no other.
DUTIES: tuple[Callable[[Runtime], int], ...] = (
    relay_once, sweep_once, email_once, letters_once, expire_once,
)


def run_pass(app: Flask, deps: Runtime) -> None:
    """Run every duty once, each in its own app context (so its own database session).

    A duty that fails, for whatever reason (the database or Redis restarting, a bug, bad
    data), is logged with its name and the pass goes on: the others must still run, and
    the same duty is tried again on the next pass.
    """
    for duty in DUTIES:
        with app.app_context():
            try:
                with relay_duty(duty.__name__):
                    duty(deps)
            except Exception:
                logger.exception("relay duty %s failed; the others go on", duty.__name__)


def run_relay(app: Flask, stop: threading.Event) -> None:
    """Relay, sweep, email and expire passwords every interval until `stop` is set."""
    deps = runtime(app)
    while not stop.is_set():
        run_pass(app, deps)
        stop.wait(deps.relay_interval)


def start_relay_thread(app: Flask) -> tuple[threading.Thread, threading.Event]:
    """Run the relay in a daemon thread (embedded mode)."""
    stop = threading.Event()
    thread = threading.Thread(target=run_relay, args=(app, stop), name="outbox-relay",
                              daemon=True)
    thread.start()
    return thread, stop


def wait_forever(app: Flask) -> None:
    """Run the relay in the foreground until interrupted (the `relay` process)."""
    with contextlib.suppress(KeyboardInterrupt):
        run_relay(app, threading.Event())
