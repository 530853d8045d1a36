"""The Web phone's side of agentdesk: time-limited SIP credentials for the signed-in agent."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app, jsonify
from flask_login import current_user

from web.extensions import db
from web.i18n import current_language
from web.messages import render
from web.ui.access import signed_in
from workflow.agents import webphone
from workflow.domain.errors import NotFound

bp = Blueprint("webphone", __name__)

#: Credentials are as private as a password: no cache keeps them.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def settings() -> webphone.WebphoneSettings | None:
    """The Web phone's configuration, or None while WEBPHONE_SECRET or WEBPHONE_WS_URL is
    unset."""
    config = current_app.config
    secret, ws_url = config.get("WEBPHONE_SECRET"), config.get("WEBPHONE_WS_URL")
    if not secret or not ws_url:
        return None
    return webphone.WebphoneSettings(
        secret=secret, ws_url=ws_url, domain=config["SIP_DOMAIN"],
        lifetime=timedelta(seconds=int(config.get("WEBPHONE_CREDENTIAL_SECONDS", 3600))))


@bp.route("/my/webphone/credentials", methods=["POST"])
@signed_in()
def credentials() -> Response:
    """JSON for the Web phone to register with, for the agent account the user holds; 404
    with a message in the user's language when there is none or the Web phone is not set up.
    (POST: CSRF-checked like every form, and never cached or prefetched.)"""
    try:
        issued = webphone.issue_credentials(db.session(), settings(), current_user.email)
    except NotFound as error:
        response = jsonify(error=error.code,
                           message=render(error.code, error.params, current_language()))
        response.status_code = 404
    else:
        response = jsonify(
            ws_url=issued.ws_url, sip_uri=issued.sip_uri,
            authorization_user=issued.authorization_user, password=issued.password,
            expires_at=issued.expires_at.isoformat(), display_name=issued.display_name,
            extension=issued.extension)
    response.headers.update(PRIVATE_HEADERS)
    return response


__all__ = ["bp", "settings"]
