"""Small ports to the outside world; adapters live in `tasks/`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from workflow.models import Notification
from workflow.routing import Routing


class PhoneSystemError(Exception):
    """The phone system could not apply a change right now (worth retrying)."""


@dataclass(frozen=True)
class PhoneAccount:
    """The desired state of one SIP account on the phone system."""

    sip_username: str
    extension: str
    routing: Routing


class PhoneSystem(Protocol):
    """Applies agent accounts to a switchboard with ensure semantics."""

    @property
    def in_database(self) -> bool:
        """True when its writes go to agentdesk's database in the caller's transaction."""
        ...

    def ensure_account(self, account: PhoneAccount, ticket_id: int) -> bool:
        """Create or update the account to exactly `account`; True when something changed."""
        ...

    def remove_account(self, sip_username: str, ticket_id: int) -> bool:
        """Remove the account if present; True when something was removed."""
        ...

    def accounts(self) -> dict[str, PhoneAccount]:
        """Every account the phone system holds now, by SIP username (to reconcile)."""
        ...


class Mailer(Protocol):
    """Sends a notification to its user by email."""

    def send_notification(self, notification: Notification) -> None:
        """Compose and send one notification email; raises OSError when it cannot."""
        ...
