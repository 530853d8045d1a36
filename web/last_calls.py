"""Each agent's last call, read from the phone system for a whole page of agents at once.

The agent list shows fifty agents a page: their last calls come in one query for the page
(never one per row), and the same page opened again within LAST_CALLS_CACHE_SECONDS reuses
that reading, as many people open the list's first page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flask import Flask, current_app

from web.composition import phone_system
from web.extensions import db
from workflow.ports import CallRecord, PhoneSystemError

logger = logging.getLogger(__name__)

#: Key of the cache in `app.extensions`.
EXTENSION_KEY = "agentdesk_last_calls"
#: Most pages whose readings are kept (each a page of usernames): a bound on the memory.
MAX_READINGS = 256


@dataclass(frozen=True)
class LastCalls:
    """The last call of each agent read, or that the phone system could not say."""

    calls: Mapping[str, CallRecord] = field(default_factory=dict)
    readable: bool = True
    #: The SIP usernames this reading is about (an agent among them without a call has none).
    names: frozenset[str] = frozenset()

    def of(self, sip_username: str) -> CallRecord | None:
        """The agent's newest call attempt; None when it has none or it cannot be known."""
        return self.calls.get(sip_username)


class LastCallCache:
    """The readings of the last pages asked for, each reused for `seconds`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._readings: dict[frozenset[str], tuple[float, LastCalls]] = {}

    def get(self, app: Flask, names: frozenset[str]) -> LastCalls:
        """The last calls of `names`, read again once the last reading is `seconds` old."""
        with self._lock:
            held = self._readings.get(names)
        if held is not None and time.monotonic() - held[0] < self.seconds:
            return held[1]
        # Read outside the lock: a page waits for its own query, not for other pages'.
        reading = _read(app, names)
        with self._lock:
            now = time.monotonic()
            self._readings.pop(names, None)
            self._readings[names] = (now, reading)
            for key, (read_at, _) in list(self._readings.items()):
                if now - read_at >= self.seconds or len(self._readings) > MAX_READINGS:
                    del self._readings[key]  # the oldest go first: dicts keep their order
        return reading


def _read(app: Flask, names: frozenset[str]) -> LastCalls:
    """One reading; an unreadable phone system is remembered too, so a page opened again
    does not wait for it while it is down."""
    if not names:
        return LastCalls()
    try:
        calls = phone_system(app, db.session()).last_calls(sorted(names))
    except PhoneSystemError as error:
        logger.warning("last calls unreadable: %s", error)
        return LastCalls(readable=False, names=names)
    return LastCalls(calls, names=names)


def last_calls(sip_usernames: Iterable[str]) -> LastCalls:
    """The last call of each of these agents (a page of them), as the current app last
    read them; never an error when the phone system cannot say (the page says so)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache: LastCallCache = app.extensions.setdefault(
        EXTENSION_KEY, LastCallCache(app.config["LAST_CALLS_CACHE_SECONDS"]))
    return cache.get(app, frozenset(sip_usernames))

