"""Administration of branches, departments and employees (list, create, edit, deactivate)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from web.extensions import db
from web.ui.access import actor, signed_in
from web.ui.args import int_arg, position_args
from web.ui.calling.forms import EmployeeRoleForm
from web.ui.form_errors import show_refusal
from web.ui.forms import BranchForm, DepartmentForm, FlaskForm
from workflow.calling.listing import job_roles_by_name
from workflow.domain.errors import RuleViolation
from workflow.domain.rules import Role
from workflow.people import queries as people_queries
from workflow.people import structure
from workflow.people.queries import (
    branch_names,
    department_names,
    find_branch,
    find_department,
    find_employee,
)

bp = Blueprint("structure_admin", __name__, url_prefix="/admin")

#: Employees per page of the administration list.
PER_PAGE = 50


@bp.route("/structure")
@signed_in(Role.ADMIN)
def overview() -> Any:
    """Every branch with its departments."""
    return render_template("admin/structure.html",
                           structure=people_queries.organisation_structure(db.session()))


@bp.route("/branches/new", methods=["GET", "POST"], defaults={"branch_id": None})
@bp.route("/branches/<int:branch_id>", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def branch(branch_id: int | None) -> Any:
    """Create or edit a branch."""
    found = find_branch(db.session(), branch_id)
    form = BranchForm(obj=found)
    if form.validate_on_submit():
        saved = _save(form, lambda: structure.save_branch(
            db.session(), branch_id, form.name.data or "", form.kind.data or "",
            bool(form.active.data), actor_id=actor().user_id))
        if saved:
            return redirect(url_for("structure_admin.overview"))
    return render_template("admin/unit.html", form=form, title=_("Chi nhánh"))


@bp.route("/departments/new", methods=["GET", "POST"], defaults={"department_id": None})
@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def department(department_id: int | None) -> Any:
    """Create or edit a department."""
    found = find_department(db.session(), department_id)
    form = DepartmentForm(obj=found)
    form.branch_id.choices = [SelectChoice(str(key), name)
                              for key, name in branch_names(db.session()).items()]
    if not form.is_submitted() and found is None:
        form.branch_id.data = int_arg("branch_id")
    if form.validate_on_submit():
        saved = _save(form, lambda: structure.save_department(
            db.session(), department_id, int(form.branch_id.data or 0), form.name.data or "",
            bool(form.active.data), actor_id=actor().user_id))
        if saved:
            return redirect(url_for("structure_admin.overview"))
    return render_template("admin/unit.html", form=form, title=_("Phòng ban"))


@bp.route("/employees")
@signed_in(Role.ADMIN)
def employees() -> Any:
    """Employees of one department (or all), searchable by name or code."""
    department_id = int_arg("department_id")
    page = people_queries.staff_page(db.session(), department_id, request.args.get("q", "")[:100],
                              position_args(), PER_PAGE)
    return render_template("admin/employees.html", page=page, department_id=department_id)


@bp.route("/employees/new", methods=["GET", "POST"], defaults={"employee_id": None})
@bp.route("/employees/<int:employee_id>", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def employee(employee_id: int | None) -> Any:
    """Create or edit an employee, with their job role (Chức danh)."""
    session = db.session()
    found = find_employee(session, employee_id)
    form = EmployeeRoleForm(obj=found)
    form.department_id.choices = [SelectChoice(str(key), name)
                                  for key, name in department_names(session).items()]
    form.job_role_id.choices = [SelectChoice("", _("— Không có —")), *(
        SelectChoice(str(role.id), role.name)
        for role in job_roles_by_name(session))]
    if not form.is_submitted() and found is None:
        form.department_id.data = int_arg("department_id")

    def save_with_role() -> None:
        """Save the employee and their role together (a refusal keeps both as they were)."""
        structure.save_employee_with_role(
            session, employee_id, int(form.department_id.data or 0),
            form.full_name.data or "", form.employee_code.data or "", form.email.data or "",
            bool(form.active.data), actor().user_id, form.job_role_id.data)

    if form.validate_on_submit() and _save(form, save_with_role):
        return redirect(url_for("structure_admin.employees",
                                department_id=form.department_id.data))
    return render_template("admin/unit.html", form=form, title=_("Nhân viên"))


def _save(form: FlaskForm, save: Callable[[], object]) -> bool:
    """Run `save`; on a refused rule put its message on the field it names (or the form)."""
    try:
        save()
    except RuleViolation as violation:
        db.session.rollback()
        show_refusal(form, violation)
        return False
    flash(_("Đã lưu."), "success")
    return True


