"""Signing in and out with a session cookie."""

from __future__ import annotations

from typing import Any

from flask import session
from flask_login import current_user, login_user, logout_user

from web.api.docs import Blueprint
from web.api.schemas import LoginSchema, UserRefSchema
from web.auth import SignedInUser, SignInThrottled, authenticate
from web.errors import error_response
from web.extensions import db
from workflow.people.accounts import end_sessions, identity_of

blp = Blueprint("session", __name__, description="Sign in and out")


@blp.route("/session", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, UserRefSchema)
def sign_in(credentials: dict[str, Any]) -> Any:
    """Sign in with email and password; sets the session cookie."""
    try:
        user = authenticate(credentials["email"], credentials["password"])
    except SignInThrottled as refusal:
        return refusal.as_json()
    if user is None:
        return error_response(401, "login_failed")
    session.permanent = True  # kept for SESSION_HOURS since the last request
    login_user(SignedInUser(identity_of(user)))
    return user


@blp.route("/session", methods=["DELETE"])
@blp.response(204)
def sign_out() -> None:
    """Sign out: every session of this user ends, wherever its cookie was copied."""
    if current_user.is_authenticated:
        end_sessions(db.session(), current_user.id)
    logout_user()
