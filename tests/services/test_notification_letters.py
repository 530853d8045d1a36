"""A pass reads every letter it mails, with all it shows, in a fixed number of queries."""

from __future__ import annotations

from flask import Flask

from tests.support.statements import executed_by_sqlalchemy
from tests.support.world import World, provision, submit
from web.extensions import db
from workflow.tickets.notification_letters import claim_due_letters
from workflow.tickets.notifications import EMAIL_MAX_AGE
from workflow.tickets.submission import TicketKind


def test_letters_are_read_at_once_whatever_their_number(app: Flask, world: World) -> None:
    # Given notices of several tickets, one a revoke that names no extension of its own
    provision(app, world, submit(world, extension="5001"))
    for index in (1, 2, 3):
        submit(world, employee_id=world.employee_ids[index], extension=f"500{index + 1}")
    submit(world, kind=TicketKind.REVOKE)
    db.session.commit()

    with executed_by_sqlalchemy(db.engine) as statements:
        letters = claim_due_letters(db.session, "https://agentdesk.example.vn", EMAIL_MAX_AGE,
                                    limit=100)
        # Reading what each letter shows touches the database no more
        shown = [(letter.employee_name, letter.extension, letter.link) for letter in letters]
    db.session.rollback()

    assert len({letter.ticket_id for letter in letters}) == 5
    assert len(statements) <= 3  # the letters, the revoke's recorded extension (+ BEGIN)
    revoke = [letter for letter in letters if letter.ticket_kind == TicketKind.REVOKE]
    assert revoke and all(letter.extension == "5001" for letter in revoke)
    assert all(link.startswith("https://agentdesk.example.vn/tickets/") for *_, link in shown)
