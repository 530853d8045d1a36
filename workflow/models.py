"""SQLAlchemy models: one declarative base with a naming convention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SQLColumnExpression,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    literal,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    InstrumentedAttribute,
    Mapped,
    Session,
    mapped_column,
    relationship,
    validates,
)

from workflow import names
from workflow.machine import OPEN_STATES, Status
from workflow.routing import RoutingType
from workflow.rules import ExtensionPolicy, Role


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always read back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    """The declarative base of every agentdesk table."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


#: A sort key column: compared by code point on both databases.
SORT_KEY = Text().with_variant(Text(collation="C"), "postgresql")


def on_postgresql(session: Session) -> bool:
    """Whether `session` talks to PostgreSQL (which some statements need or make faster)."""
    return session.get_bind().dialect.name == "postgresql"


def table(model: type[Base]) -> Table:
    """The Core table behind a model, for hot paths that need no unit of work."""
    found = model.__table__
    assert isinstance(found, Table)
    return found


def _open_states_sql() -> str:
    """SQL list of the open ticket states, for partial indexes."""
    return ", ".join(f"'{state.value}'" for state in sorted(OPEN_STATES))


class Organisation(Base):
    """The organisation running agentdesk, with its extension policy."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    extension_length: Mapped[int] = mapped_column(Integer, default=4)
    extension_prefix: Mapped[str] = mapped_column(String(8), default="")
    reserved_extensions: Mapped[list[str]] = mapped_column(JSON, default=list)

    @property
    def policy(self) -> ExtensionPolicy:
        """The extension policy as the rules see it."""
        return ExtensionPolicy(
            self.extension_length, self.extension_prefix, frozenset(self.reserved_extensions)
        )


class Branch(Base):
    """A facility, office or branch of the organisation."""

    __tablename__ = "branch"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Department(Base):
    """A department inside a branch."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    branch: Mapped[Branch] = relationship()


