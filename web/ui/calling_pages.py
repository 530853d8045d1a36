"""Calling functions: the admin pages (profiles, hotlines, assignments, roles, working time,
audit trail) and the "may this extension call this number now?" page for everyone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from wtforms import Field
from wtforms.fields.choices import SelectChoice

from web.extensions import db
from web.i18n import current_language
from web.messages import render
from web.ui.access import actor, signed_in
from web.ui.calling_forms import (
    PERIODS_PER_DAY,
    AssignmentForm,
    CallCheckForm,
    HolidayForm,
    HotlineForm,
    JobRoleForm,
    ProfileForm,
    RemoveAssignmentForm,
    WorkingWeekForm,
)
from web.ui.forms import FlaskForm
from web.ui.labels import CLASS_NAMES, LEVEL_NAMES, WEEKDAY_NAMES
from workflow import queries
from workflow.calling import admin, calendar
from workflow.calling.check import CallCheck, check_call
from workflow.calling.effective import Assignments
from workflow.calling.models import (
    CallingAssignment,
    CallingChange,
    CallingProfile,
    Hotline,
    JobRole,
    PublicHoliday,
    WorkingPeriod,
)
from workflow.calling.numbers import classify
from workflow.calling.rules import Assigned, Level
from workflow.errors import Conflict, NotFound, Problem, RuleViolation
from workflow.extensions import current_organisation
from workflow.models import Agent, Employee, User, is_active, utcnow
from workflow.routing import normalise_number
from workflow.rules import Role

bp = Blueprint("calling_pages", __name__)

#: Rows of the audit trail shown.
AUDIT_ROWS = 50
#: Levels whose target is picked from a list (the agent is picked by extension).
LISTED_TARGETS = (Level.BRANCH, Level.DEPARTMENT, Level.ROLE)

#: What an audit row is about, as the trail names it.
SUBJECT_NAMES = {
    "profile": _l("Hồ sơ gọi"),
    "assignment": _l("Gán hồ sơ gọi"),
    "hotline": _l("Hotline"),
    "job_role": _l("Vai trò"),
    "employee_role": _l("Vai trò của nhân viên"),
    "working_week": _l("Tuần làm việc"),
    "holiday": _l("Ngày nghỉ lễ"),
}
#: The changed settings, as the trail names them.
FIELD_NAMES = {
    "name": _l("Tên"),
    "outgoing": _l("Gọi ra ngoài"),
    "classes": _l("Loại số được gọi"),
    "hotlines": _l("Hotline"),
    "default_hotline_id": _l("Hotline mặc định"),
    "max_internal_seconds": _l("Thời lượng tối đa nội bộ"),
    "max_outgoing_seconds": _l("Thời lượng tối đa gọi ra"),
    "after_hours": _l("Gọi ra ngoài giờ làm việc"),
    "external_forwarding": _l("Chuyển cuộc gọi ra số ngoài"),
    "level": _l("Cấp"),
    "profile": _l("Hồ sơ gọi"),
    "number": _l("Số"),
    "label": _l("Tên gọi"),
    "job_role_id": _l("Vai trò"),
    "periods": _l("Giờ làm việc"),
    "day": _l("Ngày"),
}


# --- profiles ------------------------------------------------------------------------------------


@bp.route("/admin/calling")
@signed_in(Role.ADMIN)
def profiles() -> Any:
    """Every calling profile with its settings and where it is assigned."""
    session = db.session()
    rows = session.scalars(select(CallingProfile).options(
        selectinload(CallingProfile.hotlines), selectinload(CallingProfile.default_hotline),
    ).order_by(CallingProfile.name)).all()
    assigned: dict[int, list[str]] = defaultdict(list)
    departments = _department_names(session)
    for target, each in Assignments(session).listed():
        assigned[each.profile.id].append(_assigned_text(target, each, departments))
    return render_template("calling/profiles.html", profiles=rows, assigned=assigned)


def _department_names(session: Session) -> dict[int, str]:
    """Each department as "Branch — Department" (branches often share department names)."""
    return {department.id: f"{branch.name} — {department.name}"
            for branch, departments in queries.organisation_structure(session)
            for department in departments}


def _target_text(target: int | None, assigned: Assigned, departments: Mapping[int, str]) -> str:
    """What an assignment applies to, named so it cannot be mistaken for another."""
    if assigned.level is Level.DEPARTMENT and target is not None:
        return departments.get(target, assigned.target)
    return assigned.target


def _assigned_text(target: int | None, assigned: Assigned, departments: Mapping[int, str]
                   ) -> str:
    """An assignment as "Phòng ban Hà Nội — Kinh doanh" (the level, then the target)."""
    name = _target_text(target, assigned, departments)
    level = str(LEVEL_NAMES[assigned.level.value])
    return f"{level} {name}" if name else level


@bp.route("/admin/calling/profiles/new", methods=["GET", "POST"], defaults={"profile_id": None})
@bp.route("/admin/calling/profiles/<int:profile_id>", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def profile(profile_id: int | None) -> Any:
    """Create a profile, or edit one at the version the page was read at."""
    session = db.session()
    found = session.get(CallingProfile, profile_id) if profile_id else None
    if profile_id and found is None:
        raise NotFound("profile_not_found", profile_id=profile_id)
    form = ProfileForm()
    lines = session.scalars(select(Hotline).order_by(Hotline.number)).all()
    form.hotline_ids.choices = [SelectChoice(str(line.id), _hotline_text(line)) for line in lines]
    form.default_hotline_id.choices = [SelectChoice("", _("— Không có —")), *(
        SelectChoice(str(line.id), _hotline_text(line)) for line in lines)]
    if not form.is_submitted():
        _fill_profile(form, found)
    refused: list[Agent] = []
    if form.validate_on_submit():
        try:
            saved = admin.save_profile(session, actor().user_id, _profile_input(form),
                                       profile_id, _version(form) if profile_id else None)
        except RuleViolation as violation:
            session.rollback()
            refused = _put_errors(form, violation)
        except Conflict as conflict:
            session.rollback()
            form.form_errors.append(render(conflict.code, conflict.params, current_language()))
        else:
            flash(_("Đã lưu hồ sơ gọi %(name)s.", name=saved.name), "success")
            return redirect(url_for("calling_pages.profiles"))
    return render_template("calling/profile.html", form=form, profile=found, refused=refused,
                           has_hotlines=bool(lines))


def _fill_profile(form: ProfileForm, found: CallingProfile | None) -> None:
    """Put a stored profile's settings in the form (a new one allows internal calls)."""
    if found is None:
        form.classes.data = ["internal"]
        return
    form.name.data, form.outgoing.data = found.name, found.outgoing
    form.classes.data = list(found.number_classes)
    form.hotline_ids.data = [line.id for line in found.hotlines]
    form.default_hotline_id.data = found.default_hotline_id
    form.max_internal_seconds.data = found.max_internal_seconds
    form.max_outgoing_seconds.data = found.max_outgoing_seconds
    form.after_hours.data = found.after_hours
    form.external_forwarding.data = found.external_forwarding
    form.version.data = str(found.version)


