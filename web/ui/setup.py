"""The "Thiết lập agent" form: file a ticket of any kind for an employee."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from web.extensions import db
from web.ui.access import actor, signed_in
from web.ui.args import int_arg
from web.ui.form_errors import show_refusal
from web.ui.forms import SetupAgentForm
from workflow.domain.errors import Conflict, NotFound, RuleViolation
from workflow.models import Agent, current_organisation
from workflow.people import queries as people_queries
from workflow.people.picker import PickableEmployee, employees_to_pick, refused_at_once
from workflow.tickets.kinds import KINDS, TicketKind, kind_of
from workflow.tickets.kinds.kind import Kind
from workflow.tickets.submission import SubmittedTicket, TicketRequest, submit_ticket

bp = Blueprint("setup", __name__)

#: Where each rule's complaint is shown on the form.
FIELD_OF_PROBLEM = {
    "employee_id": "employee_id", "extension": "extension", "routing.type": "routing_type",
    "routing.priority_number": "priority_number", "routing.backup_number": "backup_number",
    "details": "details", "notify_user_ids": "notify_user_ids",
}


@bp.route("/agents/setup", methods=["GET", "POST"])
@signed_in()
def setup_agent() -> Any:
    """Show the form, or file its ticket and go on as the button asked."""
    session = db.session()
    form = SetupAgentForm()
    if not form.is_submitted():
        _prefill(form)
    # A kind the form does not offer is refused by its validation; meanwhile, show it as new.
    kind = KINDS.get(form.kind.data or "", KINDS[TicketKind.NEW])
    current = _fill_choices(session, form, kind)
    if form.validate_on_submit():
        try:
            ticket = submit_ticket(session, actor(), _ticket_request(form))
        except RuleViolation as violation:
            show_refusal(form, violation, field_of=FIELD_OF_PROBLEM)
        except Conflict as conflict:
            show_refusal(form, conflict)
        else:
            return _after_filing(form, ticket)
    policy = current_organisation(session).policy
    return render_template("agents/setup.html", form=form, policy=policy, current=current,
                           kind=kind)


def _prefill(form: SetupAgentForm) -> None:
    """A fresh form: the branch and department asked for, and a new idempotency key."""
    form.branch_id.data = int_arg("branch_id")
    form.department_id.data = int_arg("department_id")
    form.employee_id.data = int_arg("employee_id")
    if request.args.get("kind") in KINDS:
        form.kind.data = request.args["kind"]
    form.idempotency_key.data = uuid.uuid4().hex


def _fill_choices(session: Session, form: SetupAgentForm, kind: Kind) -> Agent | None:
    """Offer the branches, the chosen branch's departments and the chosen department's
    employees (those a ticket of `kind` would refuse disabled); returns the chosen
    employee's active agent, if any."""
    form.branch_id.choices = [SelectChoice("", _("Chọn chi nhánh"))] + [
        SelectChoice(str(branch.id), branch.name)
        for branch in people_queries.list_branches(session)
    ]
    form.department_id.choices = [SelectChoice("", _("Chọn phòng ban"))]
    form.employee_id.choices = [SelectChoice("", _("Chọn nhân viên"))]
    form.notify_user_ids.choices = [
        SelectChoice(str(user.id), f"{user.full_name} <{user.email}>")
        for user in people_queries.list_users(session)
    ]
    current = None
    try:
        if form.branch_id.data:
            form.department_id.choices += [
                SelectChoice(str(department.id), department.name)
                for department in people_queries.list_departments(session, form.branch_id.data)
            ]
        if form.department_id.data:
            for row in employees_to_pick(session, form.department_id.data):
                chosen = row.employee.id == form.employee_id.data
                form.employee_id.choices.append(_employee_choice(row, kind, chosen))
                if chosen:
                    current = row.agent
    except NotFound:
        pass  # a stale choice: the select then says it is not valid
    return current


def _employee_choice(row: PickableEmployee, kind: Kind, chosen: bool) -> SelectChoice:
    """An employee as the picker offers them: marked with their extension and open ticket,
    disabled when a ticket of `kind` would be refused (unless already chosen, so the form
    keeps it and shows why)."""
    label = row.employee.full_name
    attributes: dict[str, Any] = {}
    if row.agent is not None:
        label += " " + _("(số %(extension)s)", extension=row.agent.extension)
        attributes["data-extension"] = row.agent.extension
    if row.open_ticket_id is not None:
        label += " " + _("(đang có phiếu #%(id)s)", id=row.open_ticket_id)
        attributes["data-open-ticket"] = str(row.open_ticket_id)
    if not chosen and refused_at_once(kind, row.agent is not None, row.open_ticket_id):
        attributes["disabled"] = True
    return SelectChoice(str(row.employee.id), label, render_kw=attributes)


def _ticket_request(form: SetupAgentForm) -> TicketRequest:
    """The ticket the form asks for."""
    kind = kind_of(form.kind.data or "")
    routes = kind.routes
    phone = routes and form.routing_type.data == "phone"
    return TicketRequest(
        kind=TicketKind(kind.code),
        employee_id=int(form.employee_id.data or 0),
        extension=(form.extension.data or None) if routes else None,
        routing_type=form.routing_type.data if routes else None,
        priority_number=form.priority_number.data if phone else None,
        backup_number=form.backup_number.data if phone else None,
        reset_password=kind.resets_password and bool(form.reset_password.data),
        details=form.details.data or "",
        notify_user_ids=tuple(form.notify_user_ids.data or ()),
        idempotency_key=form.idempotency_key.data or None,
    )


def _after_filing(form: SetupAgentForm, ticket: SubmittedTicket) -> Any:
    """Go to the ticket, or to a fresh form in the same branch and department."""
    flash(_("Đã gửi phiếu #%(id)s cho %(employee)s.", id=ticket.id,
            employee=ticket.employee_name), "success")
    if form.submit_new.data:
        return redirect(url_for("setup.setup_agent", branch_id=form.branch_id.data,
                                department_id=form.department_id.data))
    return redirect(url_for("ticket_pages.ticket_page", ticket_id=ticket.id))
