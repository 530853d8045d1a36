"""The approval queue (Phiếu chờ duyệt): decide one ticket or many at once."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from web.extensions import db
from web.ui.access import actor, signed_in
from web.ui.args import int_arg, position_args
from web.ui.form_errors import refusal_text
from web.ui.forms import KIND_LABELS, BulkDecisionForm
from workflow.domain.errors import WorkflowError
from workflow.domain.machine import Action
from workflow.domain.rules import Role
from workflow.people import queries as people_queries
from workflow.tickets import decisions, queries

#: What the queue decides in bulk.
DECISIONS = frozenset({Action.APPROVE, Action.REJECT})

#: WTForms' own message for an empty required field (translated by its catalog, not ours).
REQUIRED = "This field is required."

bp = Blueprint("approvals", __name__)

#: Tickets per page of the queue.
PER_PAGE = 50


@bp.route("/approvals", methods=["GET", "POST"])
@signed_in(Role.APPROVER, Role.ADMIN)
def queue() -> Any:
    """Tickets waiting for the caller's decision, oldest first; decide the ticked ones."""
    session, caller = db.session(), actor()
    kind = request.args.get("kind") if request.args.get("kind") in KIND_LABELS else None
    branch_id = int_arg("branch_id")
    page = queries.approval_queue(session, caller, position_args(), PER_PAGE, kind, branch_id)
    # The queue offers what the rules allow on each ticket, as the ticket page does.
    allowed = {ticket.id: decisions.actions_on(ticket, caller) & DECISIONS
               for ticket in page.items}
    form = BulkDecisionForm()
    form.ticket_ids.choices = [SelectChoice(str(ticket.id), str(ticket.id))
                               for ticket in page.items if allowed[ticket.id]]
    if form.validate_on_submit():
        rejecting = bool(form.reject.data)
        if rejecting and not (form.comment.data or "").strip():
            # The words the ticket page's reason field uses when it is left empty.
            form.comment.errors = [*form.comment.errors,
                                   form.comment.gettext(REQUIRED)]
        else:
            _decide_all(form.ticket_ids.data or [], rejecting, form.comment.data or "")
            return redirect(url_for("approvals.queue"))
    branches = people_queries.list_branches(session)
    return render_template("approvals/queue.html", page=page, form=form, kind=kind,
                           branch_id=branch_id, branches=branches, allowed=allowed,
                           offered=frozenset().union(*allowed.values()),
                           branch_names={branch.id: branch.name for branch in branches})


def _decide_all(ticket_ids: list[int], rejecting: bool, comment: str) -> None:
    """Decide each ticket on its own (one may fail without stopping the others)."""
    session, caller = db.session(), actor()
    decide = decisions.reject_ticket if rejecting else decisions.approve_ticket
    done = []
    for ticket_id in ticket_ids:
        try:
            decide(session, caller, ticket_id, comment)
        except WorkflowError as error:
            session.rollback()
            flash(f"#{ticket_id}: {' '.join(refusal_text(error))}", "danger")
        else:
            done.append(ticket_id)
    if done:
        ids = ", ".join(f"#{ticket_id}" for ticket_id in done)
        message = (_("Đã từ chối %(ids)s.", ids=ids) if rejecting
                   else _("Đã duyệt %(ids)s.", ids=ids))
        flash(message, "success")
