"""The outbox relay and the stale-work sweeper: what guarantees nothing promised is lost.

On PostgreSQL the relay emails as soon as a transaction commits a notice or a password
letter (it LISTENs; see `tasks.wakeups`) and runs its other duties every interval; on SQLite,
or while it cannot listen, it polls.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence

from flask import Flask

from tasks.logs import bound
from tasks.metrics import relay_duty
from tasks.runtime import Runtime, runtime
from tasks.wakeups import Wakeups
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
        with bound(request_id=row.request_id):
            if not deps.dispatcher.send(row.actor_name, row.args, row.request_id):
                break
            logger.info("relay re-sent outbox message %s (%s)", row.id, row.actor_name)
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
#: The duties a wake-up runs at once: the emails that committed work waits for.
MAIL_DUTIES: tuple[Callable[[Runtime], int], ...] = (email_once, letters_once)
#: The duties run every interval whatever happens: the safety nets.
PERIODIC_DUTIES: tuple[Callable[[Runtime], int], ...] = (relay_once, sweep_once, expire_once)

#: How often the relay polls while it cannot listen for work.
POLL_SECONDS = 1.0
#: The longest a listening relay thread goes without looking whether it is asked to stop.
STOP_CHECK_SECONDS = 1.0


def run_pass(
    app: Flask, deps: Runtime, duties: Sequence[Callable[[Runtime], int]] = DUTIES
) -> int:
    """Run every duty once, each in its own app context (so its own database session).

    A duty that fails, for whatever reason (the database or Redis restarting, a bug, bad
    data), is logged with its name and the pass goes on: the others must still run, and
    the same duty is tried again on the next pass. Returns how much the duties did.
    """
    done = 0
    for duty in duties:
        with app.app_context():
            try:
                with relay_duty(duty.__name__):
                    done += duty(deps)
            except Exception:
                logger.exception("relay duty %s failed; the others go on", duty.__name__)
    return done


def email_all(app: Flask, deps: Runtime) -> None:
    """Email everything due, pass after pass while one sends (a pass takes one batch)."""
    while run_pass(app, deps, MAIL_DUTIES):
        pass


def run_relay(app: Flask, stop: threading.Event) -> None:
    """Relay, sweep, email and expire passwords until `stop` is set.

    On PostgreSQL (with a mail server) emails go when their transaction commits and the
    other duties run every interval; otherwise everything runs every interval.
    """
    deps = runtime(app)
    if deps.listen_url is None or deps.mailer is None:
        while not stop.is_set():
            run_pass(app, deps)
            stop.wait(deps.relay_interval)
        return
    wakeups = Wakeups(deps.listen_url)
    try:
        _listen_and_relay(app, deps, wakeups, stop)
    finally:
        wakeups.close()


def _listen_and_relay(app: Flask, deps: Runtime, wakeups: Wakeups,
                      stop: threading.Event) -> None:
    """Email on every wake-up, run the periodic duties every interval, until `stop`."""
    due = time.monotonic()  # of the next periodic pass
    woken = False
    while not stop.is_set():
        # Listen before the pass: a commit between the two is then heard, never lost.
        woken = wakeups.listen() or woken
        if time.monotonic() >= due:
            run_pass(app, deps, PERIODIC_DUTIES)
            due = time.monotonic() + deps.relay_interval
            woken = True
        if woken:
            email_all(app, deps)
        woken = _wait(wakeups, stop, due)


def _wait(wakeups: Wakeups, stop: threading.Event, until: float) -> bool:
    """Wait for work, the time `until` (monotonic) or `stop`; True when woken for work.

    Not listening (the connection broke), it polls: True every POLL_SECONDS.
    """
    while not stop.is_set():
        left = until - time.monotonic()
        if left <= 0:
            return False
        if not wakeups.listening:
            return not stop.wait(min(left, POLL_SECONDS))
        if wakeups.wait(min(left, STOP_CHECK_SECONDS)):
            return True
    return False


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
