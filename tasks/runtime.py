"""What actors and the relay need at run time, picked once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import dramatiq
from flask import Flask
from sqlalchemy.orm import Session

from tasks.dispatch import Dispatcher
from workflow.ports import Mailer, PhoneSystem
from workflow.tickets.provisioning import ProvisioningSettings

#: Key of the runtime in `app.extensions`.
EXTENSION_KEY = "agentdesk"


@dataclass
class Runtime:
    """Adapters and settings shared by the web, the actors and the relay."""

    broker: dramatiq.Broker
    dispatcher: Dispatcher
    session: Callable[[], Session]
    phone_system: Callable[[Session], PhoneSystem]
    mailer: Mailer | None
    provisioning: ProvisioningSettings
    relay_grace: timedelta
    #: Seconds between the relay's periodic duties (its polls, when it cannot listen).
    relay_interval: float
    #: The organisation's time zone (working hours are local).
    timezone: str = "Asia/Ho_Chi_Minh"
    #: Where the relay LISTENs for work committed (a libpq URL); None: it polls (SQLite).
    listen_url: str | None = None


def runtime(app: Flask) -> Runtime:
    """The runtime installed on `app` by `create_app`."""
    found: Runtime = app.extensions[EXTENSION_KEY]
    return found
