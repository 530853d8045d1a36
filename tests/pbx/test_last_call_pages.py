"""Each agent's last call on the agent list and in the API, read from the test Kamailio's call
records for the whole page at once (PHONE_SYSTEM=kamailio).

Three agents provisioned through tickets, their phones signed in with the one-time passwords:
5821 calls 5822, who is busy, then dials a number that does not exist (refused by the
switchboard: its last call); 5822 was called; 5823 never calls. Then the list and the API as
a requester sees them, in Vietnamese and English; every statement on Kamailio's engine is
counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, select

from tests.support import reachability
from tests.support.api import ApiClient
from tests.support.apps import build_app, drain, fresh_pg_database, worker_suffix
from tests.support.credentials import revealed_password
from tests.support.pages import sign_in
from tests.support.pbx import Kamailio
from tests.support.processes import wait_for
from tests.support.reachability import row_of
from tests.support.sip import Phone
from tests.support.world import actor, make_world
from web.extensions import db
from web.last_calls import EXTENSION_KEY
from workflow.models import Agent
from workflow.people.accounts import create_token
from workflow.ports import CallDirection, CallOutcome, CallRecord, PhoneSystem
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket

EXTENSIONS = ("5821", "5822", "5823")


class Site(reachability.Site):
    """agentdesk on the test Kamailio with three agents, and their calls."""

    def phone_system(self) -> PhoneSystem:
        """The Kamailio adapter the app uses."""
        phone_system: PhoneSystem = self.app.extensions["agentdesk"].phone_system(None)
        return phone_system

    def last_call(self, extension: str) -> CallRecord:
        """The agent's last call as its own recent calls give it."""
        [call] = self.phone_system().recent_calls(self.usernames[extension], 1)
        return call

    def call_record_queries(self) -> int:
        """How many statements read Kamailio's call records so far."""
        return sum("FROM acc " in statement for statement in self.statements)


def last_call_cell(row: str) -> str:
    """The "last call" cell of an agent list's row, its text without tags or extra spaces."""
    match = re.search(r'<td class="col-last-call">(.*?)</td>', row, re.S)
    assert match is not None, row
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def local(site: Site, call: CallRecord) -> str:
    """The call's time as the agent page shows it, in the organisation's time zone."""
    zone = ZoneInfo(site.app.config["TIMEZONE"])
    return call.at.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S")


@pytest.fixture(scope="module")
def site(kamailio: Kamailio) -> Iterator[Site]:
    """The three agents, after 5821's two calls."""
    database = fresh_pg_database(f"agentdesk_lastcall_{worker_suffix()}")
    app = build_app(database, PHONE_SYSTEM="kamailio",
                    KAMAILIO_DATABASE_URL=kamailio.database_url,
                    KAMAILIO_RPC_URL=kamailio.rpc_url, SIP_DOMAIN=kamailio.domain)
    phones: dict[str, Phone] = {}
    with app.app_context():
        world = make_world(employees_per_department=3)  # three in the approver's scope
        agent_ids: dict[str, int] = {}
        usernames: dict[str, str] = {}
        for employee_id, extension in zip(world.employee_ids, EXTENSIONS, strict=False):
            ticket = submit_ticket(db.session, actor(world.requester_id),
                                   TicketRequest(TicketKind.NEW, employee_id, extension))
            decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
            drain(app)
            agent = db.session.scalars(select(Agent).where(Agent.extension == extension)).one()
            agent_ids[extension], usernames[extension] = agent.id, agent.sip_username
            phones[extension] = Phone(agent.sip_username,
                                      revealed_password(app, agent.sip_username),
                                      kamailio.domain, kamailio.sip)
        engine: Engine = app.extensions["agentdesk"].phone_system(None).engine
        db.session.remove()
    site = Site(app, world, agent_ids, usernames)

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        """Every statement agentdesk sends to Kamailio's database."""
        site.statements.append(statement)

    try:
        caller, called = phones["5821"], phones["5822"]
        assert caller.register() == 200 and called.register() == 200
        caller.dial("5822")
        invite = called.ring()
        assert invite is not None, "the call never rang"
        called.answer(invite, 486, "Busy Here")
        assert caller.outcome() == 486
        caller.dial("0113")  # no number at all
        assert (caller.outcome(), caller.last_answer.reason) == (404, "Number Not Valid")
        # acc writes a relayed call's record as its final answer goes out
        wait_for(lambda: site.phone_system().recent_calls(usernames["5822"], 1),
                 "the busy call's record", timeout=5)
        event.listen(engine, "before_cursor_execute", count)
        yield site
    finally:
        for phone in phones.values():
            phone.close()
        if event.contains(engine, "before_cursor_execute", count):
            event.remove(engine, "before_cursor_execute", count)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def fresh_reading(site: Site) -> None:
    """Each test starts with no last call read and the count at zero."""
    site.app.extensions.pop(EXTENSION_KEY, None)
    site.statements.clear()


