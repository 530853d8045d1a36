"""Who may change the organisation's set-up: the rule every admin service is guarded by."""

from __future__ import annotations

from workflow.rules import Role

#: The refusal of a change only admins may make (a message in both languages).
ADMIN_ONLY = "admin_only"


def admin_refusal(role: str | None) -> str | None:
    """Why a user with `role` (None: no active user) may not change the set-up, or None."""
    return None if role == Role.ADMIN.value else ADMIN_ONLY
