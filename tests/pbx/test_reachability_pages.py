"""Who can be reached now, read from the test Kamailio's registrations (PHONE_SYSTEM=kamailio).

Three agents provisioned through tickets (App and Web routing): 5811 signs in from a desk
phone (our SIP client calling itself a Yealink) and from baresip (an app), 5812 from nothing,
5813 from a phone naming no maker. The pages and the API as a requester sees them, in
Vietnamese and English; every statement on Kamailio's engine is counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event, select

from tests.support.api import ApiClient
from tests.support.apps import build_app, drain, fresh_pg_database, worker_suffix
from tests.support.credentials import revealed_password
from tests.support.pages import sign_in
from tests.support.pbx import Kamailio
from tests.support.processes import running, wait_for
from tests.support.reachability import Site, row_of
from tests.support.sip import Phone
from tests.support.world import actor, make_world
from web.extensions import db
from web.reachability import EXTENSION_KEY
from workflow.models import Agent
from workflow.people.accounts import create_token
from workflow.ports import DeviceKind
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket

#: The desk phone's User-Agent, as a Yealink T46S sends it.
YEALINK = "Yealink SIP-T46S 66.86.0.15"


@pytest.fixture(scope="module")
def site(kamailio: Kamailio, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The agents, their devices registered (baresip as long as the module runs)."""
    database = fresh_pg_database(f"agentdesk_reach_{worker_suffix()}")
    app = build_app(database, PHONE_SYSTEM="kamailio",
                    KAMAILIO_DATABASE_URL=kamailio.database_url,
                    KAMAILIO_RPC_URL=kamailio.rpc_url, SIP_DOMAIN=kamailio.domain,
                    REGISTRATIONS_CACHE_SECONDS=3600)
    with app.app_context():
        world = make_world(employees_per_department=3)  # three in the approver's scope
        agent_ids: dict[str, int] = {}
        usernames: dict[str, str] = {}
        passwords: dict[str, str] = {}
        for employee_id, extension in zip(world.employee_ids, ("5811", "5812", "5813"),
                                          strict=False):
            ticket = submit_ticket(db.session, actor(world.requester_id),
                                   TicketRequest(TicketKind.NEW, employee_id, extension))
            decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
            drain(app)
            agent = db.session.scalars(select(Agent).where(Agent.extension == extension)).one()
            agent_ids[extension], usernames[extension] = agent.id, agent.sip_username
            passwords[extension] = revealed_password(app, agent.sip_username)
        engine: Engine = app.extensions["agentdesk"].phone_system(None).engine
        db.session.remove()
    site = Site(app, world, agent_ids, usernames)

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        """Every statement agentdesk sends to Kamailio's database."""
        site.statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    desk = Phone(usernames["5811"], passwords["5811"], kamailio.domain, kamailio.sip,
                 user_agent=YEALINK)
    plain = Phone(usernames["5813"], passwords["5813"], kamailio.domain, kamailio.sip)
    home = tmp_path_factory.mktemp("baresip")
    host, port = kamailio.sip
    (home / "accounts").write_text(
        f"<sip:{usernames['5811']}@{kamailio.domain}>;auth_pass={passwords['5811']};"
        f'outbound="sip:{host}:{port}";regint=600;audio_codecs=PCMU\n')
    (home / "config").write_text("\n".join([
        "sip_listen 127.0.0.1:0", "module_path /usr/lib/baresip/modules",
        "module g711.so", "module_app account.so", ""]))
    try:
        assert desk.register() == 200 and plain.register() == 200
        with running(["baresip", "-f", str(home)], {}, home / "baresip.log"):
            wait_for(lambda: len(_devices(site, "5811")) == 2,
                     f"baresip registered (log: {home / 'baresip.log'})", timeout=15)
            site.statements.clear()
            yield site
    finally:
        desk.close()
        plain.close()
        event.remove(engine, "before_cursor_execute", count)
        with app.app_context():
            db.engine.dispose()


def _devices(site: Site, extension: str) -> list[object]:
    """The devices the adapter reads for an agent right now (no cache)."""
    with site.app.app_context():
        found = site.app.extensions["agentdesk"].phone_system(None).registered_devices()
    return list(found.get(site.usernames[extension], []))


@pytest.fixture(autouse=True)
def fresh_reading(site: Site) -> None:
    """Each test starts with the registrations unread and the count at zero."""
    site.app.extensions.pop(EXTENSION_KEY, None)
    site.statements.clear()


def test_the_adapter_tells_a_desk_phone_from_an_app(site: Site) -> None:
    devices = _devices(site, "5811")
    kinds = {device.kind: device for device in devices}  # type: ignore[attr-defined]
    assert set(kinds) == {DeviceKind.DESK_PHONE, DeviceKind.APP}
    assert kinds[DeviceKind.DESK_PHONE].user_agent == YEALINK
    assert kinds[DeviceKind.APP].user_agent.startswith("baresip")
    assert {device.transport for device in kinds.values()} == {"udp"}
    for device in kinds.values():
        assert device.registered_since < device.expires
    assert _devices(site, "5812") == []
    [plain] = _devices(site, "5813")
    assert plain.kind is DeviceKind.UNKNOWN  # type: ignore[attr-defined]