class Employee(Base):
    """A person working in a department, who may hold an agent account."""

    __tablename__ = "employee"
    __table_args__ = (
        # Searching part of a folded name (LIKE '%…%'): trigrams on PostgreSQL.
        Index("ix_employee_search_name_trgm", "search_name", postgresql_using="gin",
              postgresql_ops={"search_name": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200), index=True)
    #: `full_name` folded for search (`names.fold`), set with every new full name.
    search_name: Mapped[str] = mapped_column(String(400), server_default=text("''"))
    #: `full_name`'s Vietnamese sort key, given name first (`names.name_key`), compared
    #: byte by byte ("C" on PostgreSQL, SQLite's default BINARY).
    sort_name: Mapped[str] = mapped_column(SORT_KEY, index=True, server_default=text("''"))
    email: Mapped[str | None] = mapped_column(String(254))
    employee_code: Mapped[str | None] = mapped_column(String(40))
    #: What the employee does, which may decide their calling profile.
    job_role_id: Mapped[int | None] = mapped_column(ForeignKey("job_role.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    department: Mapped[Department] = relationship()

    @validates("full_name")
    def _derive_names(self, _key: str, full_name: str) -> str:
        """Keep the search and sort forms in step with every full name set (ORM writes)."""
        self.search_name, self.sort_name = names.fold(full_name), names.name_key(full_name)
        return full_name


approver_branch = Table(
    "approver_branch",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    """Someone who signs in: a requester, an approver or an admin."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20), default=Role.REQUESTER.value)
    all_branches: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(5), default="vi")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Sessions carry the epoch they were signed in under; raising it ends every copy of
    #: every session of this user (sign-out, deactivation, a new password).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    branches: Mapped[list[Branch]] = relationship(secondary=approver_branch)


class ApiToken(Base):
    """A bearer token for the API; only its SHA-256 digest is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Agent(Base):
    """A cloud-phone agent account: an employee's extension and its routing."""

    __tablename__ = "agent"
    __table_args__ = (
        Index(
            "uq_agent_active_extension",
            "extension",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
        Index(
            "uq_agent_active_employee",
            "employee_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
        # The agent list's default order (newest first): its pages are read off this index
        # backwards instead of sorting every agent.
        Index("ix_agent_updated", "updated_at", "id"),
        # Searching part of an extension (LIKE '%…%'): trigrams on PostgreSQL.
        Index("ix_agent_extension_trgm", "extension", postgresql_using="gin",
              postgresql_ops={"extension": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    extension: Mapped[str] = mapped_column(String(8))
    sip_username: Mapped[str] = mapped_column(String(40), unique=True)
    routing_type: Mapped[str] = mapped_column(String(10), default=RoutingType.APP_WEB.value)
    priority_number: Mapped[str | None] = mapped_column(String(20))
    backup_number: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    revoked_at: Mapped[datetime | None]

    employee: Mapped[Employee] = relationship()


ticket_watcher = Table(
    "ticket_watcher",
    Base.metadata,
    Column("ticket_id", ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)


class Ticket(Base):
    """A request to set up, change or revoke an employee's agent account."""

    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("requester_id", "idempotency_key", name="uq_ticket_idempotency"),
        Index(
            "uq_ticket_open_employee",
            "employee_id",
            unique=True,
            postgresql_where=text(f"state IN ({_open_states_sql()})"),
            sqlite_where=text(f"state IN ({_open_states_sql()})"),
        ),
        Index(
            "uq_ticket_open_extension",
            "extension",
            unique=True,
            postgresql_where=text(f"state IN ({_open_states_sql()}) AND extension IS NOT NULL"),
            sqlite_where=text(f"state IN ({_open_states_sql()}) AND extension IS NOT NULL"),
        ),
        Index("ix_ticket_state_created", "state", "created_at"),
        Index("ix_ticket_branch_state", "branch_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    extension: Mapped[str | None] = mapped_column(String(8))
    routing_type: Mapped[str | None] = mapped_column(String(10))
    priority_number: Mapped[str | None] = mapped_column(String(20))
    backup_number: Mapped[str | None] = mapped_column(String(20))
    sip_username: Mapped[str | None] = mapped_column(String(40))
    #: A change ticket that issues the agent a new SIP password.
    reset_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                 server_default=text("false"))
    details: Mapped[str] = mapped_column(Text, default="")
    requester_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    state: Mapped[str] = mapped_column(String(15), default=Status.SUBMITTED.value)
    version: Mapped[int] = mapped_column(Integer, default=1)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    employee: Mapped[Employee] = relationship()
    requester: Mapped[User] = relationship()
    watchers: Mapped[list[User]] = relationship(secondary=ticket_watcher)
    events: Mapped[list[TicketEvent]] = relationship(
        order_by="TicketEvent.id", back_populates="ticket"
    )

    @property
    def employee_name(self) -> str:
        """The name of the employee the ticket is about."""
        return self.employee.full_name


class TicketEvent(Base):
    """One line of a ticket's audit trail: who did what, from which state to which."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(15))
    from_state: Mapped[str | None] = mapped_column(String(15))
    to_state: Mapped[str] = mapped_column(String(15))
    comment: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class OutboxMessage(Base):
    """Work promised by a committed transaction, kept until a worker has done it."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index(
            "ix_outbox_message_pending",
            "created_at",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    actor_name: Mapped[str] = mapped_column(String(60))
    args: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sent_at: Mapped[datetime | None]
    send_count: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None]


class Notification(Base):
    """An in-app notice to one user about one ticket event."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_notification_event_user"),
        Index(
            "ix_notification_unsent",
            "created_at",
            postgresql_where=text("emailed_at IS NULL"),
            sqlite_where=text("emailed_at IS NULL"),
        ),
        # The unread count on every page: a user may have hundreds of thousands of notices.
        Index(
            "ix_notification_unread",
            "user_id",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
        # A new notice retires the earlier ones of its ticket to the same user.
        Index("ix_notification_ticket_user", "ticket_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_event.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
    #: Why its email could not be built or sent: the notice is parked until an admin
    #: releases it, and the relay goes on with the others.
    email_error: Mapped[str | None] = mapped_column(String(500))
    #: When a later notice of the same ticket to the same user took its place while it was
    #: unread or not emailed: it is then read and its email never goes (the row stays).
    superseded_at: Mapped[datetime | None]

    event: Mapped[TicketEvent] = relationship()
    user: Mapped[User] = relationship()


class DirectoryEntry(Base):
    """The built-in phone-system directory: one SIP account as the switchboard holds it."""

    __tablename__ = "phone_directory_entry"

    sip_username: Mapped[str] = mapped_column(String(40), primary_key=True)
    extension: Mapped[str] = mapped_column(String(8), unique=True)
    routing_type: Mapped[str] = mapped_column(String(10))
    priority_number: Mapped[str | None] = mapped_column(String(20))
    backup_number: Mapped[str | None] = mapped_column(String(20))
    secret_digest: Mapped[str] = mapped_column(String(64))
    #: The calling rules the switchboard enforces for the account (JSON of CallingRules).
    calling: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DirectoryWrite(Base):
    """Every write made to the built-in directory, so effects can be counted and audited."""

    __tablename__ = "phone_directory_write"

    id: Mapped[int] = mapped_column(primary_key=True)
    sip_username: Mapped[str] = mapped_column(String(40), index=True)
    operation: Mapped[str] = mapped_column(String(10))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SipCredential(Base):
    """A SIP password agentdesk issued, kept encrypted until its employee has seen it once."""

    __tablename__ = "sip_credential"
    __table_args__ = (
        # Pending passwords are few; each page looks for the signed-in user's.
        Index("ix_sip_credential_pending", "employee_id",
              postgresql_where=text("state = 'pending'"), sqlite_where=text("state = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sip_username: Mapped[str] = mapped_column(String(40), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    #: The ticket that issued it (none when reconcile re-created a lost account).
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), unique=True)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    #: The password, encrypted; wiped once revealed, expired, superseded or withdrawn.
    secret: Mapped[str | None] = mapped_column(Text)
    #: SHA-256 of the newest one-time link; only the newest link works (kept once used,
    #: so that opening a used link says so).
    link_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    #: A relay is mailing the link until then (another may take over afterwards).
    mailing_until: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
    revealed_at: Mapped[datetime | None]
    #: Why the letter with its link could not be built or sent (parked, as for notices).
    email_error: Mapped[str | None] = mapped_column(String(500))

    employee: Mapped[Employee] = relationship()


class DeviceLink(Base):
    """A one-time, expiring address a phone app loads its SIP account from (remote
    provisioning); kept after use as the record of who issued it and which app took it."""

    __tablename__ = "device_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The pending password the app receives (and that counts as shown once it does).
    credential_id: Mapped[int] = mapped_column(ForeignKey("sip_credential.id"), index=True)
    #: SHA-256 of the token in the address; the token itself is never stored.
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: "own_device" (the employee's phone app) or "desk_phone" (issued by an admin).
    purpose: Mapped[str] = mapped_column(String(12))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    #: The User-Agent of the app that used it (shortened, printable only).
    used_by_agent: Mapped[str | None] = mapped_column(String(200))


OPEN_STATE_VALUES = tuple(sorted(state.value for state in OPEN_STATES))


# These constants are written into the SQL text rather than bound, so that the planner
# can match the partial indexes and prepared statements keep a cheap generic plan.


def in_open_state(state: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """A ticket `state` column holds an open state."""
    return state.in_([literal(value, literal_execute=True) for value in OPEN_STATE_VALUES])


def state_in(column: SQLColumnExpression[str], states: frozenset[Status]) -> ColumnElement[bool]:
    """SQL saying that `column` holds one of `states` (an equality when there is only one)."""
    values = sorted(state.value for state in states)
    return column == values[0] if len(values) == 1 else column.in_(values)


def is_active(status: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """An agent `status` column says active."""
    return status == literal("active", literal_execute=True)


__all__ = [
    "OPEN_STATE_VALUES",
    "Agent",
    "ApiToken",
    "Base",
    "Branch",
    "Department",
    "DirectoryEntry",
    "DirectoryWrite",
    "Employee",
    "Notification",
    "Organisation",
    "OutboxMessage",
    "Role",
    "SipCredential",
    "Ticket",
    "TicketEvent",
    "User",
    "in_open_state",
    "is_active",
    "utcnow",
]

# The calling-function tables live with their concept; importing them here puts them on the
# same metadata wherever the models are loaded (the app, migrations, the drift test).
from workflow.calling import models as _calling_models  # noqa: E402, F401
