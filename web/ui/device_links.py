"""Device setup links: issued with their QR code, and loaded once by a phone app."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from xml.etree import ElementTree

import segno
from flask import Blueprint, Response, current_app, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from web.auth import current_actor
from web.extensions import db
from web.ui.access import signed_in
from web.ui.credentials import PRIVATE_HEADERS, _private, _vault
from workflow import credentials
from workflow.agents import device_links
from workflow.agents import queries as agent_queries
from workflow.agents.device_links import IssuedLink, LinkState, Purpose
from workflow.credentials import CredentialState, Revealed
from workflow.domain.errors import Conflict, NotFound
from workflow.domain.rules import Role

bp = Blueprint("device_links", __name__)
logger = logging.getLogger(__name__)

#: Linphone's remote provisioning format (its "lpconfig" XML).
LPCONFIG_NAMESPACE = "http://www.linphone.org/xsds/lpconfig.xsd"
XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
#: How long a provisioned phone asks to stay registered, in seconds.
REGISTER_EXPIRES = 3600
#: Transports a phone may be told to use (Kamailio listens on each).
TRANSPORTS = frozenset({"udp", "tcp", "tls"})
#: Where a phone may be told to send SIP (PROVISIONING_PROXY): a host name, an IPv4 address
#: or an [IPv6] address, with an optional port.
PROXY_ADDRESS = re.compile(
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?")
#: User-Agents of link previews and mail scanners, which open links people are sent: they
#: get the page that says to open the link in the phone app, and use nothing up.
PREVIEW_AGENTS = re.compile(
    r"bot|crawler|spider|preview|scanner|facebookexternalhit|whatsapp|zalo|skype|slack|"
    r"discord|telegram|linkedin|outlook|microsoft office|ms-office|mimecast|proofpoint|"
    r"barracuda|safelinks|google-safety|headlesschrome|embedly|iframely|pinterest",
    re.IGNORECASE)


@bp.route("/my/credentials/<int:credential_id>/device-link", methods=["POST"])
@signed_in()
def for_my_device(credential_id: int) -> Response:
    """A new setup link, with its QR code, for the employee's own phone app."""
    session = db.session()
    if not FlaskForm().validate_on_submit():
        return _issued_page(None, 400)
    try:
        device_links.pending_credential_of(session, credential_id, current_user.email)
        issued = device_links.issue(session, credential_id, current_actor().user_id,
                                    Purpose.OWN_DEVICE, _lifetime())
    except (NotFound, Conflict):
        return _issued_page(None, 409)
    return _issued_page(issued)


@bp.route("/agents/<int:agent_id>/device-link", methods=["POST"])
@signed_in(Role.ADMIN)
def for_desk_phone(agent_id: int) -> Response:
    """A new setup link, with its QR code, for an admin to load into a desk phone."""
    session = db.session()
    agent = agent_queries.get_agent(session, agent_id)
    latest = credentials.latest_for(session, agent.sip_username)
    issued = None
    if (FlaskForm().validate_on_submit() and latest is not None
            and latest.state is CredentialState.PENDING):
        try:
            issued = device_links.issue(session, latest.id, current_actor().user_id,
                                        Purpose.DESK_PHONE, _lifetime())
        except Conflict:
            issued = None
    return _issued_page(issued, 200 if issued else 409, agent=agent)


@bp.route("/provision/<token>", methods=["GET"])
def provision(token: str) -> Response:
    """The account behind a setup link, as remote provisioning XML, for the first app that
    fetches it. HEAD requests, browsers and link previews get its state and use nothing up."""
    session = db.session()
    if request.method == "HEAD" or _looks_like_preview():
        try:
            state = device_links.state_of(session, token)
        except NotFound:
            state = None
        status = 200 if state is LinkState.READY else 404 if state is None else 410
        if request.method == "HEAD":
            return _private("", status)
        return _private(render_template("credentials/device_open.html", state=state), status)
    transport = current_app.config["PROVISIONING_TRANSPORT"]
    proxy = current_app.config.get("PROVISIONING_PROXY") or current_app.config["SIP_DOMAIN"]
    if transport not in TRANSPORTS or not valid_proxy(proxy):
        # Refused before the link is used up: the password stays waiting for a fixed setting.
        if transport not in TRANSPORTS:
            logger.error("PROVISIONING_TRANSPORT must be one of %s", sorted(TRANSPORTS))
        else:
            logger.error("PROVISIONING_PROXY %r is no host[:port]", proxy)
        return _refusal(_("Liên kết cài đặt tạm thời không dùng được."), 503)
    try:
        revealed = device_links.use(session, _vault(), token,
                                    request.headers.get("User-Agent", ""))
    except NotFound:
        return _refusal(_("Liên kết cài đặt không tồn tại."), 404)
    except Conflict:
        return _refusal(_("Liên kết cài đặt đã được dùng hoặc đã hết hạn. Hãy tạo liên kết "
                          "mới."), 410)
    response = make_response(lpconfig(revealed, transport, proxy))
    response.headers.update(PRIVATE_HEADERS)
    response.mimetype = "application/xml"
    return response


