"""marshmallow schemas: the shape of API input and output (rules live in `workflow`)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from workflow.machine import Status
from workflow.routing import RoutingType
from workflow.tickets import MAX_DETAILS_LENGTH, TicketKind, routing_as_dict

#: Ids are 32-bit database integers; anything outside is refused before it reaches SQL.
ID_RANGE = validate.Range(min=1, max=2**31 - 1)


def id_field(**kwargs: Any) -> fields.Integer:
    """An integer id field."""
    return fields.Integer(validate=ID_RANGE, **kwargs)


class PageArgsSchema(Schema):
    """Page number and size."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


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

    type = fields.String(
        required=True, validate=validate.OneOf([kind.value for kind in RoutingType])
    )
    priority_number = fields.String(load_default=None, allow_none=True)
    backup_number = fields.String(load_default=None, allow_none=True)


class AgentSummarySchema(Schema):
    id = fields.Integer()
    extension = fields.String()
    routing = fields.Method("dump_routing")
    status = fields.String()

    def dump_routing(self, agent: Any) -> dict[str, Any] | None:
        return routing_as_dict(agent.routing_type, agent.priority_number, agent.backup_number)


class EmployeeSchema(Schema):
    id = fields.Integer()
    full_name = fields.String()
    email = fields.String()
    employee_code = fields.String()
    department_id = fields.Integer()
    agent = fields.Nested(AgentSummarySchema, allow_none=True)


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


class AgentArgsSchema(PageArgsSchema):
    branch_id = id_field()
    department_id = id_field()
    status = fields.String(validate=validate.OneOf(["active", "revoked"]))
    routing_type = fields.String(validate=validate.OneOf([kind.value for kind in RoutingType]))
    q = fields.String(validate=validate.Length(max=100))


class PolicySchema(Schema):
    length = fields.Integer(attribute="extension_length")
    prefix = fields.String(attribute="extension_prefix")
    reserved = fields.List(fields.String(), attribute="reserved_extensions")


class ExtensionCheckSchema(Schema):
    """An extension to check."""

    extension = fields.String(required=True, validate=validate.Length(min=1, max=20))


class TicketCreateSchema(Schema):
    """A new ticket, as posted."""

    kind = fields.String(
        required=True, validate=validate.OneOf([kind.value for kind in TicketKind])
    )
    employee_id = id_field(required=True)
    extension = fields.String(load_default=None, allow_none=True,
                              validate=validate.Length(max=20))
    routing = fields.Nested(RoutingSchema, load_default=None, allow_none=True)
    reset_password = fields.Boolean(load_default=False)
    details = fields.String(load_default="", validate=validate.Length(max=MAX_DETAILS_LENGTH))
    notify_user_ids = fields.List(id_field(), load_default=list, validate=validate.Length(max=50))


class TicketArgsSchema(PageArgsSchema):
    state = fields.String(validate=validate.OneOf([state.value for state in Status]))
    kind = fields.String(validate=validate.OneOf([kind.value for kind in TicketKind]))
    branch_id = id_field()
    mine = fields.Boolean(load_default=False)


class CommentSchema(Schema):
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class RejectSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=2000))


class UserRefSchema(Schema):
    id = fields.Integer()
    full_name = fields.String()
    email = fields.String()


class EventSchema(Schema):
    id = fields.Integer()
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    actor = fields.Nested(UserRefSchema, allow_none=True)
    comment = fields.String()
    changes = fields.Dict()
    created_at = fields.DateTime()


class TicketSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    state = fields.String()
    version = fields.Integer()
    employee_id = fields.Integer()
    employee_name = fields.String()
    branch_id = fields.Integer()
    agent_id = fields.Integer(allow_none=True)
    extension = fields.String(allow_none=True)
    routing = fields.Method("dump_routing")
    reset_password = fields.Boolean()
    details = fields.String()
    requester = fields.Nested(UserRefSchema)
    watchers = fields.List(fields.Nested(UserRefSchema))
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def dump_routing(self, ticket: Any) -> dict[str, Any] | None:
        return routing_as_dict(ticket.routing_type, ticket.priority_number, ticket.backup_number)


class TicketDetailSchema(TicketSchema):
    events = fields.List(fields.Nested(EventSchema))


class NotificationSchema(Schema):
    id = fields.Integer()
    ticket_id = fields.Integer()
    action = fields.String(attribute="event.action")
    comment = fields.String(attribute="event.comment")
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    read = fields.Function(lambda notification: notification.read_at is not None)


class LoginSchema(Schema):
    email = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


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
