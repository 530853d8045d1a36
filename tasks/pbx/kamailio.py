"""The Kamailio adapter: agent accounts as Kamailio subscribers, aliases and preferences.

Kamailio reads its own PostgreSQL database (see deploy/kamailio): `subscriber` holds only
the digest hashes, `dbaliases` routes an extension to the stable SIP username, and
`usr_preferences` says how calls ring; trunks go to `dispatcher` and `address`, hotline
numbers to `agentdesk_did`. Registrations (written through to `location`) are dropped over
JSON-RPC when an account is removed, and its calls ended, so a revoked phone stops at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from sqlalchemy import BindParameter, Connection, Engine, bindparam, text
from sqlalchemy.exc import SQLAlchemyError

from tasks.pbx.calendar import calendar_rows
from tasks.pbx.dialplan import CLASSIFY, NORMALISE, dialplan_rules
from tasks.pbx.preferences import (
    CALLING,
    ROUTING,
    calling_of,
    calling_preferences,
    routing_of,
    routing_preferences,
)
from tasks.pbx.records import last_calls, recent_calls
from workflow.agents.reachability import device_kind
from workflow.domain.calling_rules import CallingRules, WorkingHours
from workflow.ports import (
    AccountMissing,
    CallRecord,
    PhoneAccount,
    PhoneSystemError,
    RegisteredDevice,
    TrunkGateway,
)

logger = logging.getLogger(__name__)

class Password(StrEnum):
    """What ensuring an account did to its password."""

    KEPT = "kept"
    SET = "set"  # a new subscriber
    REPLACED = "replaced"  # a reset: registrations made with the old one are dropped




def digest_hashes(username: str, domain: str, password: str) -> tuple[str, str]:
    """ha1 and ha1b as Kamailio's auth_db compares them (the realm is the SIP domain)."""
    ha1 = hashlib.md5(f"{username}:{domain}:{password}".encode()).hexdigest()
    realm_user = f"{username}@{domain}"
    ha1b = hashlib.md5(f"{realm_user}:{domain}:{password}".encode()).hexdigest()
    return ha1, ha1b


