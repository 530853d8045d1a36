"""Tables of the organisation: branches, departments, employees, user accounts and tokens,
and the addresses refused signing in for a while."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates

from workflow import names
from workflow.db import SORT_KEY, Base, utcnow
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound
from workflow.domain.rules import ExtensionPolicy, Role


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


class SignInRefusal(Base):
    """An address that failed to sign in too often, refused until `until`."""

    __tablename__ = "sign_in_refusal"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    until: Mapped[datetime]


def current_organisation(session: Session) -> Organisation:
    """The organisation this installation serves."""
    organisation = session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    if organisation is None:
        raise NotFound(ErrorCode.ORGANISATION_MISSING)
    return organisation
