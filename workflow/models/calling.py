"""Tables of calling functions: profiles, hotlines, trunks, assignments, working time, audit."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.models import Base, utcnow


class JobRole(Base):
    """What an employee does (e.g. telesales, customer care): a target of calling profiles."""

    __tablename__ = "job_role"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Hotline(Base):
    """A company number agents may present as caller ID when calling out."""

    __tablename__ = "hotline"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: E.164.
    number: Mapped[str] = mapped_column(String(20), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    #: The extension an incoming call to this number rings (a DID); None: none.
    extension: Mapped[str | None] = mapped_column(String(8))


class Trunk(Base):
    """A carrier's SIP trunk: where outgoing calls leave and incoming calls come from."""

    __tablename__ = "trunk"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: The carrier's signalling IP address (v4 or v6, compressed form).
    address: Mapped[str] = mapped_column(String(45))
    port: Mapped[int] = mapped_column(Integer, default=5060)
    #: udp, tcp or tls.
    transport: Mapped[str] = mapped_column(String(3), default="udp")
    #: The order trunks are tried in: 1 first.
    position: Mapped[int] = mapped_column(Integer)
    #: How the carrier wants numbers: e164 ("+84912345678") or national ("0912345678").
    number_format: Mapped[str] = mapped_column(String(8), default="e164")
    #: The trunk's main number (E.164).
    number: Mapped[str] = mapped_column(String(20))
    auth_username: Mapped[str | None] = mapped_column(String(64))
    #: The digest password towards the carrier, encrypted with the app's cipher.
    auth_password_sealed: Mapped[str | None] = mapped_column(String(500))
    auth_realm: Mapped[str | None] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


profile_hotline = Table(
    "calling_profile_hotline",
    Base.metadata,
    Column("profile_id", ForeignKey("calling_profile.id", ondelete="CASCADE"), primary_key=True),
    Column("hotline_id", ForeignKey("hotline.id", ondelete="CASCADE"), primary_key=True),
)


class CallingProfile(Base):
    """A class of service: what the agents it applies to may call, as whom, how long, when."""

    __tablename__ = "calling_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    outgoing: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Allowed number classes (`NumberClass` values).
    number_classes: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_internal_seconds: Mapped[int | None] = mapped_column(Integer)
    max_outgoing_seconds: Mapped[int | None] = mapped_column(Integer)
    after_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    external_forwarding: Mapped[bool] = mapped_column(Boolean, default=False)
    default_hotline_id: Mapped[int | None] = mapped_column(ForeignKey("hotline.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    hotlines: Mapped[list[Hotline]] = relationship(secondary=profile_hotline,
                                                   order_by=Hotline.number)
    default_hotline: Mapped[Hotline | None] = relationship()


class CallingAssignment(Base):
    """A profile assigned to the organisation, a branch, a department, a role or one agent."""

    __tablename__ = "calling_assignment"
    __table_args__ = (
        # One organisation-wide default.
        Index("uq_calling_assignment_organisation", "level", unique=True,
              postgresql_where=text("level = 'organisation'"),
              sqlite_where=text("level = 'organisation'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(15))
    profile_id: Mapped[int] = mapped_column(ForeignKey("calling_profile.id"), index=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), unique=True)
    job_role_id: Mapped[int | None] = mapped_column(ForeignKey("job_role.id"), unique=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"), unique=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    profile: Mapped[CallingProfile] = relationship()


class WorkingPeriod(Base):
    """Part of the organisation's working week (local time)."""

    __tablename__ = "working_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 0 = Monday … 6 = Sunday.
    weekday: Mapped[int] = mapped_column(Integer)
    starts: Mapped[time]
    ends: Mapped[time]


class PublicHoliday(Base):
    """A day off for everyone (e.g. 30/4, 2/9, the days of Tết)."""

    __tablename__ = "public_holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")


class CallingChange(Base):
    """The audit trail of calling functions: who changed what, when, from what to what."""

    __tablename__ = "calling_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    subject: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class CallingSync(Base):
    """Bringing every agent's calling rules on the phone system up to date, with progress."""

    __tablename__ = "calling_sync"
    __table_args__ = (
        Index("ix_calling_sync_unfinished", "created_at",
              postgresql_where=text("finished_at IS NULL"),
              sqlite_where=text("finished_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The change that asked for it.
    change_id: Mapped[int | None] = mapped_column(ForeignKey("calling_change.id"))
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    #: Accounts whose rules actually changed on the phone system.
    changed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: Set when a newer sync made this one unnecessary.
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(String(500))
