"""Signing in and out with a session cookie."""

from __future__ import annotations

from typing import Any

from flask_login import login_user, logout_user
from flask_smorest import Blueprint

from web.api.schemas import LoginSchema, UserRefSchema
from web.auth import SignedInUser, check_credentials
from web.errors import error_response
from workflow.accounts import identity_of

blp = Blueprint("session", __name__, description="Sign in and out")


@blp.route("/session", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, UserRefSchema)
def sign_in(credentials: dict[str, Any]) -> Any:
    """Sign in with email and password; sets the session cookie."""
    user = check_credentials(credentials["email"], credentials["password"])
    if user is None:
        return error_response(401, "login_failed")
    login_user(SignedInUser(identity_of(user)))
    return user


@blp.route("/session", methods=["DELETE"])
@blp.response(204)
def sign_out() -> None:
    """Sign out."""
    logout_user()
