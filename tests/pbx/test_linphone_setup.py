"""A real Linphone (linphonec 5.1.65, liblinphone) set up by a device setup link, end to end.

agentdesk runs on the test Kamailio (PHONE_SYSTEM=kamailio), served over HTTP, with agents
provisioned through tickets. A person installs Linphone, starts it once, gives it the setup
address (`[misc] config-uri`, what the apps' "remote provisioning" field sets) and starts it
again: Linphone fetches the link, loads the account and registers with
Kamailio; agentdesk sees an app registered; a call to the extension reaches it.
"""

from __future__ import annotations

import re
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.serving import make_server

from tests.support.apps import build_app, drain, fresh_pg_database, worker_suffix
from tests.support.credentials import revealed_password
from tests.support.linphone import LINPHONEC, Linphone
from tests.support.pages import csrf_token, sign_in
from tests.support.pbx import Kamailio
from tests.support.processes import free_port, wait_for
from tests.support.sip import Phone
from tests.support.world import World, actor, make_world
from web.extensions import db
from workflow import credentials
from workflow.agents.device_links import token_digest
from workflow.models import Agent, DeviceLink, Employee
from workflow.ports import DeviceKind, PhoneSystemError, RegisteredDevice
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket

#: The agents: one sets up their own Linphone, one gets a "desk phone" link from an admin
#: (Linphone again), and a desk phone (our SIP client) calls.
OWN, DESK, CALLER = "5761", "5762", "5763"
#: How long Linphone may take to start, fetch and register on a busy machine.
PATIENCE = 60.0


@dataclass
class Site:
    """agentdesk on the test Kamailio, served over HTTP, with its agents."""

    app: Flask
    base_url: str
    world: World
    kamailio: Kamailio
    usernames: dict[str, str]
    caller_password: str
    #: (path, User-Agent, Accept, status) of every request to /provision/, as served.
    fetches: list[tuple[str, str, str | None, int]] = field(default_factory=list)

    def signed_in(self, email: str) -> FlaskClient:
        """A browser signed in to agentdesk as `email`."""
        client = self.app.test_client()
        sign_in(client, email)
        return client


