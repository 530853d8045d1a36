"""The organisation-wide default profile: what agentdesk allowed before calling profiles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.domain.calling_rules import Level
from workflow.domain.numbers import CHOOSABLE
from workflow.models.calling import CallingAssignment, CallingProfile

#: Its name (migration 0006 creates the same profile in existing installations).
DEFAULT_PROFILE_NAME = "Mặc định"


def ensure_default_profile(session: Session) -> CallingProfile:
    """The organisation-wide profile, created when no organisation default exists."""
    found = session.scalar(select(CallingAssignment).where(
        CallingAssignment.level == Level.ORGANISATION.value))
    if found is not None:
        return found.profile
    profile = session.scalar(select(CallingProfile).where(
        CallingProfile.name == DEFAULT_PROFILE_NAME)) or CallingProfile(
        name=DEFAULT_PROFILE_NAME, outgoing=True,
        number_classes=[each.value for each in CHOOSABLE], after_hours=True,
        external_forwarding=True)
    session.add(CallingAssignment(level=Level.ORGANISATION.value, profile=profile))
    session.flush()
    return profile
