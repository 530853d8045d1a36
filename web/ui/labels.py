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
    "retake": _l("Nhận lại để cấu hình tiếp"),
    "move_branch": _l("Chuyển sang chi nhánh khác theo nhân viên"),
}
#: Number classes of calling profiles, as the pages name them.
CLASS_NAMES = {
    "internal": _l("nội bộ"),
    "landline": _l("cố định trong nước"),
    "mobile": _l("di động trong nước"),
    "international": _l("quốc tế"),
    "special": _l("dịch vụ đặc biệt (1900, 1800, số ngắn)"),
    "emergency": _l("khẩn cấp (113, 114, 115)"),
}
#: Where a calling profile is assigned.
LEVEL_NAMES = {
    "organisation": _l("Tổ chức"),
    "branch": _l("Chi nhánh"),
    "department": _l("Phòng ban"),
    "role": _l("Chức danh"),
    "agent": _l("Agent"),
}
#: Days of the working week (0 = Monday).
WEEKDAY_NAMES = (_l("Thứ Hai"), _l("Thứ Ba"), _l("Thứ Tư"), _l("Thứ Năm"), _l("Thứ Sáu"),
                 _l("Thứ Bảy"), _l("Chủ nhật"))
#: The path a ticket takes when all goes well, shown as the state diagram.
HAPPY_PATH = ("submitted", "approved", "provisioning", "provisioned")
#: Where each way off that path leaves it.
LEAVES_AFTER = {"rejected": "submitted", "cancelled": "submitted", "failed": "provisioning"}


def diagram_to(state: str) -> tuple[str, ...]:
    """The states to draw for a ticket in `state`: the whole path, or up to where it left."""
    if state in HAPPY_PATH:
        return HAPPY_PATH
    left_at = HAPPY_PATH.index(LEAVES_AFTER.get(state, "submitted"))
    return (*HAPPY_PATH[:left_at + 1], state)


def label_globals() -> dict[str, object]:
    """The names above, for every template."""
    return {"state_names": STATE_NAMES, "kind_names": KIND_LABELS,
            "action_names": ACTION_NAMES, "diagram_to": diagram_to, "role_names": ROLE_LABELS,
            "class_names": CLASS_NAMES, "level_names": LEVEL_NAMES,
            "weekday_names": WEEKDAY_NAMES}
