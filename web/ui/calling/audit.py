"""The audit trail of calling functions (who, when, old → new) and the latest syncs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from web.extensions import db
from web.ui.access import signed_in
from web.ui.calling.blueprint import bp
from web.ui.calling.syncs import latest_syncs
from web.ui.labels import CLASS_NAMES, LEVEL_NAMES, WEEKDAY_NAMES
from workflow.calling.queries import Change, latest_changes, names_in_changes
from workflow.calling.sync import count_superseded
from workflow.domain.calling_rules import AuditSubject
from workflow.domain.rules import Role

#: Rows of the audit trail shown.
AUDIT_ROWS = 50

#: What an audit row is about, as the trail names it.
SUBJECT_NAMES: dict[str, Any] = {
    AuditSubject.PROFILE: _l("Hồ sơ gọi"),
    AuditSubject.ASSIGNMENT: _l("Gán hồ sơ gọi"),
    AuditSubject.HOTLINE: _l("Hotline"),
    AuditSubject.JOB_ROLE: _l("Chức danh"),
    AuditSubject.EMPLOYEE_ROLE: _l("Chức danh của nhân viên"),
    AuditSubject.WORKING_WEEK: _l("Tuần làm việc"),
    AuditSubject.HOLIDAY: _l("Ngày nghỉ lễ"),
    AuditSubject.TRUNK: _l("Trunk nhà mạng"),
}
#: The changed settings, as the trail names them.
FIELD_NAMES = {
    "name": _l("Tên"),
    "outgoing": _l("Gọi ra ngoài"),
    "classes": _l("Loại số được gọi"),
    "hotlines": _l("Hotline"),
    "default_hotline_id": _l("Hotline mặc định"),
    "max_internal_seconds": _l("Thời lượng tối đa nội bộ"),
    "max_outgoing_seconds": _l("Thời lượng tối đa gọi ra"),
    "after_hours": _l("Gọi ra ngoài giờ làm việc"),
    "external_forwarding": _l("Chuyển cuộc gọi ra số ngoài"),
    "level": _l("Cấp"),
    "profile": _l("Hồ sơ gọi"),
    "number": _l("Số"),
    "label": _l("Tên gọi"),
    "job_role_id": _l("Chức danh"),
    "periods": _l("Giờ làm việc"),
    "day": _l("Ngày"),
}


@bp.route("/admin/calling/changes")
@signed_in(Role.ADMIN)
def changes() -> Any:
    """The latest syncs, then the latest changes of calling functions: who, when, old → new."""
    session = db.session()
    rows = latest_changes(session, AUDIT_ROWS)
    names = names_in_changes(session, rows)
    entries = [{
        "row": row,
        "who": names.get("user", {}).get(row.actor_id or 0, _("Hệ thống")),
        "subject": str(SUBJECT_NAMES.get(row.subject, row.subject)),
        "target": _audit_target(row, names),
        "changes": [(str(FIELD_NAMES.get(name, name)), _value_text(name, values[0], names),
                     _value_text(name, values[1], names))
                    for name, values in sorted(row.changes.items(), key=_field_order)
                    if isinstance(values, list) and len(values) == 2],
    } for row in rows]
    # Syncs merged into a newer one did nothing of their own: hidden unless asked for.
    all_syncs = request.args.get("syncs") == "all"
    return render_template("calling/changes.html", entries=entries, limit=AUDIT_ROWS,
                           syncs=latest_syncs(session, include_superseded=all_syncs),
                           all_syncs=all_syncs, superseded=count_superseded(session))


def _field_order(item: tuple[str, Any]) -> tuple[int, str]:
    """Changed settings in the order the profile form shows them (unknown ones last)."""
    order = list(FIELD_NAMES)
    return (order.index(item[0]) if item[0] in order else len(order), item[0])


def _audit_target(row: Change, names: Mapping[str, Mapping[int, str]]) -> str:
    """What exactly an audit row is about (a name when it still exists, else its id)."""
    if row.subject == AuditSubject.ASSIGNMENT and row.subject_id is None:
        return str(LEVEL_NAMES["organisation"])
    if row.subject_id is None:
        return ""
    return names.get(row.subject, {}).get(row.subject_id, f"#{row.subject_id}")


def _value_text(name: str, value: Any, names: Mapping[str, Mapping[int, str]]) -> str:
    """One old or new value of the audit trail, in words."""
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if name == "classes" and isinstance(value, list):
        return ", ".join(str(CLASS_NAMES.get(each, each)) for each in value)
    if name == "periods" and isinstance(value, list):
        return "; ".join(_period_text(str(each)) for each in value)
    if name == "level":
        return str(LEVEL_NAMES.get(str(value), value))
    if name in ("job_role_id", "default_hotline_id") and isinstance(value, int):
        kind = "job_role" if name == "job_role_id" else "hotline"
        return names.get(kind, {}).get(value, f"#{value}")
    if name.endswith("_seconds"):
        return _("%(seconds)s giây", seconds=value)
    if name == "day":
        try:
            return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    if isinstance(value, list):
        return ", ".join(str(each) for each in value)
    return str(value)


def _period_text(stored: str) -> str:
    """A stored working period ("0 08:00-12:00") as "Thứ Hai 08:00–12:00"."""
    day, _space, hours = stored.partition(" ")
    if not (day.isdecimal() and int(day) < len(WEEKDAY_NAMES)):
        return stored
    return f"{WEEKDAY_NAMES[int(day)]} {hours.replace('-', '–')}"
