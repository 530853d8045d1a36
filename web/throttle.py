"""One sign-in policy for every way in: failed attempts counted per address and per account."""

from __future__ import annotations

import hashlib
import logging
import time

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

#: A limit and the key of its counter.
Counter = tuple[RateLimitItem, tuple[str, ...]]


class SignInThrottle:
    """Counts failed sign-ins (wrong password, unknown email, bad API token) and refuses
    further attempts from an address or for an account that failed too often.

    Only failures count: a whole office behind one address signs in at 8:00 unhindered.
    A refused attempt costs no password hash, so guessing cannot starve the workers.
    """

    def __init__(self, storage_uri: str, per_address: str, per_account: str) -> None:
        self._limiter = SlidingWindowCounterRateLimiter(storage_from_string(storage_uri))
        self._per_address = parse(per_address)
        self._per_account = parse(per_account)

    def retry_after(self, address: str, account: str | None) -> int | None:
        """Seconds to wait before `address` may try `account` again, or None if it may now."""
        try:
            for limit, key in self._keys(address, account):
                if not self._limiter.test(limit, *key):
                    reset = self._limiter.get_window_stats(limit, *key).reset_time
                    return max(1, int(reset - time.time()) + 1)
        except RedisError:
            # Counting is down with Redis; sign-in stays possible (each try still pays a hash).
            logger.warning("sign-in throttle unavailable (Redis); attempt from %s allowed",
                           address)
        return None

    def failed(self, address: str, account: str | None) -> None:
        """Count one failed attempt from `address` (for `account`, when one was named)."""
        try:
            for limit, key in self._keys(address, account):
                self._limiter.hit(limit, *key)
        except RedisError:
            logger.warning("sign-in throttle unavailable (Redis); failure from %s not counted",
                           address)

    def _keys(self, address: str, account: str | None) -> list[Counter]:
        """The counters an attempt touches."""
        keys: list[Counter] = [
            (self._per_address, ("sign-in", "address", address))]
        if account is not None:
            keys.append((self._per_account, ("sign-in", "account", account_key(account))))
        return keys


def account_key(email: str) -> str:
    """A short, fixed-size key for the account an email names (emails may be any length)."""
    return hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]
