"""Who a bearer token is, remembered per web process until PostgreSQL reports a change.

An API client sends its token with every call, and reading whom it belongs to costs a
database round trip and about a sixth of a ticket submission's CPU. Each web process keeps
the identities it read, for at most `max_age` seconds, and forgets them all as soon as
PostgreSQL says that a user, an API token, an approver's branches or a sign-in refusal
changed: the triggers of migration 0016 notify `CHANNEL` when such a change commits, and the
process LISTENs on a connection of its own, taking in what arrived (without waiting) before
each use. A deactivated user or a refused address is therefore turned away as soon as the
notification arrives, within a moment of the commit.

Without that connection (SQLite; PostgreSQL unreachable; the connection broken) nothing is
remembered and every call reads its identity, as does a wrong token every time (it counts
as a failed sign-in).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable

import psycopg

from tasks.wakeups import listening_connection, take_notifications
from workflow.people.accounts import Identity

logger = logging.getLogger(__name__)

#: The channel the triggers of migration 0016 notify.
CHANNEL = "agentdesk_identities"
#: Identities one process remembers at most (the oldest is forgotten first).
MAX_REMEMBERED = 1024
#: Seconds between two attempts to listen again after the connection failed.
RETRY_SECONDS = 5.0

Clock = Callable[[], float]


class BearerIdentities:
    """The identities of the bearer tokens this process read lately, by token and address."""

    def __init__(self, listen_url: str | None, max_age: float,
                 clock: Clock = time.monotonic) -> None:
        #: Where to LISTEN; None: remember nothing.
        self._url = listen_url if max_age > 0 else None
        self._max_age = max_age
        self._clock = clock
        self._remembered: dict[tuple[bytes, str], tuple[float, Identity]] = {}
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        self._next_attempt = 0.0
        #: Whether the loss of the connection was logged (once per outage).
        self._lost = False
        #: Counts the changes heard, so a read that overlapped one is not remembered.
        self._changes = 0
        self._lock = threading.Lock()

    @property
    def listening(self) -> bool:
        """Whether changes reach this process now (identities may be remembered)."""
        return self._connection is not None

    def identity(self, token: str, address: str,
                 read: Callable[[], Identity | None]) -> Identity | None:
        """The identity of `token` called from `address`: remembered, or `read` (whose
        exceptions pass through) and remembered when it names somebody."""
        if self._url is None:
            return read()
        key = (hashlib.sha256(token.encode()).digest(), address)
        with self._lock:
            usable = self._take_changes()
            changes = self._changes
            found = self._remembered.get(key) if usable else None
            if found is not None and found[0] > self._clock():
                return found[1]
        identity = read()
        if identity is not None and usable:
            with self._lock:
                if changes == self._changes and self.listening:
                    self._remember(key, identity)
        return identity

    def close(self) -> None:
        """Stop listening and forget everything."""
        with self._lock:
            self._drop_connection()
            self._remembered.clear()

    def _remember(self, key: tuple[bytes, str], identity: Identity) -> None:
        """Keep `identity` for `max_age` seconds, forgetting the oldest beyond the bound."""
        self._remembered.pop(key, None)
        if len(self._remembered) >= MAX_REMEMBERED:
            del self._remembered[next(iter(self._remembered))]
        self._remembered[key] = (self._clock() + self._max_age, identity)

    def _take_changes(self) -> bool:
        """Take in the notifications that arrived, forgetting everything when one did;
        whether remembered identities may be used."""
        if self._connection is None:
            return self._listen()
        try:
            heard = take_notifications(self._connection)
        except psycopg.Error as error:
            self._lose(error)
            return False
        if heard:
            self._remembered.clear()
            self._changes += 1
        return True

    def _listen(self) -> bool:
        """LISTEN on a new connection, at most every `RETRY_SECONDS`; True once listening."""
        now = self._clock()
        if self._url is None or now < self._next_attempt:
            return False
        self._next_attempt = now + RETRY_SECONDS
        try:
            self._connection = listening_connection(self._url, CHANNEL)
        except psycopg.Error as error:
            self._lose(error)
            return False
        # Nothing heard before the LISTEN can be trusted: start empty.
        self._remembered.clear()
        self._changes += 1
        if self._lost:
            logger.info("bearer identities are remembered again")
            self._lost = False
        return True

    def _lose(self, error: psycopg.Error) -> None:
        """Drop the connection and everything remembered; log the first failure of an outage."""
        self._drop_connection()
        self._remembered.clear()
        self._changes += 1
        if not self._lost:
            logger.warning("cannot listen for identity changes (%s); every API call reads "
                           "its identity until it can", str(error).strip() or type(error).__name__)
            self._lost = True

    def _drop_connection(self) -> None:
        """Close the listening connection, if any."""
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):  # may be broken already
                self._connection.close()
            self._connection = None
