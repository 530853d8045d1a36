"""Users, their roles and scopes, and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from workflow.errors import NotFound, RuleViolation
from workflow.models import ApiToken, Branch, User
from workflow.rules import Actor, Role


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
    """Create a user, or update the one with this email; no branches means all branches."""
    email = email.strip().lower()
    if "@" not in email:
        raise RuleViolation.single("email", "email_invalid")
    branches = list(session.scalars(select(Branch).where(Branch.id.in_(branch_ids or []))))
    if len(branches) != len(set(branch_ids or [])):
        raise RuleViolation.single("branch_ids", "branch_unknown")
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, full_name=full_name or email.split("@")[0])
        session.add(user)
    elif full_name:
        user.full_name = full_name
    user.role = role.value
    user.password_hash = password_hash
    user.branches = branches
    user.all_branches = role is not Role.REQUESTER and not branches
    session.commit()
    return user


def find_user(session: Session, email: str) -> User | None:
    """The active user with this email."""
    return session.scalar(select(User).where(User.email == email.strip().lower(), User.active))


def _digest(token: str) -> str:
    """What is stored of a token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, email: str) -> str:
    """Issue a new API token for a user; only its digest is kept."""
    user = find_user(session, email)
    if user is None:
        raise NotFound("user_not_found", email=email)
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, digest=_digest(token)))
    session.commit()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a bearer token belongs to."""
    return session.scalars(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.digest == _digest(token), User.active)
        .options(joinedload(User.branches))
    ).unique().first()
