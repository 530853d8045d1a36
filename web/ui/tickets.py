"""Tickets: my tickets, one ticket with its timeline, and the decisions taken on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from web.extensions import db
from web.ui import forms
from web.ui.access import actor, signed_in
from web.ui.args import position_args
from web.ui.form_errors import refusal_text, show_refusal
from web.ui.forms import CommentForm, RejectForm
from workflow.domain.errors import RuleViolation, WorkflowError
from workflow.domain.machine import FINAL_STATES
from workflow.tickets import decisions, queries

bp = Blueprint("ticket_pages", __name__)

#: Tickets per page of "my tickets".
PER_PAGE = 50


@bp.route("/tickets")
@signed_in()
def my_tickets() -> Any:
    """The tickets the signed-in user filed, newest first."""
    page = queries.browse_tickets(db.session(), actor(), queries.TicketFilter(mine=True),
                                  position_args(), PER_PAGE)
    return render_template("tickets/list.html", page=page)


@bp.route("/tickets/<int:ticket_id>")
@signed_in()
def ticket_page(ticket_id: int) -> Any:
    """A ticket, its place in the workflow, its timeline, and what the viewer may do."""
    return _show(ticket_id, CommentForm(), RejectForm())


def _show(ticket_id: int, comment_form: CommentForm, reject_form: RejectForm,
          status: int = 200) -> Any:
    """Render the ticket page (with forms carrying their errors, after a refused decision)."""
    caller = actor()
    detail = queries.get_ticket_detail(db.session(), caller, ticket_id)
    ticket = detail.ticket
    page = render_template(
        "tickets/detail.html", ticket=ticket, allowed=decisions.actions_on(ticket, caller),
        comment_form=comment_form, agent=detail.agent, branch=detail.branch,
        routing=_routing(ticket.routing_type, ticket.priority_number, ticket.backup_number),
        reject_form=reject_form, final=ticket.state in {state.value for state in FINAL_STATES},
    )
    return page, status


def _routing(kind: str | None, priority: str | None, backup: str | None) -> dict[str, Any] | None:
    """The ticket's routing in the shape the shared routing macro reads."""
    if kind is None:
        return None
    return {"type": kind, "priority_number": priority, "backup_number": backup}


def _decide(ticket_id: int, decision: Callable[..., Any], form: CommentForm | RejectForm,
            text: str | None, done: str) -> Any:
    """Run one decision; back on the ticket page with its outcome or its refusal."""
    if not form.validate_on_submit():
        return _refused(ticket_id, form)
    try:
        decision(db.session(), actor(), ticket_id, text or "")
    except RuleViolation as violation:
        show_refusal(form, violation, field_of={})
        return _refused(ticket_id, form)
    except WorkflowError as error:
        flash(" ".join(refusal_text(error)), "danger")
    else:
        flash(done, "success")
    return redirect(url_for("ticket_pages.ticket_page", ticket_id=ticket_id))


def _refused(ticket_id: int, form: CommentForm | RejectForm) -> Any:
    """The ticket page again, with the form's errors shown where it was filled in."""
    if isinstance(form, RejectForm):
        return _show(ticket_id, CommentForm(formdata=None), form, 422)
    return _show(ticket_id, form, RejectForm(formdata=None), 422)


@bp.route("/tickets/<int:ticket_id>/approve", methods=["POST"])
@signed_in()
def approve(ticket_id: int) -> Any:
    """Approve a submitted ticket."""
    form = CommentForm()
    return _decide(ticket_id, decisions.approve_ticket, form, form.comment.data,
                   _("Đã duyệt phiếu #%(id)s.", id=ticket_id))


@bp.route("/tickets/<int:ticket_id>/reject", methods=["POST"])
@signed_in()
def reject(ticket_id: int) -> Any:
    """Reject a submitted ticket with a reason."""
    form = RejectForm()
    return _decide(ticket_id, decisions.reject_ticket, form, form.reason.data,
                   _("Đã từ chối phiếu #%(id)s.", id=ticket_id))


@bp.route("/tickets/<int:ticket_id>/cancel", methods=["POST"])
@signed_in()
def cancel(ticket_id: int) -> Any:
    """Withdraw a ticket, once the user said yes (else the ticket page asks first)."""
    form = forms.CancelForm()
    if form.validate_on_submit() and not form.confirmed.data:
        return redirect(url_for("ticket_pages.ticket_page", ticket_id=ticket_id,
                                confirm="cancel", _anchor="cancel-ticket"))
    return _decide(ticket_id, decisions.cancel_ticket, form, form.comment.data,
                   _("Đã huỷ phiếu #%(id)s.", id=ticket_id))


@bp.route("/tickets/<int:ticket_id>/retry", methods=["POST"])
@signed_in()
def retry(ticket_id: int) -> Any:
    """Send a failed ticket back to provisioning."""
    form = CommentForm()
    return _decide(ticket_id, decisions.retry_ticket, form, form.comment.data,
                   _("Phiếu #%(id)s được thử lại.", id=ticket_id))
