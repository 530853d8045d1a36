"""Many simultaneous submissions with one idempotency key: every one gets the one ticket."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.support.concurrency import concurrently
from tests.support.pages import csrf_token, filing, sign_in
from tests.support.world import World
from web.extensions import db
from workflow.models import Ticket, TicketEvent
from workflow.people.accounts import create_token

#: Requests sent at the same moment with one key (as many as the audit's gunicorn workers).
AT_ONCE = 12
#: Rounds of the race, alternating an extension given and one picked by the server.
ROUNDS = 4
TICKET_PAGE = re.compile(r"/tickets/(\d+)$")


def tickets_with(key: str) -> tuple[int, int]:
    """How many tickets, and submit events of them, carry `key`."""
    db.session.expire_all()
    tickets = db.session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.idempotency_key == key)) or 0
    events = db.session.scalar(select(func.count()).select_from(TicketEvent).join(Ticket).where(
        Ticket.idempotency_key == key, TicketEvent.action == "submit")) or 0
    return tickets, events


def test_simultaneous_api_submissions_with_one_key_all_get_the_one_ticket(
    app: Flask, world: World
) -> None:
    token = create_token(db.session, world.emails["requester"])
    for round_number in range(ROUNDS):
        # Given one key and one body, the extension given or left to the server
        key = f"race-{round_number}"
        body: dict[str, Any] = {"kind": "new", "employee_id": world.employee_ids[round_number]}
        if round_number % 2 == 0:
            body["extension"] = f"510{round_number}"
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}

        def post(body: dict[str, Any] = body, headers: dict[str, str] = headers) -> Any:
            """One client of its own sending the submission."""
            return app.test_client().post("/api/v1/tickets", json=body, headers=headers)

        # When the same requester sends it many times at the same moment
        responses = concurrently([post] * AT_ONCE)

        # Then every request is answered 201 with the same ticket
        answers = [(response.status_code, response.json.get("id")) for response in responses]
        ticket_ids = {ticket_id for _, ticket_id in answers}
        refusals = [response.json for response in responses if response.status_code != 201]
        assert {status for status, _ in answers} == {201}, (round_number, refusals)
        assert len(ticket_ids) == 1, (round_number, answers)
        # And exactly one ticket (with one submit event) was filed
        assert tickets_with(key) == (1, 1), round_number


def test_simultaneous_posts_of_one_setup_form_all_lead_to_the_one_ticket(
    app: Flask, world: World
) -> None:
    # Given the setup form opened once, its hidden key, and the requester in many tabs
    browsers = [app.test_client() for _ in range(AT_ONCE)]
    for browser in browsers:
        sign_in(browser, world.emails["requester"])
    fields = filing(browsers[0], world, extension="5101")
    forms = [{**fields, "csrf_token": csrf_token(browser, "/agents/setup")}
             for browser in browsers]

    def post(browser: FlaskClient, form: dict[str, str]) -> Callable[[], Any]:
        """Posting `form` from `browser`."""
        return lambda: browser.post("/agents/setup", data=form)

    # When the form is sent from all of them at the same moment
    responses = concurrently([post(browser, form) for browser, form in zip(browsers, forms,
                                                                        strict=True)])

    # Then every post goes on to the same ticket's page
    locations = [response.headers.get("Location", "") for response in responses]
    assert [response.status_code for response in responses] == [302] * AT_ONCE, [
        response.get_data(as_text=True)[:300] for response in responses
        if response.status_code != 302]
    found = {match.group(1) for location in locations if (match := TICKET_PAGE.search(location))}
    assert len(found) == 1 and len(locations) == AT_ONCE, locations
    # And exactly one ticket was filed
    assert tickets_with(fields["idempotency_key"]) == (1, 1)


def test_a_replay_with_another_body_gets_the_first_ticket_and_a_refused_key_files_later(
    app: Flask, world: World
) -> None:
    client = app.test_client()
    token = create_token(db.session, world.emails["requester"])
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "one-intent"}
    # Given a first request refused (5000 is reserved): nothing is filed under its key
    body = {"kind": "new", "employee_id": world.employee_ids[0], "extension": "5000"}
    refused = client.post("/api/v1/tickets", json=body, headers=headers)
    assert refused.status_code == 422 and tickets_with("one-intent") == (0, 0)
    # When the corrected request reuses the key, it is filed
    first = client.post("/api/v1/tickets", json={**body, "extension": "5001"}, headers=headers)
    assert first.status_code == 201 and first.json["extension"] == "5001"
    # And a later request with that key but another body gets the first ticket, unchanged
    other = {"kind": "new", "employee_id": world.employee_ids[1], "extension": "5002"}
    again = client.post("/api/v1/tickets", json=other, headers=headers)
    assert again.status_code == 201 and again.json == first.json
    assert tickets_with("one-intent") == (1, 1)
