"""The working week and the public holidays (calls out after hours depend on them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, time
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from web.extensions import db
from web.ui.access import actor, signed_in
from web.ui.calling.blueprint import bp
from web.ui.calling.forms import PERIODS_PER_DAY, HolidayForm, WorkingWeekForm
from web.ui.form_errors import problem_messages, show_refusal
from web.ui.forms import FlaskForm
from workflow.calling import calendar
from workflow.calling.queries import public_holidays, working_periods
from workflow.domain.errors import RuleViolation
from workflow.domain.rules import Role


@bp.route("/admin/calling/hours", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def working_time() -> Any:
    """The working week (two periods a day at most) and the public holidays."""
    session = db.session()
    week = WorkingWeekForm(prefix="week")
    day_errors: dict[int, list[str]] = defaultdict(list)
    if not week.is_submitted():
        _fill_week(session, week)
    elif week.validate_on_submit():
        periods = _periods(week)
        if periods is not None:
            try:
                calendar.set_working_week(session, actor().user_id, periods)
            except RuleViolation as violation:
                session.rollback()
                _day_problems(violation, day_errors)
            else:
                flash(_("Đã lưu tuần làm việc."), "success")
                return redirect(url_for("calling_pages.working_time"))
    return _working_time_page(week, HolidayForm(prefix="holiday", formdata=None), day_errors)


@bp.route("/admin/calling/holidays", methods=["POST"])
@signed_in(Role.ADMIN)
def add_holiday() -> Any:
    """Add a public holiday."""
    session = db.session()
    form = HolidayForm(prefix="holiday")
    if form.validate_on_submit() and isinstance(form.day.data, date):
        try:
            calendar.add_holiday(session, actor().user_id, form.day.data, form.name.data or "")
        except RuleViolation as violation:
            session.rollback()
            show_refusal(form, violation)
        else:
            flash(_("Đã thêm ngày nghỉ lễ %(day)s.", day=form.day.data.strftime("%d/%m/%Y")),
                  "success")
            return redirect(url_for("calling_pages.working_time"))
    week = WorkingWeekForm(prefix="week", formdata=None)
    _fill_week(session, week)
    return _working_time_page(week, form, {})


@bp.route("/admin/calling/holidays/<int:holiday_id>/remove", methods=["POST"])
@signed_in(Role.ADMIN)
def remove_holiday(holiday_id: int) -> Any:
    """Remove a public holiday."""
    form = FlaskForm()
    if form.validate_on_submit():
        calendar.remove_holiday(db.session(), actor().user_id, holiday_id)
        flash(_("Đã xoá ngày nghỉ lễ."), "success")
    return redirect(url_for("calling_pages.working_time"))


def _fill_week(session: Session, week: WorkingWeekForm) -> None:
    """Put the stored working week in the form (the first periods of each day)."""
    taken: dict[int, int] = defaultdict(int)
    for weekday, starts, ends in working_periods(session):
        taken[weekday] += 1
        if taken[weekday] <= PERIODS_PER_DAY:
            period = taken[weekday]
            week[week.field_name(weekday, period, "starts")].data = starts
            week[week.field_name(weekday, period, "ends")].data = ends


def _periods(week: WorkingWeekForm) -> list[tuple[int, time, time]] | None:
    """The filled-in periods, or None when a period has only one end (noted on the other)."""
    periods = []
    complete = True
    for day in range(7):
        for period in range(1, PERIODS_PER_DAY + 1):
            starts = week[week.field_name(day, period, "starts")]
            ends = week[week.field_name(day, period, "ends")]
            if starts.data is None and ends.data is None:
                continue
            if starts.data is None or ends.data is None:
                missing = starts if starts.data is None else ends
                missing.errors = [*missing.errors, _("Hãy nhập cả giờ bắt đầu và giờ kết thúc.")]
                complete = False
                continue
            periods.append((day, starts.data, ends.data))
    return periods if complete else None


def _day_problems(violation: RuleViolation, day_errors: dict[int, list[str]]) -> None:
    """The service's problems with the week, against the day each concerns (Monday if none)."""
    for problems in violation.problems.values():
        for problem in problems:
            day = problem.params.get("weekday")
            day_errors[day if isinstance(day, int) and 0 <= day < 7 else 0].extend(
                problem_messages([problem]))


def _working_time_page(week: WorkingWeekForm, holiday: HolidayForm,
                       day_errors: Mapping[int, list[str]]) -> Any:
    """The working-time page with these forms."""
    holidays = public_holidays(db.session())
    return render_template("calling/hours.html", week=week, holiday_form=holiday,
                           holidays=holidays, day_errors=day_errors,
                           periods_per_day=PERIODS_PER_DAY)
