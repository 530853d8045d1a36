"""Phone-system syncs as the pages show them: when each was asked for, its state, its progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from workflow.calling.sync import recent_syncs
from workflow.models.calling import CallingSync

#: Syncs the audit page lists.
SYNC_ROWS = 10


@dataclass(frozen=True)
class SyncView:
    """One sync in words: when it was asked for, its state and (while it runs) its progress."""

    requested: datetime
    #: waiting, running, done, superseded or failed.
    state: str
    text: str
    done: int
    total: int


def sync_view(row: CallingSync) -> SyncView:
    """A sync's state: waiting, running N/M, done, merged into a newer one, or failed."""
    if row.finished_at is not None and row.superseded:
        state, text = "superseded", _("Đã gộp vào lần đồng bộ sau")
    elif row.finished_at is not None:
        state, text = "done", _("Xong: %(total)s agent, %(changed)s thay đổi",
                                total=row.total, changed=row.changed)
    elif row.last_error:
        state, text = "failed", _("Lỗi: %(error)s — sẽ thử lại", error=row.last_error)
    elif row.started_at is not None:
        state = "running"
        text = (_("Đang chạy: %(done)s/%(total)s agent", done=row.done, total=row.total)
                if row.total else _("Đang chạy: đang đếm agent"))
    else:
        state, text = "waiting", _("Chờ chạy")
    return SyncView(row.created_at, state, text, row.done, row.total)


def latest_syncs(session: Session, limit: int = SYNC_ROWS,
                 include_superseded: bool = True) -> list[SyncView]:
    """The newest syncs, newest first, as the pages show them."""
    return [sync_view(row) for row in recent_syncs(session, limit, include_superseded)]
