"""Job roles: what employees do (Telesales, customer care), to assign calling profiles by."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from web.extensions import db
from web.ui.access import actor, signed_in
from web.ui.calling.blueprint import bp
from web.ui.calling.forms import JobRoleForm
from web.ui.form_errors import show_refusal
from workflow.calling import admin
from workflow.calling.listing import job_roles_by_name
from workflow.calling.queries import employees_per_job_role, get_job_role
from workflow.domain.errors import RuleViolation
from workflow.domain.rules import Role


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
    get_job_role(db.session(), job_role_id)
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
        show_refusal(form, violation, field="name")
        return False
    flash(_("Đã lưu chức danh %(name)s.", name=(form.name.data or "").strip()), "success")
    return True


def _roles_page(new: JobRoleForm, renaming: Mapping[int, JobRoleForm]) -> Any:
    """The job roles page, keeping what was typed in a refused form."""
    session = db.session()
    roles = job_roles_by_name(session)
    counts = employees_per_job_role(session)
    rename_forms = {role.id: renaming.get(role.id) or JobRoleForm(
        prefix=f"role{role.id}", formdata=None, data={"name": role.name}) for role in roles}
    return render_template("calling/roles.html", form=new, roles=roles, counts=counts,
                           rename_forms=rename_forms)