@dataclass
class KamailioPhoneSystem:
    """`PhoneSystem` over Kamailio's database and its JSON-RPC interface."""

    engine: Engine
    domain: str
    rpc_url: str

    def ready(self, timeout: float) -> None:
        """Nothing when Kamailio answers JSON-RPC within `timeout`; PhoneSystemError otherwise."""
        json_rpc(self.rpc_url, "core.version", timeout=timeout)

    def ensure_account(self, account: PhoneAccount, ticket_id: int) -> bool:
        """Make Kamailio hold exactly `account`; True when something changed.

        A new password on an existing account also drops its registrations, so every
        device must sign in again with it.
        """
        try:
            with self.engine.begin() as connection:
                password = self._ensure_subscriber(connection, account)
                changed = self._ensure_alias(connection, account)
                changed |= self._ensure_preferences(connection, account)
        except SQLAlchemyError as error:
            raise PhoneSystemError(f"Kamailio database: {error.__class__.__name__}") from error
        if password is Password.REPLACED:
            self._drop_registrations(account.sip_username)
        if changed or password is not Password.KEPT:
            logger.info("kamailio: %s is extension %s, password %s (ticket %s)",
                        account.sip_username, account.extension, password.value, ticket_id)
        return changed or password is not Password.KEPT

    def ensure_accounts(self, accounts: Sequence[tuple[PhoneAccount, int]]) -> int:
        """`ensure_account` for each pair, one after the other; how many changed."""
        return sum(self.ensure_account(account, ticket_id) for account, ticket_id in accounts)

    def remove_account(self, sip_username: str, ticket_id: int) -> bool:
        """Remove the subscriber, its aliases and preferences, and drop its registrations."""
        try:
            with self.engine.begin() as connection:
                removed = connection.execute(
                    text("DELETE FROM subscriber WHERE username = :name AND domain = :domain"),
                    {"name": sip_username, "domain": self.domain}).rowcount
                for table in ("dbaliases", "usr_preferences"):
                    connection.execute(text(f"DELETE FROM {table} WHERE username = :name"),
                                       {"name": sip_username})
        except SQLAlchemyError as error:
            raise PhoneSystemError(f"Kamailio database: {error.__class__.__name__}") from error
        browsers = self._websockets_of(sip_username)
        self._drop_registrations(sip_username)
        self._end_calls(sip_username)
        self._close_websockets(browsers)
        logger.info("kamailio: %s removed (ticket %s)", sip_username, ticket_id)
        return bool(removed)

    def accounts(self) -> dict[str, PhoneAccount]:
        """Every subscriber of the domain with its extension, routing and calling rules."""
        with self.engine.connect() as connection:
            names = connection.execute(text(
                "SELECT username FROM subscriber WHERE domain = :domain"),
                {"domain": self.domain}).scalars().all()
            aliases: dict[str, str] = {name: alias for name, alias in connection.execute(
                text("SELECT username, alias_username FROM dbaliases")).all()}
            preferences = _preferences(connection, None)
        return {name: PhoneAccount(name, aliases.get(name, ""),
                                   routing_of(preferences.get(name, {})),
                                   calling=calling_of(preferences.get(name, {})))
                for name in names}

    def ensure_calling(self, rules: Mapping[str, CallingRules]) -> int:
        """Write each account's calling rules where they differ; how many changed."""
        try:
            with self.engine.begin() as connection:
                held = _preferences(connection, list(rules))
                changed = {name: values for name, values in (
                    (name, calling_preferences(wanted)) for name, wanted in rules.items())
                    if {key: value for key, value in held.get(name, {}).items()
                        if key in CALLING} != values}
                # Two statements for the whole chunk, not two per account.
                _write_many(connection, CALLING, changed)
        except SQLAlchemyError as error:
            raise PhoneSystemError(f"Kamailio database: {error.__class__.__name__}") from error
        return len(changed)

    def ensure_calling_plan(self, hours: WorkingHours) -> bool:
        """The number classes (dialplan) and the working time (calendar) Kamailio checks."""
        dialplan = sorted((rule.dpid, rule.pr, rule.match_exp, rule.subst_exp, rule.repl_exp,
                           rule.attrs) for rule in dialplan_rules())
        calendar = sorted(calendar_rows(hours))
        try:
            with self.engine.begin() as connection:
                held_plan = sorted(tuple(row) for row in connection.execute(text(
                    "SELECT dpid, pr, match_exp, subst_exp, repl_exp, attrs FROM dialplan")))
                held_calendar = sorted(tuple(row) for row in connection.execute(text(
                    "SELECT kind, rec FROM agentdesk_calendar")))
                new_plan = held_plan != dialplan
                if new_plan:
                    connection.execute(text("DELETE FROM dialplan"))
                    connection.execute(text(
                        "INSERT INTO dialplan (dpid, pr, match_op, match_exp, match_len, "
                        "subst_exp, repl_exp, attrs) VALUES (:dpid, :pr, 1, :match, 0, "
                        ":subst, :repl, :attrs)"),
                        [dict(zip(("dpid", "pr", "match", "subst", "repl", "attrs"), row,
                                  strict=True)) for row in dialplan])
                if held_calendar != calendar:
                    connection.execute(text("DELETE FROM agentdesk_calendar"))
                    if calendar:
                        connection.execute(text(
                            "INSERT INTO agentdesk_calendar (kind, rec) VALUES (:kind, :rec)"),
                            [{"kind": kind, "rec": rec} for kind, rec in calendar])
        except SQLAlchemyError as error:
            raise PhoneSystemError(f"Kamailio database: {error.__class__.__name__}") from error
        # What Kamailio has loaded, not what the table held, decides the reload: a reload that
        # failed earlier (Kamailio allows one per 5 s) is made good by the next sync.
        reload = self._loaded_plan() != {(row[0], row[1], row[2], row[5]) for row in dialplan}
        if reload:
            json_rpc(self.rpc_url, "dialplan.reload")  # the calendar is read at each call
        return new_plan or reload or held_calendar != calendar

    def recent_calls(self, sip_username: str, limit: int) -> list[CallRecord]:
        """The account's last call attempts from Kamailio's call records (acc), newest first."""
        try:
            with self.engine.connect() as connection:
                return recent_calls(connection, sip_username, limit)
        except SQLAlchemyError as error:
            raise PhoneSystemError(f"Kamailio database: {error.__class__.__name__}") from error

    def last_calls(self, sip_usernames: Sequence[str]) -> dict[str, CallRecord]:
        """Each account's newest call attempt, in one query for all of them."""
        try:
            with self.engine.connect() as connection:
                return last_calls(connection, sip_usernames)
        except SQLAlchemyError as error:
            raise PhoneSystemError(f"Kamailio database: {error.__class__.__name__}") from error

    def registered_devices(self) -> dict[str, list[RegisteredDevice]]:
        """Every contact registered now, from `location` in one query (usrloc db_mode 1
        writes each REGISTER through, so the table is what Kamailio holds)."""
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(REGISTRATIONS, {"now": _kamailio_now()}).all()
        except SQLAlchemyError as error:
            raise PhoneSystemError(f"Kamailio database: {error.__class__.__name__}") from error
        found: dict[str, list[RegisteredDevice]] = {}
        for username, user_agent, contact, received, socket, last_modified, expires in rows:
            transport = contact_transport(received, contact, socket)
            found.setdefault(username, []).append(RegisteredDevice(
                kind=device_kind(user_agent or "", transport), user_agent=user_agent or "",
                transport=transport, registered_since=_from_kamailio(last_modified),
                expires=_from_kamailio(expires)))
        return found

    def ensure_trunks(self, trunks: Sequence[TrunkGateway], dids: Mapping[str, str]) -> bool:
        """The enabled trunks as dispatcher destinations and trusted addresses; the DIDs.

        Only rows that differ are written, in one transaction; then Kamailio reloads the
        tables that changed (a Kamailio without the module answers "method not found",
        which is fine until its config loads it).
        """
        enabled = [trunk for trunk in trunks if trunk.enabled]
        destinations = {dispatcher_row(trunk) for trunk in enabled}
        addresses = {address_row(trunk) for trunk in enabled}
        numbers = {(number, extension) for number, extension in dids.items()}
        try:
            with self.engine.begin() as connection:
                new_destinations = _ensure_rows(connection, "dispatcher", DISPATCHER_COLUMNS,
                                                destinations)
                new_addresses = _ensure_rows(connection, "address", ADDRESS_COLUMNS, addresses)
                new_dids = _ensure_rows(connection, "agentdesk_did", DID_COLUMNS, numbers)
        except SQLAlchemyError as error:
            raise PhoneSystemError(f"Kamailio database: {error.__class__.__name__}") from error
        # Reloaded whenever what Kamailio holds in memory differs from the tables, not only
        # after a write: a reload that failed once is made again by the next sync.
        if new_destinations or self._loaded_gateways() != {
                (row[1], row[3], row[4]) for row in destinations}:
            json_rpc(self.rpc_url, "dispatcher.reload")
        if new_addresses or self._loaded_addresses() != {row[1] for row in addresses}:
            json_rpc(self.rpc_url, "permissions.addressReload")
        if new_destinations or new_addresses or new_dids:
            logger.info("kamailio: %s trunks, %s DIDs", len(enabled), len(numbers))
        return new_destinations or new_addresses or new_dids

    def _loaded_gateways(self) -> set[tuple[str, int, str]]:
        """(destination, priority, attrs) of the trunk gateways Kamailio has in memory."""
        try:
            listing = json_rpc(self.rpc_url, "dispatcher.list") or {}
        except PhoneSystemError as error:
            if "no destination sets" not in str(error).lower():
                raise
            listing = {}  # none loaded
        return {(target["DEST"]["URI"], target["DEST"]["PRIORITY"],
                 target["DEST"]["ATTRS"]["BODY"] or "")
                for record in listing.get("RECORDS") or []
                if record["SET"]["ID"] == TRUNK_SET
                for target in record["SET"]["TARGETS"] or []}

    def _loaded_addresses(self) -> set[str]:
        """The trunk addresses Kamailio trusts in memory."""
        return {entry["item"]["ip"] for entry in json_rpc(
            self.rpc_url, "permissions.addressDump") or [] if entry["group"] == TRUNK_GROUP}

    def _loaded_plan(self) -> set[tuple[int, int, str, str]]:
        """(dpid, priority, match, attrs) of the dialplan rules Kamailio has in memory."""
        loaded = set()
        for dpid in (NORMALISE, CLASSIFY):
            try:
                dump = json_rpc(self.rpc_url, "dialplan.dump", dpid) or {}
            except PhoneSystemError as error:
                if "not matched" not in str(error):
                    raise
                dump = {}  # nothing loaded under this id yet
            loaded |= {(dpid, entry["ENTRY"]["PRIO"], entry["ENTRY"]["MATCHEXP"],
                        entry["ENTRY"]["ATTRS"] or "") for entry in dump.get("ENTRIES", [])}
        return loaded

    def _ensure_subscriber(self, connection: Connection, account: PhoneAccount) -> Password:
        """The subscriber with the digest hashes of `account.secret`, or as it is when None."""
        held = connection.execute(
            text("SELECT ha1, ha1b FROM subscriber WHERE username = :name AND domain = :domain"),
            {"name": account.sip_username, "domain": self.domain}).first()
        if account.secret is None:
            if held is None:
                raise AccountMissing(f"{account.sip_username} is not on Kamailio")
            return Password.KEPT
        ha1, ha1b = digest_hashes(account.sip_username, self.domain, account.secret)
        if held is not None and tuple(held) == (ha1, ha1b):
            return Password.KEPT
        statement = (
            "INSERT INTO subscriber (username, domain, ha1, ha1b) "
            "VALUES (:name, :domain, :ha1, :ha1b)" if held is None else
            "UPDATE subscriber SET ha1 = :ha1, ha1b = :ha1b "
            "WHERE username = :name AND domain = :domain")
        connection.execute(text(statement), {"name": account.sip_username,
                                             "domain": self.domain, "ha1": ha1, "ha1b": ha1b})
        return Password.SET if held is None else Password.REPLACED

    def _ensure_alias(self, connection: Connection, account: PhoneAccount) -> bool:
        """The extension, and only it, routes to the account."""
        current = connection.execute(
            text("SELECT alias_username FROM dbaliases WHERE username = :name"),
            {"name": account.sip_username}).scalars().all()
        if list(current) == [account.extension]:
            return False
        connection.execute(text("DELETE FROM dbaliases WHERE username = :name OR "
                                "alias_username = :extension"),
                           {"name": account.sip_username, "extension": account.extension})
        connection.execute(text(
            "INSERT INTO dbaliases (alias_username, alias_domain, username, domain) "
            "VALUES (:extension, :domain, :name, :domain)"),
            {"extension": account.extension, "domain": self.domain,
             "name": account.sip_username})
        return True

    def _ensure_preferences(self, connection: Connection, account: PhoneAccount) -> bool:
        """The routing (and the calling rules, when given) as the account's preferences."""
        changed = _ensure_attributes(connection, account.sip_username, ROUTING,
                                     routing_preferences(account.routing))
        if account.calling is not None:
            changed |= _ensure_attributes(connection, account.sip_username, CALLING,
                                          calling_preferences(account.calling))
        return changed

    def _end_calls(self, username: str) -> None:
        """End the calls in progress that involve `username` (a BYE to each side).

        The proxy names the agents of each call on its dialog (`caller`, `callee`
        variables); dlg.list is read whole, which is cheap next to how rarely accounts go.
        """
        for dialog in json_rpc(self.rpc_url, "dlg.list") or []:
            names = {value for variable in dialog.get("variables") or []
                     for key, value in variable.items() if key in ("caller", "callee")}
            if username in names:
                try:
                    json_rpc(self.rpc_url, "dlg.end_dlg", dialog["h_entry"], dialog["h_id"])
                except PhoneSystemError as error:
                    # Ended meanwhile by one of its sides: nothing left to do.
                    if "not found" not in str(error).lower():
                        raise

    def _websockets_of(self, username: str) -> list[int]:
        """The WebSocket connections `username`'s browsers registered over (usrloc's
        Tcpconn-Id is the websocket module's connection id)."""
        try:
            found = json_rpc(self.rpc_url, "ul.lookup", "location", username)
        except PhoneSystemError:  # "AOR not found": nothing registered
            return []
        contacts = [entry.get("Contact") or {} for entry in (found or {}).get("Contacts", [])]
        return [int(contact["Tcpconn-Id"]) for contact in contacts
                if "transport=ws" in str(contact.get("Received") or contact.get("Address"))
                and int(contact.get("Tcpconn-Id") or -1) > 0]

    def _close_websockets(self, connections: Sequence[int]) -> None:
        """Close these WebSocket connections: a browser whose account went learns it at
        once and ends its call even where the dialog's BYE could not reach it (Kamailio
        sends no BYE to the second side of a dialog the first side's answer already ended)."""
        for connection in connections:
            try:
                json_rpc(self.rpc_url, "ws.close", connection)
            except PhoneSystemError as error:  # closed meanwhile, or no websocket module
                logger.info("kamailio: WebSocket %s not closed: %s", connection, error)

    def _drop_registrations(self, username: str) -> None:
        """ul.rm over JSON-RPC: registered phones stop ringing now, not when they expire."""
        try:
            json_rpc(self.rpc_url, "ul.rm", "location", username)
        except PhoneSystemError as error:
            if "not found" not in str(error).lower():
                raise

