"""Security headers worked out once per endpoint are the ones Flask-Talisman builds each time."""

from __future__ import annotations

import pytest
from flask import Flask, Response
from flask_talisman import Talisman

from web.ui import CONTENT_SECURITY_POLICY, SecurityHeaders

CASES = [
    ("/login", {}),
    ("/login", {"X-Forwarded-Proto": "https"}),
    ("/api/v1/tickets", {}),
    ("/api/v1/tickets", {"X-Forwarded-Proto": "https"}),
    ("/nowhere", {}),
]


def _headers(write: object, secure_app: Flask, path: str, headers: dict[str, str]
             ) -> list[tuple[str, str]]:
    """The headers `write` (a `_set_response_headers`) puts on an empty response."""
    with secure_app.test_request_context(path, headers=headers):
        response = Response()
        response.headers.clear()
        write(response)  # type: ignore[operator]
        return list(response.headers.items())


def _security_headers(app: Flask) -> SecurityHeaders:
    """The app's own SecurityHeaders, found among its after-request functions."""
    for function in app.after_request_funcs[None]:
        if isinstance(getattr(function, "__self__", None), SecurityHeaders):
            found: SecurityHeaders = function.__self__  # type: ignore[attr-defined]
            return found
    raise AssertionError("no SecurityHeaders on the app")


@pytest.mark.parametrize(("path", "headers"), CASES)
def test_the_apps_headers_are_talismans(app: Flask, path: str,
                                        headers: dict[str, str]) -> None:
    held = _security_headers(app)
    expected = _headers(lambda r: Talisman._set_response_headers(held, r), app, path, headers)
    assert _headers(held._set_response_headers, app, path, headers) == expected
    assert _headers(held._set_response_headers, app, path, headers) == expected  # held


def test_strict_transport_security_follows_each_requests_scheme() -> None:
    app = Flask(__name__)
    app.add_url_rule("/page", "page", lambda: "")
    held = SecurityHeaders(app, force_https=False, strict_transport_security=True,
                           content_security_policy=CONTENT_SECURITY_POLICY)
    plain = _headers(held._set_response_headers, app, "/page", {})
    secure = _headers(held._set_response_headers, app, "/page", {"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in dict(plain)
    assert dict(secure)["Strict-Transport-Security"].startswith("max-age=")
    assert _headers(held._set_response_headers, app, "/page", {}) == plain
    assert secure == _headers(lambda r: Talisman._set_response_headers(held, r), app, "/page",
                              {"X-Forwarded-Proto": "https"})


def test_a_response_with_a_nonce_gets_its_own_policy() -> None:
    app = Flask(__name__)
    app.add_url_rule("/page", "page", lambda: "")
    held = SecurityHeaders(app, force_https=False, content_security_policy=CONTENT_SECURITY_POLICY,
                           content_security_policy_nonce_in=["script-src"])
    policies = set()
    for _ in range(2):
        with app.test_request_context("/page"):
            held._make_nonce()
            response = Response()
            held._set_response_headers(response)
            policies.add(response.headers["Content-Security-Policy"])
    assert len(policies) == 2 and all("'nonce-" in policy for policy in policies)
