"""Tables of agent accounts: the accounts, their SIP credentials, directory and setup links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column, relationship

from workflow.db import Base, constant, utcnow
from workflow.domain.routing import RoutingType
from workflow.domain.rules import AgentStatus
from workflow.models.people import Employee


class Agent(Base):
    """A cloud-phone agent account: an employee's extension and its routing."""

    __tablename__ = "agent"
    __table_args__ = (
        Index(
            "uq_agent_active_extension",
            "extension",
            unique=True,
            postgresql_where=text(f"status = '{AgentStatus.ACTIVE}'"),
            sqlite_where=text(f"status = '{AgentStatus.ACTIVE}'"),
        ),
        Index(
            "uq_agent_active_employee",
            "employee_id",
            unique=True,
            postgresql_where=text(f"status = '{AgentStatus.ACTIVE}'"),
            sqlite_where=text(f"status = '{AgentStatus.ACTIVE}'"),
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
    status: Mapped[str] = mapped_column(String(10), default=AgentStatus.ACTIVE.value, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    revoked_at: Mapped[datetime | None]

    employee: Mapped[Employee] = relationship()


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


def is_active(status: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """An agent `status` column says active."""
    return status == constant(AgentStatus.ACTIVE.value)
