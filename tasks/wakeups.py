"""The relay's wake-up call: PostgreSQL NOTIFY on commit of work for it, heard on one LISTEN.

Triggers of migration 0014 notify `CHANNEL` when a transaction commits a notice or a SIP
password to email (or an admin releases a parked email). The relay listens on a connection
of its own, outside SQLAlchemy's pool, in autocommit: a LISTEN inside a transaction would
hear nothing until the transaction ends.
"""

from __future__ import annotations

import contextlib
import logging
import select
import time

import psycopg
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

#: The channel the triggers of migration 0014 notify.
CHANNEL = "agentdesk_relay"

#: libpq options of the listening connection: give up connecting after a few seconds, and
#: let TCP keepalives notice a server that vanished without closing the connection.
CONNECTION_OPTIONS: dict[str, int] = {
    "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 60, "keepalives_interval": 10,
    "keepalives_count": 3,
}


def listening_connection(url: str, channel: str) -> psycopg.Connection[tuple[object, ...]]:
    """A new connection in autocommit that LISTENs on `channel`; raises `psycopg.Error`."""
    connection = psycopg.connect(make_conninfo(url, **CONNECTION_OPTIONS), autocommit=True)
    try:
        connection.execute(f"LISTEN {channel}")
    except psycopg.Error:
        connection.close()
        raise
    return connection


def take_notifications(connection: psycopg.Connection[tuple[object, ...]]) -> bool:
    """Take in what `connection` received, without waiting; whether it held a notification.

    Raises `psycopg.Error` when the connection is broken.
    """
    pgconn = connection.pgconn
    pgconn.consume_input()
    heard = False
    while pgconn.notifies() is not None:  # parses what consume_input read
        heard = True
    return heard


def listen_url(database_url: str) -> str | None:
    """The libpq URL to LISTEN on for a SQLAlchemy URL; None for a database without NOTIFY."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Wakeups:
    """A LISTEN on `CHANNEL` that reconnects after a break; one relay thread uses it."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        #: Whether the loss of the connection was logged (once per outage).
        self._lost = False

    @property
    def listening(self) -> bool:
        """Whether notifications reach the relay now."""
        return self._connection is not None

    def listen(self) -> bool:
        """LISTEN, unless already listening; True when it starts listening now.

        Whatever was committed before this call was not heard: the caller runs a pass after
        a True, which finds it.
        """
        if self._connection is not None:
            return False
        try:
            self._connection = listening_connection(self._url, CHANNEL)
        except psycopg.Error as error:
            self._lose(error)
            return False
        if self._lost:
            logger.info("relay listens for work again; no longer polling")
            self._lost = False
        return True

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a notification; True when one came.

        The notifications already queued are taken too, so a burst of commits makes one
        wake-up. A broken connection is closed (the caller polls until `listen` works
        again) and counts as a wake-up: the caller's next pass finds what it missed.
        """
        if self._connection is None:
            return False
        connection = self._connection
        deadline = time.monotonic() + timeout
        try:
            socket = select.poll()
            socket.register(connection.fileno(), select.POLLIN)
            while not take_notifications(connection):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                # Asleep until the socket has something, once: psycopg's own wait for
                # notifications wakes every 0.1 s, most of what an idle relay would cost.
                socket.poll(left * 1000)
        except (psycopg.Error, OSError) as error:
            self._lose(error)
            return True
        return True

    def close(self) -> None:
        """Stop listening."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _lose(self, error: psycopg.Error | OSError) -> None:
        """Drop the connection; the first failure of an outage is logged, not the retries."""
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):  # already broken: nothing to release
                self._connection.close()
            self._connection = None
        if not self._lost:
            logger.warning("relay cannot listen for work (%s); polling until it can",
                           str(error).strip() or type(error).__name__)
            self._lost = True
