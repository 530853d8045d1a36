"""Users, their roles and scopes, and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.orm import Session

from workflow.db import execute_alone, utcnow
from workflow.domain import text
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound, RuleViolation
from workflow.domain.rules import Actor, Role
from workflow.models import ApiToken, Branch, SignInRefusal, User, approver_branch, table
from workflow.people.refusals import SignInRefused, refusal_key
from workflow.permissions import require_admin

#: Longest full name the table keeps.
MAX_NAME = 200


@dataclass(frozen=True)
class Identity:
    """A signed-in caller: who they are to the rules, their email and chosen language."""

    actor: Actor
    language: str
    email: str
    #: The user's session epoch: a session signed in under an older one has ended.
    session_epoch: int = 0


def actor_of(user: User) -> Actor:
    """The rules' view of a signed-in user."""
    return Actor(
        user_id=user.id,
        role=Role(user.role),
        all_branches=user.all_branches,
        branch_ids=frozenset(branch.id for branch in user.branches),
    )


def save_user(
    session: Session,
    email: str,
    role: Role,
    password_hash: str,
    full_name: str | None = None,
    branch_ids: list[int] | None = None,
) -> User:
    """Create a user, or update the one with this email; no branches means all branches.

    The email is kept normalised and in lower case (users sign in with it in any case).
    The system's own path (command line, demo seeding): pages and API go through add_user
    and change_access, which are guarded.
    """
    email = _email(email)
    if full_name is not None and full_name.strip():
        full_name = text.one_line(full_name, "full_name", MAX_NAME)
    branches = _branches(session, branch_ids or [])
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, full_name=full_name or email.split("@")[0])
        session.add(user)
    elif full_name:
        user.full_name = full_name
    user.role = role.value
    if user.password_hash != password_hash:
        user.session_epoch = (user.session_epoch or 0) + 1  # a new password ends old sessions
    user.password_hash = password_hash
    user.branches = branches
    user.all_branches = role is not Role.REQUESTER and not branches
    session.commit()
    return user


def add_user(
    session: Session, email: str, full_name: str, role: Role, password_hash: str,
    branch_ids: list[int], *, actor_id: int | None,
) -> User:
    """Create a user (admins); an email already in use is refused (change that user instead)."""
    require_admin(session, actor_id)
    email = _email(email)
    full_name = text.one_line(full_name, "full_name", MAX_NAME)
    if session.scalar(select(User.id).where(User.email == email)):
        raise RuleViolation.single("email", ErrorCode.EMAIL_TAKEN)
    return save_user(session, email, role, password_hash, full_name,
                     branch_ids if role is Role.APPROVER else [])


def _email(email: str) -> str:
    """A user's sign-in email: valid, normalised, lower case."""
    return (text.email_address(email, "email", required=True) or "").lower()


def change_access(
    session: Session, user_id: int, role: Role, branch_ids: list[int], active: bool, *,
    actor_id: int | None,
) -> User:
    """Set a user's role, approver branches (none: all) and whether they may sign in (admins).

    The last active admin cannot be demoted or deactivated: nobody could undo it.
    """
    require_admin(session, actor_id)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, user_id=user_id)
    branches = _branches(session, branch_ids)
    stays_admin = role is Role.ADMIN and active
    if user.role == Role.ADMIN.value and not stays_admin and _other_admins(session, user_id) == 0:
        raise RuleViolation.single("role", ErrorCode.LAST_ADMIN)
    user.role = role.value
    user.branches = branches if role is Role.APPROVER else []
    user.all_branches = role is Role.ADMIN or (role is Role.APPROVER and not branches)
    if user.active and not active:
        user.session_epoch += 1
    user.active = active
    session.commit()
    return user


def _branches(session: Session, branch_ids: list[int]) -> list[Branch]:
    """The branches with these ids, all of which must exist."""
    branches = list(session.scalars(select(Branch).where(Branch.id.in_(branch_ids))))
    if len(branches) != len(set(branch_ids)):
        raise RuleViolation.single("branch_ids", ErrorCode.BRANCH_UNKNOWN)
    return branches


def _other_admins(session: Session, user_id: int) -> int:
    """How many active admins there are besides `user_id`."""
    return session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN.value, User.active, User.id != user_id)) or 0


def set_language(session: Session, user_id: int, language: str) -> None:
    """Remember the interface language a user chose."""
    session.execute(update(User).where(User.id == user_id).values(language=language))
    session.commit()


def end_sessions(session: Session, user_id: int) -> None:
    """End every session of a user, on every device and every copy of its cookie."""
    session.execute(update(User).where(User.id == user_id)
                    .values(session_epoch=User.session_epoch + 1))
    session.commit()


def find_user(session: Session, email: str) -> User | None:
    """The active user with this email."""
    return session.scalar(select(User).where(User.email == email.strip().lower(), User.active))


def _digest(token: str) -> str:
    """What is stored of a token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, email: str) -> str:
    """Issue a new API token for a user; only its digest is kept (the command line's only)."""
    user = find_user(session, email)
    if user is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, email=email)
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, digest=_digest(token)))
    session.commit()
    return token


_users = table(User).c
_tokens = table(ApiToken).c
#: One row per scoped branch (or one with NULL): the caller and their scope in one round trip.
_IDENTITY = (
    select(_users.id, _users.role, _users.all_branches, _users.language, _users.email,
           _users.session_epoch, approver_branch.c.branch_id)
    .select_from(table(User))
    .outerjoin(approver_branch, approver_branch.c.user_id == _users.id)
    .where(_users.active)
)
_refusals = table(SignInRefusal).c
#: The caller's address's refusal rides along: refused callers cost no round trip of their own.
_IDENTITY_BY_TOKEN = _IDENTITY.add_columns(
    select(_refusals.until)
    .where(_refusals.address == bindparam("address"), _refusals.until > bindparam("now"))
    .scalar_subquery().label("refused_until")
).join(table(ApiToken), _tokens.user_id == _users.id).where(_tokens.digest == bindparam("digest"))
_IDENTITY_BY_ID = _IDENTITY.where(_users.id == bindparam("user_id"))


def identity_for_token(session: Session, token: str, address: str) -> Identity | None:
    """The active caller a bearer token belongs to.

    Raises SignInRefused when that caller's `address` is refused signing in.
    """
    rows = execute_alone(session, _IDENTITY_BY_TOKEN, {  # opens no transaction (no BEGIN)
        "digest": _digest(token), "address": refusal_key(address), "now": utcnow()}).all()
    if rows and rows[0].refused_until is not None:
        raise SignInRefused(rows[0].refused_until)
    return _identity_of(rows)


def identity_by_id(session: Session, user_id: int) -> Identity | None:
    """The active user with this id (a signed-in session's user)."""
    return _identity_of(execute_alone(session, _IDENTITY_BY_ID, {"user_id": user_id}).all())


def _identity_of(rows: Sequence[Row[Any]]) -> Identity | None:
    """The identity of an identity read's rows: one user and their branches."""
    if not rows:
        return None
    first = rows[0]
    branches = frozenset(row.branch_id for row in rows if row.branch_id is not None)
    return Identity(Actor(first.id, Role(first.role), first.all_branches, branches),
                    first.language, first.email, first.session_epoch)


def identity_of(user: User) -> Identity:
    """The identity of a loaded user."""
    return Identity(actor_of(user), user.language, user.email, user.session_epoch or 0)
