"""An agent's recent calls as the phone system recorded them, for the agent and check pages."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import current_app

from web.composition import phone_system
from web.extensions import db
from workflow.ports import CallDirection, CallOutcome, CallRecord, PhoneSystemError

logger = logging.getLogger(__name__)

#: How far back the check page looks for refusals (the last calls of the extension).
LOOK_BACK = 50


@dataclass(frozen=True)
class RecentCalls:
    """The calls found, or that the phone system could not be read (the page says so)."""

    calls: list[CallRecord] = field(default_factory=list)
    readable: bool = True


def recent_calls(sip_username: str, limit: int) -> RecentCalls:
    """The account's last `limit` calls, newest first; never an error page when the phone
    system cannot say (a switchboard down must not hide the rest of the page)."""
    phone = phone_system(current_app, db.session())
    try:
        return RecentCalls(phone.recent_calls(sip_username, limit))
    except PhoneSystemError as error:
        logger.warning("call records of %s unreadable: %s", sip_username, error)
        return RecentCalls(readable=False)


def recent_refusals(sip_username: str, limit: int) -> RecentCalls:
    """The account's last `limit` own calls the switchboard refused, among its recent calls."""
    found = recent_calls(sip_username, LOOK_BACK)
    refused = [call for call in found.calls if call.outcome is CallOutcome.REFUSED
               and call.direction is CallDirection.OUT]
    return RecentCalls(refused[:limit], found.readable)
