"""The built-in directory: the phone-system adapter for running without a PBX.

It keeps the switchboard's account directory in agentdesk's own database, in the same
transaction as the ticket's outcome, so every write happens exactly once. Use it to run
agentdesk on its own; a real switchboard gets its own adapter behind the same port.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from sqlalchemy.orm import Session

from workflow.models import DirectoryEntry, DirectoryWrite, utcnow
from workflow.ports import PhoneAccount

logger = logging.getLogger(__name__)


class DirectoryPhoneSystem:
    """`PhoneSystem` over the `phone_directory_entry` table."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def ensure_account(self, account: PhoneAccount, ticket_id: int) -> bool:
        """Create or update the entry to match `account`; a matching entry is left alone."""
        entry = self.session.get(DirectoryEntry, account.sip_username, with_for_update=True)
        routing = account.routing
        wanted = (account.extension, routing.type.value, routing.priority_number,
                  routing.backup_number)
        if entry is not None and (entry.extension, entry.routing_type, entry.priority_number,
                                  entry.backup_number) == wanted:
            return False
        if entry is None:
            # The secret is generated here and only its digest is kept, as a PBX would.
            entry = DirectoryEntry(
                sip_username=account.sip_username,
                secret_digest=hashlib.sha256(secrets.token_bytes(24)).hexdigest(),
            )
            self.session.add(entry)
            operation = "create"
        else:
            operation = "update"
        (entry.extension, entry.routing_type, entry.priority_number,
         entry.backup_number) = wanted
        entry.updated_at = utcnow()
        self._log(account.sip_username, operation, ticket_id)
        return True

    def remove_account(self, sip_username: str, ticket_id: int) -> bool:
        """Delete the entry if it is there."""
        entry = self.session.get(DirectoryEntry, sip_username, with_for_update=True)
        if entry is None:
            return False
        self.session.delete(entry)
        self._log(sip_username, "delete", ticket_id)
        return True

    def _log(self, sip_username: str, operation: str, ticket_id: int) -> None:
        """Record one write to the directory."""
        self.session.add(
            DirectoryWrite(sip_username=sip_username, operation=operation, ticket_id=ticket_id)
        )
        logger.info("directory %s %s (ticket %s)", operation, sip_username, ticket_id)
