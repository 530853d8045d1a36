"""Numbers as people read and paste them: phone numbers shown in the national format,
extensions pasted with spaces accepted; on both databases."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from tests.support.api import ApiClient
from tests.support.pages import sign_in
from tests.support.world import World, provision, submit
from web.extensions import db
from workflow.domain.routing import display_number
from workflow.models import Agent, Ticket


def test_phone_numbers_are_shown_as_people_read_them(app: Flask, world: World) -> None:
    ticket = submit(world, extension="5002", routing_type="phone",
                    priority_number="0912345678", backup_number="02438261234")
    provision(app, world, ticket)
    agent = db.session.scalars(select(Agent).where(Agent.extension == "5002")).one()
    client = app.test_client()
    sign_in(client, world.emails["approver"])
    for path in ("/agents", f"/agents/{agent.id}", f"/tickets/{ticket.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "0912 345 678" in page and "024 3826 1234" in page, path
        assert "+84912345678" not in page, path


def test_a_number_abroad_keeps_its_international_form() -> None:
    assert display_number("+16502530000") == "+1 650-253-0000"
    assert display_number("+84912345678") == "0912 345 678"
    assert display_number(None) == ""


def test_an_extension_pasted_with_spaces_is_taken(
    app: Flask, world: World, api: object
) -> None:
    requester: ApiClient = api("requester")  # type: ignore[operator]
    checked = requester.get("/api/v1/extensions/check?extension=5%20012")
    assert checked.status_code == 200
    assert checked.json == {"extension": "5012", "problems": []}
    filed = requester.post("/api/v1/tickets", {"kind": "new", "employee_id": world.employee_ids[0],
                                               "extension": "5 012"})
    assert filed.status_code == 201, filed.json
    assert db.session.get_one(Ticket, filed.json["id"]).extension == "5012"