#: The contacts registered now, oldest registration first. `last_modified` is the time of
#: the contact's latest REGISTER: Kamailio keeps no time of the first one (a refresh with
#: the same Call-ID updates the row in place; ruid carries the process's start, and how
#: CSeq steps differs between phones), so it is the one time that is surely true: the
#: device was registered then and has been ever since. Contacts past their expiry are
#: left out even before usrloc's timer deletes them.
REGISTRATIONS = text("""
    SELECT username, user_agent, contact, received, socket, last_modified, expires
    FROM location WHERE expires > :now
    ORDER BY username, last_modified, id
""")
#: Transports a Contact or received URI may name.
TRANSPORTS = ("udp", "tcp", "tls", "ws", "wss", "sctp")


def contact_transport(received: str | None, contact: str, socket: str | None) -> str:
    """The transport a contact is reached over: the one its REGISTER came by (`received`,
    which nathelper writes with a transport parameter for all but UDP), else what its
    Contact names, else the listening socket's protocol (a WebSocket rides on tcp/tls
    sockets, so the URIs are asked first). URIs name a secure WebSocket "ws" too (RFC 7118
    has no "wss" parameter): one that came in on a TLS socket is WSS."""
    protocol = (socket or "").partition(":")[0].lower()
    for uri in (received, contact):
        for parameter in (uri or "").split(";")[1:]:
            name, _, value = parameter.partition("=")
            value = value.strip().lower().split(">")[0]
            if name.strip().lower() == "transport" and value in TRANSPORTS:
                return "wss" if value == "ws" and protocol == "tls" else value
    if received:
        return "udp"  # nathelper names no transport for UDP
    return protocol if protocol in TRANSPORTS else "udp"