def test_the_agent_list_shows_who_is_reachable_in_vietnamese(site: Site) -> None:
    page = site.page("/agents?lang=vi")
    desk_and_app = row_of(page, "5811")
    assert "Điện thoại bàn · từ" in desk_and_app and "App · từ" in desk_and_app
    assert YEALINK in desk_and_app
    nothing = row_of(page, "5812")
    assert "chưa có thiết bị nào đăng ký" in nothing
    assert "Thiết bị khác" in row_of(page, "5813")
    assert "no-device-warning" not in desk_and_app + row_of(page, "5813")


def test_the_agent_list_shows_who_is_reachable_in_english(site: Site) -> None:
    page = site.page("/agents?lang=en")
    desk_and_app = row_of(page, "5811")
    assert "Desk phone · since" in desk_and_app and "App · since" in desk_and_app
    assert "no device is registered" in row_of(page, "5812")
    assert "Other device" in row_of(page, "5813")


def test_the_agent_page_lists_each_device_and_warns_when_none(site: Site) -> None:
    page = site.page(f"/agents/{site.agent_ids['5811']}?lang=vi")
    section = page[page.index('id="devices"'):page.index('id="last-call"')]
    assert section.count('class="device"') == 2
    assert "Điện thoại bàn" in section and YEALINK in section and "baresip" in section
    assert "Đăng ký từ" in section and ">udp<" in section
    english = site.page(f"/agents/{site.agent_ids['5812']}?lang=en")
    section = english[english.index('id="devices"'):english.index('id="last-call"')]
    assert "no device is registered" in section and 'class="device"' not in section


def test_the_no_device_filter_keeps_only_agents_nobody_can_reach(site: Site) -> None:
    page = site.page("/agents?device=none")
    extensions = set(re.findall(r'font-monospace">(58\d\d)</span>', page))
    assert extensions == {"5812"}
    everyone = site.page("/agents")
    assert {"5811", "5812", "5813"} <= set(re.findall(r'font-monospace">(58\d\d)</span>',
                                                      everyone))
    answer = site.api().get("/api/v1/agents?no_device=true")
    assert answer.status_code == 200, answer.get_json()
    assert [agent["extension"] for agent in answer.get_json()["items"]] == ["5812"]


def test_the_api_gives_each_agent_its_devices(site: Site) -> None:
    answer = site.api().get("/api/v1/agents?per_page=50")
    assert answer.status_code == 200
    agents = {agent["extension"]: agent for agent in answer.get_json()["items"]}
    assert sorted(device["kind"] for device in agents["5811"]["devices"]) == [
        "app", "desk_phone"]
    assert agents["5811"]["no_device_warning"] is False
    assert agents["5812"]["devices"] == [] and agents["5812"]["no_device_warning"] is True
    [device] = agents["5813"]["devices"]
    assert device["kind"] == "unknown" and device["transport"] == "udp"
    one = site.api().get(f"/api/v1/agents/{site.agent_ids['5811']}").get_json()
    assert {device["user_agent"] for device in one["devices"]} >= {YEALINK}


def test_pages_read_the_registrations_once_not_per_row(site: Site) -> None:
    client = site.client()
    site.page("/agents", client)
    assert site.location_queries() == 1
    site.page("/agents?device=none", client)
    site.page(f"/agents/{site.agent_ids['5812']}", client)
    site.api().get("/api/v1/agents")
    assert site.location_queries() == 1  # the cached reading serves them all


def test_an_unreadable_phone_system_gives_a_notice_not_an_error(
        site: Site) -> None:
    broken = build_app(fresh_pg_database(f"agentdesk_reach_down_{worker_suffix()}"),
                       PHONE_SYSTEM="kamailio", SIP_DOMAIN="agentdesk.test",
                       KAMAILIO_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/"
                                             f"nowhere_{worker_suffix()}",
                       KAMAILIO_RPC_URL="http://127.0.0.1:9/RPC")
    with broken.app_context():
        world = make_world(employees_per_department=1)
        token = create_token(db.session, world.emails["requester"])
        db.session.commit()
    client = broken.test_client()
    sign_in(client, world.emails["requester"])
    for path in ("/agents?lang=vi", "/agents?device=none&lang=vi"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Không đọc được thiết bị đang đăng ký" in response.get_data(as_text=True)
    api = ApiClient(broken.test_client(), token)
    assert api.get("/api/v1/agents").status_code == 200
    refused = api.get("/api/v1/agents?no_device=true", headers={"Accept-Language": "en"})
    assert refused.status_code == 503
    assert refused.get_json()["error"] == "registrations_unreadable"
    with broken.app_context():
        db.engine.dispose()
