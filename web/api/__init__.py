"""The JSON API, described by OpenAPI at /api/openapi.json."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from web.api.docs import AgentdeskApi, ErrorResponses, id_parameter
from web.input_limits import IdConverter
from web.ui import csrf

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
        # JSON only: a cross-site form cannot send it without a CORS preflight, and the
        # session cookie is SameSite; bearer tokens are not ambient at all.
        csrf.exempt(module.blp)
    return api