def _kamailio_now() -> datetime:
    """Now as Kamailio writes times in `location`: its host's local time, without a zone
    (agentdesk and Kamailio are expected to share a time zone, as servers do: UTC)."""
    return datetime.now()


def _from_kamailio(moment: datetime) -> datetime:
    """A `location` time (local, without a zone) in UTC."""
    return moment.astimezone(UTC)  # a naive time is taken as local


#: The dispatcher set agentdesk's trunks form.
TRUNK_SET = 1
#: The permissions address group of the carriers' signalling addresses.
TRUNK_GROUP = 1
#: The first trunk (position 1) gets the highest priority: dispatcher tries high first.
TOP_PRIORITY = 1000
DISPATCHER_COLUMNS = ("setid", "destination", "flags", "priority", "attrs", "description")
ADDRESS_COLUMNS = ("grp", "ip_addr", "mask", "port", "tag")
DID_COLUMNS = ("number", "extension")


def dispatcher_row(trunk: TrunkGateway) -> tuple[Any, ...]:
    """A trunk as a `dispatcher` row (see DISPATCHER_COLUMNS)."""
    host = f"[{trunk.address}]" if ":" in trunk.address else trunk.address
    destination = f"sip:{host}:{trunk.port};transport={trunk.transport}"
    attrs = {"name": trunk.name, "fmt": trunk.number_format, "number": trunk.number}
    if trunk.auth_username and trunk.auth_password:
        attrs |= {"user": trunk.auth_username, "pass": trunk.auth_password,
                  "realm": trunk.auth_realm or ""}
    # Every value percent-encoded: ';', '=', '%', spaces and Vietnamese survive the parsing.
    encoded = ";".join(f"{key}={quote(value, safe='')}" for key, value in attrs.items())
    return (TRUNK_SET, destination, 0, TOP_PRIORITY - trunk.position, encoded, trunk.name)


