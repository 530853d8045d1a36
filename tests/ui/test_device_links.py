"""Device setup links: issued with a QR code of the address alone, loaded once by a phone app
as Linphone remote provisioning XML, untouched by HEAD requests, browsers and link previews;
on both databases, without a browser."""

from __future__ import annotations

import base64
import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from xml.etree import ElementTree

import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select, update

from tests.support.credentials import (
    EMPLOYEE_EMAIL,
    PRIVATE,
    digest_on_switchboard,
    latest,
    provisioned,
    sha256,
    signed_in_with,
    stored,
    with_email,
)
from tests.support.pages import csrf_token
from tests.support.world import World
from web.access_log import loggable_path
from web.extensions import db
from web.ui.device_links import lpconfig, valid_proxy
from workflow.agents.device_links import token_digest
from workflow.credentials import Revealed
from workflow.models import DeviceLink, User, utcnow

#: What Linphone sends when it fetches its remote provisioning (linphonec 5.1.65, seen in
#: tests/pbx/test_linphone_setup.py: no Accept header at all).
LINPHONE = {"User-Agent": "Linphonec/5.1.65"}
#: What a desktop browser sends when someone opens the link.
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36",
           "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
#: Link previews and mail scanners that ask for anything.
PREVIEWS = [
    {"User-Agent": "facebookexternalhit/1.1", "Accept": "*/*"},
    {"User-Agent": "Mozilla/5.0 (compatible; Zalo/1.0)", "Accept": "*/*"},
    {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Microsoft Outlook 16.0)", "Accept": "*/*"},
    {"User-Agent": "TelegramBot (like TwitterBot)"},
]
NAMESPACE = "{http://www.linphone.org/xsds/lpconfig.xsd}"
OPEN_IN_APP = "Hãy mở liên kết này trong ứng dụng điện thoại"
USED_OR_EXPIRED = "Liên kết cài đặt đã được dùng hoặc đã hết hạn."
NOTHING_PENDING = "Không có mật khẩu nào đang chờ được xem nên không thể tạo liên kết cài đặt."


def issue_mine(client: FlaskClient, credential_id: int) -> tuple[int, str]:
    """Press "Cài đặt thiết bị" on the employee's credentials page; status and page."""
    response = client.post(f"/my/credentials/{credential_id}/device-link",
                           data={"csrf_token": csrf_token(client, "/my/credentials")})
    return response.status_code, response.get_data(as_text=True)


def address_on(page: str) -> str:
    """The setup address the page shows."""
    found = re.search(r'id="device-link-address">([^<]+)<', page)
    assert found, "no setup address on the page"
    return found.group(1)


def qr_text(page: str) -> str:
    """What the QR code image on the page decodes to (a real decoder reads the PNG)."""
    found = re.search(r'id="device-link-qr" src="data:image/png;base64,([^"]+)"', page)
    assert found, "no QR code image on the page"
    image = Image.open(io.BytesIO(base64.b64decode(found.group(1)))).convert("L")
    decoded = zxingcpp.read_barcodes(image)
    assert len(decoded) == 1, "the image holds no single readable QR code"
    return str(decoded[0].text)


def path_of(address: str) -> str:
    """The path of a setup address, for the test client."""
    return address[address.index("/provision/"):]


def entries(xml: bytes) -> dict[str, dict[str, str]]:
    """The sections of a Linphone lpconfig document, as {section: {entry: value}}."""
    root = ElementTree.fromstring(xml)
    assert root.tag == f"{NAMESPACE}config"
    return {section.get("name", ""): {entry.get("name", ""): entry.text or ""
                                       for entry in section.findall(f"{NAMESPACE}entry")}
            for section in root.findall(f"{NAMESPACE}section")}


def link_row(address: str) -> DeviceLink:
    """The stored record of the link at `address`."""
    db.session.expire_all()
    token = address.rsplit("/", 1)[1]
    return db.session.scalars(select(DeviceLink)
                              .where(DeviceLink.token_digest == token_digest(token))).one()


def test_an_app_loads_the_account_once_and_the_qr_holds_only_the_address(
    app: Flask, world: World
) -> None:
    agent = provisioned(app, world)
    issued = latest(agent)
    employee = with_email(app, world)
    assert "Cài đặt thiết bị" in employee.get("/my/credentials").get_data(as_text=True)

    status, page = issue_mine(employee, issued.id)
    assert status == 200
    address = address_on(page)
    assert address.startswith(f"{app.config['BASE_URL'].rstrip('/')}/provision/")
    assert qr_text(page) == address
    # Issuing showed nothing secret and used nothing up
    assert stored(issued.id).state == "pending" and stored(issued.id).secret is not None

    app_client = app.test_client()
    fetched = app_client.get(path_of(address), headers=LINPHONE)
    assert fetched.status_code == 200
    assert fetched.mimetype == "application/xml"
    assert {name: fetched.headers.get(name) for name in PRIVATE} == PRIVATE
    config = entries(fetched.data)
    domain = app.config["SIP_DOMAIN"]
    assert config["proxy_0"]["reg_proxy"] == f"<sip:{domain};transport=udp>"
    identity = f"sip:{agent.sip_username}@{domain}"
    assert config["proxy_0"]["reg_identity"] == f'"Nhân viên 0-0" <{identity}>'
    assert config["auth_info_0"]["username"] == agent.sip_username
    assert config["auth_info_0"]["domain"] == domain
    password = config["auth_info_0"]["passwd"]
    assert sha256(password) == digest_on_switchboard(agent)
    assert password not in page

    # Loading it into the app was the one showing: the password is wiped, the use recorded
    row = stored(issued.id)
    assert (row.state, row.secret) == ("revealed", None)
    used = link_row(address)
    assert used.used_at is not None and used.used_by_agent == LINPHONE["User-Agent"]
    assert used.purpose == "own_device"
    assert used.issued_by_id == db.session.scalars(
        select(User.id).where(User.email == EMPLOYEE_EMAIL)).one()

    again = app_client.get(path_of(address), headers=LINPHONE)
    assert again.status_code == 410
    assert USED_OR_EXPIRED in again.get_data(as_text=True)
    assert password not in again.get_data(as_text=True)
    # And no new link can be issued: the password was shown
    status, page = issue_mine(employee, issued.id)
    assert status == 409 and NOTHING_PENDING in page


def test_head_requests_browsers_and_link_previews_use_nothing_up(
    app: Flask, world: World
) -> None:
    agent = provisioned(app, world)
    employee = with_email(app, world)
    address = address_on(issue_mine(employee, latest(agent).id)[1])
    path = path_of(address)
    visitor = app.test_client()

    head = visitor.head(path, headers=LINPHONE)
    assert head.status_code == 200 and head.data == b""
    opened = visitor.get(path, headers=BROWSER)
    assert opened.status_code == 200 and opened.mimetype == "text/html"
    assert OPEN_IN_APP in opened.get_data(as_text=True)
    for headers in PREVIEWS:
        previewed = visitor.get(path, headers=headers)
        assert previewed.status_code == 200, headers
        assert OPEN_IN_APP in previewed.get_data(as_text=True)
        assert "passwd" not in previewed.get_data(as_text=True)
    assert link_row(address).used_at is None
    assert latest(agent).state == "pending"

    assert visitor.get(path, headers=LINPHONE).status_code == 200
    assert visitor.head(path).status_code == 410
    after = visitor.get(path, headers=BROWSER)
    assert after.status_code == 410 and USED_OR_EXPIRED in after.get_data(as_text=True)
    assert visitor.head("/provision/not-a-real-token").status_code == 404


def test_an_expired_link_is_refused_and_the_password_still_waits(
    app: Flask, world: World
) -> None:
    agent = provisioned(app, world)
    issued = latest(agent)
    employee = with_email(app, world)
    address = address_on(issue_mine(employee, issued.id)[1])
    # The configured lifetime (PROVISIONING_LINK_SECONDS, 900 by default)
    row = link_row(address)
    assert row.expires_at - row.created_at == timedelta(seconds=900)
    db.session.execute(update(DeviceLink).where(DeviceLink.id == row.id)
                       .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    refused = app.test_client().get(path_of(address), headers=LINPHONE)
    assert refused.status_code == 410
    assert USED_OR_EXPIRED in refused.get_data(as_text=True)
    assert stored(issued.id).state == "pending" and link_row(address).used_at is None
    # A newer link makes an older unused one stop working
    first = address_on(issue_mine(employee, issued.id)[1])
    second = address_on(issue_mine(employee, issued.id)[1])
    assert app.test_client().get(path_of(first), headers=LINPHONE).status_code == 410
    assert app.test_client().get(path_of(second), headers=LINPHONE).status_code == 200


def test_of_two_fetches_at_once_one_gets_the_account(app: Flask, world: World) -> None:
    agent = provisioned(app, world)
    employee = with_email(app, world)
    path = path_of(address_on(issue_mine(employee, latest(agent).id)[1]))
    start = threading.Barrier(2)

    def fetch() -> tuple[int, bytes]:
        client = app.test_client()
        start.wait()
        response = client.get(path, headers=LINPHONE)
        return response.status_code, response.data

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(lambda _: fetch(), range(2)))
    assert [status for status, _ in results] == [200, 410]
    assert b"passwd" not in results[1][1]


def test_nobody_issues_a_link_to_someone_elses_password(app: Flask, world: World) -> None:
    agent = provisioned(app, world)
    signed_in = signed_in_with(app, world.emails["requester"])
    status, page = issue_mine(signed_in, latest(agent).id)
    assert status == 409 and "device-link-address" not in page
    assert db.session.scalars(select(DeviceLink)).all() == []
    refused = signed_in.post(f"/agents/{agent.id}/device-link",
                             data={"csrf_token": csrf_token(signed_in, "/my/credentials")})
    assert refused.status_code == 403


def test_an_admin_issues_a_link_for_a_desk_phone(app: Flask, world: World) -> None:
    agent = provisioned(app, world)
    admin = signed_in_with(app, world.emails["admin"])
    detail = f"/agents/{agent.id}"
    assert "Cài đặt điện thoại bàn" in admin.get(detail).get_data(as_text=True)
    response = admin.post(f"/agents/{agent.id}/device-link",
                          data={"csrf_token": csrf_token(admin, detail)})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    address = address_on(page)
    assert qr_text(page) == address
    row = link_row(address)
    assert (row.purpose, row.issued_by_id) == ("desk_phone", world.admin_id)
    phone = app.test_client().get(path_of(address),
                                  headers={"User-Agent": "Yealink SIP-T46U 108.86.0.45"})
    assert phone.status_code == 200
    assert entries(phone.data)["auth_info_0"]["username"] == agent.sip_username
    # The password is shown now: nothing is left to set a phone up with
    again = admin.post(f"/agents/{agent.id}/device-link",
                       data={"csrf_token": csrf_token(admin, detail)})
    assert again.status_code == 409 and NOTHING_PENDING in again.get_data(as_text=True)


def test_the_pages_speak_english(app: Flask, world: World) -> None:
    agent = provisioned(app, world)
    employee = with_email(app, world)
    employee.post("/language", data={"language": "en", "next": "/my/credentials",
                                     "csrf_token": csrf_token(employee, "/login")})
    assert "Set up a device" in employee.get("/my/credentials").get_data(as_text=True)
    status, page = issue_mine(employee, latest(agent).id)
    assert status == 200 and "scan this code" in page
    english = {**BROWSER, "Accept-Language": "en"}
    opened = app.test_client().get(path_of(address_on(page)), headers=english)
    assert "Open this link in the phone app" in opened.get_data(as_text=True)
    app.test_client().get(path_of(address_on(page)), headers=LINPHONE)
    refused = app.test_client().get(path_of(address_on(page)),
                                    headers={**LINPHONE, "Accept-Language": "en"})
    assert refused.status_code == 410
    assert "This setup link was used already or has expired." in refused.get_data(as_text=True)


def test_the_access_log_masks_the_token() -> None:
    logged = loggable_path({"PATH_INFO": "/provision/s3cr3t-token", "SCRIPT_NAME": ""})
    assert logged == "/provision/<token>"


def test_the_provisioning_xml_names_the_transport_and_quotes_the_name() -> None:
    account = Revealed("u5001", "pbx.example.vn", "pa<ss>&word", 'Lê "Bé" Thảo\\')
    config = entries(lpconfig(account, "tls"))
    assert config["proxy_0"]["reg_proxy"] == "<sip:pbx.example.vn;transport=tls>"
    assert config["proxy_0"]["reg_identity"] == '"Lê \\"Bé\\" Thảo\\\\" <sip:u5001@pbx.example.vn>'
    assert config["auth_info_0"]["passwd"] == "pa<ss>&word"


def test_the_provisioning_xml_sends_the_phone_to_the_configured_proxy() -> None:
    account = Revealed("u5001", "pbx.example.vn", "secret", "Lan")
    config = entries(lpconfig(account, "udp", "sip.example.vn:5080"))
    # The phone sends its requests there; who it is stays at the SIP domain
    assert config["proxy_0"]["reg_proxy"] == "<sip:sip.example.vn:5080;transport=udp>"
    assert config["proxy_0"]["reg_identity"] == '"Lan" <sip:u5001@pbx.example.vn>'
    assert config["auth_info_0"]["domain"] == config["proxy_0"]["realm"] == "pbx.example.vn"
    # liblinphone forgets a transient address once applied, instead of fetching it each start
    assert config["misc"] == {"transient_provisioning": "1"}
    assert entries(lpconfig(account, "tcp", "[2001:db8::5]:5060"))["proxy_0"]["reg_proxy"] \
        == "<sip:[2001:db8::5]:5060;transport=tcp>"


@pytest.mark.parametrize(("address", "valid"), [
    ("pbx.example.vn", True), ("pbx.example.vn:5060", True), ("203.0.113.7:5080", True),
    ("[2001:db8::5]", True), ("[2001:db8::5]:5061", True), ("localhost", True),
    ("", False), ("pbx.example.vn:0", False), ("pbx.example.vn:65536", False),
    ("sip:pbx.example.vn", False), ("pbx.example.vn;transport=tcp", False),
    ("pbx example.vn", False), ("-pbx.example.vn", False), ("pbx.example.vn:", False),
])
def test_which_proxy_addresses_are_accepted(address: str, valid: bool) -> None:
    assert valid_proxy(address) is valid
    if not valid and address:  # no proxy at all means the SIP domain
        with pytest.raises(ValueError, match="PROVISIONING_PROXY"):
            lpconfig(Revealed("u5001", "pbx.example.vn", "secret", "Lan"), "udp", address)


@pytest.mark.parametrize("setting", [{"PROVISIONING_TRANSPORT": "sctp"},
                                     {"PROVISIONING_PROXY": "sip:pbx.example.vn"}],
                         ids=["transport", "proxy"])
def test_a_wrong_setting_refuses_the_link_before_using_it(
    app: Flask, world: World, setting: dict[str, str]
) -> None:
    agent = provisioned(app, world)
    issued = latest(agent)
    address = address_on(issue_mine(with_email(app, world), issued.id)[1])
    saved = {name: app.config.get(name) for name in setting}
    app.config.update(setting)
    try:
        refused = app.test_client().get(path_of(address), headers=LINPHONE)
    finally:
        app.config.update(saved)
    assert refused.status_code == 503
    assert "Liên kết cài đặt tạm thời không dùng được." in refused.get_data(as_text=True)
    assert stored(issued.id).state == "pending" and link_row(address).used_at is None
    # Once the setting is right the same link works
    fetched = app.test_client().get(path_of(address), headers=LINPHONE)
    assert fetched.status_code == 200
    assert entries(fetched.data)["proxy_0"]["reg_proxy"] == \
        f"<sip:{app.config['SIP_DOMAIN']};transport=udp>"
