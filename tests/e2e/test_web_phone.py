"""The Web phone (/my/phone) in Chromium against a real Kamailio and agentdesk (see
tests/support/webphone_site.py): registered over WSS with ephemeral credentials, calls with a
desk phone (baresip, sine tone, PCMU), a second device of the same agent (our small SIP
client) and another browser, refusals, the ringtone and notifications, and a revoke.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from tests.support.accessibility import blocking_violations, switch_language
from tests.support.apps import drain
from tests.support.browser import CHROMIUM, expect_fits
from tests.support.processes import wait_for
from tests.support.sip import Phone
from tests.support.webphone_site import (
    DESK,
    OTHER_WEB,
    REGISTERED,
    REVOKED,
    SECRET,
    TONES_PLAYING,
    WEB,
    Site,
    browser_args,
    bytes_received,
    contacts,
    phone_page,
    running_baresip,
    serving_site,
    sockets,
    traced,
)
from tests.support.world import actor
from web.extensions import db
from workflow.agents.webphone import ephemeral_credential
from workflow.models import utcnow
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The Web phone site, for this module."""
    with serving_site(tmp_path_factory.mktemp("webphone")) as served:
        yield served


@pytest.fixture(scope="module")
def live_server(site: Site) -> str:
    """The e2e fixtures' server is this module's agentdesk."""
    return site.base_url


@pytest.fixture(scope="module")
def browser(browser: Browser, site: Site) -> Iterator[Browser]:
    """Chromium for the Web phone (a browser of its own)."""
    assert CHROMIUM.exists()
    launched = browser.browser_type.launch(executable_path=str(CHROMIUM), headless=True,
                                           args=browser_args(site), timeout=30_000)
    yield launched
    launched.close()


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
        # agentdesk sees the browser among the agent's devices: a Web phone, over WSS.
        found = page.request.get(f"/api/v1/agents?q={WEB}")
        assert found.ok, found.text()
        [agent] = [item for item in found.json()["items"] if item["extension"] == WEB]
        assert [(device["kind"], device["transport"]) for device in agent["devices"]] == [
            ("web", "wss")]
        assert agent["devices"][0]["user_agent"].startswith("agentdesk Web phone (JsSIP 3.")
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


def test_the_page_is_accessible_in_both_languages_idle_and_ringing(
        browser: Browser, site: Site) -> None:
    with phone_page(browser, site, site.world.emails["approver"]) as page:
        problems = blocking_violations(page)
        switch_language(page, "en")
        expect(page.locator("#phone-status")).to_have_text("Ready to take and make calls")
        problems += blocking_violations(page)
        caller = Phone(site.sip_usernames[DESK], site.passwords[DESK], site.kamailio.domain,
                       site.kamailio.sip)
        try:
            assert caller.register() == 200
            caller.dial(OTHER_WEB)
            expect(page.get_by_role("button", name="Answer")).to_be_visible()
            for width in (390, 1366):
                page.set_viewport_size({"width": width, "height": 800})
                expect_fits(page)
                problems += blocking_violations(page)
            page.get_by_role("button", name="Reject").click()
            assert caller.outcome(timeout=10) >= 400
        finally:
            caller.close()
            # The choice is kept with the user: the other tests expect Vietnamese.
            page.get_by_role("button", name="Tiếng Việt").click()
            expect(page.locator("#phone-status")).to_have_text(REGISTERED)
        assert not problems, "\n".join(problems)


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
        try:
            expect(page.locator("#phone-status")).to_have_text(
                "Bạn không còn máy lẻ đang hoạt động: điện thoại web đã tắt.")
        except AssertionError as error:
            raise AssertionError(f"{error}\nThe page's exchanges:\n{traced(page)}") from error
        assert page.locator("#call-panel").is_hidden()
        assert contacts(site.kamailio, site.sip_usernames[REVOKED]) == []
        # The switchboard closed the browser's WebSocket too (it ends a call whose BYE was
        # lost, and tells the page at once).
        for _ in range(100):  # Playwright reports the closing while the page is waited on
            if "closed" in traced(page).splitlines():
                break
            page.wait_for_timeout(100)
        assert "closed" in traced(page).splitlines(), traced(page)