def address_row(trunk: TrunkGateway) -> tuple[Any, ...]:
    """A trunk's signalling address as a trusted `address` row, any source port."""
    mask = 128 if ":" in trunk.address else 32
    return (TRUNK_GROUP, trunk.address, mask, 0, trunk.name)


def _ensure_rows(connection: Connection, table: str, columns: tuple[str, ...],
                 wanted: set[tuple[Any, ...]]) -> bool:
    """Make `table` hold exactly `wanted` (rows of `columns`), deleting and adding only the
    rows that differ; True when it changed."""
    listed = ", ".join(columns)
    held: dict[tuple[Any, ...], list[Any]] = {}
    for row in connection.execute(text(f"SELECT ctid, {listed} FROM {table}")):
        held.setdefault(tuple(row[1:]), []).append(row[0])
    # Duplicates of a wanted row go too: each row must be there exactly once.
    stale = [ctid for values, ctids in held.items()
             for ctid in (ctids if values not in wanted else ctids[1:])]
    missing = [values for values in wanted if values not in held]
    if stale:
        connection.execute(text(f"DELETE FROM {table} WHERE ctid = ANY(CAST(:ids AS tid[]))"),
                           {"ids": [str(each) for each in stale]})
    if missing:
        names = ", ".join(f":{name}" for name in columns)
        connection.execute(text(f"INSERT INTO {table} ({listed}) VALUES ({names})"),
                           [dict(zip(columns, values, strict=True)) for values in missing])
    return bool(stale or missing)


