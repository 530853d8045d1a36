"""The built-in directory: the phone-system adapter for running without a PBX.

It keeps the switchboard's account directory in agentdesk's own database, in the same
transaction as the ticket's outcome, so every write happens exactly once. Use it to run
agentdesk on its own; a real switchboard gets its own adapter behind the same port.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from sqlalchemy import delete, insert, select, update
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
        routing = account.routing
        wanted = {"extension": account.extension, "routing_type": routing.type.value,
                  "priority_number": routing.priority_number,
                  "backup_number": routing.backup_number}
        entry = self.session.execute(
            select(*(getattr(DirectoryEntry, name) for name in wanted))
            .where(DirectoryEntry.sip_username == account.sip_username)
            .with_for_update()
        ).first()
        if entry is not None and dict(entry._mapping) == wanted:
            return False
        if entry is None:
            # The secret is generated here and only its digest is kept, as a PBX would.
            digest = hashlib.sha256(secrets.token_bytes(24)).hexdigest()
            self.session.execute(insert(DirectoryEntry).values(
                sip_username=account.sip_username, secret_digest=digest, updated_at=utcnow(),
                **wanted,
            ))
            self._log(account.sip_username, "create", ticket_id)
        else:
            self.session.execute(
                update(DirectoryEntry)
                .where(DirectoryEntry.sip_username == account.sip_username)
                .values(updated_at=utcnow(), **wanted)
            )
            self._log(account.sip_username, "update", ticket_id)
        return True

    def remove_account(self, sip_username: str, ticket_id: int) -> bool:
        """Delete the entry if it is there."""
        removed = self.session.execute(
            delete(DirectoryEntry).where(DirectoryEntry.sip_username == sip_username)
        )
        if removed.rowcount == 0:  # type: ignore[attr-defined]
            return False
        self._log(sip_username, "delete", ticket_id)
        return True

    def _log(self, sip_username: str, operation: str, ticket_id: int) -> None:
        """Record one write to the directory."""
        self.session.execute(insert(DirectoryWrite).values(
            sip_username=sip_username, operation=operation, ticket_id=ticket_id,
            created_at=utcnow(),
        ))
        logger.info("directory %s %s (ticket %s)", operation, sip_username, ticket_id)
