"""Calling functions of the demo organisation: a hotline, office hours, holidays, profiles."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.calling import admin, calendar
from workflow.calling.admin import ProfileInput
from workflow.domain.calling_rules import Level
from workflow.models import Department
from workflow.models.calling import Hotline

#: Monday to Friday 08:00–12:00 and 13:30–17:30, Saturday morning.
OFFICE_HOURS = [(day, time(8), time(12)) for day in range(6)] + [
    (day, time(13, 30), time(17, 30)) for day in range(5)]
#: Public holidays of 2026 (Tết Bính Ngọ, Giỗ Tổ Hùng Vương, 30/4, 1/5, Quốc khánh).
HOLIDAYS_2026 = [
    (date(2026, 1, 1), "Tết Dương lịch"),
    *[(date(2026, 2, day), "Tết Nguyên đán") for day in range(16, 21)],
    (date(2026, 4, 26), "Giỗ Tổ Hùng Vương"),
    (date(2026, 4, 30), "Ngày Giải phóng miền Nam"),
    (date(2026, 5, 1), "Quốc tế Lao động"),
    (date(2026, 9, 1), "Quốc khánh"),
    (date(2026, 9, 2), "Quốc khánh"),
]


def seed_calling(session: Session, admin_id: int) -> None:
    """Give the demo its calling functions once (later runs change nothing)."""
    if session.scalar(select(Hotline.id).limit(1)) is not None:
        return
    hotline = admin.save_hotline(session, admin_id, "02873001234", "Tổng đài CSKH")
    sales_line = admin.save_hotline(session, admin_id, "02473005678", "Đường dây bán hàng")
    calendar.set_working_week(session, admin_id, OFFICE_HOURS)
    for day, name in HOLIDAYS_2026:
        calendar.add_holiday(session, admin_id, day, name)
    telesales = admin.save_profile(session, admin_id, ProfileInput(
        name="Telesales", outgoing=True, classes=("internal", "landline", "mobile"),
        hotline_ids=(sales_line.id, hotline.id), default_hotline_id=sales_line.id,
        max_outgoing_seconds=1800, external_forwarding=True))
    care = admin.save_profile(session, admin_id, ProfileInput(
        name="Chăm sóc khách hàng", outgoing=True, classes=("internal", "landline", "mobile"),
        hotline_ids=(hotline.id,), default_hotline_id=hotline.id, after_hours=True,
        external_forwarding=True))
    for department in session.scalars(select(Department)):
        profile = {"Kinh doanh": telesales, "Chăm sóc khách hàng": care}.get(department.name)
        if profile is not None:
            admin.assign_profile(session, admin_id, Level.DEPARTMENT, department.id, profile.id)
