"""The notification list behind the bell: newest first, read one or all."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from web.extensions import db
from web.ui.access import actor, signed_in
from workflow.tickets import notifications

bp = Blueprint("notices", __name__)


@bp.route("/notifications")
@signed_in()
def notification_list() -> Any:
    """The newest notifications of the signed-in user (only the unread ones with ?unread=1)."""
    unread = request.args.get("unread") == "1"
    items = notifications.list_notifications(db.session(), actor().user_id, unread_only=unread)
    return render_template("notifications.html", items=items, unread=unread)


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@signed_in()
def open_notification(notification_id: int) -> Any:
    """Mark one notification read and show its ticket."""
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("notices.notification_list"))
    notice = notifications.mark_read(db.session(), actor().user_id, notification_id)
    return redirect(url_for("ticket_pages.ticket_page", ticket_id=notice.ticket_id))


@bp.route("/notifications/read", methods=["POST"])
@signed_in()
def read_all() -> Any:
    """Mark every notification read."""
    if FlaskForm().validate_on_submit():
        notifications.mark_all_read(db.session(), actor().user_id)
    return redirect(url_for("notices.notification_list"))
