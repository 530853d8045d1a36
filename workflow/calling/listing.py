"""Calling profiles and job roles as people read them: in Vietnamese dictionary order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models.calling import CallingProfile, JobRole
from workflow.names import by_name


def profiles_by_name(session: Session, *options: Any) -> list[CallingProfile]:
    """Every calling profile, "Kế toán" before "Kinh doanh" and "Đào tạo" before "Zalo"."""
    rows = session.scalars(select(CallingProfile).options(*options)).all()
    return by_name(rows, lambda profile: profile.name)


def job_roles_by_name(session: Session) -> list[JobRole]:
    """Every job role in Vietnamese dictionary order (a short list, sorted in Python)."""
    return by_name(session.scalars(select(JobRole)).all(), lambda role: role.name)
