"""Dramatiq actors: thin wrappers that call one workflow service each."""

from __future__ import annotations

import logging

import dramatiq
from flask import current_app

from tasks.metrics import note_outcome
from tasks.runtime import runtime
from workflow import outbox
from workflow.calling import sync
from workflow.tickets import provisioning
from workflow.tickets.provisioning import Outcome

logger = logging.getLogger(__name__)

#: Queue of phone-system work.
PROVISION_QUEUE = "provisioning"


def provision_ticket(ticket_id: int) -> None:
    """Apply an approved ticket to the phone system; the outcome feeds the worker metrics."""
    deps = runtime(current_app)
    outcome = provisioning.provision_ticket(
        deps.session(), ticket_id, deps.phone_system, deps.provisioning
    )
    # Batched, most messages find their ticket done by another: not worth a line each.
    logger.log(logging.DEBUG if outcome is Outcome.SKIPPED else logging.INFO,
               "provisioning of ticket %s: %s", ticket_id, outcome)
    note_outcome(outcome.value)


def sync_calling(sync_id: int) -> None:
    """Bring every agent's calling rules up to date; whether it applied feeds the metrics."""
    deps = runtime(current_app)
    applied = sync.run_sync(deps.session(), sync_id, deps.phone_system, deps.provisioning.lease,
                            deps.timezone, deps.provisioning.vault.cipher)
    note_outcome("applied" if applied else "nothing")


#: Every actor: its name (shared with the outbox), function and queue.
ACTORS = (
    (outbox.PROVISION_ACTOR, provision_ticket, PROVISION_QUEUE),
    (sync.SYNC_ACTOR, sync_calling, PROVISION_QUEUE),
)


def register_actors(broker: dramatiq.Broker) -> None:
    """Declare agentdesk's actors on `broker` (once per broker)."""
    declared = set(broker.get_declared_actors())
    for name, function, queue in ACTORS:
        if name not in declared:
            # Attempts are counted in the database and the sweeper retries; Dramatiq's own
            # retries only cover crashes between the claim and the outcome.
            dramatiq.Actor(function, broker=broker, actor_name=name, queue_name=queue,
                           priority=0, options={"max_retries": 3, "min_backoff": 500})
