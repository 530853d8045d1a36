"""A notice's email names the extension its ticket is about, a revoke's too."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from tasks.mail import SmtpSettings, compose
from tests.support.world import World, provision, submit
from web.extensions import db
from workflow.models import Notification
from workflow.tickets.notification_letters import claim_due_letters
from workflow.tickets.notifications import EMAIL_MAX_AGE
from workflow.tickets.submission import TicketKind


def body_for_approver(world: World, ticket_id: int) -> str:
    """The text of the email the approver gets about a ticket's submission."""
    notice = db.session.scalars(select(Notification).where(
        Notification.user_id == world.approver_id, Notification.ticket_id == ticket_id)).one()
    settings = SmtpSettings(server="mail.congty.vn", sender="agentdesk@congty.vn")
    letters = claim_due_letters(db.session, settings.base_url, EMAIL_MAX_AGE, limit=100)
    db.session.rollback()
    letter = next(each for each in letters if each.notification_id == notice.id)
    message = compose(letter, settings)
    return str(message.get_content())


def test_the_email_of_a_notice_names_the_extension(app: Flask, world: World) -> None:
    ticket = submit(world, extension="5001")
    assert "Số máy lẻ: 5001" in body_for_approver(world, ticket.id)
    provision(app, world, ticket)
    revoke = submit(world, kind=TicketKind.REVOKE)
    assert "Số máy lẻ: 5001" in body_for_approver(world, revoke.id)
