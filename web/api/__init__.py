"""The JSON API, described by OpenAPI at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_login import current_user
from flask_smorest import Api
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import Unauthorized
from wtforms import ValidationError

from web.api.docs import PUBLIC_ENDPOINTS, AgentdeskApi, ErrorResponses, id_parameter
from web.auth import BEARER
from web.errors import error_response
from web.input_limits import IdConverter
from web.ui import csrf

#: Methods that change nothing, which any caller may use without further proof.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

API_SETTINGS = {
    "API_TITLE": "agentdesk",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            }
        },
        "security": [{"bearer": []}, {"cookie": []}],
    },
}


def init_api(app: Flask) -> Api:
    """Register every API blueprint on `app`."""
    from web.api import agents, calling, notifications, session, structure, tickets

    for key, value in API_SETTINGS.items():
        app.config.setdefault(key, value)
    api = AgentdeskApi(app, spec_kwargs={"extra_plugins": [ErrorResponses()]})
    api.register_converter(IdConverter, id_parameter)
    for module in (session, structure, agents, tickets, notifications, calling):
        api.register_blueprint(module.blp, url_prefix="/api/v1")
        # The form token does not apply; `refuse_cross_site_requests` guards instead.
        csrf.exempt(module.blp)
    app.before_request(refuse_cross_site_requests)
    app.before_request(refuse_anonymous_callers)
    return api


def refuse_anonymous_callers() -> None:
    """An operation that needs a signed-in caller answers 401 to anyone else before checking
    their input against its schema: an anonymous caller learns nothing from field messages."""
    endpoint = request.endpoint
    if (request.path.startswith("/api/v1/") and endpoint is not None
            and endpoint not in PUBLIC_ENDPOINTS and request.method != "OPTIONS"
            and not current_user.is_authenticated):
        raise Unauthorized()


def refuse_cross_site_requests() -> Any:
    """A state-changing API call made with the session cookie must be JSON or carry the CSRF
    token (X-CSRFToken).

    Another site, even on the same host (SameSite=Lax does not tell ports apart), can make a
    browser post a form or plain text with the cookie, but not a JSON body without a CORS
    preflight, which this app never grants. Bearer tokens are not ambient: they pass.
    """
    if request.method in SAFE_METHODS or not request.path.startswith("/api/"):
        return None
    if request.headers.get("Authorization", "").startswith(BEARER):
        return None
    if request.mimetype == "application/json" or not current_user.is_authenticated:
        return None
    token = request.headers.get("X-CSRFToken")
    if token:
        try:
            validate_csrf(token)
            return None
        except ValidationError:
            return error_response(403, "csrf_failed")
    return error_response(415, "json_required")