def test_the_batch_reading_gives_each_agent_the_record_its_recent_calls_give(
        site: Site) -> None:
    found = site.phone_system().last_calls(list(site.usernames.values()))
    assert set(found) == {site.usernames["5821"], site.usernames["5822"]}
    for extension in ("5821", "5822"):
        assert found[site.usernames[extension]] == site.last_call(extension)
    refused, received = site.last_call("5821"), site.last_call("5822")
    assert (refused.direction, refused.other_party, refused.outcome, refused.sip_code) == (
        CallDirection.OUT, "0113", CallOutcome.REFUSED, 404)
    assert (received.direction, received.other_party, received.outcome, received.sip_code) == (
        CallDirection.IN, "5821", CallOutcome.MISSED, 486)


def test_the_agent_list_shows_each_agents_last_call_in_vietnamese(site: Site) -> None:
    page = site.page("/agents?lang=vi")
    assert "<th scope=\"col\">Cuộc gọi gần nhất</th>" in page
    made = last_call_cell(row_of(page, "5821"))
    assert made == f"Gọi đi 0113 Bị tổng đài từ chối {local(site, site.last_call('5821'))}"
    received = last_call_cell(row_of(page, "5822"))
    assert received == f"Gọi đến 5821 Gọi nhỡ {local(site, site.last_call('5822'))}"
    assert last_call_cell(row_of(page, "5823")) == "— Chưa có cuộc gọi nào."
    assert 'id="calls-unreadable"' not in page


def test_the_agent_list_shows_each_agents_last_call_in_english(site: Site) -> None:
    page = site.page("/agents?lang=en")
    assert "<th scope=\"col\">Last call</th>" in page
    made = last_call_cell(row_of(page, "5821"))
    assert made == (f"Outgoing 0113 Refused by the switchboard "
                    f"{local(site, site.last_call('5821'))}")
    received = last_call_cell(row_of(page, "5822"))
    assert received == f"Incoming 5821 Missed {local(site, site.last_call('5822'))}"
    assert last_call_cell(row_of(page, "5823")) == "— No calls yet."


def test_the_api_gives_each_agent_its_last_call(site: Site) -> None:
    answer = site.api().get("/api/v1/agents?per_page=50")
    assert answer.status_code == 200
    agents = {agent["extension"]: agent for agent in answer.get_json()["items"]}
    refused = site.last_call("5821")
    assert agents["5821"]["last_call"] == {
        "at": refused.at.isoformat(), "direction": "out", "other_party": "0113",
        "outcome": "refused", "sip_code": 404, "duration": None}
    assert agents["5822"]["last_call"] == {
        "at": site.last_call("5822").at.isoformat(), "direction": "in",
        "other_party": "5821", "outcome": "missed", "sip_code": 486, "duration": None}
    assert agents["5823"]["last_call"] is None
    one = site.api().get(f"/api/v1/agents/{site.agent_ids['5822']}").get_json()
    assert one["last_call"] == agents["5822"]["last_call"]
    none = site.api().get(f"/api/v1/agents/{site.agent_ids['5823']}").get_json()
    assert none["last_call"] is None


def test_a_page_reads_the_last_calls_once_not_per_row(site: Site) -> None:
    client = site.client()
    site.page("/agents", client)
    assert site.call_record_queries() == 1
    site.page("/agents", client)
    assert site.call_record_queries() == 1  # the same page again: its cached reading
    answer = site.api().get("/api/v1/agents?per_page=50")
    assert len(answer.get_json()["items"]) == 3
    assert site.call_record_queries() == 1  # the same agents in the API: the same reading
    site.page("/agents?q=5823", client)
    site.api().get("/api/v1/agents?status=active&per_page=2")
    assert site.call_record_queries() == 3  # other pages: one reading each, whatever its size


def test_unreadable_call_records_give_one_notice_and_the_list_still_renders(
        site: Site, kamailio: Kamailio) -> None:
    # The same agentdesk, its switchboard's database gone
    gone = kamailio.database_url.rsplit("/", 1)[0] + "/agentdesk_no_such_kamailio"
    with site.app.app_context():
        database = str(db.engine.url.render_as_string(hide_password=False))
    broken = build_app(database, PHONE_SYSTEM="kamailio", KAMAILIO_DATABASE_URL=gone,
                       KAMAILIO_RPC_URL=kamailio.rpc_url, SIP_DOMAIN=kamailio.domain)
    client = broken.test_client()
    sign_in(client, site.world.emails["requester"])
    response = client.get("/agents?lang=vi")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count("Không đọc được nhật ký cuộc gọi của tổng đài lúc này.") == 1
    assert 'id="calls-unreadable"' in page
    for extension in EXTENSIONS:
        assert last_call_cell(row_of(page, extension)) == "Không rõ"
    english = client.get("/agents?lang=en").get_data(as_text=True)
    assert english.count("The switchboard's call records cannot be read right now.") == 1
    with broken.app_context():
        token = create_token(db.session, site.world.emails["requester"])
        db.session.commit()
    api = ApiClient(broken.test_client(), token)
    answer = api.get("/api/v1/agents?per_page=50")
    assert answer.status_code == 200
    assert [agent["last_call"] for agent in answer.get_json()["items"]] == [None] * 3
    assert api.get(f"/api/v1/agents/{site.agent_ids['5821']}").get_json()["last_call"] is None
    with broken.app_context():
        db.engine.dispose()
