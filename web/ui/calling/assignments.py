"""Where calling profiles are assigned: the list, and a form per level to assign or remove."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from web.extensions import db
from web.ui.access import actor, signed_in
from web.ui.args import whole_number
from web.ui.calling.blueprint import bp
from web.ui.calling.forms import AssignmentForm, RemoveAssignmentForm
from web.ui.calling.shared import refused_agents, show_calling_refusal, target_text
from web.ui.form_errors import refusal_text, show_refusal
from workflow.calling import admin
from workflow.calling.listing import job_roles_by_name, profiles_by_name
from workflow.calling.queries import AgentLink, active_agent_id, listed_assignments
from workflow.domain.calling_rules import Level
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound, RuleViolation
from workflow.domain.rules import Role
from workflow.people.queries import branch_names, department_names

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
    refused: list[AgentLink] = []
    if form.validate_on_submit():
        target_id = _target_of(session, chosen, form)
        known = target_id is not None or chosen is Level.ORGANISATION
        if known:
            try:
                if form.remove.data:
                    admin.unassign_profile(session, actor().user_id, chosen, target_id)
                else:
                    admin.assign_profile(session, actor().user_id, chosen, target_id,
                                         form.profile_id.data)
            except RuleViolation as violation:
                session.rollback()
                refused = show_calling_refusal(form, violation)
            except NotFound as missing:
                session.rollback()
                show_refusal(form, missing, field=_target_field(form))
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
    refused: list[AgentLink] = []
    if form.validate_on_submit():
        try:
            admin.assign_profile(session, actor().user_id, level, target_id, None)
        except (RuleViolation, NotFound) as refusal:
            session.rollback()
            problems, refused = refusal_text(refusal), refused_agents(refusal)
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
    current = {assigned.level: assigned for _target, assigned in listed_assignments(session)
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
    return {
        Level.BRANCH: [SelectChoice(str(key), name) for key, name in branch_names(session).items()],
        Level.DEPARTMENT: [SelectChoice(str(key), name)
                           for key, name in department_names(session).items()],
        Level.ROLE: [SelectChoice(str(role.id), role.name) for role in job_roles_by_name(session)],
    }


def _target_of(session: Session, level: Level, form: AssignmentForm) -> int | None:
    """The id the form targets (an agent by its extension: None, noted, when there is none)."""
    if level is Level.ORGANISATION:
        return None
    if level is not Level.AGENT:
        return int(form.target_id.data or 0)
    extension = (form.extension.data or "").strip()
    found = active_agent_id(session, extension)
    if found is None:
        show_refusal(form, NotFound(ErrorCode.EXTENSION_NOT_FOUND, extension=extension),
                     field="extension")
    return found


def _target_field(form: AssignmentForm) -> str:
    """The name of the field naming what a form assigns to (the profile for the organisation)."""
    return next(name for name in ("target_id", "extension", "profile_id") if name in form)


def _assignments_page(forms: Mapping[Level, AssignmentForm], problems: list[str] | None = None,
                      refused: list[AgentLink] | None = None) -> Any:
    """The assignments page with these forms (and a refusal, if any)."""
    session = db.session()
    departments = department_names(session)
    listed = [(target, assigned, target_text(target, assigned, departments))
              for target, assigned in listed_assignments(session)]
    return render_template("calling/assignments.html", listed=listed, forms=forms,
                           problems=problems or [], refused=refused or [])
