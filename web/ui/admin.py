"""Administration: the extension policy, and users' roles and branch scopes."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from web.auth import hash_password
from web.extensions import db
from web.ui.access import actor, signed_in
from web.ui.form_errors import show_refusal
from web.ui.forms import AccessForm, NewUserForm, PolicyForm
from workflow.domain.errors import RuleViolation
from workflow.domain.rules import Role
from workflow.models import current_organisation
from workflow.people import queries as people_queries
from workflow.people.accounts import add_user, change_access
from workflow.people.policy import update_policy

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: Reserved numbers may be separated by commas, spaces or new lines.
SEPARATORS = re.compile(r"[\s,;]+")


@bp.route("/policy", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def policy() -> Any:
    """Length, leading digits and reserved numbers of every extension."""
    session = db.session()
    organisation = current_organisation(session)
    form = PolicyForm()
    if not form.is_submitted():
        form.length.data = organisation.extension_length
        form.prefix.data = organisation.extension_prefix
        form.reserved.data = ", ".join(organisation.reserved_extensions)
    if form.validate_on_submit():
        reserved = [item for item in SEPARATORS.split(form.reserved.data or "") if item]
        try:
            update_policy(session, int(form.length.data or 0), (form.prefix.data or "").strip(),
                          reserved, actor_id=actor().user_id)
        except RuleViolation as violation:
            # The policy's own problems concern its length and prefix: shown by the length.
            show_refusal(form, violation, field_of={"reserved": "reserved"}, fallback="length")
        else:
            flash(_("Đã lưu quy tắc số máy lẻ."), "success")
            return redirect(url_for("admin.policy"))
    return render_template("admin/policy.html", form=form)


@bp.route("/users")
@signed_in(Role.ADMIN)
def users() -> Any:
    """Everyone who signs in, with their role and branches."""
    people = people_queries.list_users(db.session(), include_inactive=True)
    return render_template("admin/users.html", users=people)


@bp.route("/users/new", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def new_user() -> Any:
    """Create a user with a first password, a role and approver branches."""
    session = db.session()
    form = NewUserForm()
    form.branch_ids.choices = [SelectChoice(str(branch.id), branch.name)
                               for branch in people_queries.list_branches(session)]
    if form.validate_on_submit():
        try:
            add_user(session, form.email.data or "", form.full_name.data or "",
                     Role(form.role.data), hash_password(form.password.data or ""),
                     form.branch_ids.data or [], actor_id=actor().user_id)
        except RuleViolation as violation:
            session.rollback()
            show_refusal(form, violation, fallback="email")
        else:
            flash(_("Đã tạo người dùng %(email)s.", email=form.email.data), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/new_user.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def user_access(user_id: int) -> Any:
    """Change one user's role, approver branches and sign-in permission."""
    session = db.session()
    user = people_queries.get_user(session, user_id)
    form = AccessForm()
    form.branch_ids.choices = [SelectChoice(str(branch.id), branch.name)
                               for branch in people_queries.list_branches(session)]
    if not form.is_submitted():
        form.role.data = user.role
        form.branch_ids.data = [branch.id for branch in user.branches]
        form.active.data = user.active
    if form.validate_on_submit():
        try:
            change_access(session, user_id, Role(form.role.data), form.branch_ids.data or [],
                          bool(form.active.data), actor_id=actor().user_id)
        except RuleViolation as violation:
            show_refusal(form, violation, field="role")
        else:
            flash(_("Đã cập nhật quyền của %(name)s.", name=user.full_name), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user.html", form=form, user=user)

