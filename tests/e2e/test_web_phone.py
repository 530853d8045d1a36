"""The Web phone (/my/phone) in Chromium against a real Kamailio (WITH_WEBSOCKET and WITH_TLS:
the page registers over WSS as in production, ephemeral credentials, rtpengine bridging WebRTC to
plain RTP) and agentdesk with PHONE_SYSTEM=kamailio.

Kamailio's certificate is one `agentdesk pbx certificate` made for the switchboard's name;
Chromium resolves that name to 127.0.0.1 and trusts that certificate's key alone
(--ignore-certificate-errors-spki-list), so the TLS handshake is otherwise a real one.

Chromium fakes the microphone (a beep) and grants it without asking. Agents are provisioned
through tickets; a desk phone is baresip (sine tone, PCMU), a second device of the same agent
is our small SIP client. The browser's RTCPeerConnections are collected by an init script so
the test can read getStats().
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update
from werkzeug.serving import make_server

from tests.baresip import Baresip
from tests.conftest import (
    PASSWORD,
    World,
    build_app,
    drain,
    fresh_pg_database,
    make_world,
    worker_suffix,
)
from tests.e2e.conftest import ACTION_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, expect_fits, login
from tests.pbx.launcher import DOMAIN, Kamailio, running_kamailio, running_rtpengine
from tests.pbx.test_kamailio_workflow import revealed_password
from tests.processes import free_port, running, wait_for
from tests.services.test_submit import actor
from tests.sip import Phone
from web.cli import cli
from web.extensions import db
from workflow import decisions
from workflow.models import Agent, Employee, utcnow
from workflow.ports import PhoneSystemError
from workflow.tickets import TicketKind, TicketRequest, submit_ticket
from workflow.webphone import ephemeral_credential

SECRET = "e2e-webphone-secret-" + secrets.token_hex(8)
#: Fake media: a microphone that beeps, granted without a prompt. Sound follows Chromium's
#: own autoplay policy, as for the employee.
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
#: Keeps every RTCPeerConnection the page makes, for getStats().
COLLECT_PEER_CONNECTIONS = """
(() => {
  const Original = window.RTCPeerConnection;
  window.__peerConnections = [];
  window.RTCPeerConnection = function (...args) {
    const made = new Original(...args);
    window.__peerConnections.push(made);
    return made;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Original);
})();
"""
#: Keeps every Notification the page shows and every tone it plays (the ringtone).
COLLECT_NOTIFICATIONS_AND_TONES = """
(() => {
  window.__notifications = [];
  const OriginalNotification = window.Notification;
  window.Notification = function (title, options) {
    const made = new OriginalNotification(title, options);
    const record = { title, body: (options || {}).body, closed: false };
    window.__notifications.push(record);
    const close = made.close.bind(made);
    made.close = () => { record.closed = true; close(); };
    return made;
  };
  window.Notification.prototype = OriginalNotification.prototype;
  Object.defineProperty(window.Notification, "permission",
                        { get: () => OriginalNotification.permission });
  window.Notification.requestPermission =
    (...args) => OriginalNotification.requestPermission(...args);
  window.__tones = [];
  const createOscillator = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    const made = createOscillator.call(this);
    const record = { context: this, frequency: 0, started: false, stopped: false };
    window.__tones.push(record);
    const start = made.start.bind(made);
    const stop = made.stop.bind(made);
    made.start = (...args) => {
      record.started = true; record.frequency = made.frequency.value; return start(...args);
    };
    made.stop = (...args) => { record.stopped = true; return stop(...args); };
    return made;
  };
})();
"""
#: The frequencies of the tones playing now, with their sound context running.
TONES_PLAYING = """() => window.__tones
  .filter((tone) => tone.started && !tone.stopped && tone.context.state === "running")
  .map((tone) => tone.frequency)"""
#: Audio bytes the page's newest peer connection has received.
BYTES_RECEIVED = """async () => {
  const connection = window.__peerConnections[window.__peerConnections.length - 1];
  if (!connection) { return 0; }
  let bytes = 0;
  (await connection.getStats()).forEach((report) => {
    if (report.type === "inbound-rtp" && report.kind === "audio") { bytes += report.bytesReceived; }
  });
  return bytes;
}"""
REGISTERED = "Sẵn sàng nhận và gọi"
#: The extensions: the requester's (web phone), the approver's (web phone), a desk phone,
#: and the admin's (web phone, revoked by the last test).
WEB, OTHER_WEB, DESK, REVOKED = "5701", "5702", "5703", "5704"


@dataclass
class Site:
    """agentdesk served over HTTP on the test Kamailio, with its agents."""

    app: Flask
    base_url: str
    world: World
    kamailio: Kamailio
    #: Where browsers reach the switchboard: wss://DOMAIN:port.
    ws_url: str
    #: The base64 SHA-256 of Kamailio's certificate's public key (what Chromium trusts).
    spki: str
    sip_usernames: dict[str, str]
    passwords: dict[str, str]
    folder: Path


@contextlib.contextmanager
def running_baresip(kamailio: Kamailio, username: str, password: str,
                    home: Path) -> Iterator[Baresip]:
    """baresip registered as `username` over UDP, answering calls by itself."""
    control_port = free_port()
    home.mkdir()
    host, port = kamailio.sip
    (home / "accounts").write_text(
        f"<sip:{username}@{kamailio.domain}>;auth_pass={password};"
        f'outbound="sip:{host}:{port}";regint=3600;answermode=auto;audio_codecs=PCMU\n')
    (home / "config").write_text("\n".join([
        "sip_listen 127.0.0.1:0",
        "module_path /usr/lib/baresip/modules",
        "module g711.so", "module ausine.so", "module aubridge.so",
        "module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
        f"ctrl_tcp_listen 127.0.0.1:{control_port}",
        "audio_source ausine,440", "ausrc_srate 48000", "ausrc_channels 2",
        "audio_player aubridge,webphone", "audio_alert aubridge,webphone",
        "rtp_stats yes", "",
    ]))
    log = home / "baresip.log"
    with running(["baresip", "-f", str(home), "-v"], {}, log):
        yield Baresip(socket.socket(), ("127.0.0.1", control_port), log)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Kamailio (WSS) + rtpengine, and agentdesk on it serving the four agents' people."""
    folder = tmp_path_factory.mktemp("webphone")
    certificate, key = folder / "tls.pem", folder / "tls.key"
    made = CliRunner().invoke(cli, ["pbx", "certificate", "--host", DOMAIN,
                                    "--certificate", str(certificate),
                                    "--private-key", str(key)])
    assert made.exit_code == 0, made.output
    wss_port = free_port()
    with running_rtpengine("127.0.0.1", folder / "rtpengine.log") as engine:
        defines = {"WITH_WEBSOCKET": "", "WS_PORT": str(free_port()), "WITH_TLS": "",
                   "WSS_PORT": str(wss_port), "TLS_PORT": str(free_port()),
                   "TLS_CERTIFICATE": f'"{certificate}"', "TLS_PRIVATE_KEY": f'"{key}"',
                   "EPHEMERAL_SECRET": f'"{SECRET}"', "WITH_RTPENGINE": "",
                   "RTPENGINE_SOCK": f'"udp:{engine.ng[0]}:{engine.ng[1]}"'}
        with running_kamailio(f"agentdesk_webphone_{worker_suffix()}", folder / "kamailio.log",
                              defines=defines) as kamailio:
            yield from _serve(kamailio, f"wss://{DOMAIN}:{wss_port}", spki_of(certificate),
                              folder)


