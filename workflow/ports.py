"""Small ports to the outside world; adapters live in `tasks/`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from workflow.domain.calling_rules import CallingRules, WorkingHours
from workflow.domain.routing import Routing


class PhoneSystemError(Exception):
    """The phone system could not apply a change right now (worth retrying)."""


class AccountMissing(PhoneSystemError):
    """The account is not on the phone system, and no password was given to create it."""


@dataclass(frozen=True)
class PhoneAccount:
    """The desired state of one SIP account on the phone system."""

    sip_username: str
    extension: str
    routing: Routing
    #: A new SIP password to set; None keeps the current one.
    secret: str | None = field(default=None, repr=False, compare=False)
    #: The calling rules to enforce; None leaves them as they are.
    calling: CallingRules | None = None


class CallDirection(StrEnum):
    """Whether the agent made the call or received it."""

    OUT = "out"
    IN = "in"


class CallOutcome(StrEnum):
    """How a call attempt ended."""

    ANSWERED = "answered"
    #: The switchboard refused it itself (class of service, unknown extension): nothing rang.
    REFUSED = "refused"
    #: It rang or was sent on, and nobody took it (busy, unavailable, no answer, cancelled).
    MISSED = "missed"


@dataclass(frozen=True)
class CallRecord:
    """One call attempt that involved an agent, as the phone system recorded it."""

    #: When it was answered, refused or given up (UTC).
    at: datetime
    direction: CallDirection
    #: The number or extension dialled (out), or who called (in).
    other_party: str
    outcome: CallOutcome
    #: The SIP status that settled it (200 when answered) and its reason phrase.
    sip_code: int
    reason: str
    #: Seconds from the answer to the hang-up; None until an answered call has ended.
    duration: float | None = None


class DeviceKind(StrEnum):
    """What sort of device a registration comes from."""

    APP = "app"
    WEB = "web"
    DESK_PHONE = "desk_phone"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class RegisteredDevice:
    """One device registered now for an account, as the phone system holds it."""

    kind: DeviceKind
    #: The User-Agent it registered with ("" when it sent none).
    user_agent: str
    #: udp, tcp, tls, ws or wss.
    transport: str
    #: The time of its latest REGISTER (UTC): registered at least since then, and still now.
    registered_since: datetime
    #: When the registration lapses unless the device refreshes it (UTC).
    expires: datetime

@dataclass(frozen=True)
class TrunkGateway:
    """The desired state of one carrier trunk on the phone system."""

    name: str
    #: The carrier's signalling IP address (v4 or v6, without brackets).
    address: str
    port: int
    #: udp, tcp or tls.
    transport: str
    #: The order trunks are tried in: 1 first.
    position: int
    #: e164 or national: how the carrier wants numbers.
    number_format: str
    #: The trunk's main number (E.164).
    number: str
    enabled: bool = True
    auth_username: str | None = None
    #: The digest password in plain text: only ever in memory, never logged.
    auth_password: str | None = field(default=None, repr=False)
    auth_realm: str | None = None


class PhoneSystem(Protocol):
    """Applies agent accounts to a switchboard with ensure semantics."""

    def ensure_account(self, account: PhoneAccount, ticket_id: int) -> bool:
        """Create or update the account to exactly `account`; True when something changed.

        Raises AccountMissing when the account must be created and `account.secret` is None.
        """
        ...

    def ensure_accounts(self, accounts: Sequence[tuple[PhoneAccount, int]]) -> int:
        """`ensure_account` for each (account, ticket id) pair; how many changed.

        A phone system writing in the caller's transaction may write them all at once.
        """
        ...

    def remove_account(self, sip_username: str, ticket_id: int) -> bool:
        """Remove the account if present; True when something was removed."""
        ...

    def accounts(self) -> dict[str, PhoneAccount]:
        """Every account the phone system holds now, by SIP username (to reconcile)."""
        ...

    def ensure_calling(self, rules: Mapping[str, CallingRules]) -> int:
        """Make the accounts enforce these calling rules; how many changed."""
        ...

    def ensure_calling_plan(self, hours: WorkingHours) -> bool:
        """Make the organisation-wide calling plan (working time, number classes) current."""
        ...

    def recent_calls(self, sip_username: str, limit: int) -> list[CallRecord]:
        """The account's last `limit` call attempts, made or received, newest first.

        Raises PhoneSystemError when the records cannot be read now.
        """
        ...

    def last_calls(self, sip_usernames: Sequence[str]) -> dict[str, CallRecord]:
        """Each account's newest call attempt, made or received, refused included, read
        at once for all of them (a page of agents); accounts with no call are absent.

        Raises PhoneSystemError when the records cannot be read now.
        """
        ...

    def ensure_trunks(self, trunks: Sequence[TrunkGateway], dids: Mapping[str, str]) -> bool:
        """Make the carrier trunks (enabled ones) and the DIDs (E.164 number -> extension)
        exactly these; True when something changed."""
        ...

    def registered_devices(self) -> Mapping[str, list[RegisteredDevice]]:
        """The devices registered now, by SIP username (accounts without one are absent).

        Raises PhoneSystemError when the registrations cannot be read now.
        """
        ...


@dataclass(frozen=True)
class NotificationLetter:
    """An email that tells a user about a ticket event: every fact it shows, read at once."""

    notification_id: int
    #: The recipient: the user the notice is for, their address and language.
    user_id: int
    email: str
    language: str
    #: What happened: the event's action (submit, approve, ...) and its comment.
    action: str
    comment: str
    ticket_id: int
    ticket_kind: str
    employee_name: str
    #: The extension the ticket is about ("-" when none is known).
    extension: str
    #: When the notice was written (the email's date).
    written_at: datetime
    #: The ticket's page.
    link: str


@dataclass(frozen=True)
class CredentialLetter:
    """An email that brings an employee the one-time link to a new SIP password."""

    credential_id: int
    email: str
    full_name: str
    language: str
    link_token: str = field(repr=False)
    expires_at: datetime
    #: The one-time link itself (carries the token).
    link: str = field(repr=False)


#: Longest reason kept with an email that could not go (the `email_error` columns).
MAX_EMAIL_ERROR = 500


class EmailRefused(Exception):
    """This one email cannot go as it is (its address or a header, or the server refused it
    for its recipient); other emails may. Its reason names no secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:MAX_EMAIL_ERROR]


class Mailer(Protocol):
    """Sends notifications and credential links by email.

    Each send raises EmailRefused when that email can never go as it is (the caller parks
    it and goes on), and OSError when mail is down (the caller stops and tries later).
    """

    @property
    def base_url(self) -> str:
        """The public address of agentdesk that the letters' links open at."""
        ...

    def send_notification(self, letter: NotificationLetter) -> None:
        """Compose and send one notification email."""
        ...

    def send_credential_link(self, letter: CredentialLetter) -> None:
        """Send the one-time link to a SIP password (never the password)."""
        ...


class Cipher(Protocol):
    """Symmetric, authenticated encryption (Fernet)."""

    def encrypt(self, data: bytes, /) -> bytes:
        """The token for `data`."""
        ...

    def decrypt(self, token: bytes, /) -> bytes:
        """The data of `token`; raises when it was tampered with or the key is unknown."""
        ...
