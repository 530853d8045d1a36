"""Administration: emails the relay could not send ("Email chưa gửi được"), to retry."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from web.extensions import db
from web.ui.access import signed_in
from web.ui.forms import FlaskForm
from workflow.domain.rules import Role
from workflow.tickets import undelivered
from workflow.tickets.undelivered import EmailKind

bp = Blueprint("emails_admin", __name__, url_prefix="/admin")


@bp.route("/emails")
@signed_in(Role.ADMIN)
def parked() -> Any:
    """The notices and SIP password letters parked with their error, each to retry."""
    return render_template("admin/emails.html", parked=undelivered.list_parked(db.session()),
                           form=FlaskForm())


@bp.route("/emails/<any(notice, letter):kind>/<int:email_id>/retry", methods=["POST"])
@signed_in(Role.ADMIN)
def retry(kind: str, email_id: int) -> Response:
    """Let the relay try one parked email again."""
    if FlaskForm().validate_on_submit():
        released = undelivered.release(db.session(), EmailKind(kind), email_id)
        _flash_released(released)
    return redirect(url_for("emails_admin.parked"))


@bp.route("/emails/retry", methods=["POST"])
@signed_in(Role.ADMIN)
def retry_all() -> Response:
    """Let the relay try every parked email again."""
    if FlaskForm().validate_on_submit():
        _flash_released(undelivered.release_all(db.session()))
    return redirect(url_for("emails_admin.parked"))


def _flash_released(count: int) -> None:
    """Say how many emails the relay will try again."""
    if count:
        flash(_("Sẽ gửi lại %(count)s email trong giây lát.", count=count), "success")
    else:
        flash(_("Không còn email nào để gửi lại."), "info")
