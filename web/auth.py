"""Who is calling: session cookie or bearer token, via Flask-Login."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, g
from flask_login import UserMixin, current_user
from werkzeug.exceptions import Unauthorized
from werkzeug.security import check_password_hash, generate_password_hash

from web.extensions import db, login_manager
from workflow.accounts import Identity, find_user, identity_by_id, identity_for_token
from workflow.models import User
from workflow.rules import Actor

#: The scheme of API tokens in the Authorization header.
BEARER = "Bearer "


class SignedInUser(UserMixin):
    """Flask-Login's view of a signed-in caller."""

    def __init__(self, identity: Identity) -> None:
        self.actor = identity.actor
        self.id = identity.actor.user_id
        self.language = identity.language
        self.email = identity.email

    def get_id(self) -> str:
        return str(self.id)


def hash_password(password: str) -> str:
    """A salted hash for storing a password."""
    return generate_password_hash(password)


def check_credentials(email: str, password: str) -> User | None:
    """The user with these credentials, or None."""
    user = find_user(db.session(), email)
    if user is None or not check_password_hash(user.password_hash, password):
        return None
    return user


def _load_user(user_id: str) -> SignedInUser | None:
    """Reload the user of a session cookie."""
    identity = identity_by_id(db.session(), int(user_id)) if user_id.isdecimal() else None
    return SignedInUser(identity) if identity is not None else None


def _load_from_request(request: Request) -> SignedInUser | None:
    """Sign in an API caller by bearer token."""
    header = request.headers.get("Authorization", "")
    if not header.startswith(BEARER):
        return None
    identity = identity_for_token(db.session(), header[len(BEARER):].strip())
    return SignedInUser(identity) if identity is not None else None


def _unauthorized() -> Any:
    """Anonymous callers of protected endpoints get 401."""
    raise Unauthorized()


def init_auth(app: Flask) -> None:
    """Bind Flask-Login to `app`."""
    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    login_manager.request_loader(_load_from_request)
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(_forget_previous_user)


def _forget_previous_user() -> None:
    """Identify the caller afresh on every request, even when an app context is reused."""
    g.pop("_login_user", None)


def current_actor() -> Actor:
    """The signed-in user as the rules see them (401 when nobody is signed in)."""
    if not current_user.is_authenticated:
        raise Unauthorized()
    actor: Actor = current_user.actor
    return actor
