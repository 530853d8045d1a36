"""marshmallow schemas: the shape of API input and output (rules live in `workflow`)."""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields, validate

from web.api.fields import (
    Flag,
    Line,
    QueryInteger,
    Text,
    id_field,
    query_flag,
    query_id,
)
from web.last_calls import LastCalls, last_calls
from web.reachability import Registrations, registrations
from workflow.domain.machine import Status
from workflow.domain.routing import RoutingType
from workflow.domain.rules import AgentStatus
from workflow.ports import CallDirection, CallOutcome, CallRecord, DeviceKind
from workflow.tickets.kinds import KINDS
from workflow.tickets.kinds.extension_and_routing import routing_as_dict
from workflow.tickets.submission import MAX_DETAILS_LENGTH

#: The furthest page a list goes to (keeps OFFSET far from any integer limit).
MAX_PAGE = 100_000


def one_of(values: Any) -> validate.OneOf:
    """The values of an enum (or any iterable of strings) as a choice."""
    return validate.OneOf([getattr(value, "value", value) for value in values])


class PageArgsSchema(Schema):
    """Page number and size."""

    page = QueryInteger(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = QueryInteger(load_default=50, validate=validate.Range(min=1, max=200))


class BranchSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()


class DepartmentSchema(Schema):
    id = fields.Integer()
    branch_id = fields.Integer()
    name = fields.String()


class RoutingSchema(Schema):
    """Routing as given by a requester."""

    type = fields.String(required=True, validate=one_of(RoutingType))
    priority_number = Line(load_default=None, allow_none=True, validate=validate.Length(max=30))
    backup_number = Line(load_default=None, allow_none=True, validate=validate.Length(max=30))


class RoutingOutSchema(Schema):
    """Routing as stored: numbers in E.164, only for `phone`."""

    type = fields.String(validate=one_of(RoutingType))
    priority_number = fields.String(allow_none=True)
    backup_number = fields.String(allow_none=True)


class WithRouting(Schema):
    """Output with a `routing` object made of the row's three routing columns."""

    routing = fields.Nested(RoutingOutSchema, allow_none=True)

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if attr == "routing" and not isinstance(obj, dict):
            return routing_as_dict(obj.routing_type, obj.priority_number, obj.backup_number)
        return super().get_attribute(obj, attr, default)


class AgentSummarySchema(WithRouting):
    id = fields.Integer()
    extension = fields.String()
    status = fields.String(validate=one_of(AgentStatus))


class EmployeeSchema(Schema):
    id = fields.Integer()
    full_name = fields.String()
    email = fields.String(allow_none=True)
    employee_code = fields.String(allow_none=True)
    department_id = fields.Integer()
    agent = fields.Nested(AgentSummarySchema, allow_none=True)
    open_ticket_id = fields.Integer(
        allow_none=True, metadata={"description": "The employee's ticket still in progress."})


class EmployeeArgsSchema(Schema):
    """Narrowing a department's employees: part of a name, diacritics and case ignored."""

    q = Line(validate=validate.Length(max=100))


class RegisteredDeviceSchema(Schema):
    """A device registered now on the phone system."""

    kind = fields.String(required=True, validate=one_of(DeviceKind), metadata={
        "description": "app, web (a browser: WebSocket transport), desk_phone or unknown."})
    user_agent = fields.String(required=True)
    transport = fields.String(required=True, validate=one_of(
        ["udp", "tcp", "tls", "ws", "wss", "sctp"]))
    registered_since = fields.DateTime(required=True, metadata={
        "description": "Its latest REGISTER: registered at least since then."})
    expires = fields.DateTime(required=True)


class LastCallSchema(Schema):
    """An agent's newest call attempt, made or received, as the phone system recorded it."""

    at = fields.DateTime(required=True, metadata={
        "description": "When it was answered, refused or given up."})
    direction = fields.String(required=True, validate=one_of(CallDirection), metadata={
        "description": "out: the agent made it; in: the agent received it."})
    other_party = fields.String(required=True, metadata={
        "description": "The number or extension dialled (out), or who called (in: a "
                       "colleague by extension)."})
    outcome = fields.String(required=True, validate=one_of(CallOutcome), metadata={
        "description": "answered; refused (by the switchboard itself, e.g. the calling "
                       "functions: nothing rang); or missed (busy, unavailable, not "
                       "answered, cancelled)."})
    sip_code = fields.Integer(required=True, metadata={
        "description": "The SIP status that settled it (200 when answered)."})
    duration = fields.Float(required=True, allow_none=True, metadata={
        "description": "Seconds from the answer to the hang-up; null unless an answered "
                       "call has ended."})


class AgentSchema(AgentSummarySchema):
    sip_username = fields.String()
    employee_id = fields.Integer()
    employee_name = fields.String(attribute="employee.full_name")
    department_id = fields.Integer(attribute="employee.department_id")
    department_name = fields.String(attribute="employee.department.name")
    branch_id = fields.Integer(attribute="employee.department.branch_id")
    branch_name = fields.String(attribute="employee.department.branch.name")
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    devices = fields.List(fields.Nested(RegisteredDeviceSchema), allow_none=True, metadata={
        "description": "Devices registered now; null when the phone system cannot be read."})
    no_device_warning = fields.Boolean(metadata={
        "description": "Active, calls ring App and Web, and no device is registered."})
    last_call = fields.Nested(LastCallSchema, allow_none=True, metadata={
        "description": "The newest call attempt the agent made or received, refused ones "
                       "included. null both when the agent has no call recorded and when "
                       "the phone system's call records cannot be read now."})

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if attr == "devices":
            return _registrations().known_of(obj.sip_username)
        if attr == "no_device_warning":
            return _registrations().unreachable(obj)
        if attr == "last_call":
            return _last_call(obj.sip_username)
        return super().get_attribute(obj, attr, default)


def _registrations() -> Registrations:
    """The registrations this request read (once, whatever the number of agents)."""
    if "registrations" not in g:
        g.registrations = registrations()
    reading: Registrations = g.registrations
    return reading


def _last_call(sip_username: str) -> CallRecord | None:
    """The agent's last call, from the reading its view made for all of its agents (read
    for the agent alone when the view made none that covers it)."""
    reading: LastCalls | None = g.get("last_calls")
    if reading is None or sip_username not in reading.names:
        g.last_calls = reading = last_calls([sip_username])
    return reading.of(sip_username)


class AgentArgsSchema(PageArgsSchema):
    branch_id = query_id()
    department_id = query_id()
    status = fields.String(validate=one_of(AgentStatus))
    routing_type = fields.String(validate=one_of(RoutingType))
    q = Line(validate=validate.Length(max=100))
    no_device = fields.Boolean(metadata={
        "description": "Only active agents with no device registered now (503 when the "
                       "phone system cannot be read)."})


class PolicySchema(Schema):
    length = fields.Integer(attribute="extension_length")
    prefix = fields.String(attribute="extension_prefix")
    reserved = fields.List(fields.String(), attribute="reserved_extensions")


class ExtensionCheckSchema(Schema):
    """An extension to check."""

    extension = Line(required=True, validate=validate.Length(min=1, max=20))


class ExtensionSuggestionSchema(Schema):
    """The next free extension (null when every number of the policy is used)."""

    extension = fields.String(required=True, allow_none=True)


class ExtensionVerdictSchema(Schema):
    """An extension and everything that stops it being requested now (empty: it may be)."""

    extension = fields.String(required=True)
    problems = fields.List(fields.String(), required=True)


class TicketCreateSchema(Schema):
    """A new ticket, as posted."""

    kind = fields.String(required=True, validate=one_of(KINDS))
    employee_id = id_field(required=True)
    extension = Line(load_default=None, allow_none=True, validate=validate.Length(max=20))
    routing = fields.Nested(RoutingSchema, load_default=None, allow_none=True)
    reset_password = Flag(load_default=False)
    details = Text(load_default="", validate=validate.Length(max=MAX_DETAILS_LENGTH))
    notify_user_ids = fields.List(id_field(), load_default=list, validate=validate.Length(max=50))


class IdempotencySchema(Schema):
    """A key that makes a retried submit the same ticket (at most 100 characters; blank is
    none)."""

    key = Line(data_key="Idempotency-Key", validate=validate.Length(max=100))


class TicketArgsSchema(PageArgsSchema):
    state = fields.String(validate=one_of(Status))
    kind = fields.String(validate=one_of(KINDS))
    branch_id = query_id()
    mine = query_flag(load_default=False)


class CommentSchema(Schema):
    comment = Text(load_default="", validate=validate.Length(max=2000))


class RejectSchema(Schema):
    reason = Text(required=True, validate=validate.Length(max=2000))


class UserRefSchema(Schema):
    id = fields.Integer()
    full_name = fields.String()
    email = fields.String()


class EventSchema(Schema):
    id = fields.Integer()
    action = fields.String()
    from_state = fields.String(allow_none=True, validate=one_of(Status))
    to_state = fields.String(validate=one_of(Status))
    actor = fields.Nested(UserRefSchema, allow_none=True)
    comment = fields.String()
    changes = fields.Dict()
    created_at = fields.DateTime()


class TicketSchema(WithRouting):
    id = fields.Integer()
    kind = fields.String(validate=one_of(KINDS))
    state = fields.String(validate=one_of(Status))
    version = fields.Integer()
    employee_id = fields.Integer()
    employee_name = fields.String()
    branch_id = fields.Integer()
    agent_id = fields.Integer(allow_none=True)
    extension = fields.String(allow_none=True)
    reset_password = fields.Boolean()
    details = fields.String()
    requester = fields.Nested(UserRefSchema)
    watchers = fields.List(fields.Nested(UserRefSchema))
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class TicketDetailSchema(TicketSchema):
    events = fields.List(fields.Nested(EventSchema))


class NotificationSchema(Schema):
    id = fields.Integer()
    ticket_id = fields.Integer()
    action = fields.String(attribute="event.action")
    comment = fields.String(attribute="event.comment")
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    read = fields.Function(lambda notification: notification.read_at is not None,
                           metadata={"type": "boolean"})


class LoginSchema(Schema):
    email = Line(required=True, validate=validate.Length(max=254))
    password = Line(required=True, load_only=True, validate=validate.Length(max=200))


def page_schema(item: type[Schema]) -> type[Schema]:
    """A schema for one page of `item`s."""
    return type(
        f"{item.__name__.removesuffix('Schema')}PageSchema",
        (Schema,),
        {
            "items": fields.List(fields.Nested(item)),
            "total": fields.Integer(),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
            "pages": fields.Integer(),
        },
    )
