"""The built-in directory: the phone-system adapter for running without a PBX.

It keeps the switchboard's account directory in agentdesk's own database, in the same
transaction as the ticket's outcome, so every write happens exactly once. Use it to run
agentdesk on its own; a real switchboard gets its own adapter behind the same port.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from workflow.domain.calling_rules import CallingRules, WorkingHours
from workflow.domain.routing import Routing, RoutingType
from workflow.models import DirectoryEntry, DirectoryWrite, UTCDateTime, table, utcnow
from workflow.ports import AccountMissing, CallRecord, PhoneAccount, RegisteredDevice, TrunkGateway

logger = logging.getLogger(__name__)

_ENTRIES = table(DirectoryEntry)
#: What an entry holds besides its name and secret.
_FIELDS = ("extension", "routing_type", "priority_number", "backup_number")
#: What an entry is compared on, and rewritten from.
_HELD = (*_FIELDS, "secret_digest", "calling")
# Built once: a worker writes the directory for every ticket, and building a statement costs
# more CPU than running it. Entries are locked in name order, so two writers never deadlock.
_ENTRIES_NAMED = (
    select(_ENTRIES.c.sip_username, *(_ENTRIES.c[name] for name in _FIELDS),
           _ENTRIES.c.secret_digest, _ENTRIES.c.calling)
    .where(_ENTRIES.c.sip_username.in_(bindparam("names", expanding=True)))
    .order_by(_ENTRIES.c.sip_username)
    .with_for_update()
)
_ADD_ENTRY = insert(_ENTRIES)
_CHANGE_ENTRY = update(_ENTRIES).where(_ENTRIES.c.sip_username == bindparam("name")).values({
    **{name: bindparam(f"new_{name}") for name in _HELD},
    "updated_at": bindparam("now", type_=UTCDateTime()),
})
_SET_CALLING = update(_ENTRIES).where(_ENTRIES.c.sip_username == bindparam("name")).values(
    calling=bindparam("calling"))
_REMOVE_ENTRY = delete(_ENTRIES).where(_ENTRIES.c.sip_username == bindparam("name"))
_ADD_WRITE = insert(table(DirectoryWrite))



def _wanted(account: PhoneAccount, entry: Any) -> dict[str, Any]:
    """What the entry of `account` must hold, given the one held now (None if none)."""
    if entry is None and account.secret is None:
        raise AccountMissing(f"{account.sip_username} is not in the directory")
    routing = account.routing
    wanted: dict[str, Any] = {"extension": account.extension,
                              "routing_type": routing.type.value,
                              "priority_number": routing.priority_number,
                              "backup_number": routing.backup_number}
    # Only a digest of the password is kept, as a PBX would.
    if account.secret is not None:
        wanted["secret_digest"] = hashlib.sha256(account.secret.encode()).hexdigest()
    else:
        wanted["secret_digest"] = entry.secret_digest
    wanted["calling"] = (account.calling.as_dict() if account.calling is not None
                         else entry.calling if entry is not None else None)
    return wanted


class DirectoryPhoneSystem:
    """`PhoneSystem` over the `phone_directory_entry` table."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def ensure_account(self, account: PhoneAccount, ticket_id: int) -> bool:
        """Create or update the entry to match `account`; a matching entry is left alone."""
        return self.ensure_accounts([(account, ticket_id)]) > 0

    def ensure_accounts(self, accounts: Sequence[tuple[PhoneAccount, int]]) -> int:
        """`ensure_account` for each pair, with one read and one statement per kind of write."""
        names = [account.sip_username for account, _ in accounts]
        if len(set(names)) < len(names):
            # The same account twice: each write must see the one before it.
            return sum(self.ensure_account(account, ticket_id)
                       for account, ticket_id in accounts)
        if not names:
            return 0
        connection = self.session.connection()
        held = {row.sip_username: row for row in connection.execute(
            _ENTRIES_NAMED, {"names": names})}
        now = utcnow()
        added: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        writes: list[dict[str, Any]] = []
        for account, ticket_id in accounts:
            name = account.sip_username
            entry = held.get(name)
            wanted = _wanted(account, entry)
            if entry is None:
                added.append({"sip_username": name, "updated_at": now, **wanted})
                operation = "create"
            elif {field: entry._mapping[field] for field in _HELD} == wanted:
                continue
            else:
                changed.append({"name": name, "now": now,
                                **{f"new_{field}": value for field, value in wanted.items()}})
                operation = "update"
            writes.append({"sip_username": name, "operation": operation,
                           "ticket_id": ticket_id, "created_at": now})
        if added:
            connection.execute(_ADD_ENTRY, added)
        if changed:
            connection.execute(_CHANGE_ENTRY, changed)
        if writes:
            connection.execute(_ADD_WRITE, writes)
            logger.info("directory %s", ", ".join(
                f"{write['operation']} {write['sip_username']} (ticket {write['ticket_id']})"
                for write in writes))
        return len(writes)

    def accounts(self) -> dict[str, PhoneAccount]:
        """Every entry of the directory as an account."""
        rows = self.session.execute(select(
            _ENTRIES.c.sip_username, *(_ENTRIES.c[name] for name in _FIELDS),
            _ENTRIES.c.calling)).all()
        return {row.sip_username: PhoneAccount(
            row.sip_username, row.extension,
            Routing(RoutingType(row.routing_type), row.priority_number, row.backup_number),
            calling=CallingRules.from_dict(row.calling) if row.calling else None)
            for row in rows}

    def ensure_calling(self, rules: Mapping[str, CallingRules]) -> int:
        """Store each account's calling rules where they differ; how many changed."""
        held = dict(self.session.execute(
            select(_ENTRIES.c.sip_username, _ENTRIES.c.calling)
            .where(_ENTRIES.c.sip_username.in_(list(rules)))).all())
        changed = {name: wanted.as_dict() for name, wanted in rules.items()
                   if name in held and held[name] != wanted.as_dict()}
        if changed:
            self.session.connection().execute(_SET_CALLING, [
                {"name": name, "calling": values} for name, values in changed.items()])
            self._log_many(list(changed), "calling", None)
        return len(changed)

    def ensure_calling_plan(self, hours: WorkingHours) -> bool:
        """Nothing to hold: the directory enforces nothing by itself."""
        return False

    def recent_calls(self, sip_username: str, limit: int) -> list[CallRecord]:
        """None: the directory carries no calls, so it records none."""
        return []

    def last_calls(self, sip_usernames: Sequence[str]) -> dict[str, CallRecord]:
        """None: the directory carries no calls, so no account has a last one."""
        return {}

    def ensure_trunks(self, trunks: Sequence[TrunkGateway], dids: Mapping[str, str]) -> bool:
        """Nothing to hold: the directory places no calls (trunks and DIDs stay in agentdesk)."""
        return False

    def registered_devices(self) -> dict[str, list[RegisteredDevice]]:
        """None: no device registers with the directory."""
        return {}

    def remove_account(self, sip_username: str, ticket_id: int) -> bool:
        """Delete the entry if it is there."""
        removed = self.session.connection().execute(_REMOVE_ENTRY, {"name": sip_username})
        if removed.rowcount == 0:
            return False
        self._log(sip_username, "delete", ticket_id)
        return True

    def _log(self, sip_username: str, operation: str, ticket_id: int | None) -> None:
        """Record one write to the directory."""
        self._log_many([sip_username], operation, ticket_id)
        logger.info("directory %s %s (ticket %s)", operation, sip_username, ticket_id)

    def _log_many(self, sip_usernames: list[str], operation: str,
                  ticket_id: int | None) -> None:
        """Record writes to the directory, in one statement."""
        now = utcnow()
        self.session.connection().execute(_ADD_WRITE, [
            {"sip_username": name, "operation": operation, "ticket_id": ticket_id,
             "created_at": now} for name in sip_usernames])
