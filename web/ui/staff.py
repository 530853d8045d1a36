"""Administration of the organisation's people: the employee CSV import with its preview."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from web.extensions import db
from web.i18n import current_language
from web.messages import render
from web.ui.access import actor, signed_in
from web.ui.forms import ImportForm
from web.ui.staff_csv import COLUMNS, REQUIRED, UnreadableFile, read_rows
from workflow.domain.errors import RuleViolation
from workflow.domain.rules import Role
from workflow.people.staff_import import apply_import, plan_import

bp = Blueprint("staff", __name__, url_prefix="/admin")


@bp.route("/employees/import", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def import_employees() -> Any:
    """Upload a CSV, see what every row would do (and why a row cannot), then import it."""
    form = ImportForm()
    plan = None
    if form.validate_on_submit():
        data = _uploaded(form)
        try:
            rows = read_rows(data)
        except UnreadableFile:
            form.file.errors = [*form.file.errors, _unreadable()]
        else:
            if form.apply.data:
                try:
                    done = apply_import(db.session(), rows, actor().user_id)
                except RuleViolation:
                    db.session.rollback()
                    plan = plan_import(db.session(), rows)
                else:
                    flash(_("Đã nhập %(count)s nhân viên.", count=len(done.rows)), "success")
                    return redirect(url_for("staff.import_employees"))
            else:
                plan = plan_import(db.session(), rows)
            form.content.data = base64.b64encode(data).decode()
    return render_template("admin/import.html", form=form, plan=plan,
                           columns=", ".join(COLUMNS[field][0] for field in REQUIRED))


def _uploaded(form: ImportForm) -> bytes:
    """The file just uploaded, or the one previewed before (carried in the form)."""
    if form.file.data:
        return bytes(form.file.data.read())
    try:
        return base64.b64decode(form.content.data or "", validate=True)
    except (binascii.Error, ValueError):
        return b""


def _unreadable() -> str:
    """Why the file was refused, naming the columns it needs."""
    columns = ", ".join(COLUMNS[field][0] for field in REQUIRED)
    return render("import_file_unreadable", {"columns": columns}, current_language())
