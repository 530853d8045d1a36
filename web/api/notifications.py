"""The signed-in user's notifications."""

from __future__ import annotations

from typing import Any

from web.api.docs import Blueprint
from web.api.schemas import NotificationSchema
from web.auth import current_actor
from web.extensions import db
from workflow.tickets import notifications

blp = Blueprint("notifications", __name__, description="In-app notifications")


@blp.route("/notifications")
@blp.response(200, NotificationSchema(many=True))
def list_notifications() -> Any:
    """The newest notifications of the caller."""
    return notifications.list_notifications(db.session(), current_actor().user_id)


@blp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@blp.response(200, NotificationSchema)
def mark_read(notification_id: int) -> Any:
    """Mark one notification as read."""
    return notifications.mark_read(db.session(), current_actor().user_id, notification_id)
