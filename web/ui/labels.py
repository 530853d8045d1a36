"""How the pages name states, ticket kinds and audit actions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from web.ui.forms import KIND_LABELS, ROLE_LABELS

STATE_NAMES = {
    "submitted": _l("Chờ duyệt"),
    "approved": _l("Đã duyệt"),
    "provisioning": _l("Đang cấu hình"),
    "provisioned": _l("Hoàn tất"),
    "rejected": _l("Bị từ chối"),
    "cancelled": _l("Đã huỷ"),
    "failed": _l("Thất bại"),
}
ACTION_NAMES = {
    "submit": _l("Gửi phiếu"),
    "approve": _l("Duyệt"),
    "reject": _l("Từ chối"),
    "cancel": _l("Huỷ"),
    "start": _l("Bắt đầu cấu hình tổng đài"),
    "complete": _l("Cấu hình xong"),
    "fail": _l("Cấu hình thất bại"),
    "retry": _l("Thử lại"),
}
#: The path a ticket takes when all goes well, shown as the state diagram.
HAPPY_PATH = ("submitted", "approved", "provisioning", "provisioned")


def label_globals() -> dict[str, object]:
    """The names above, for every template."""
    return {"state_names": STATE_NAMES, "kind_names": KIND_LABELS,
            "action_names": ACTION_NAMES, "diagram": HAPPY_PATH, "role_names": ROLE_LABELS}