def recording(app: Flask, fetches: list[tuple[str, str, str | None, int]]) -> None:
    """Keep what each request to a setup link carried and got, as the server saw it."""
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The app, noting setup-link requests with their answer's status."""
        def noted(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            if environ.get("PATH_INFO", "").startswith("/provision/"):
                fetches.append((environ["PATH_INFO"], environ.get("HTTP_USER_AGENT", ""),
                                environ.get("HTTP_ACCEPT"), int(status.split()[0])))
            return start_response(status, headers, *rest)
        return inner(environ, noted)

    app.wsgi_app = wsgi  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def site(kamailio: Kamailio) -> Iterator[Site]:
    """The three agents, provisioned through tickets; agentdesk served on a free port."""
    port = free_port()
    host, sip_port = kamailio.sip
    app = build_app(fresh_pg_database(f"agentdesk_linphone_{worker_suffix()}"),
                    PHONE_SYSTEM="kamailio", KAMAILIO_DATABASE_URL=kamailio.database_url,
                    KAMAILIO_RPC_URL=kamailio.rpc_url, SIP_DOMAIN=kamailio.domain,
                    BASE_URL=f"http://127.0.0.1:{port}",
                    # The SIP domain resolves nowhere here: phones are told Kamailio's address.
                    PROVISIONING_PROXY=f"{host}:{sip_port}", REGISTRATIONS_CACHE_SECONDS=0)
    with app.app_context():
        world = make_world(employees_per_department=3)
        usernames: dict[str, str] = {}
        for employee_id, extension in zip(world.employee_ids, (OWN, DESK, CALLER),
                                          strict=False):
            ticket = submit_ticket(db.session(), actor(world.requester_id),
                                   TicketRequest(TicketKind.NEW, employee_id, extension))
            decisions.approve_ticket(db.session(), actor(world.approver_id), ticket.id)
            drain(app)
            agent = db.session.scalars(select(Agent).where(Agent.extension == extension)).one()
            usernames[extension] = agent.sip_username
        # The first agent is the requester: their credentials page offers the setup link.
        db.session.execute(update(Employee).where(Employee.id == world.employee_ids[0])
                           .values(email=world.emails["requester"]))
        db.session.commit()
        caller_password = revealed_password(app, usernames[CALLER])
        db.session.remove()
    site = Site(app, f"http://127.0.0.1:{port}", world, kamailio, usernames, caller_password)
    recording(app, site.fetches)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()


# --- helpers -------------------------------------------------------------------------------


def linphone_user_agent() -> str:
    """What linphonec calls itself, from its own version ("Linphonec/5.1.65")."""
    version = subprocess.run([LINPHONEC, "-v"], capture_output=True, text=True, timeout=30,
                             check=False).stdout
    found = re.search(r"version: (\S+)", version)
    assert found, version
    return f"Linphonec/{found.group(1)}"


def own_link(site: Site) -> str:
    """The employee presses "Cài đặt thiết bị" for their pending password: the address."""
    client = site.signed_in(site.world.emails["requester"])
    with site.app.app_context():
        pending = credentials.latest_for(db.session(), site.usernames[OWN])
        assert pending is not None
        credential_id = pending.id
        db.session.remove()
    response = client.post(f"/my/credentials/{credential_id}/device-link",
                           data={"csrf_token": csrf_token(client, "/my/credentials")})
    return address_on(response.status_code, response.get_data(as_text=True))


def desk_phone_link(site: Site, extension: str) -> str:
    """An admin presses "Cài đặt điện thoại bàn" on the agent's page: the address."""
    client = site.signed_in(site.world.emails["admin"])
    with site.app.app_context():
        agent_id = db.session.scalars(select(Agent.id)
                                      .where(Agent.extension == extension)).one()
        db.session.remove()
    page = f"/agents/{agent_id}"
    response = client.post(f"{page}/device-link", data={"csrf_token": csrf_token(client, page)})
    return address_on(response.status_code, response.get_data(as_text=True))


def address_on(status: int, page: str) -> str:
    """The setup address a page shows."""
    found = re.search(r'id="device-link-address">([^<]+)<', page)
    assert status == 200 and found, status
    return found.group(1)


def link_record(site: Site, address: str) -> DeviceLink:
    """The stored record of the setup link at `address`."""
    with site.app.app_context():
        record = db.session.scalars(select(DeviceLink).where(
            DeviceLink.token_digest == token_digest(address.rsplit("/", 1)[1]))).one()
        db.session.expunge(record)
        db.session.remove()
    return record


def installed_with(folder: Path, address: str) -> Linphone:
    """Linphone installed and started once (it saves its settings as it quits), then given
    the setup address as its remote provisioning setting, as the apps' field stores it."""
    linphone = Linphone(folder)
    with linphone.running():
        pass
    linphone.set("misc", "config-uri", address)
    return linphone


def fetches_of(site: Site, address: str) -> list[tuple[str, str | None, int]]:
    """(User-Agent, Accept, status) of each request to the setup link at `address`."""
    path = address[address.index("/provision/"):]
    return [(agent, accept, status) for fetched, agent, accept, status in site.fetches
            if fetched == path]


def contacts(kamailio: Kamailio, username: str) -> list[dict[str, Any]]:
    """The contacts Kamailio holds for `username` now (empty when none)."""
    try:
        found = kamailio.rpc("ul.lookup", "location", username)
    except PhoneSystemError:  # "AOR not found"
        return []
    return [entry.get("Contact", {}) for entry in found.get("Contacts", [])] \
        if isinstance(found, dict) else []


def registered_from(kamailio: Kamailio, username: str, user_agent: str,
                    linphone: Linphone) -> dict[str, Any]:
    """Wait until a contact of `username` registered by `user_agent` is held; that contact."""
    def found() -> dict[str, Any] | None:
        return next((contact for contact in contacts(kamailio, username)
                     if contact.get("User-Agent") == user_agent), None)
    return wait_for(found, f"{user_agent} registered as {username} (log: "
                           f"{linphone.debug_log})", timeout=PATIENCE)


def devices_of(site: Site, username: str) -> list[RegisteredDevice]:
    """What agentdesk's phone system reads as registered for `username` now."""
    with site.app.app_context():
        found = site.app.extensions["agentdesk"].phone_system(None).registered_devices()
        db.session.remove()
    return list(found.get(username, []))


def fetch_again(address: str, user_agent: str) -> int:
    """The status a second fetch of a setup link gets, as the app would send it."""
    request = urllib.request.Request(address, headers={"User-Agent": user_agent})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


# --- tests ---------------------------------------------------------------------------------


def test_linphone_loads_its_account_from_a_setup_link_and_registers(
        site: Site, tmp_path: Path) -> None:
    user_agent = linphone_user_agent()
    username = site.usernames[OWN]
    address = own_link(site)
    linphone = installed_with(tmp_path / "linphone", address)
    assert link_record(site, address).used_at is None  # being given it fetched nothing yet

    with linphone.running():
        # Linphone fetched the link, which is used up, and the record names the app
        wait_for(lambda: link_record(site, address).used_at is not None,
                 f"Linphone to fetch {address} (log: {linphone.debug_log})", timeout=PATIENCE)
        record = link_record(site, address)
        assert (record.used_by_agent, record.purpose) == (user_agent, "own_device")
        assert fetches_of(site, address) == [(user_agent, None, 200)]  # no Accept header
        assert fetch_again(address, user_agent) == 410

        # It registers with the account it was given: Kamailio holds its contact
        contact = registered_from(site.kamailio, username, user_agent, linphone)
        assert f"sip:{username}@127.0.0.1:" in contact["Address"]
        # agentdesk's reachability sees an app registered now
        [device] = devices_of(site, username)
        assert (device.kind, device.user_agent, device.transport) == (
            DeviceKind.APP, user_agent, "udp")
        with site.app.app_context():
            agent_id = db.session.scalars(select(Agent.id)
                                          .where(Agent.extension == OWN)).one()
            db.session.remove()
        page = site.signed_in(site.world.emails["requester"]).get(f"/agents/{agent_id}")
        text = page.get_data(as_text=True)
        section = text[text.index('id="devices"'):text.index('id="last-call"')]
        assert section.count('class="device"') == 1
        assert "<td>App</td>" in section and user_agent in section

    # What Linphone saved: the account, and not the used-up address (transient provisioning)
    saved = linphone.saved()
    assert "config-uri" not in saved
    assert f"username={username}" in saved
    assert f"reg_proxy=<sip:{site.kamailio.sip[0]}:{site.kamailio.sip[1]};transport=udp>" \
        in saved
    # Quitting signed it out
    wait_for(lambda: not contacts(site.kamailio, username), "Linphone to unregister",
             timeout=PATIENCE)

    # Started again, it registers with what it saved and never asks for the link again
    with linphone.running():
        registered_from(site.kamailio, username, user_agent, linphone)
    assert fetches_of(site, address) == [(user_agent, None, 200), (user_agent, None, 410)]


def test_a_call_to_the_extension_rings_linphone_and_it_answers(
        site: Site, tmp_path: Path) -> None:
    user_agent = linphone_user_agent()
    username = site.usernames[DESK]
    address = desk_phone_link(site, DESK)
    linphone = installed_with(tmp_path / "linphone", address)
    caller = Phone(site.usernames[CALLER], site.caller_password, site.kamailio.domain,
                   site.kamailio.sip, user_agent="Yealink SIP-T46S 66.86.0.15")
    try:
        assert caller.register() == 200
        with linphone.running(autoanswer=True):
            registered_from(site.kamailio, username, user_agent, linphone)
            assert link_record(site, address).purpose == "desk_phone"

            caller.dial(DESK)
            assert caller.outcome(timeout=PATIENCE) == 200, caller.last_answer.first_line
            answer = caller.last_answer
            assert answer.header("user-agent") == user_agent
            assert "m=audio" in answer.body
            caller.ack()
            calling = f"sip:{site.usernames[CALLER]}@{site.kamailio.domain}"
            wait_for(lambda: f"with {calling} connected." in linphone.console(),
                     f"Linphone to say the call is connected (console: "
                     f"{linphone.console_log})", timeout=PATIENCE)
            assert f"Receiving new incoming call from {calling}" in linphone.console()

            caller.hang_up()
            assert caller.outcome(timeout=PATIENCE) == 200
            wait_for(lambda: f"with {calling} ended" in linphone.console(),
                     "Linphone to say the call ended", timeout=PATIENCE)
    finally:
        caller.close()
