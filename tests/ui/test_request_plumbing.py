"""Per-request plumbing worked out once: session cookie signers and which hooks are coroutines."""

from __future__ import annotations

import pytest
from flask import Flask

from web import SessionCookies
from web.composition import AgentdeskFlask


def test_the_session_signer_is_built_once_per_set_of_keys(app: Flask) -> None:
    cookies = app.session_interface
    assert isinstance(cookies, SessionCookies)
    signer = cookies.get_signing_serializer(app)
    assert signer is not None and cookies.get_signing_serializer(app) is signer
    token = signer.dumps({"a": 1})
    old_key = app.secret_key
    try:
        app.secret_key = "another-secret-key-of-enough-length-for-the-test"
        rotated = cookies.get_signing_serializer(app)
        assert rotated is not None and rotated is not signer
        assert rotated.loads(rotated.dumps({"b": 2})) == {"b": 2}
        app.config["SECRET_KEY_FALLBACKS"] = [old_key]
        with_fallback = cookies.get_signing_serializer(app)
        assert with_fallback is not None and with_fallback.loads(token) == {"a": 1}
    finally:
        app.secret_key = old_key
        app.config["SECRET_KEY_FALLBACKS"] = []


def test_hooks_are_asked_once_whether_they_are_coroutines() -> None:
    app = AgentdeskFlask(__name__)

    def plain() -> str:
        return "plain"

    async def coroutine() -> str:
        return "awaited"

    assert app.ensure_sync(plain) is plain and app.ensure_sync(plain) is plain
    assert plain in app._as_sync
    for _ in range(2):  # without asgiref, Flask refuses a coroutine every time, as before
        with pytest.raises(RuntimeError):
            app.ensure_sync(coroutine)
    assert coroutine not in app._as_sync
