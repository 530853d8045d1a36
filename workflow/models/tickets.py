"""Tables of setup tickets: tickets, their events, watchers, notices and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    SQLColumnExpression,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column, relationship

from workflow.db import Base, constant, utcnow
from workflow.domain.machine import INITIAL_STATE, OPEN_STATES, Status
from workflow.models.people import Employee, User


def _open_states_sql() -> str:
    """SQL list of the open ticket states, for partial indexes."""
    return ", ".join(f"'{state.value}'" for state in sorted(OPEN_STATES))


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
    state: Mapped[str] = mapped_column(String(15), default=INITIAL_STATE.value)
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
    #: The web request that promised this work, so its log lines can be found with it.
    request_id: Mapped[str | None] = mapped_column(String(64))


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


OPEN_STATE_VALUES = tuple(sorted(state.value for state in OPEN_STATES))


# These constants are written into the SQL text rather than bound, so that the planner
# can match the partial indexes and prepared statements keep a cheap generic plan.


def in_open_state(state: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """A ticket `state` column holds an open state."""
    return state.in_([constant(value) for value in OPEN_STATE_VALUES])


def state_in(column: SQLColumnExpression[str], states: frozenset[Status]) -> ColumnElement[bool]:
    """SQL saying that `column` holds one of `states` (an equality when there is only one)."""
    values = sorted(state.value for state in states)
    return column == values[0] if len(values) == 1 else column.in_(values)
