"""The agent's page and the call check read the calls Kamailio recorded (PHONE_SYSTEM=kamailio).

Two agents provisioned through tickets, their phones signed in with the one-time passwords,
real calls through the test Kamailio; then the pages as a requester sees them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.apps import build_app, drain, fresh_pg_database, worker_suffix
from tests.support.credentials import revealed_password
from tests.support.pages import sign_in
from tests.support.pbx import Kamailio
from tests.support.sip import Phone
from tests.support.world import World, actor, make_world
from web.extensions import db
from workflow.models import Agent
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket


@dataclass
class Site:
    """agentdesk on the test Kamailio, with two agents (5801, 5802) and a phone each."""

    app: Flask
    world: World
    agent_ids: dict[str, int]
    phones: dict[str, Phone]

    def page(self, path: str, app: Flask | None = None) -> str:
        """A page as the requester sees it (it must not fail)."""
        client: FlaskClient = (app or self.app).test_client()
        sign_in(client, self.world.emails["requester"])
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)


@pytest.fixture(scope="module")
def site(kamailio: Kamailio) -> Iterator[Site]:
    """Two agents provisioned on Kamailio through tickets, each with a registered phone."""
    database = fresh_pg_database(f"agentdesk_kamrec_{worker_suffix()}")
    app = build_app(database, PHONE_SYSTEM="kamailio",
                    KAMAILIO_DATABASE_URL=kamailio.database_url,
                    KAMAILIO_RPC_URL=kamailio.rpc_url, SIP_DOMAIN=kamailio.domain)
    phones: dict[str, Phone] = {}
    with app.app_context():
        world = make_world(employees_per_department=1)
        agent_ids: dict[str, int] = {}
        for employee_id, extension in zip(world.employee_ids, ("5801", "5802"), strict=False):
            ticket = submit_ticket(db.session, actor(world.requester_id),
                                   TicketRequest(TicketKind.NEW, employee_id, extension))
            decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
            drain(app)
            agent = db.session.scalars(select(Agent).where(Agent.extension == extension)).one()
            agent_ids[extension] = agent.id
            phones[extension] = Phone(agent.sip_username,
                                      revealed_password(app, agent.sip_username),
                                      kamailio.domain, kamailio.sip)
            assert phones[extension].register() == 200
        db.session.remove()
    yield Site(app, world, agent_ids, phones)
    for phone in phones.values():
        phone.close()
    with app.app_context():
        db.engine.dispose()


def test_the_agent_page_shows_the_last_call_made_or_received(site: Site) -> None:
    first, second = site.phones["5801"], site.phones["5802"]
    assert "Chưa có cuộc gọi nào." in site.page(f"/agents/{site.agent_ids['5802']}")
    first.dial("5802")
    invite = second.ring()
    assert invite is not None
    second.answer(invite, 486, "Busy Here")
    assert first.outcome() == 486
    made = site.page(f"/agents/{site.agent_ids['5801']}")
    section = made[made.index('id="last-call"'):]
    assert "Cuộc gọi gần nhất" in section and "Chưa có cuộc gọi nào." not in section
    assert "Gọi đi" in section and "5802" in section
    assert "Gọi nhỡ" in section and "486 Busy Here" in section
    received = site.page(f"/agents/{site.agent_ids['5802']}")
    section = received[received.index('id="last-call"'):]
    assert "Gọi đến" in section and "5801" in section and "486 Busy Here" in section


def test_the_call_check_cites_the_extensions_recent_refusals(site: Site) -> None:
    caller = site.phones["5801"]
    caller.dial("0113")  # no number at all
    assert (caller.outcome(), caller.last_answer.reason) == (404, "Number Not Valid")
    page = site.page("/calling/check?extension=5801&number=0912345678")
    section = page[page.index('id="recent-refusals"'):]
    assert "0113" in section and "404 Number Not Valid" in section
    # The other agent was refused nothing
    page = site.page("/calling/check?extension=5802&number=0912345678")
    assert "Không có cuộc gọi nào bị từ chối gần đây." in page
    assert "Number Not Valid" not in page
    # And the agent's page shows the refusal as its last call
    made = site.page(f"/agents/{site.agent_ids['5801']}")
    section = made[made.index('id="last-call"'):]
    assert "Bị tổng đài từ chối" in section and "404 Number Not Valid" in section


def test_call_records_that_cannot_be_read_leave_a_notice_not_an_error(
    site: Site, kamailio: Kamailio
) -> None:
    # The same agentdesk, its switchboard's database gone
    gone = kamailio.database_url.rsplit("/", 1)[0] + "/agentdesk_no_such_kamailio"
    with site.app.app_context():
        database = str(db.engine.url.render_as_string(hide_password=False))
    broken = build_app(database, PHONE_SYSTEM="kamailio", KAMAILIO_DATABASE_URL=gone,
                       KAMAILIO_RPC_URL=kamailio.rpc_url, SIP_DOMAIN=kamailio.domain)
    notice = "Không đọc được nhật ký cuộc gọi của tổng đài lúc này."
    page = site.page(f"/agents/{site.agent_ids['5801']}", broken)
    assert notice in page and "5801" in page
    page = site.page("/calling/check?extension=5801&number=0912345678", broken)
    assert notice in page and 'id="check-result"' in page
    with broken.app_context():
        db.engine.dispose()
