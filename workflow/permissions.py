"""Who may change the organisation's set-up: the guard every admin service calls first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import PermissionDenied
from workflow.domain.rules import Role
from workflow.models import User

#: The refusal of a change only admins may make (a message in both languages).
ADMIN_ONLY = ErrorCode.ADMIN_ONLY


def admin_refusal(role: str | None) -> ErrorCode | None:
    """Why a user with `role` (None: no active user) may not change the set-up, or None."""
    return None if role == Role.ADMIN.value else ADMIN_ONLY


def require_admin(session: Session, actor_id: int | None) -> None:
    """Refuse unless `actor_id` is an active admin now, read in the caller's transaction.

    None is the system itself (the command line at the server, demo seeding, the workers):
    whoever runs it already holds the database.
    """
    if actor_id is None:
        return
    role = session.scalar(select(User.role).where(User.id == actor_id, User.active))
    if (refusal := admin_refusal(role)) is not None:
        raise PermissionDenied(refusal)
