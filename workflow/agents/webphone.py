"""The Web phone's credentials: time-limited, for one SIP user, never the stored password.

Kamailio (auth_ephemeral, EPHEMERAL_SECRET) accepts over WebSocket only a username
"<expiry unix time>:<sip username>" with the password base64(HMAC-SHA1(secret, username)),
until the expiry and only for that SIP user. agentdesk shares the secret (WEBPHONE_SECRET)
and issues them to a signed-in employee for the agent account they hold, so the browser never
sees the SIP password agentdesk issued for the employee's phones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound
from workflow.domain.machine import Status
from workflow.models import Agent, Employee, Ticket, is_active, utcnow
from workflow.tickets.kinds import KINDS


@dataclass(frozen=True)
class EphemeralCredential:
    """A digest username and password Kamailio accepts until `expires_at`."""

    username: str
    password: str
    expires_at: datetime


@dataclass(frozen=True)
class WebphoneSettings:
    """What the Web phone needs from the configuration: the shared secret, how long a
    credential lasts, the WebSocket address browsers connect to and the SIP domain."""

    secret: str
    lifetime: timedelta
    ws_url: str
    domain: str


@dataclass(frozen=True)
class WebphoneCredentials:
    """Everything the Web phone registers with (JsSIP's configuration)."""

    ws_url: str
    sip_uri: str
    authorization_user: str
    password: str
    expires_at: datetime
    display_name: str
    extension: str


def ephemeral_credential(secret: str, sip_username: str, now: datetime,
                         lifetime: timedelta) -> EphemeralCredential:
    """The credential for `sip_username` valid from `now` for `lifetime` (whole seconds,
    rounded down: it never outlives what was asked)."""
    if not secret:
        raise ValueError("the Web phone's secret is empty")
    if ":" in sip_username:
        raise ValueError("a SIP username with ':' cannot be told from the expiry")
    expiry = int((now + lifetime).timestamp())
    username = f"{expiry}:{sip_username}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return EphemeralCredential(username, base64.b64encode(digest).decode(),
                               datetime.fromtimestamp(expiry, UTC))


#: Kinds whose tickets take the account off the phone system (a revoke).
_REMOVING_KINDS = tuple(kind.code for kind in KINDS.values() if kind.removes_account)
#: A revoke in these states is decided: the account is going, so no new credentials (the
#: switchboard may already have ended the calls and registrations before the revoke commits).
REVOKE_UNDER_WAY = (Status.APPROVED.value, Status.PROVISIONING.value)


def active_agent_of(session: Session, email: str) -> Agent:
    """The active agent account of the employee signed in with `email`, unless an approved
    revoke of it is under way (NotFound if none)."""
    revoking = exists().where(Ticket.agent_id == Agent.id, Ticket.kind.in_(_REMOVING_KINDS),
                              Ticket.state.in_(REVOKE_UNDER_WAY))
    agent = session.scalars(
        select(Agent).join(Agent.employee)
        .where(func.lower(Employee.email) == email.lower(), is_active(Agent.status),
               ~revoking)
        .order_by(Agent.id).limit(1)).first()
    if agent is None:
        raise NotFound(ErrorCode.WEBPHONE_NO_AGENT)
    return agent


def issue_credentials(session: Session, settings: WebphoneSettings | None, email: str,
                      now: datetime | None = None) -> WebphoneCredentials:
    """The Web phone's credentials for the agent account the user with `email` holds.

    NotFound("webphone_not_configured") without settings, NotFound("webphone_no_agent") when
    the user holds no active agent account.
    """
    if settings is None:
        raise NotFound(ErrorCode.WEBPHONE_NOT_CONFIGURED)
    agent = active_agent_of(session, email)
    credential = ephemeral_credential(settings.secret, agent.sip_username, now or utcnow(),
                                      settings.lifetime)
    return WebphoneCredentials(
        ws_url=settings.ws_url,
        sip_uri=f"sip:{agent.sip_username}@{settings.domain}",
        authorization_user=credential.username,
        password=credential.password,
        expires_at=credential.expires_at,
        display_name=agent.employee.full_name,
        extension=agent.extension,
    )


__all__ = [
    "EphemeralCredential",
    "WebphoneCredentials",
    "WebphoneSettings",
    "active_agent_of",
    "ephemeral_credential",
    "issue_credentials",
]
