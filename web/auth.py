"""Who is calling: session cookie or bearer token, via Flask-Login."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import cache
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_login import UserMixin, current_user
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import TooManyRequests, Unauthorized
from werkzeug.security import check_password_hash, generate_password_hash

from tasks.wakeups import listen_url
from web.bearer_identities import BearerIdentities
from web.errors import error_response
from web.extensions import db, login_manager
from web.throttle import SignInGate, SignInThrottle, seconds_until
from workflow.domain.rules import Actor
from workflow.models import User
from workflow.people.accounts import Identity, find_user, identity_by_id, identity_for_token
from workflow.people.refusals import SignInRefused, refuse_address

logger = logging.getLogger(__name__)

#: The scheme of API tokens in the Authorization header.
BEARER = "Bearer "
#: Endpoints that never ask who calls: the probes, and the metrics a scraper reads with its
#: own token. A bearer token sent to them signs nobody in, and a wrong one is no failed
#: sign-in (a scraper would otherwise get its address refused within minutes).
CALLERLESS_ENDPOINTS = frozenset({"healthz", "readyz", "metrics", "static"})
#: Where the app keeps its sign-in throttle.
THROTTLE_KEY = "agentdesk.sign_in_throttle"
#: Where the app keeps the bearer identities it remembers.
IDENTITIES_KEY = "agentdesk.bearer_identities"


class SignedInUser(UserMixin):
    """Flask-Login's view of a signed-in caller."""

    def __init__(self, identity: Identity) -> None:
        self.actor = identity.actor
        self.id = identity.actor.user_id
        self.language = identity.language
        self.email = identity.email
        self.session_epoch = identity.session_epoch

    def get_id(self) -> str:
        """What the session cookie keeps: the user and the epoch it was signed in under."""
        return f"{self.id}:{self.session_epoch}"


def hash_password(password: str) -> str:
    """A salted hash for storing a password."""
    return generate_password_hash(password)


@cache
def _decoy_hash() -> str:
    """A hash to check unknown emails against, so they take as long as known ones."""
    return generate_password_hash("no such user")


def check_credentials(email: str, password: str) -> User | None:
    """The user with these credentials, or None; unknown emails cost a hash too."""
    user = find_user(db.session(), email)
    if user is None:
        check_password_hash(_decoy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def authenticate(email: str, password: str) -> User | None:
    """Check a sign-in attempt against the throttle, then the password.

    Raises SignInThrottled while the caller's address or the account has
    failed too often; a failure is counted for both.
    """
    throttle = sign_in_throttle()
    address = request.remote_addr or "unknown"
    wait = throttle.retry_after(address, email)
    if wait is not None:
        raise SignInThrottled(wait)
    user = check_credentials(email, password)
    if user is None:
        throttle.failed(address, email)
    return user


class SignInThrottled(TooManyRequests):
    """Sign-in refused for `seconds`: the address or the account failed too often."""

    def __init__(self, seconds: int) -> None:
        super().__init__(retry_after=seconds)
        self.seconds = seconds

    @property
    def minutes(self) -> int:
        """Whole minutes to wait, for people to read."""
        return max(1, -(-self.seconds // 60))

    def as_json(self) -> tuple[Response, int]:
        """The API's answer: 429 with Retry-After and the wait in the caller's language."""
        response, status = error_response(429, "too_many_sign_ins", {"minutes": self.minutes})
        response.headers["Retry-After"] = str(self.seconds)
        return response, status


def sign_in_throttle() -> SignInThrottle:
    """The app's sign-in throttle."""
    throttle: SignInThrottle = current_app.extensions[THROTTLE_KEY]
    return throttle


def bearer_identities() -> BearerIdentities:
    """The app's remembered bearer identities."""
    identities: BearerIdentities = current_app.extensions[IDENTITIES_KEY]
    return identities


def _load_user(user_id: str) -> SignedInUser | None:
    """Reload the user of a session cookie, unless its sessions were ended since."""
    number, _, epoch = user_id.partition(":")
    if not (number.isascii() and number.isdecimal() and epoch.isascii() and epoch.isdecimal()):
        return None
    identity = identity_by_id(db.session(), int(number))
    if identity is None or identity.session_epoch != int(epoch):
        return None
    return SignedInUser(identity)


def _identify_bearer_caller() -> Any:
    """Sign in an API caller by bearer token, once, before the view: 429 while the address
    is refused (in the same read as the token, or remembered with it: `bearer_identities`),
    and a wrong token counts as a failed sign-in.
    """
    header = request.headers.get("Authorization", "")
    if not header.startswith(BEARER) or request.endpoint in CALLERLESS_ENDPOINTS:
        return None
    address = request.remote_addr or "unknown"
    g._login_user = login_manager.anonymous_user()  # until the token proves otherwise
    token = header[len(BEARER):].strip()
    try:
        identity = bearer_identities().identity(
            token, address, lambda: identity_for_token(db.session(), token, address))
    except SignInRefused as refused:
        until = refused.until.timestamp()
        sign_in_throttle().remember_address_refused(address, until)
        return SignInThrottled(seconds_until(until)).as_json()
    if identity is None:
        wait = sign_in_throttle().failed(address, None)
        return None if wait is None else SignInThrottled(wait).as_json()
    g._login_user = SignedInUser(identity)
    return None


def _publish_refusal(address: str, until: float) -> None:
    """Store that `address` is refused until `until`, for every web process's token read."""
    try:
        # A session of its own: the request's may hold work it has not committed yet.
        with Session(db.engine) as session:
            refuse_address(session, address, datetime.fromtimestamp(until, UTC))
    except SQLAlchemyError:
        logger.warning("could not store the sign-in refusal of %s", address, exc_info=True)


def _unauthorized() -> Any:
    """Anonymous callers of protected endpoints get 401."""
    raise Unauthorized()


def init_auth(app: Flask) -> None:
    """Bind Flask-Login and the sign-in throttle to `app`."""
    throttle = SignInThrottle(
        app.config.get("THROTTLE_STORAGE_URI") or app.config.get("REDIS_URL") or "memory://",
        app.config["LOGIN_FAILURES_PER_ADDRESS"], app.config["LOGIN_FAILURES_PER_ACCOUNT"],
        _publish_refusal)
    app.extensions[THROTTLE_KEY] = throttle
    app.extensions[IDENTITIES_KEY] = BearerIdentities(
        listen_url(app.config["SQLALCHEMY_DATABASE_URI"]), app.config["BEARER_IDENTITY_SECONDS"])
    app.wsgi_app = SignInGate(app.wsgi_app, throttle)  # type: ignore[method-assign]
    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(_forget_previous_user)
    app.before_request(_identify_bearer_caller)


def _forget_previous_user() -> None:
    """Identify the caller afresh on every request, even when an app context is reused."""
    g.pop("_login_user", None)


def current_actor() -> Actor:
    """The signed-in user as the rules see them (401 when nobody is signed in)."""
    if not current_user.is_authenticated:
        raise Unauthorized()
    actor: Actor = current_user.actor
    return actor