def spki_of(certificate: Path) -> str:
    """The base64 SHA-256 of a PEM certificate's public key, as Chromium's pin list wants it."""
    key = x509.load_pem_x509_certificate(certificate.read_bytes()).public_key()
    digest = hashlib.sha256(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
    return base64.b64encode(digest.digest()).decode()


def _serve(kamailio: Kamailio, ws_url: str, spki: str, folder: Path) -> Iterator[Site]:
    """agentdesk on `kamailio`, served on a free port while the tests run."""
    app = build_app(fresh_pg_database(f"agentdesk_webphone_app_{worker_suffix()}"),
                    PHONE_SYSTEM="kamailio", KAMAILIO_DATABASE_URL=kamailio.database_url,
                    KAMAILIO_RPC_URL=kamailio.rpc_url, SIP_DOMAIN=kamailio.domain,
                    WEBPHONE_SECRET=SECRET, WEBPHONE_WS_URL=ws_url,
                    WEBPHONE_CREDENTIAL_SECONDS=3600, SESSION_COOKIE_SECURE=False,
                    FORCE_HTTPS=False)
    with app.app_context():
        world = make_world(employees_per_department=2)
        holders = {WEB: world.emails["requester"], OTHER_WEB: world.emails["approver"],
                   DESK: None, REVOKED: world.emails["admin"]}
        usernames, passwords = {}, {}
        for employee_id, (extension, email) in zip(world.employee_ids, holders.items(),
                                                    strict=False):
            db.session.execute(update(Employee).where(Employee.id == employee_id)
                               .values(email=email))
            db.session.commit()
            ticket = submit_ticket(db.session, actor(world.requester_id),
                                   TicketRequest(TicketKind.NEW, employee_id, extension))
            decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
            drain(app)
            agent = db.session.scalars(select(Agent).where(Agent.extension == extension)).one()
            usernames[extension] = agent.sip_username
            passwords[extension] = revealed_password(app, agent.sip_username)
        db.session.remove()
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(app, f"http://127.0.0.1:{port}", world, kamailio, ws_url, spki, usernames,
                   passwords, folder)
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def live_server(site: Site) -> str:
    """The e2e fixtures' server is this module's agentdesk."""
    return site.base_url


@pytest.fixture(scope="module")
def browser(browser: Browser, site: Site) -> Iterator[Browser]:
    """Chromium with a fake microphone, granted without asking (a browser of its own), that
    finds the switchboard by its name and trusts its certificate."""
    assert CHROMIUM.exists()
    trust = [f"--host-resolver-rules=MAP {DOMAIN} 127.0.0.1",
             f"--ignore-certificate-errors-spki-list={site.spki}"]
    launched = browser.browser_type.launch(executable_path=str(CHROMIUM), headless=True,
                                           args=CHROMIUM_ARGS + FAKE_MEDIA + trust,
                                           timeout=30_000)
    yield launched
    launched.close()


@contextlib.contextmanager
def phone_page(browser: Browser, site: Site, email: str,
               viewport: dict[str, int] | None = None) -> Iterator[Page]:
    """/my/phone signed in as `email`, registered."""
    context = browser.new_context(base_url=site.base_url, locale="vi-VN",
                                  timezone_id="Asia/Ho_Chi_Minh",
                                  viewport=viewport or {"width": 1366, "height": 768})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.grant_permissions(["microphone", "notifications"], origin=site.base_url)
    context.add_init_script(COLLECT_PEER_CONNECTIONS)
    context.add_init_script(COLLECT_NOTIFICATIONS_AND_TONES)
    try:
        page = context.new_page()
        login(page, email, PASSWORD)
        page.goto("/my/phone")
        expect(page.locator("#phone-status")).to_have_text(REGISTERED)
        yield page
    finally:
        context.close()


def contacts(kamailio: Kamailio, username: str) -> list[str]:
    """The contacts registered now for `username` (empty when none)."""
    try:
        found = kamailio.rpc("ul.lookup", "location", username)
    except PhoneSystemError:  # "AOR not found"
        return []
    return [str(contact.get("Contact", {}).get("Address", ""))
            for contact in found.get("Contacts", [])] if isinstance(found, dict) else []


def sockets(kamailio: Kamailio, username: str) -> list[str]:
    """The proxy's sockets that `username`'s registered contacts came in on."""
    found = kamailio.rpc("ul.lookup", "location", username)
    return [str(contact.get("Contact", {}).get("Socket", ""))
            for contact in found.get("Contacts", [])]


def bytes_received(page: Page) -> int:
    """Audio bytes the page's latest call has received (getStats)."""
    return int(page.evaluate(BYTES_RECEIVED))


# --- tests -------------------------------------------------------------------------------------


def test_registers_over_wss_with_credentials_and_refuses_an_expired_one(
        browser: Browser, site: Site) -> None:
    with phone_page(browser, site, site.world.emails["requester"]) as page:
        registered = contacts(site.kamailio, site.sip_usernames[WEB])
        assert any("transport=ws" in contact for contact in registered), registered
        # It came over TLS, to the WSS port.
        assert sockets(site.kamailio, site.sip_usernames[WEB]) == [
            f"tls:127.0.0.1:{site.ws_url.rsplit(':', 1)[1]}"]
        expect(page.locator("a[href='/my/phone']")).to_have_attribute("aria-current", "page")
        # A credential whose time is up, made with the right secret: the switchboard refuses it.
        expired = ephemeral_credential(SECRET, site.sip_usernames[OTHER_WEB],
                                       utcnow() - timedelta(hours=2), timedelta(hours=1))
        outcome = page.evaluate("""([wsUrl, uri, user, password]) => new Promise((resolve) => {
            const ua = new JsSIP.UA({ sockets: [new JsSIP.WebSocketInterface(wsUrl)], uri,
              authorization_user: user, password, register: true });
            ua.on("registered", () => { ua.stop(); resolve("registered"); });
            ua.on("registrationFailed", (event) => {
              ua.stop(); resolve(`${event.response.status_code} ${event.response.reason_phrase}`);
            });
            ua.start();
        })""", [site.ws_url,
                f"sip:{site.sip_usernames[OTHER_WEB]}@{site.kamailio.domain}",
                expired.username, expired.password])
        assert outcome == "403 Credentials Expired"
        assert contacts(site.kamailio, site.sip_usernames[OTHER_WEB]) == []


@pytest.mark.parametrize("size", [{"width": 390, "height": 844}, {"width": 1366, "height": 768}],
                         ids=["390", "1366"])
def test_the_page_fits_phones_and_laptops(browser: Browser, site: Site,
                                          size: dict[str, int]) -> None:
    with phone_page(browser, site, site.world.emails["requester"], viewport=size) as page:
        expect_fits(page)
        expect(page.get_by_label("Số cần gọi")).to_be_visible()
        keypad = page.get_by_role("group", name="Bàn phím số")
        expect(keypad.get_by_role("button")).to_have_count(12)


def test_a_desk_phone_call_rings_the_browser_and_the_other_device_and_is_answered_in_it(
        browser: Browser, site: Site) -> None:
    second = Phone(site.sip_usernames[WEB], site.passwords[WEB], site.kamailio.domain,
                   site.kamailio.sip)
    try:
        assert second.register() == 200
        with phone_page(browser, site, site.world.emails["requester"]) as page, \
                running_baresip(site.kamailio, site.sip_usernames[DESK], site.passwords[DESK],
                                site.folder / f"desk-{secrets.token_hex(3)}") as desk:
            wait_for(lambda: contacts(site.kamailio, site.sip_usernames[DESK]),
                     "the desk phone to register", timeout=10)
            desk.command("dial", f"sip:{WEB}@{site.kamailio.domain}")
            expect(page.locator("#incoming")).to_be_visible()
            expect(page.locator("#incoming-caller")).to_contain_text(site.sip_usernames[DESK])
            assert page.locator("#phone").get_attribute("data-ringing") == "true"
            assert second.ring() is not None, "the agent's other device did not ring"
            page.get_by_role("button", name="Nghe").click()
            desk.event("CALL_ESTABLISHED")
            expect(page.locator("#call-state")).to_contain_text("Đang nói chuyện với")
            wait_for(lambda: bytes_received(page) > 0, "audio to reach the browser", timeout=10)
            wait_for(lambda: desk.rtp_received() > 0, "audio to reach the desk phone",
                     timeout=10)
            # DTMF, mute and hold work on the call in progress.
            page.get_by_role("group", name="Bàn phím số").get_by_role("button", name="5").click()
            expect(page.locator("#dtmf-sent")).to_have_text("5")
            page.locator("#mute").click()
            expect(page.locator("#mute")).to_have_attribute("aria-pressed", "true")
            page.locator("#hold").click()
            expect(page.locator("#hold")).to_have_attribute("aria-pressed", "true")
            expect(page.locator("#call-state")).to_have_text("Đang giữ máy")
            page.locator("#hold").click()
            expect(page.locator("#hold")).to_have_attribute("aria-pressed", "false")
            page.get_by_role("button", name="Gác máy").click()
            desk.event("CALL_CLOSED")
            expect(page.locator("#call-message")).to_have_text("Cuộc gọi đã kết thúc")
            expect(page.locator("#call-history")).to_contain_text(DESK)
    finally:
        second.close()


def test_an_incoming_call_rings_and_notifies_while_the_tab_is_in_the_background(
        browser: Browser, site: Site) -> None:
    with phone_page(browser, site, site.world.emails["requester"]) as page, \
            running_baresip(site.kamailio, site.sip_usernames[DESK], site.passwords[DESK],
                            site.folder / f"desk-{secrets.token_hex(3)}") as desk:
        # Opened without a click on it, the page may not play sound yet (Chromium's autoplay
        # policy): it offers to, and one press turns the ringtone on.
        sound = page.get_by_role("button", name="Bật chuông cuộc gọi đến")
        sound.click()
        expect(sound).to_be_hidden()
        # The employee goes to another tab (headless Chromium keeps every tab visible, so the
        # page is told it is hidden).
        page.evaluate("""() => Object.defineProperty(document, "hidden",
                                                      { value: true, configurable: true })""")
        wait_for(lambda: contacts(site.kamailio, site.sip_usernames[DESK]),
                 "the desk phone to register", timeout=10)
        desk.command("dial", f"sip:{WEB}@{site.kamailio.domain}")
        expect(page.locator("#incoming")).to_be_visible()
        wait_for(lambda: page.evaluate(TONES_PLAYING) == [425], "the ringtone", timeout=10)
        shown = page.evaluate("() => window.__notifications")
        assert [(notice["title"], notice["closed"]) for notice in shown] == [
            ("Cuộc gọi đến", False)]
        assert site.sip_usernames[DESK] in shown[0]["body"]
        # Rejected: the ringing stops and the notification goes.
        page.get_by_role("button", name="Từ chối").click()
        expect(page.locator("#incoming")).to_be_hidden()
        assert page.evaluate(TONES_PLAYING) == []
        assert page.evaluate("() => window.__notifications[0].closed")


def test_a_visible_tab_rings_without_a_notification(browser: Browser, site: Site) -> None:
    with phone_page(browser, site, site.world.emails["approver"]) as page:
        caller = Phone(site.sip_usernames[DESK], site.passwords[DESK], site.kamailio.domain,
                       site.kamailio.sip)
        try:
            assert caller.register() == 200
            caller.dial(OTHER_WEB)
            expect(page.locator("#incoming")).to_be_visible()
            assert page.evaluate("() => window.__notifications") == []
            page.get_by_role("button", name="Từ chối").click()
            assert caller.outcome(timeout=10) >= 400
        finally:
            caller.close()


def test_one_browser_calls_another(browser: Browser, site: Site) -> None:
    with phone_page(browser, site, site.world.emails["requester"]) as caller, \
            phone_page(browser, site, site.world.emails["approver"]) as callee:
        caller.get_by_label("Số cần gọi").fill(OTHER_WEB)
        caller.get_by_role("button", name="Gọi", exact=True).click()
        expect(callee.locator("#incoming-caller")).to_contain_text("Nhân viên 0-0")
        callee.get_by_role("button", name="Nghe").click()
        expect(caller.locator("#call-state")).to_contain_text("Đang nói chuyện với")
        wait_for(lambda: bytes_received(callee) > 0 and bytes_received(caller) > 0,
                 "audio both ways between the browsers", timeout=10)
        callee.get_by_role("button", name="Gác máy").click()
        expect(caller.locator("#call-message")).to_have_text("Cuộc gọi đã kết thúc")


def test_a_refused_outgoing_call_shows_why_in_the_users_language(
        browser: Browser, site: Site) -> None:
    with phone_page(browser, site, site.world.emails["requester"]) as page:
        page.get_by_label("Số cần gọi").fill("0912345678")
        page.get_by_role("button", name="Gọi", exact=True).click()
        message = page.locator("#call-message")
        expect(message).to_be_visible()
        expect(message).to_have_text(re.compile(
            r"^Cuộc gọi không thành công: (Số điện thoại không hợp lệ\.|"
            r"Máy lẻ của bạn không được gọi ra ngoài\.|"
            r"Hồ sơ gọi của bạn không cho gọi loại số này\.|"
            r"Ngoài giờ làm việc: hồ sơ gọi của bạn không cho gọi lúc này\.)$"))


def test_revoking_the_agent_ends_its_call_and_its_registration(
        browser: Browser, site: Site) -> None:
    with phone_page(browser, site, site.world.emails["admin"]) as page, \
            running_baresip(site.kamailio, site.sip_usernames[DESK], site.passwords[DESK],
                            site.folder / f"desk-{secrets.token_hex(3)}") as desk:
        wait_for(lambda: contacts(site.kamailio, site.sip_usernames[DESK]),
                 "the desk phone to register", timeout=10)
        desk.command("dial", f"sip:{REVOKED}@{site.kamailio.domain}")
        page.get_by_role("button", name="Nghe").click()
        desk.event("CALL_ESTABLISHED")
        with site.app.app_context():
            employee = site.world.employee_ids[3]
            ticket = submit_ticket(db.session, actor(site.world.requester_id),
                                   TicketRequest(TicketKind.REVOKE, employee, None))
            decisions.approve_ticket(db.session, actor(site.world.approver_id), ticket.id)
            drain(site.app)
            db.session.remove()
        desk.event("CALL_CLOSED")
        expect(page.locator("#phone-status")).to_have_text(
            "Bạn không còn máy lẻ đang hoạt động: điện thoại web đã tắt.")
        assert page.locator("#call-panel").is_hidden()
        assert contacts(site.kamailio, site.sip_usernames[REVOKED]) == []
