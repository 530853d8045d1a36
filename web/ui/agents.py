"""The agent list (Danh sách Agent), its CSV export, and one agent's page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from web.extensions import db
from web.last_calls import last_calls
from web.reachability import Registrations, registrations
from web.spreadsheet import csv_response, phone_cell
from web.ui.access import signed_in
from web.ui.args import position_args
from web.ui.call_records import recent_calls
from web.ui.forms import AgentFilterForm
from workflow import credentials
from workflow.agents import queries as agent_queries
from workflow.calling.queries import calling_of_employee, hotline_labels
from workflow.domain.rules import AgentStatus
from workflow.people import queries as people_queries
from workflow.people.picker import open_tickets_of

bp = Blueprint("agent_pages", __name__)

#: Rows per page of the agent list.
PER_PAGE = 50
#: Rows fetched at a time while exporting (memory stays flat with 50,000 agents).
EXPORT_CHUNK = 1000


@bp.route("/agents")
@signed_in()
def agent_list() -> Any:
    """Agent accounts, searchable, filtered and sorted, one page at a time."""
    reading = registrations()
    form, filters = _filters(reading)
    page = agent_queries.browse_agents(db.session(), filters, position_args(
        (form.page.data or 1) if not form.errors else 1), PER_PAGE)
    open_tickets = open_tickets_of(db.session(), [agent.employee_id for agent in page.items
                                                  if agent.status == AgentStatus.ACTIVE])
    return render_template("agents/list.html", form=form, page=page, open_tickets=open_tickets,
                           registrations=reading,
                           last_calls=last_calls(agent.sip_username for agent in page.items))


@bp.route("/agents/export.csv")
@signed_in()
def export() -> Response:
    """The agents of the current filter as CSV, UTF-8 with a BOM so Excel reads Vietnamese."""
    filters = _filters(registrations())[1]
    header = [_("Nhân viên"), _("Mã nhân viên"), _("Chi nhánh"), _("Phòng ban"), _("Số máy lẻ"),
              _("Định tuyến"), _("Số ưu tiên"), _("Số dự phòng"), _("Trạng thái"),
              _("Thay đổi gần nhất")]
    return csv_response("agents.csv", header, _export_rows(filters))


def _export_rows(filters: agent_queries.AgentFilter) -> Iterator[list[Any]]:
    """The exported agents, phone numbers as people read them (see `phone_cell`)."""
    rows = agent_queries.agent_rows(db.session(), filters, EXPORT_CHUNK)
    for (name, code, branch, department, extension, routing, priority, backup, status,
         changed) in rows:
        yield [name, code, branch, department, extension, routing, phone_cell(priority),
               phone_cell(backup), status, changed]


def _filters(reading: Registrations) -> tuple[AgentFilterForm, agent_queries.AgentFilter]:
    """The filter form from the query string, and the filters it stands for (none if bad).

    "No device" needs the registrations: when they cannot be read it is not applied (the
    page says so) rather than taking every agent for unreachable."""
    form = AgentFilterForm(request.args)
    session = db.session()
    everything = SelectChoice("", _("Tất cả"))
    form.branch_id.choices = [everything] + [
        SelectChoice(str(branch.id), branch.name)
        for branch in people_queries.list_branches(session)
    ]
    form.department_id.choices = [everything] + [
        SelectChoice(str(department.id), f"{branch.name} — {department.name}")
        for branch, departments in people_queries.organisation_structure(session)
        for department in departments
        if department.active and form.branch_id.data in (None, branch.id)
    ]
    if not form.validate():
        return form, agent_queries.AgentFilter()
    return form, agent_queries.AgentFilter(
        branch_id=form.branch_id.data, department_id=form.department_id.data,
        status=form.status.data or None,
        routing_type=form.routing_type.data or None, q=form.q.data or None,
        sort=form.sort.data or "updated",
        no_device=form.device.data == "none" and reading.readable,
        registered=frozenset(reading.devices),
    )


@bp.route("/agents/<int:agent_id>")
@signed_in()
def agent_page(agent_id: int) -> Any:
    """One agent account: its settings now, its calling functions and where they come from,
    its last call, and the tickets that shaped it."""
    session = db.session()
    agent = agent_queries.get_agent(session, agent_id)
    calling = calling_of_employee(session, agent.employee_id)
    open_ticket = open_tickets_of(session, [agent.employee_id]).get(agent.employee_id)
    return render_template("agents/detail.html", agent=agent, open_ticket_id=open_ticket,
                           history=agent_queries.agent_history(session, agent_id),
                           credential=credentials.latest_for(session, agent.sip_username),
                           calling=calling, hotline_labels=hotline_labels(session),
                           last_calls=recent_calls(agent.sip_username, 1),
                           registrations=registrations())
