"""Races through the real HTTP API: many approvers at once, two requests for one extension."""

from __future__ import annotations

from functools import partial

import pytest

from tests.support.concurrency import concurrently
from workflow.domain.rules import Role

from .conftest import Harness

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

#: How many approvers press "approve" at the same moment.
APPROVERS = 20
#: How many times two requesters race for one extension.
ROUNDS = 6


def test_twenty_concurrent_approvals_of_one_ticket_give_one_success_and_one_provisioning(
    harness: Harness,
) -> None:
    """Twenty approvers racing over HTTP: one 200, nineteen 409s, one provisioning."""
    # Given gunicorn (two processes), a worker and an eager relay on a private Redis
    redis_server = harness.start_redis()
    env = harness.env(redis_server.url, RELAY_GRACE_SECONDS="0.5", RELAY_INTERVAL_SECONDS="0.2")
    harness.start_worker(env)
    harness.start_relay(env)
    api = harness.start_gunicorn(env)
    # And a submitted ticket, and twenty approvers who may all decide it
    world = harness.world
    requester = harness.token(world.emails["requester"])
    ticket_id = api.submit_new(requester, world.employee_ids[0], "5101")
    approvers = [harness.add_user(f"racer{n}@race.vn", Role.APPROVER) for n in range(APPROVERS)]

    # When all of them approve it at the same moment
    results = concurrently([
        partial(api.post, f"/api/v1/tickets/{ticket_id}/approve", token) for token in approvers
    ])

    # Then exactly one approval wins and every other one is a clean conflict
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (APPROVERS - 1), results
    conflicts = {body["error"] for status, body in results if status == 409}
    assert conflicts <= {"transition_not_allowed", "ticket_changed"}, results
    # And the worker provisions the ticket exactly once
    harness.wait_until_settled([ticket_id])
    events = harness.rows(
        "SELECT action, count(*) FROM ticket_event WHERE ticket_id = %s GROUP BY action",
        ticket_id,
    )
    assert dict(events) == {"submit": 1, "approve": 1, "start": 1, "complete": 1}
    writes = harness.rows(
        "SELECT operation FROM phone_directory_write WHERE ticket_id = %s", ticket_id
    )
    assert writes == [("create",)]
    agents = harness.scalar(
        "SELECT count(*) FROM agent WHERE employee_id = %s", world.employee_ids[0]
    )
    assert agents == 1


def test_two_requests_racing_for_one_extension_get_one_ticket_and_a_clean_refusal(
    harness: Harness,
) -> None:
    """Two requesters asking for one extension at once: one 201, the other 409 or 422."""
    # Given `agentdesk serve` (web only) and two requesters
    redis_server = harness.start_redis()
    api = harness.start_serve(harness.env(redis_server.url))
    world = harness.world
    tokens = [
        harness.token(world.emails["requester"]),
        harness.add_user("requester2@race.vn", Role.REQUESTER),
    ]
    for round_number in range(ROUNDS):
        # Given an extension nobody holds, and one employee for each requester
        extension = f"52{round_number:02d}"
        employees = world.employee_ids[2 * round_number:2 * round_number + 2]

        # When both submit a new account with that extension at the same moment
        results = concurrently([
            partial(api.post, "/api/v1/tickets", token,
                    {"kind": "new", "employee_id": employee, "extension": extension})
            for token, employee in zip(tokens, employees, strict=True)
        ])

        # Then one ticket is filed and the other request is refused cleanly, never with a 500
        statuses = sorted(status for status, _ in results)
        assert statuses[0] == 201 and statuses[1] in (409, 422), (round_number, results)
        refusal = next(body for status, body in results if status != 201)
        assert refusal["error"] in ("extension_race", "invalid"), (round_number, results)
        # And exactly one open ticket holds the extension
        holders = harness.scalar(
            "SELECT count(*) FROM ticket WHERE extension = %s AND state = 'submitted'", extension
        )
        assert holders == 1, (round_number, results)
