"""The Web phone page (Điện thoại web): the signed-in employee's extension in the browser."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from web.extensions import db
from web.ui.access import signed_in
from web.ui.call_records import recent_calls
from web.ui.webphone import settings as webphone_settings
from workflow.agents import webphone
from workflow.domain.errors import NotFound
from workflow.models import Agent

bp = Blueprint("phone_page", __name__)

#: Calls listed under the dial pad.
HISTORY_LENGTH = 15


def active_agent_of_user() -> Agent | None:
    """The active agent of the employee whose email the signed-in user has, if any."""
    try:
        return webphone.active_agent_of(db.session(), current_user.email or "")
    except NotFound:
        return None


def holds_active_agent() -> bool:
    """Whether the navigation offers the Web phone to the signed-in user."""
    return active_agent_of_user() is not None


@bp.route("/my/phone")
@signed_in()
def phone() -> Any:
    """The Web phone: registration status, dial pad, the ringing call, the call history."""
    agent = active_agent_of_user()
    if agent is None:
        return render_template("phone/phone.html", agent=None), 404
    return render_template(
        "phone/phone.html", agent=agent, configured=_configured(),
        history=recent_calls(agent.sip_username, HISTORY_LENGTH),
        credentials_url=url_for("webphone.credentials"), texts=_texts())


@bp.route("/my/phone/history")
@signed_in()
def history() -> Any:
    """The call history alone, for the page to refresh it after each call."""
    agent = active_agent_of_user()
    if agent is None:
        return render_template("phone/_history.html", history=None), 404
    return render_template("phone/_history.html",
                           history=recent_calls(agent.sip_username, HISTORY_LENGTH))


def _configured() -> bool:
    """Whether the web phone has its WebSocket address and shared secret."""
    return webphone_settings() is not None


def _texts() -> dict[str, Any]:
    """What the page's script says, in the user's language (the script holds no strings)."""
    return {
        "registering": _("Đang đăng ký…"),
        "registered": _("Sẵn sàng nhận và gọi"),
        "failed": _("Không đăng ký được: %(reason)s"),
        "disconnected": _("Mất kết nối với tổng đài, đang kết nối lại…"),
        "no_agent": _("Bạn không còn máy lẻ đang hoạt động: điện thoại web đã tắt."),
        "credentials_failed": _("Không lấy được thông tin đăng nhập: %(reason)s"),
        "no_microphone": _("Trình duyệt không cho dùng micrô: hãy cho phép rồi thử lại."),
        "incoming": _("Cuộc gọi đến từ %(caller)s"),
        "calling": _("Đang gọi %(number)s…"),
        "ringing": _("Đang đổ chuông…"),
        "in_call": _("Đang nói chuyện với %(party)s"),
        "on_hold": _("Đang giữ máy"),
        "ended": _("Cuộc gọi đã kết thúc"),
        "missed": _("Cuộc gọi nhỡ từ %(caller)s"),
        "call_failed": _("Cuộc gọi không thành công: %(reason)s"),
        "empty_number": _("Hãy nhập số cần gọi."),
        "notification_title": _("Cuộc gọi đến"),
        "unknown_caller": _("số ẩn"),
        "causes": {
            "Busy": _("Máy bận"),
            "Rejected": _("Bị từ chối"),
            "Unavailable": _("Không liên lạc được"),
            "Not Found": _("Số không tồn tại"),
            "No Answer": _("Không ai nghe máy"),
            "Canceled": _("Đã huỷ"),
            "Request Timeout": _("Quá thời gian chờ"),
            "Connection Error": _("Lỗi kết nối"),
            "Authentication Error": _("Sai thông tin đăng nhập hoặc đã hết hạn"),
            "User Denied Media Access": _("Không được dùng micrô"),
            "Terminated": _("Đã kết thúc"),
        },
        # The reason phrases of kamailio.cfg's route[REFUSE].
        "refusals": {
            "Outgoing Calls Not Allowed": _("Máy lẻ của bạn không được gọi ra ngoài."),
            "Number Class Not Allowed": _("Hồ sơ gọi của bạn không cho gọi loại số này."),
            "Outside Working Hours": _(
                "Ngoài giờ làm việc: hồ sơ gọi của bạn không cho gọi lúc này."),
            "No Caller ID": _("Chưa có số hiển thị cho cuộc gọi ra ngoài."),
            "Caller ID Not Allowed": _("Số hiển thị này không được phép dùng."),
            "Number Not Valid": _("Số điện thoại không hợp lệ."),
            "Forward Not Allowed For Caller": _(
                "Không được chuyển tiếp cuộc gọi của người gọi này."),
            "No Trunk Available": _("Không còn đường trung kế nào để gọi ra ngoài."),
        },
    }


__all__ = ["bp", "holds_active_agent"]