def _profile_input(form: ProfileForm) -> admin.ProfileInput:
    """The service's input from the posted form."""
    return admin.ProfileInput(
        name=form.name.data or "", outgoing=bool(form.outgoing.data),
        classes=tuple(form.classes.data or ()), hotline_ids=tuple(form.hotline_ids.data or ()),
        default_hotline_id=form.default_hotline_id.data,
        max_internal_seconds=form.max_internal_seconds.data,
        max_outgoing_seconds=form.max_outgoing_seconds.data,
        after_hours=bool(form.after_hours.data),
        external_forwarding=bool(form.external_forwarding.data))


def _version(form: ProfileForm) -> int:
    """The version the edited profile was read at (0, which never matches, when missing)."""
    value = str(form.version.data or "")
    return int(value) if value.isascii() and value.isdecimal() else 0


def _hotline_text(line: Hotline) -> str:
    """A hotline as pickers show it: its number and label."""
    return f"{line.number} — {line.label}" if line.label else line.number


# --- hotlines ------------------------------------------------------------------------------------


@bp.route("/admin/calling/hotlines", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def hotlines() -> Any:
    """The company numbers (E.164), the profiles using each, and a form to add one."""
    session = db.session()
    form = HotlineForm()
    if form.validate_on_submit():
        try:
            saved = admin.save_hotline(session, actor().user_id, form.number.data or "",
                                       form.label.data or "")
        except RuleViolation as violation:
            session.rollback()
            _put_errors(form, violation)
        else:
            flash(_("Đã thêm hotline %(number)s.", number=saved.number), "success")
            return redirect(url_for("calling_pages.hotlines"))
    used_by: dict[int, list[str]] = defaultdict(list)
    for row in session.scalars(select(CallingProfile).options(
            selectinload(CallingProfile.hotlines)).order_by(CallingProfile.name)):
        for line in row.hotlines:
            used_by[line.id].append(row.name)
    lines = session.scalars(select(Hotline).order_by(Hotline.number)).all()
    return render_template("calling/hotlines.html", form=form, hotlines=lines, used_by=used_by)


# --- assignments ---------------------------------------------------------------------------------


@bp.route("/admin/calling/assignments")
@signed_in(Role.ADMIN)
def assignments() -> Any:
    """Where each profile is assigned, and a form per level to assign, replace or remove."""
    return _assignments_page(_assignment_forms(None))


@bp.route("/admin/calling/assignments/<level>", methods=["POST"])
@signed_in(Role.ADMIN)
def assign(level: str) -> Any:
    """Assign a profile at one level (or remove what is assigned there)."""
    try:
        chosen = Level(level)
    except ValueError:
        abort(404)
    session = db.session()
    forms = _assignment_forms(chosen)
    form = forms[chosen]
    refused: list[Agent] = []
    if form.validate_on_submit():
        target_id = _target_of(session, chosen, form)
        known = target_id is not None or chosen is Level.ORGANISATION
        removing = bool(form.remove.data)
        if known and removing and not _is_assigned(session, chosen, target_id):
            _target_field(form).errors.append(_("Chưa gán hồ sơ gọi nào ở đây."))
        elif known:
            profile_id = None if removing else form.profile_id.data
            try:
                admin.assign_profile(session, actor().user_id, chosen, target_id, profile_id)
            except RuleViolation as violation:
                session.rollback()
                refused = _put_errors(form, violation)
            except NotFound as missing:
                session.rollback()
                _target_field(form).errors.append(
                    render(missing.code, missing.params, current_language()))
            else:
                flash(_("Đã lưu việc gán hồ sơ gọi."), "success")
                return redirect(url_for("calling_pages.assignments"))
    return _assignments_page(forms, refused=refused)


@bp.route("/admin/calling/assignments/remove", methods=["POST"])
@signed_in(Role.ADMIN)
def remove_assignment() -> Any:
    """Remove one assignment of the list."""
    session = db.session()
    form = RemoveAssignmentForm()
    try:
        level = Level(form.level.data or "")
    except ValueError:
        abort(400)
    raw_target = str(form.target_id.data or "")
    target_id = int(raw_target) if raw_target.isascii() and raw_target.isdecimal() else None
    problems: list[str] = []
    refused: list[Agent] = []
    if form.validate_on_submit():
        try:
            admin.assign_profile(session, actor().user_id, level, target_id, None)
        except RuleViolation as violation:
            session.rollback()
            problems, refused = _messages(violation.problems.values()), _refused(violation)
        except NotFound as missing:
            session.rollback()
            problems = [render(missing.code, missing.params, current_language())]
        else:
            flash(_("Đã bỏ gán hồ sơ gọi."), "success")
            return redirect(url_for("calling_pages.assignments"))
    else:
        problems = [message for messages in form.errors.values() for message in messages]
    return _assignments_page(_assignment_forms(None), problems, refused)


def _assignment_forms(posted: Level | None) -> dict[Level, AssignmentForm]:
    """One form per level, each with only the fields its level needs; `posted` reads the
    request, the others show what is assigned now."""
    session = db.session()
    profile_choices = [SelectChoice(str(row.id), row.name) for row in session.scalars(
        select(CallingProfile).order_by(CallingProfile.name))]
    targets = _target_choices(session)
    current = {assigned.level: assigned for _target, assigned in Assignments(session).listed()
               if assigned.level is Level.ORGANISATION}
    forms: dict[Level, AssignmentForm] = {}
    for level in (Level.ORGANISATION, *LISTED_TARGETS, Level.AGENT):
        form = (AssignmentForm(prefix=level.value) if level is posted
                else AssignmentForm(prefix=level.value, formdata=None))
        if level in LISTED_TARGETS:
            del form.extension
            form.target_id.choices = [SelectChoice("", _("— Chọn —")), *targets[level]]
        else:
            del form.target_id
            if level is Level.ORGANISATION:
                del form.extension
        form.profile_id.choices = profile_choices
        if level is not posted and level in current:
            form.profile_id.data = current[level].profile.id
        forms[level] = form
    return forms


def _target_choices(session: Session) -> dict[Level, list[SelectChoice]]:
    """The branches, departments and job roles a profile may be assigned to."""
    structure = queries.organisation_structure(session)
    return {
        Level.BRANCH: [SelectChoice(str(branch.id), branch.name) for branch, _ in structure],
        Level.DEPARTMENT: [SelectChoice(str(department.id), f"{branch.name} — {department.name}")
                           for branch, departments in structure for department in departments],
        Level.ROLE: [SelectChoice(str(role.id), role.name) for role in session.scalars(
            select(JobRole).order_by(JobRole.name))],
    }


def _target_of(session: Session, level: Level, form: AssignmentForm) -> int | None:
    """The id the posted form targets; for an agent, the active agent with that extension
    (None, with a message on the field, when there is none)."""
    if level is Level.ORGANISATION:
        return None
    if level is not Level.AGENT:
        return int(form.target_id.data or 0)
    extension = (form.extension.data or "").strip()
    found = session.scalar(select(Agent.id).where(Agent.extension == extension,
                                                  is_active(Agent.status)))
    if found is None:
        form.extension.errors.append(
            render("extension_not_found", {"extension": extension}, current_language()))
    return found


def _is_assigned(session: Session, level: Level, target_id: int | None) -> bool:
    """Whether a profile is assigned at this level to this target."""
    query = select(CallingAssignment.id).where(CallingAssignment.level == level.value)
    column = admin.TARGET_COLUMN.get(level)
    if column is not None:
        query = query.where(getattr(CallingAssignment, column) == target_id)
    return session.scalar(query.limit(1)) is not None


def _target_field(form: AssignmentForm) -> Field:
    """The field naming what a form assigns to (the profile for the organisation)."""
    return (getattr(form, "target_id", None) or getattr(form, "extension", None)
            or form.profile_id)


def _assignments_page(forms: Mapping[Level, AssignmentForm], problems: list[str] | None = None,
                      refused: list[Agent] | None = None) -> Any:
    """The assignments page with these forms (and a refusal, if any)."""
    session = db.session()
    departments = _department_names(session)
    listed = [(target, assigned, _target_text(target, assigned, departments))
              for target, assigned in Assignments(session).listed()]
    return render_template("calling/assignments.html", listed=listed, forms=forms,
                           problems=problems or [], refused=refused or [])


# --- job roles -----------------------------------------------------------------------------------


@bp.route("/admin/calling/roles", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def job_roles() -> Any:
    """The job roles (with how many employees have each) and a form to add one."""
    form = JobRoleForm(prefix="new")
    if form.validate_on_submit() and _save_role(form, None):
        return redirect(url_for("calling_pages.job_roles"))
    return _roles_page(form, {})


@bp.route("/admin/calling/roles/<int:job_role_id>", methods=["POST"])
@signed_in(Role.ADMIN)
def rename_job_role(job_role_id: int) -> Any:
    """Rename a job role."""
    if db.session.get(JobRole, job_role_id) is None:
        raise NotFound("job_role_not_found", job_role_id=job_role_id)
    form = JobRoleForm(prefix=f"role{job_role_id}")
    if form.validate_on_submit() and _save_role(form, job_role_id):
        return redirect(url_for("calling_pages.job_roles"))
    return _roles_page(JobRoleForm(prefix="new", formdata=None), {job_role_id: form})


def _save_role(form: JobRoleForm, job_role_id: int | None) -> bool:
    """Save the role the form names; on a refusal put the message on the name."""
    session = db.session()
    try:
        admin.save_job_role(session, actor().user_id, form.name.data or "", job_role_id)
    except RuleViolation as violation:
        session.rollback()
        form.name.errors.extend(_messages(violation.problems.values()))
        return False
    flash(_("Đã lưu vai trò %(name)s.", name=(form.name.data or "").strip()), "success")
    return True


def _roles_page(new: JobRoleForm, renaming: Mapping[int, JobRoleForm]) -> Any:
    """The job roles page, keeping what was typed in a refused form."""
    session = db.session()
    roles = session.scalars(select(JobRole).order_by(JobRole.name)).all()
    counts = dict(session.execute(select(Employee.job_role_id, func.count()).where(
        Employee.job_role_id.is_not(None), Employee.active).group_by(Employee.job_role_id)
    ).all())
    rename_forms = {role.id: renaming.get(role.id) or JobRoleForm(
        prefix=f"role{role.id}", formdata=None, data={"name": role.name}) for role in roles}
    return render_template("calling/roles.html", form=new, roles=roles, counts=counts,
                           rename_forms=rename_forms)


# --- working time --------------------------------------------------------------------------------


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
            _put_errors(form, violation)
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
    for row in session.scalars(select(WorkingPeriod).order_by(WorkingPeriod.weekday,
                                                                 WorkingPeriod.starts)):
        taken[row.weekday] += 1
        if taken[row.weekday] <= PERIODS_PER_DAY:
            period = taken[row.weekday]
            week[week.field_name(row.weekday, period, "starts")].data = row.starts
            week[week.field_name(row.weekday, period, "ends")].data = row.ends


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
    """The service's problems with the week, against the day each concerns."""
    language = current_language()
    for problems in violation.problems.values():
        for problem in problems:
            day = problem.params.get("weekday")
            day_errors[day if isinstance(day, int) and 0 <= day < 7 else 0].append(
                render(problem.code, problem.params, language))


def _working_time_page(week: WorkingWeekForm, holiday: HolidayForm,
                       day_errors: Mapping[int, list[str]]) -> Any:
    """The working-time page with these forms."""
    holidays = db.session.scalars(select(PublicHoliday).order_by(PublicHoliday.day)).all()
    return render_template("calling/hours.html", week=week, holiday_form=holiday,
                           holidays=holidays, day_errors=day_errors,
                           periods_per_day=PERIODS_PER_DAY)


# --- audit trail ---------------------------------------------------------------------------------


@bp.route("/admin/calling/changes")
@signed_in(Role.ADMIN)
def changes() -> Any:
    """The latest changes of calling functions: who, when, what, old → new."""
    session = db.session()
    rows = session.scalars(select(CallingChange).order_by(
        CallingChange.created_at.desc(), CallingChange.id.desc()).limit(AUDIT_ROWS)).all()
    names = _audit_names(session, rows)
    entries = [{
        "row": row,
        "who": names["user"].get(row.actor_id or 0, _("Hệ thống")),
        "subject": str(SUBJECT_NAMES.get(row.subject, row.subject)),
        "target": _audit_target(row, names),
        "changes": [(str(FIELD_NAMES.get(name, name)), _value_text(name, values[0], names),
                     _value_text(name, values[1], names))
                    for name, values in sorted(row.changes.items(), key=_field_order)
                    if isinstance(values, list) and len(values) == 2],
    } for row in rows]
    return render_template("calling/changes.html", entries=entries, limit=AUDIT_ROWS)


def _field_order(item: tuple[str, Any]) -> tuple[int, str]:
    """Changed settings in the order the profile form shows them (unknown ones last)."""
    order = list(FIELD_NAMES)
    return (order.index(item[0]) if item[0] in order else len(order), item[0])


def _audit_names(session: Session, rows: Iterable[CallingChange]) -> dict[str, dict[int, str]]:
    """Names of the people, profiles, hotlines, roles and employees the rows mention."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        if row.actor_id:
            wanted["user"].add(row.actor_id)
        if row.subject_id is not None:
            wanted[row.subject].add(row.subject_id)
        for name, values in row.changes.items():
            kind = {"job_role_id": "job_role", "default_hotline_id": "hotline"}.get(name)
            if kind and isinstance(values, list):
                wanted[kind].update(each for each in values if isinstance(each, int))
    sources: dict[str, Any] = {"user": (User.id, User.full_name),
                               "profile": (CallingProfile.id, CallingProfile.name),
                               "hotline": (Hotline.id, Hotline.number),
                               "job_role": (JobRole.id, JobRole.name),
                               "employee_role": (Employee.id, Employee.full_name)}
    names: dict[str, dict[int, str]] = defaultdict(dict)
    for kind, (key, label) in sources.items():
        if wanted[kind]:
            names[kind] = {row[0]: row[1] for row in session.execute(
                select(key, label).where(key.in_(wanted[kind])))}
    return names


def _audit_target(row: CallingChange, names: Mapping[str, Mapping[int, str]]) -> str:
    """What exactly an audit row is about (a name when it still exists, else its id)."""
    if row.subject == "assignment" and row.subject_id is None:
        return str(LEVEL_NAMES["organisation"])
    if row.subject_id is None:
        return ""
    return names.get(row.subject, {}).get(row.subject_id, f"#{row.subject_id}")


def _value_text(name: str, value: Any, names: Mapping[str, Mapping[int, str]]) -> str:
    """One old or new value of the audit trail, in words."""
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if name == "classes" and isinstance(value, list):
        return ", ".join(str(CLASS_NAMES.get(each, each)) for each in value)
    if name == "periods" and isinstance(value, list):
        return "; ".join(_period_text(str(each)) for each in value)
    if name == "level":
        return str(LEVEL_NAMES.get(str(value), value))
    if name in ("job_role_id", "default_hotline_id") and isinstance(value, int):
        kind = "job_role" if name == "job_role_id" else "hotline"
        return names.get(kind, {}).get(value, f"#{value}")
    if name.endswith("_seconds"):
        return _("%(seconds)s giây", seconds=value)
    if name == "day":
        try:
            return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    if isinstance(value, list):
        return ", ".join(str(each) for each in value)
    return str(value)


def _period_text(stored: str) -> str:
    """A stored working period ("0 08:00-12:00") as "Thứ Hai 08:00–12:00"."""
    day, _space, hours = stored.partition(" ")
    if not (day.isdecimal() and int(day) < len(WEEKDAY_NAMES)):
        return stored
    return f"{WEEKDAY_NAMES[int(day)]} {hours.replace('-', '–')}"


# --- the call check (everyone) -------------------------------------------------------------------


@bp.route("/calling/check")
@signed_in()
def check() -> Any:
    """May this extension call this number now, as which caller ID, for how long, and why."""
    form = CallCheckForm(request.args)
    result: CallCheck | None = None
    moment = utcnow()
    asked = any(name in request.args for name in ("extension", "number", "caller_id"))
    if asked and form.validate():
        session = db.session()
        language = current_language()
        try:
            result = check_call(session, form.extension.data or "", form.number.data or "",
                                moment, current_app.config["TIMEZONE"],
                                (form.caller_id.data or "").strip() or None)
        except NotFound:
            form.extension.errors.append(render(
                "extension_not_found", {"extension": (form.extension.data or "").strip()},
                language))
            _number_errors(session, form)
        except RuleViolation as violation:
            _put_errors(form, violation)
    message = (render(f"call_{result.verdict.reason}", {}, current_language())
               if result is not None else "")
    return render_template("calling/check.html", form=form, result=result, message=message,
                           moment=moment, hotline_labels=hotline_labels(db.session()))


def _number_errors(session: Session, form: CallCheckForm) -> None:
    """Say what is wrong with the numbers too when the extension is unknown (the check
    itself stops at the extension)."""
    language = current_language()
    number = form.number.data or ""
    if classify(number, current_organisation(session).policy) is None:
        form.number.errors.append(render("number_invalid", {"number": number}, language))
    caller_id = (form.caller_id.data or "").strip()
    if caller_id and normalise_number(caller_id) is None:
        form.caller_id.errors.append(render("phone_invalid", {"number": caller_id}, language))


# --- shared --------------------------------------------------------------------------------------


def hotline_labels(session: Session) -> dict[str, str]:
    """Each hotline's label by its number, to name caller IDs."""
    return dict(session.execute(select(Hotline.number, Hotline.label)).all())


def _messages(groups: Iterable[list[Problem]]) -> list[str]:
    """Problems as messages in the page's language."""
    language = current_language()
    return [render(problem.code, problem.params, language) for problems in groups
            for problem in problems]


def _put_errors(form: FlaskForm, violation: RuleViolation) -> list[Agent]:
    """Each problem next to the field it names (or above the form); the agents whose forward
    the refused change would have outlawed."""
    for name, problems in violation.problems.items():
        target = form._fields.get(name)
        (target.errors if target is not None else form.form_errors).extend(
            _messages([problems]))
    return _refused(violation)


def _refused(violation: RuleViolation) -> list[Agent]:
    """The active agents a "forwards would break" refusal names, to link to them."""
    extensions = [str(each) for problems in violation.problems.values() for problem in problems
                  if problem.code == "forwards_would_break"
                  for each in problem.params.get("extensions", [])]
    if not extensions:
        return []
    return list(db.session.scalars(select(Agent).options(selectinload(Agent.employee)).where(
        Agent.extension.in_(extensions), is_active(Agent.status)).order_by(Agent.extension)))


@bp.app_template_global()
def calling_source(source: Assigned | None) -> str:
    """Where an effective profile comes from: "Phòng ban Kinh doanh — hồ sơ Telesales"."""
    if source is None:
        return _("Không có hồ sơ: chỉ gọi nội bộ")
    level = LEVEL_NAMES[source.level.value]
    if not source.target:
        return _("%(level)s — hồ sơ %(profile)s", level=level, profile=source.profile.name)
    return _("%(level)s %(target)s — hồ sơ %(profile)s", level=level, target=source.target,
             profile=source.profile.name)


@bp.app_template_global()
def call_duration(seconds: int | None) -> str:
    """A call limit in words: "1800 giây (30 phút)", or "Không giới hạn"."""
    if seconds is None:
        return _("Không giới hạn")
    if seconds >= 60 and seconds % 60 == 0:
        return _("%(seconds)s giây (%(minutes)s phút)", seconds=seconds, minutes=seconds // 60)
    return _("%(seconds)s giây", seconds=seconds)
