"""Crashes and outages: a worker killed mid-provisioning, Redis down while tickets are approved."""

from __future__ import annotations

import pytest

from workflow.domain.rules import Role

from .conftest import Harness

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

#: Settings that make recovery quick: a short lease, an eager relay.
FAST_RECOVERY = {
    "PROVISION_LEASE_SECONDS": "2",
    "RELAY_GRACE_SECONDS": "0.5",
    "RELAY_INTERVAL_SECONDS": "0.2",
}
#: How many tickets are approved while Redis is down.
OUTAGE_TICKETS = 10


def test_a_worker_killed_mid_provisioning_leaves_the_ticket_provisioned_exactly_once(
    harness: Harness,
) -> None:
    """A worker SIGKILLed inside the phone-system call: the ticket still ends provisioned once."""
    # Given a server and a worker with a short lease on a private Redis, and a submitted ticket
    redis_server = harness.start_redis()
    env = harness.env(redis_server.url, **FAST_RECOVERY)
    harness.start_worker(env, name="doomed-worker")
    api = harness.start_serve(env)
    world = harness.world
    employee_id = world.employee_ids[0]
    ticket_id = api.submit_new(harness.token(world.emails["requester"]), employee_id, "5301")
    approver = harness.token(world.emails["approver"])
    # And the phone directory locked, so that provisioning blocks inside the phone-system call
    lock = harness.lock_directory()
    try:
        # When the ticket is approved and the worker gets stuck writing it to the directory
        status, body = api.post(f"/api/v1/tickets/{ticket_id}/approve", approver)
        assert status == 200, body

        def blocked_in_phone_call() -> bool:
            """Whether the ticket is claimed and a session waits for the directory lock."""
            claimed = harness.states([ticket_id]).get(ticket_id) == "provisioning"
            return claimed and harness.waiting_on_directory() > 0

        harness.wait_for(blocked_in_phone_call, "the worker to claim the ticket and block on "
                         "the directory", lambda: harness.describe([ticket_id]))
        # And the worker is killed with SIGKILL, its whole process group at once
        harness.supervisor.kill("doomed-worker")
    finally:
        lock.rollback()
        lock.close()
    # And a new worker and a relay start
    harness.start_worker(env, name="worker")
    harness.start_relay(env)

    # Then the ticket ends provisioned
    harness.wait_until_settled([ticket_id])
    # And the phone system was written exactly once, and one agent row exists
    writes = harness.rows(
        "SELECT operation FROM phone_directory_write WHERE ticket_id = %s", ticket_id
    )
    assert writes == [("create",)]
    entries = harness.scalar(
        "SELECT count(*) FROM phone_directory_entry e JOIN ticket t "
        "ON t.sip_username = e.sip_username WHERE t.id = %s", ticket_id,
    )
    assert entries == 1
    agents = harness.scalar("SELECT count(*) FROM agent WHERE employee_id = %s", employee_id)
    assert agents == 1
    # And the audit trail shows one start and one completion; the lost attempt is counted,
    # and each attempt after it is a takeover of the ticket
    events = harness.rows(
        "SELECT action, count(*) FROM ticket_event WHERE ticket_id = %s GROUP BY action",
        ticket_id,
    )
    attempts = harness.scalar("SELECT attempts FROM ticket WHERE id = %s", ticket_id)
    assert attempts >= 2
    assert dict(events) == {"submit": 1, "approve": 1, "start": 1, "retake": attempts - 1,
                            "complete": 1}


def test_approvals_while_redis_is_down_are_all_provisioned_once_redis_returns(
    harness: Harness,
) -> None:
    """Redis dies, ten tickets are approved, Redis returns empty: ten provisionings, no more."""
    # Given a server, a worker and a relay on a private Redis
    redis_server = harness.start_redis()
    env = harness.env(redis_server.url, **FAST_RECOVERY)
    harness.start_worker(env)
    harness.start_relay(env)
    api = harness.start_serve(env)
    world = harness.world
    # And proof that the worker and the relay are both live: a ticket approved in this process,
    # whose message never reaches Redis so that only the relay can deliver it, got provisioned
    canary_id = harness.approve_in_process(world.employee_ids[-1], "5499")
    harness.wait_until_settled([canary_id])
    # And ten submitted tickets
    requester = harness.token(world.emails["requester"])
    approver = harness.add_user("approver-all@outage.vn", Role.APPROVER)
    ticket_ids = [
        api.submit_new(requester, employee_id, f"54{number:02d}")
        for number, employee_id in enumerate(world.employee_ids[:OUTAGE_TICKETS])
    ]

    # When Redis is killed and the ten tickets are approved
    redis_server.kill()
    results = [api.post(f"/api/v1/tickets/{ticket_id}/approve", approver)
               for ticket_id in ticket_ids]

    # Then every approval still succeeds, and the tickets wait in approved
    assert [status for status, _ in results] == [200] * OUTAGE_TICKETS, results
    assert set(harness.states(ticket_ids).values()) == {"approved"}
    # And the relay keeps trying to send their provisioning in vain while Redis is down
    harness.wait_for(
        lambda: "could not enqueue provision_ticket" in harness.supervisor.log_text("relay"),
        "the relay to fail re-sending provisioning while Redis is down",
    )
    assert set(harness.states(ticket_ids).values()) == {"approved"}

    # When Redis comes back on the same port, empty
    redis_server.start()

    # Then all ten are provisioned and no outbox row is left unprocessed
    harness.wait_until_settled(ticket_ids)
    assert harness.pending_outbox() == 0
    # And each ticket wrote to the phone system exactly once: nothing lost, nothing duplicated
    writes = harness.rows(
        "SELECT ticket_id, operation FROM phone_directory_write ORDER BY ticket_id"
    )
    expected = sorted([*ticket_ids, canary_id])
    assert writes == [(ticket_id, "create") for ticket_id in expected]
    assert harness.scalar("SELECT count(*) FROM agent") == len(expected)