def valid_proxy(address: str) -> bool:
    """Whether `address` is a host, IP address or [IPv6] address with an optional port."""
    found = PROXY_ADDRESS.fullmatch(address)
    return found is not None and (found["port"] is None or 0 < int(found["port"]) < 65536)


def lpconfig(account: Revealed, transport: str, proxy: str | None = None) -> bytes:
    """Linphone's remote provisioning XML for one SIP account: proxy_0 and auth_info_0,
    registering through `proxy` (host[:port]; the account's SIP domain when None)."""
    if transport not in TRANSPORTS:
        raise ValueError(f"PROVISIONING_TRANSPORT must be one of {sorted(TRANSPORTS)}")
    proxy = proxy or account.domain
    if not valid_proxy(proxy):
        raise ValueError(f"PROVISIONING_PROXY {proxy!r} is no host[:port]")
    ElementTree.register_namespace("", LPCONFIG_NAMESPACE)
    ElementTree.register_namespace("xsi", XSI_NAMESPACE)
    config = ElementTree.Element(f"{{{LPCONFIG_NAMESPACE}}}config", {
        f"{{{XSI_NAMESPACE}}}schemaLocation": f"{LPCONFIG_NAMESPACE} lpconfig.xsd"})
    identity = f"sip:{account.sip_username}@{account.domain}"
    display_name = account.full_name.replace("\\", "\\\\").replace('"', '\\"')
    # The address is used once: liblinphone would fetch it again at every start (and get a
    # refusal) unless told the provisioning was transient, which makes it forget config-uri.
    _section(config, "misc", {"transient_provisioning": "1"})
    _section(config, "sip", {"default_proxy": "0"})
    _section(config, "proxy_0", {
        # The identity keeps the SIP domain (the request URI Kamailio checks); the proxy is
        # only where the phone sends its requests.
        "reg_proxy": f"<sip:{proxy};transport={transport}>",
        "reg_identity": f'"{display_name}" <{identity}>',
        "realm": account.domain,
        "reg_expires": str(REGISTER_EXPIRES),
        "reg_sendregister": "1",
    })
    _section(config, "auth_info_0", {
        "username": account.sip_username,
        "passwd": account.password,
        "realm": account.domain,
        "domain": account.domain,
    })
    return bytes(ElementTree.tostring(config, encoding="utf-8", xml_declaration=True))


def provisioning_address(token: str) -> str:
    """The address of a setup link as a phone app fetches it (BASE_URL; the token is in the
    path because the app sends nothing else, and the access log masks it)."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}" \
        f"{url_for('device_links.provision', token=token)}"


def qr_data_uri(address: str) -> str:
    """A PNG QR code of `address` alone, as a data: URI the page shows."""
    return str(segno.make(address, error="m", micro=False).png_data_uri(scale=6, border=4))


def _section(config: ElementTree.Element, name: str, entries: dict[str, str]) -> None:
    """An lpconfig section whose entries replace what the phone had."""
    section = ElementTree.SubElement(config, f"{{{LPCONFIG_NAMESPACE}}}section", {"name": name})
    for key, value in entries.items():
        entry = ElementTree.SubElement(section, f"{{{LPCONFIG_NAMESPACE}}}entry",
                                       {"name": key, "overwrite": "true"})
        entry.text = value


def _looks_like_preview() -> bool:
    """Whether a GET comes from a browser, a link preview or a mail scanner, not a phone app."""
    if PREVIEW_AGENTS.search(request.headers.get("User-Agent", "")):
        return True
    best = request.accept_mimetypes.best_match(["application/xml", "text/xml", "text/html"])
    return best == "text/html"


def _issued_page(issued: IssuedLink | None, status: int = 200, agent: object = None) -> Response:
    """The page showing a new link and its QR code (or why none could be issued)."""
    address = provisioning_address(issued.token) if issued else None
    return _private(render_template(
        "credentials/device_link.html", issued=issued, address=address,
        qr=qr_data_uri(address) if address else None, agent=agent), status)


def _refusal(text: str, status: int) -> Response:
    """A short plain-text refusal a phone app can show."""
    response = make_response(text + "\n", status)
    response.headers.update(PRIVATE_HEADERS)
    response.mimetype = "text/plain"
    return response


def _lifetime() -> timedelta:
    """How long a new link works."""
    return timedelta(seconds=current_app.config["PROVISIONING_LINK_SECONDS"])


__all__ = ["bp", "lpconfig", "provisioning_address", "qr_data_uri", "valid_proxy"]
