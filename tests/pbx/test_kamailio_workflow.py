"""Tickets provisioned on Kamailio through the workflow (PHONE_SYSTEM=kamailio)."""

from __future__ import annotations

import psycopg
from click.testing import CliRunner
from flask.cli import ScriptInfo

from tasks.runtime import runtime
from tests.support.apps import drain
from tests.support.credentials import revealed_password
from tests.support.pbx import Kamailio, kamailio_app
from tests.support.sip import Phone
from tests.support.world import actor, make_world
from web.cli import cli
from web.extensions import db
from workflow.models import Agent, Ticket
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket


def kamailio_rows(kamailio: Kamailio, username: str) -> tuple[int, list[str]]:
    """How many subscribers have `username`, and the extensions aliased to it."""
    with psycopg.connect(kamailio.database_url) as connection:
        subscribers = connection.execute(
            "SELECT count(*) FROM subscriber WHERE username = %s", (username,)).fetchone()
        aliases = connection.execute(
            "SELECT alias_username FROM dbaliases WHERE username = %s", (username,)).fetchall()
    return (subscribers[0] if subscribers else 0), [row[0] for row in aliases]


def test_new_change_and_revoke_tickets_reshape_the_kamailio_account(kamailio: Kamailio) -> None:
    app = kamailio_app(kamailio)
    with app.app_context():
        world = make_world(employees_per_department=1)
        requester, approver = actor(world.requester_id), actor(world.approver_id)

        def file_and_approve(kind: TicketKind, extension: str | None,
                             reset_password: bool = False) -> Ticket:
            ticket = submit_ticket(db.session, requester, TicketRequest(
                kind, world.employee_ids[0], extension, reset_password=reset_password))
            decisions.approve_ticket(db.session, approver, ticket.id)
            drain(app)
            db.session.expire_all()
            done = db.session.get_one(Ticket, ticket.id)
            assert done.state == "provisioned", done.last_error
            return done

        file_and_approve(TicketKind.NEW, "5001")
        agent = db.session.query(Agent).one()
        name = agent.sip_username
        assert kamailio_rows(kamailio, name) == (1, ["5001"])
        # The employee learns the password from the one-time link and signs a phone in
        password = revealed_password(app, name)
        phone = Phone(name, password, kamailio.domain, kamailio.sip)
        assert phone.register() == 200
        file_and_approve(TicketKind.CHANGE, "5656")
        assert kamailio_rows(kamailio, name) == (1, ["5656"])
        assert phone.register() == 200  # renumbering keeps the credentials
        # A reset issues a new password: the old one stops working
        file_and_approve(TicketKind.CHANGE, None, reset_password=True)
        assert phone.register() == 401
        renewed = Phone(name, revealed_password(app, name), kamailio.domain, kamailio.sip)
        assert renewed.register() == 200
        file_and_approve(TicketKind.REVOKE, None)
        assert kamailio_rows(kamailio, name) == (0, [])
        assert renewed.register() == 401
        phone.close()
        renewed.close()
        assert runtime(app).provisioning.batch == 1  # Kamailio: one ticket per message
        db.engine.dispose()


def test_reconcile_finds_what_was_changed_behind_the_apps_back_and_repairs_it(
    kamailio: Kamailio
) -> None:
    app = kamailio_app(kamailio)
    with app.app_context():
        world = make_world(employees_per_department=1)
        ticket = submit_ticket(db.session, actor(world.requester_id),
                               TicketRequest(TicketKind.NEW, world.employee_ids[0], "5001"))
        decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
        drain(app)
        name = db.session.query(Agent).one().sip_username
        db.engine.dispose()
    with psycopg.connect(kamailio.database_url, autocommit=True) as connection:
        connection.execute("DELETE FROM subscriber WHERE username = %s", (name,))
        connection.execute("INSERT INTO subscriber (username, domain, ha1, ha1b) "
                           "VALUES ('intruder', %s, 'x', 'x')", (kamailio.domain,))
    runner = CliRunner()
    info = ScriptInfo(create_app=lambda: app)
    checked = runner.invoke(cli, ["pbx", "reconcile"], obj=info)
    assert checked.exit_code == 1
    assert f"missing   {name}: expected extension 5001" in checked.output
    assert "orphan    intruder" in checked.output
    repaired = runner.invoke(cli, ["pbx", "reconcile", "--repair"], obj=info)
    assert repaired.exit_code == 0, repaired.output
    assert "repaired; 0 differences left" in repaired.output
    assert kamailio_rows(kamailio, name) == (1, ["5001"])
    assert kamailio_rows(kamailio, "intruder") == (0, [])
    with app.app_context():
        # The re-created account has a new password, waiting for its employee
        phone = Phone(name, revealed_password(app, name), kamailio.domain, kamailio.sip)
        assert phone.register() == 200
        phone.close()
        db.engine.dispose()
