"""One sign-in policy for every way in: failed attempts counted per address and per account."""

from __future__ import annotations

import hashlib
import html
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from web.messages import LANGUAGES, render

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)

#: Refused addresses one process remembers at most (a botnet cannot grow it without bound).
MAX_REMEMBERED = 10_000
#: A limit and the key of its counter.
Counter = tuple[RateLimitItem, tuple[str, ...]]


class SignInThrottle:
    """Counts failed sign-ins (wrong password, unknown email, bad API token) and refuses
    further attempts from an address or for an account that failed too often.

    Only failures count: a whole office behind one address signs in at 8:00 unhindered.
    A refused attempt costs no password hash, so guessing cannot starve the workers.
    """

    def __init__(self, storage_uri: str, per_address: str, per_account: str,
                 publish: Callable[[str, float], None] | None = None) -> None:
        # A moving window counts exactly the failures of the last period (a fixed or sliding
        # counter lets a guesser fit up to twice the limit around a window's edge).
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._per_address = parse(per_address)
        self._per_account = parse(per_account)
        #: Counters this process found refusing, until when (epoch seconds): the next
        #: attempts are refused without asking Redis (for addresses, by `SignInGate`, before
        #: the app itself).
        self._refused: dict[tuple[str, ...], float] = {}
        #: Tells the other processes that an address is refused until when (epoch seconds).
        self._publish = publish

    def retry_after(self, address: str, account: str | None) -> int | None:
        """Seconds to wait before `address` may try `account` again, or None if it may now."""
        keys = self._keys(address, account)
        for _, key in keys:
            known = self._still_refused(key)
            if known is not None:
                return known
        try:
            for limit, key in keys:
                if not self._limiter.test(limit, *key):
                    reset = self._limiter.get_window_stats(limit, *key).reset_time
                    self._remember_refused(key, reset)
                    return seconds_until(reset)
        except RedisError:
            # Counting is down with Redis; sign-in stays possible (each try still pays a hash).
            logger.warning("sign-in throttle unavailable (Redis); attempt from %s allowed",
                           address)
        return None

    def failed(self, address: str, account: str | None) -> int | None:
        """Count one failed attempt from `address` (for `account`, when one was named).

        Returns the seconds to wait when the attempt was beyond a limit already. The failure
        that reaches the address's limit publishes the refusal, for every process to see.
        """
        wait = None
        try:
            for limit, key in self._keys(address, account):
                counted = self._limiter.hit(limit, *key)
                is_address = key == self._address_key(address)
                if counted and not is_address:
                    continue  # an account's refusal is learnt when it is next tried
                stats = self._limiter.get_window_stats(limit, *key)
                if counted and stats.remaining > 0:
                    continue
                # This failure reached the limit, or came beyond it.
                self._remember_refused(key, stats.reset_time)
                if not counted:
                    wait = max(wait or 0, seconds_until(stats.reset_time))
                if is_address and self._publish is not None:
                    self._publish(address, stats.reset_time)
        except RedisError:
            logger.warning("sign-in throttle unavailable (Redis); failure from %s not counted",
                           address)
        return wait

    def remember_address_refused(self, address: str, until: float) -> None:
        """Note that `address` is refused until `until`, as another process found."""
        self._remember_refused(self._address_key(address), until)

    def reset(self) -> None:
        """Forget every count and every refusal."""
        self._limiter.storage.reset()
        self._refused.clear()

    def refused_address(self, address: str) -> int | None:
        """Seconds `address` is still refused, as this process last learnt it, or None."""
        return self._still_refused(self._address_key(address))

    def _still_refused(self, key: tuple[str, ...]) -> int | None:
        """Seconds the counter `key` is still known to refuse, or None."""
        until = self._refused.get(key)
        if until is None:
            return None
        if until <= time.time():
            self._refused.pop(key, None)
            return None
        return seconds_until(until)

    def _remember_refused(self, key: tuple[str, ...], until: float) -> None:
        """Note that the counter `key` refuses until `until` (a bounded memory)."""
        if len(self._refused) >= MAX_REMEMBERED:
            self._refused.clear()
        self._refused[key] = until

    def _keys(self, address: str, account: str | None) -> list[Counter]:
        """The counters an attempt touches."""
        keys: list[Counter] = [(self._per_address, self._address_key(address))]
        if account is not None:
            keys.append((self._per_account, ("sign-in", "account", account_key(account))))
        return keys

    @staticmethod
    def _address_key(address: str) -> tuple[str, ...]:
        """The key of an address's counter."""
        return ("sign-in", "address", address)


def seconds_until(until: float) -> int:
    """Whole seconds from now to `until` (epoch seconds), at least 1: a Retry-After."""
    return max(1, int(until - time.time()) + 1)


def account_key(email: str) -> str:
    """A short, fixed-size key for the account an email names (emails may be any length)."""
    return hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]


class SignInGate:
    """WSGI middleware answering 429 to sign-in attempts (and bearer tokens) from an address
    this process already knows to be refused, before Flask, sessions or Redis are involved.

    A guessing client then costs the workers almost nothing, so signed-in people keep their
    speed while it goes on.
    """

    #: Where passwords are checked.
    SIGN_IN_PATHS = frozenset({"/login", "/api/v1/session"})

    def __init__(self, app: WSGIApplication, throttle: SignInThrottle) -> None:
        self.app = app
        self.throttle = throttle

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        signing_in = (environ.get("REQUEST_METHOD") == "POST"
                      and environ.get("PATH_INFO") in self.SIGN_IN_PATHS)
        bearer = str(environ.get("HTTP_AUTHORIZATION", "")).startswith("Bearer ")
        if signing_in or bearer:
            wait = self.throttle.refused_address(str(environ.get("REMOTE_ADDR") or "unknown"))
            if wait is not None:
                return self._refuse(environ, wait, start_response)
        return self.app(environ, start_response)

    @staticmethod
    def _refuse(environ: WSGIEnvironment, wait: int, start_response: StartResponse
                ) -> Iterable[bytes]:
        """429 with Retry-After: JSON for the API, a short page for the sign-in form."""
        language = LanguageAccept(parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"))
                                  ).best_match(LANGUAGES) or LANGUAGES[0]
        message = render("too_many_sign_ins", {"minutes": max(1, -(-wait // 60))}, language)
        if environ.get("PATH_INFO") != "/login":
            body = json.dumps({"code": 429, "error": "too_many_sign_ins", "message": message},
                              ensure_ascii=False).encode()
            content_type = "application/json"
        else:
            body = (f'<!doctype html><html lang="{language}"><meta charset="utf-8">'
                    f"<title>429</title><p>{html.escape(message)}</p>"
                    '<p><a href="/login">agentdesk</a></p></html>').encode()
            content_type = "text/html; charset=utf-8"
        start_response("429 TOO MANY REQUESTS", [
            ("Content-Type", content_type), ("Content-Length", str(len(body))),
            ("Retry-After", str(wait)), ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")])
        return [body]
