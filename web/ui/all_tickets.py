"""All tickets (Tất cả phiếu): every ticket the caller may see, filtered, paged, as CSV."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _

from web.extensions import db
from web.spreadsheet import csv_response
from web.ui.access import actor, signed_in
from web.ui.args import int_arg, position_args
from web.ui.forms import KIND_LABELS
from web.ui.labels import STATE_NAMES
from workflow.domain.machine import Status
from workflow.domain.rules import Role
from workflow.people import queries as people_queries
from workflow.tickets import queries

bp = Blueprint("all_tickets", __name__)

#: Tickets per page of the list.
PER_PAGE = 50
#: Tickets fetched at a time while exporting (memory stays flat).
EXPORT_CHUNK = 1000


@bp.route("/tickets/all")
@signed_in()
def all_tickets() -> Any:
    """Tickets in the caller's scope matching the filters, newest first."""
    session, caller = db.session(), actor()
    filters, chosen = _filters()
    page = queries.browse_tickets(session, caller, filters, position_args(), PER_PAGE)
    # The quick filter counts failed tickets under every other filter, whatever state is shown.
    failed = queries.count_tickets(session, caller, _with_state(filters, Status.FAILED.value))
    return render_template("tickets/all.html", page=page, chosen=chosen, failed=failed,
                           branches=people_queries.list_branches(session))


@bp.route("/tickets/all/export.csv")
@signed_in()
def export() -> Response:
    """The tickets of the current filter as CSV (UTF-8 with a BOM, no cell read as a formula)."""
    header = [_("Mã phiếu"), _("Loại phiếu"), _("Trạng thái"), _("Nhân viên"), _("Chi nhánh"),
              _("Số máy lẻ"), _("Người yêu cầu"), _("Ngày tạo"), _("Lỗi gần nhất")]
    return csv_response("tickets.csv", header, _export_rows(_filters()[0]))


def _export_rows(filters: queries.TicketFilter) -> Iterator[list[Any]]:
    """The exported tickets, kinds and states named as the pages name them."""
    session = db.session()
    branches = {branch.id: branch.name for branch in people_queries.list_branches(session)}
    for ticket in queries.ticket_rows(session, actor(), filters, EXPORT_CHUNK):
        yield [ticket.id, str(KIND_LABELS.get(ticket.kind, ticket.kind)),
               str(STATE_NAMES.get(ticket.state, ticket.state)), ticket.employee.full_name,
               branches.get(ticket.branch_id, ""), ticket.extension,
               ticket.requester.full_name, ticket.created_at, ticket.last_error]


def _filters() -> tuple[queries.TicketFilter, dict[str, Any]]:
    """The filters of the query string (a value that makes no sense is ignored), and the
    values the page shows as chosen."""
    state = request.args.get("state") if request.args.get("state") in STATE_NAMES else None
    kind = request.args.get("kind") if request.args.get("kind") in KIND_LABELS else None
    date_from, date_to, branch_id = _day("date_from"), _day("date_to"), int_arg("branch_id")
    chosen = {"state": state or "", "kind": kind or "", "branch_id": branch_id,
              "date_from": date_from.isoformat() if date_from else "",
              "date_to": date_to.isoformat() if date_to else ""}
    return queries.TicketFilter(
        state=state, kind=kind, branch_id=branch_id,
        # A requester sees only what they filed; approvers their branches, admins all.
        mine=actor().role is Role.REQUESTER,
        created_from=_start_of(date_from) if date_from else None,
        created_before=_start_of(date_to + timedelta(days=1)) if date_to else None,
    ), chosen


def _with_state(filters: queries.TicketFilter, state: str) -> queries.TicketFilter:
    """`filters` showing only tickets in `state`."""
    return replace(filters, state=state)


def _day(name: str) -> date | None:
    """The query argument `name` as a day (YYYY-MM-DD, as date inputs send it), or None."""
    text = request.args.get(name, "")
    if len(text) != 10 or not text.isascii():
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    # Days near the ends of the calendar would overflow once moved to UTC.
    return day if 1900 <= day.year <= 9000 else None


def _start_of(day: date) -> datetime:
    """Midnight of `day` in the organisation's time zone: days are counted as people live them."""
    return datetime.combine(day, time(), ZoneInfo(current_app.config["TIMEZONE"]))
