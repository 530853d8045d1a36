"""The server-rendered web application: pages for requesters, approvers and admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_babel import Babel, format_datetime, refresh
from flask_bootstrap import Bootstrap5
from flask_login import current_user
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

from web.auth import current_actor
from web.extensions import db
from web.i18n import current_language
from web.ui.credentials import pending_count
from web.ui.form_errors import problem_messages
from web.ui.forms import LANGUAGE_NAMES
from web.ui.labels import label_globals
from web.ui.phone import holds_active_agent
from workflow.domain.routing import display_number
from workflow.domain.rules import Role
from workflow.tickets import notifications, queries, undelivered

csrf = CSRFProtect()

#: Everything the pages load comes from the app itself (the machines have no internet).
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:"],
    "style-src": "'self'",
    "script-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


class SecurityHeaders(Talisman):
    """Flask-Talisman, with each endpoint's headers worked out once and then copied.

    Without a CSP nonce they depend only on the endpoint's options and on whether the
    request came over HTTPS (Strict-Transport-Security), so every request need not build the
    policy strings again.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._held: dict[tuple[str | None, bool], list[tuple[str, str]]] = {}
        super().__init__(*args, **kwargs)

    def _set_response_headers(self, response: Response) -> Response:
        if hasattr(request, "csp_nonce"):  # a policy of its own for this response
            return super()._set_response_headers(response)
        secure = (request.is_secure
                  or request.headers.get("X-Forwarded-Proto", "http") == "https")
        key = (request.endpoint, secure)
        headers = self._held.get(key)
        if headers is None:
            probe = Response()
            probe.headers.clear()
            super()._set_response_headers(probe)
            headers = self._held[key] = list(probe.headers.items())
        for name, value in headers:
            response.headers[name] = value
        return response


def content_security_policy(websocket_url: str | None) -> dict[str, Any]:
    """The policy, letting pages open the Web phone's WebSocket when it is configured (a
    WebSocket on another port or host is not 'self')."""
    parts = urlsplit(websocket_url or "")
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        return CONTENT_SECURITY_POLICY
    return {**CONTENT_SECURITY_POLICY,
            "connect-src": ["'self'", f"{parts.scheme}://{parts.netloc}"]}


def init_ui(app: Flask) -> None:
    """Attach the pages and what they need: translations, CSRF, headers, rate limits, CSS."""
    from web.ui import (
        admin,
        agents,
        all_tickets,
        approvals,
        calling,
        credentials,
        device_links,
        emails,
        notices,
        pages,
        phone,
        setup,
        sign_in,
        staff,
        structure_pages,
        tickets,
        webphone,
    )

    app.config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)
    app.config.setdefault("MAX_CONTENT_LENGTH", 5 * 1024 * 1024)  # uploads: CSV files
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["TIMEZONE"])
    Babel(app, locale_selector=current_language)
    Bootstrap5(app)
    csrf.init_app(app)
    SecurityHeaders(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=content_security_policy(app.config.get("WEBPHONE_WS_URL")),
        frame_options="DENY",
        referrer_policy="same-origin",
    )
    for module in (pages, sign_in, agents, setup, tickets, approvals, notices, admin, staff,
                   structure_pages, credentials, device_links, calling, emails, all_tickets,
                   webphone, phone):
        app.register_blueprint(module.bp)
    app.context_processor(_page_globals)
    app.add_template_filter(local_time)
    app.add_template_filter(display_number, "phone")
    app.add_template_global(problem_messages)
    app.before_request(_forget_per_request_caches)


def _forget_per_request_caches() -> None:
    """Start every request with its own language and CSRF token, even when an app context
    is reused (Flask-Babel and Flask-WTF cache them on it, and it may outlive a request)."""
    refresh()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def local_time(moment: datetime, seconds: bool = False) -> str:
    """A timestamp in the organisation's time zone, day first as Vietnamese write it."""
    return str(format_datetime(moment, "dd/MM/yyyy HH:mm" + (":ss" if seconds else "")))


def _page_globals() -> dict[str, Any]:
    """What every page template may use, including the count on the queue's badge."""
    awaiting = unread = passwords = parked = 0
    web_phone = False
    if has_request_context() and current_user.is_authenticated:
        caller = current_actor()
        web_phone = holds_active_agent()
        unread = notifications.count_unread(db.session(), caller.user_id)
        passwords = pending_count()
        if caller.role in (Role.APPROVER, Role.ADMIN):
            awaiting = queries.count_awaiting_decision(db.session(), caller)
        if caller.role is Role.ADMIN:
            parked = undelivered.count_parked(db.session())
    return {"current_language": current_language(), "language_names": LANGUAGE_NAMES,
            "awaiting_decision": awaiting, "unread_notices": unread,
            "pending_passwords": passwords, "parked_emails": parked, "web_phone": web_phone,
            **label_globals()}
