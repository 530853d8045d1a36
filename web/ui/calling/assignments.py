"""Where calling profiles are assigned: the list, and a form per level to assign or remove."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import Field
from wtforms.fields.choices import SelectChoice

from web.extensions import db
from web.i18n import current_language
from web.messages import render
from web.ui.access import actor, signed_in
from web.ui.args import whole_number
from web.ui.calling.blueprint import bp
from web.ui.calling.forms import AssignmentForm, RemoveAssignmentForm
from web.ui.calling.shared import (
    department_names,
    messages,
    put_errors,
    refused_agents,
    target_text,
)
from workflow import queries
from workflow.calling import admin
from workflow.calling.effective import Assignments
from workflow.calling.listing import job_roles_by_name, profiles_by_name
from workflow.calling.models import CallingAssignment
from workflow.calling.rules import Level
from workflow.errors import NotFound, RuleViolation
from workflow.models import Agent, is_active
from workflow.rules import Role

#: Levels whose target is picked from a list (the agent is picked by extension).
LISTED_TARGETS = (Level.BRANCH, Level.DEPARTMENT, Level.ROLE)


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
                refused = put_errors(form, violation)
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
    target_id = whole_number(form.target_id.data)
    problems: list[str] = []
    refused: list[Agent] = []
    if form.validate_on_submit():
        try:
            admin.assign_profile(session, actor().user_id, level, target_id, None)
        except RuleViolation as violation:
            session.rollback()
            problems, refused = messages(violation.problems.values()), refused_agents(violation)
        except NotFound as missing:
            session.rollback()
            problems = [render(missing.code, missing.params, current_language())]
        else:
            flash(_("Đã bỏ gán hồ sơ gọi."), "success")
            return redirect(url_for("calling_pages.assignments"))
    else:
        problems = [message for errors in form.errors.values() for message in errors]
    return _assignments_page(_assignment_forms(None), problems, refused)


def _assignment_forms(posted: Level | None) -> dict[Level, AssignmentForm]:
    """One form per level with only its fields; `posted` reads the request, others show now."""
    session = db.session()
    profile_choices = [SelectChoice(str(row.id), row.name) for row in profiles_by_name(session)]
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
        Level.ROLE: [SelectChoice(str(role.id), role.name) for role in job_roles_by_name(session)],
    }


def _target_of(session: Session, level: Level, form: AssignmentForm) -> int | None:
    """The id the form targets (an agent by its extension: None, noted, when there is none)."""
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
    departments = department_names(session)
    listed = [(target, assigned, target_text(target, assigned, departments))
              for target, assigned in Assignments(session).listed()]
    return render_template("calling/assignments.html", listed=listed, forms=forms,
                           problems=problems or [], refused=refused or [])
