"""The devices registered now, read from the phone system at most once every few seconds.

The agent list shows fifty agents a page and many people open it: each page reads every
registration in one go (never one query per row), and pages opened within
REGISTRATIONS_CACHE_SECONDS of each other share that reading.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import Flask, current_app

from web.composition import phone_system
from web.extensions import db
from web.held import Held, held
from workflow.domain.routing import RoutingType
from workflow.domain.rules import AgentStatus
from workflow.models import Agent
from workflow.ports import PhoneSystemError, RegisteredDevice

logger = logging.getLogger(__name__)

#: Key of the cache in `app.extensions`.
EXTENSION_KEY = "agentdesk_registrations"


@dataclass(frozen=True)
class Registrations:
    """The devices registered now by SIP username, or that the phone system could not say."""

    devices: Mapping[str, list[RegisteredDevice]] = field(default_factory=dict)
    readable: bool = True

    def of(self, sip_username: str) -> list[RegisteredDevice]:
        """The account's devices registered now, oldest registration first."""
        return self.devices.get(sip_username, [])

    def known_of(self, sip_username: str) -> list[RegisteredDevice] | None:
        """The account's devices, or None when the phone system could not be read."""
        return self.of(sip_username) if self.readable else None

    def unreachable(self, agent: Agent) -> bool:
        """An active agent whose calls ring App and Web while no device is registered."""
        return (self.readable and agent.status == AgentStatus.ACTIVE
                and agent.routing_type == RoutingType.APP_WEB
                and not self.of(agent.sip_username))


def _read(app: Flask) -> Registrations:
    """One reading; an unreadable phone system is remembered too, so pages do not each
    wait for it while it is down."""
    try:
        return Registrations(phone_system(app, db.session()).registered_devices())
    except PhoneSystemError as error:
        logger.warning("registrations unreadable: %s", error)
        return Registrations(readable=False)


def registrations() -> Registrations:
    """The devices registered now, as the current app last read them."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    reading: Held[Registrations] = held(app, EXTENSION_KEY,
                                        app.config["REGISTRATIONS_CACHE_SECONDS"])
    return reading.get(lambda: _read(app))