def _preferences(connection: Connection, names: list[str] | None
                 ) -> dict[str, dict[str, str]]:
    """The text preferences of these accounts (all accounts for None), by username."""
    query = "SELECT username, attribute, value FROM usr_preferences"
    rows = (connection.execute(text(query)) if names is None else connection.execute(
        text(query + " WHERE username IN :names").bindparams(_expanding("names")),
        {"names": names}))
    found: dict[str, dict[str, str]] = {}
    for name, attribute, value in rows:
        found.setdefault(name, {})[attribute] = value
    return found


def _ensure_attributes(connection: Connection, username: str, names: tuple[str, ...],
                       wanted: dict[str, str]) -> bool:
    """Make the account's attributes among `names` exactly `wanted`; True when changed."""
    rows = connection.execute(
        text("SELECT attribute, value FROM usr_preferences WHERE username = :name "
             "AND attribute IN :names").bindparams(_expanding("names")),
        {"name": username, "names": list(names)}).all()
    if dict(rows) == wanted:
        return False
    _write_attributes(connection, username, names, wanted)
    return True


def _write_attributes(connection: Connection, username: str, names: tuple[str, ...],
                      wanted: dict[str, str]) -> None:
    """Replace the account's attributes among `names` with `wanted`."""
    _write_many(connection, names, {username: wanted})


def _write_many(connection: Connection, names: tuple[str, ...],
                wanted: Mapping[str, dict[str, str]]) -> None:
    """Replace the attributes among `names` of each account in `wanted` with its values."""
    if not wanted:
        return
    connection.execute(
        text("DELETE FROM usr_preferences WHERE username IN :users AND attribute IN :names")
        .bindparams(_expanding("users"), _expanding("names")),
        {"users": list(wanted), "names": list(names)})
    rows = [{"name": username, "attribute": attribute, "value": value}
            for username, values in wanted.items() for attribute, value in values.items()]
    if rows:
        # type 0: a text attribute name, as avpops loads it by name.
        connection.execute(text(
            "INSERT INTO usr_preferences (uuid, username, domain, attribute, type, value) "
            "VALUES ('', :name, '', :attribute, 0, :value)"), rows)


def json_rpc(url: str, method: str, *params: Any, timeout: float = 5.0) -> Any:
    """Call Kamailio's JSON-RPC over HTTP; its errors become PhoneSystemError."""
    request = urllib.request.Request(
        url, headers={"Content-Type": "application/json"},
        data=json.dumps({"jsonrpc": "2.0", "method": method, "params": list(params),
                         "id": 1}).encode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:  # JSON-RPC errors come with an HTTP error code
        answer = json.loads(error.read() or b"{}") or {"error": {"message": str(error)}}
    except OSError as error:
        raise PhoneSystemError(f"Kamailio JSON-RPC unreachable: {error}") from error
    if "error" in answer:
        raise PhoneSystemError(f"Kamailio {method}: {answer['error'].get('message')}")
    return answer.get("result")


def _expanding(name: str) -> BindParameter[Any]:
    """An IN-list parameter for a textual statement."""
    return bindparam(name, expanding=True)
