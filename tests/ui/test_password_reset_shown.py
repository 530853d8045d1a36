"""An approver sees that a change ticket issues a new SIP password, in the queue and on the
ticket, before deciding it; on both databases."""

from __future__ import annotations

from flask import Flask

from tests.support.pages import sign_in
from tests.support.world import World, provision, submit
from workflow.tickets.submission import TicketKind


def test_a_reset_only_change_shows_the_new_password_in_the_queue_and_on_the_ticket(
    app: Flask, world: World
) -> None:
    provision(app, world, submit(world, extension="5001"))
    ticket = submit(world, kind=TicketKind.CHANGE, reset_password=True)
    approver = app.test_client()
    sign_in(approver, world.emails["approver"])
    for path in ("/approvals", f"/tickets/{ticket.id}"):
        page = approver.get(path).get_data(as_text=True)
        assert 'class="sip-password-reset"' in page, path
        assert "Cấp mật khẩu SIP mới" in page, path
    english = approver.get(f"/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert 'class="sip-password-reset"' in english
    other = submit(world, employee_id=world.employee_ids[1], extension="5002")
    assert 'class="sip-password-reset"' not in approver.get(f"/tickets/{other.id}").get_data(
        as_text=True)
