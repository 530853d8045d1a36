"""Tickets: submit, list, read, and decide."""

from __future__ import annotations

from typing import Any

from web.api.docs import Blueprint, refuses
from web.api.schemas import (
    CommentSchema,
    IdempotencySchema,
    RejectSchema,
    TicketArgsSchema,
    TicketCreateSchema,
    TicketDetailSchema,
    TicketSchema,
    page_schema,
)
from web.auth import current_actor
from web.extensions import db
from workflow.tickets import decisions, queries
from workflow.tickets.kinds import TicketKind
from workflow.tickets.submission import TicketRequest, submit_ticket

blp = Blueprint("tickets", __name__, description="Setup tickets and their decisions")


@blp.route("/tickets", methods=["POST"])
@blp.arguments(TicketCreateSchema)
@blp.arguments(IdempotencySchema, location="headers")
@blp.response(201, TicketSchema)
@refuses(blp, 409)
def create_ticket(data: dict[str, Any], headers: dict[str, Any]) -> Any:
    """File a ticket of any kind; a reused Idempotency-Key gets its first ticket."""
    routing = data["routing"] or {}
    key = headers.get("key", "").strip() or None
    ticket_request = TicketRequest(
        kind=TicketKind(data["kind"]),
        employee_id=data["employee_id"],
        extension=data["extension"],
        routing_type=routing.get("type"),
        priority_number=routing.get("priority_number"),
        backup_number=routing.get("backup_number"),
        reset_password=data["reset_password"],
        details=data["details"],
        notify_user_ids=tuple(data["notify_user_ids"]),
        idempotency_key=key,
    )
    return submit_ticket(db.session(), current_actor(), ticket_request)


@blp.route("/tickets")
@blp.arguments(TicketArgsSchema, location="query")
@blp.response(200, page_schema(TicketSchema))
def list_tickets(args: dict[str, Any]) -> Any:
    """Tickets the caller may see, filtered and paginated."""
    page, per_page = args.pop("page"), args.pop("per_page")
    filters = queries.TicketFilter(**args)
    return queries.list_tickets(db.session(), current_actor(), filters, page, per_page)


@blp.route("/tickets/<int:ticket_id>")
@blp.response(200, TicketDetailSchema)
def get_ticket(ticket_id: int) -> Any:
    """One ticket with its timeline of events."""
    return queries.get_visible_ticket(db.session(), current_actor(), ticket_id)


@blp.route("/tickets/<int:ticket_id>/approve", methods=["POST"])
@blp.arguments(CommentSchema, required=False)
@blp.response(200, TicketSchema)
@refuses(blp, 403, 409)
def approve(data: dict[str, Any], ticket_id: int) -> Any:
    """Approve a submitted ticket."""
    return decisions.approve_ticket(db.session(), current_actor(), ticket_id, data["comment"])


@blp.route("/tickets/<int:ticket_id>/reject", methods=["POST"])
@blp.arguments(RejectSchema)
@blp.response(200, TicketSchema)
@refuses(blp, 403, 409)
def reject(data: dict[str, Any], ticket_id: int) -> Any:
    """Reject a submitted ticket with a reason."""
    return decisions.reject_ticket(db.session(), current_actor(), ticket_id, data["reason"])


@blp.route("/tickets/<int:ticket_id>/cancel", methods=["POST"])
@blp.arguments(CommentSchema, required=False)
@blp.response(200, TicketSchema)
@refuses(blp, 403, 409)
def cancel(data: dict[str, Any], ticket_id: int) -> Any:
    """Cancel a ticket that is still waiting (or failed)."""
    return decisions.cancel_ticket(db.session(), current_actor(), ticket_id, data["comment"])


@blp.route("/tickets/<int:ticket_id>/retry", methods=["POST"])
@blp.arguments(CommentSchema, required=False)
@blp.response(200, TicketSchema)
@refuses(blp, 403, 409)
def retry(data: dict[str, Any], ticket_id: int) -> Any:
    """Send a failed ticket back to provisioning."""
    return decisions.retry_ticket(db.session(), current_actor(), ticket_id, data["comment"])
