"""Schemas of the calling-functions API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from web.api.fields import Flag, Line, WholeNumber, id_field
from web.api.schemas import one_of
from web.input_limits import MAX_ID
from workflow.calling.trunks import (
    DEFAULT_PORT,
    MAX_PASSWORD,
    MAX_POSITION,
    MAX_REALM,
    MAX_USERNAME,
    NUMBER_FORMATS,
    TRANSPORTS,
)
from workflow.domain.calling_rules import Level
from workflow.domain.numbers import CHOOSABLE, NumberClass


def seconds_field() -> fields.Integer:
    """A call limit in seconds; null means no limit."""
    return WholeNumber(load_default=None, allow_none=True,
                       validate=validate.Range(min=1, max=86_400))


class HotlineSchema(Schema):
    id = fields.Integer(dump_only=True)
    number = Line(required=True, validate=validate.Length(min=3, max=30))
    label = Line(load_default="", validate=validate.Length(max=100))
    extension = Line(load_default=None, allow_none=True, validate=validate.Length(max=20),
                     metadata={"description": "The extension an incoming call to this number "
                                              "rings (a DID); null: none."})


class TrunkSchema(Schema):
    """A carrier trunk; the password is write-only (an empty or missing one keeps it)."""

    id = fields.Integer(dump_only=True)
    name = Line(required=True, validate=validate.Length(max=100))
    address = Line(required=True, validate=validate.Length(max=100), metadata={
        "description": "The carrier's signalling IP address (IPv4 or IPv6)."})
    port = WholeNumber(load_default=DEFAULT_PORT, validate=validate.Range(min=1, max=65_535))
    transport = fields.String(load_default="udp", validate=one_of(TRANSPORTS))
    position = WholeNumber(load_default=None, allow_none=True,
                           validate=validate.Range(min=1, max=MAX_POSITION), metadata={
                               "description": "The order trunks are tried in, 1 first; null: "
                                              "last when new, unchanged when updated."})
    number_format = fields.String(load_default="e164", validate=one_of(NUMBER_FORMATS))
    number = Line(required=True, validate=validate.Length(max=30), metadata={
        "description": "The trunk's main number (stored E.164)."})
    auth_username = Line(load_default="", allow_none=True,
                         validate=validate.Length(max=MAX_USERNAME))
    auth_password = fields.String(load_only=True, load_default="", allow_none=True,
                                  validate=validate.Length(max=MAX_PASSWORD))
    auth_password_set = fields.Function(lambda row: bool(row.auth_password_sealed),
                                        dump_only=True)
    auth_realm = Line(load_default="", allow_none=True, validate=validate.Length(max=MAX_REALM))
    enabled = Flag(load_default=True)
    updated_at = fields.DateTime(dump_only=True)


class TrunkChangesSchema(TrunkSchema):
    """Some settings of a trunk (PATCH): what is left out stays as it is."""


class ProfileSchema(Schema):
    """A calling profile, as read and as written (writes send `version` to update)."""

    id = fields.Integer(dump_only=True)
    name = Line(required=True, validate=validate.Length(min=1, max=100))
    outgoing = Flag(load_default=False)
    number_classes = fields.List(fields.String(validate=one_of(CHOOSABLE)), load_default=list)
    hotline_ids = fields.List(id_field(), load_default=list, load_only=True)
    hotlines = fields.List(fields.Nested(HotlineSchema), dump_only=True)
    default_hotline_id = id_field(load_default=None, allow_none=True)
    max_internal_seconds = seconds_field()
    max_outgoing_seconds = seconds_field()
    after_hours = Flag(load_default=False)
    external_forwarding = Flag(load_default=False)
    version = WholeNumber(load_default=None, allow_none=True,
                          validate=validate.Range(min=0, max=MAX_ID))


class AssignmentSchema(Schema):
    """A profile assigned at one level (`profile_id` null removes it)."""

    level = fields.String(required=True, validate=one_of(Level))
    target_id = id_field(load_default=None, allow_none=True)
    target = fields.String(dump_only=True, allow_none=True)
    profile_id = id_field(required=True, allow_none=True)
    profile_name = fields.String(dump_only=True)


class CallCheckArgsSchema(Schema):
    extension = Line(required=True, validate=validate.Length(min=1, max=20))
    number = Line(required=True, validate=validate.Length(min=1, max=40))
    caller_id = Line(load_default=None, validate=validate.Length(max=30))


class SourceSchema(Schema):
    level = fields.String()
    target = fields.String()
    profile_id = fields.Integer(attribute="profile.id")
    profile_name = fields.String(attribute="profile.name")


class RulesSchema(Schema):
    outgoing = fields.Boolean()
    number_classes = fields.Method("dump_classes", metadata={
        "type": "array", "items": {"type": "string", "enum": [each.value for each in NumberClass]}})
    caller_ids = fields.List(fields.String())
    default_caller_id = fields.String(allow_none=True)
    max_internal_seconds = fields.Integer(allow_none=True)
    max_outgoing_seconds = fields.Integer(allow_none=True)
    after_hours = fields.Boolean()
    external_forwarding = fields.Boolean()

    def dump_classes(self, rules: Any) -> list[str]:
        return sorted(each.value for each in rules.classes)


class EffectiveSchema(Schema):
    """The rules that apply to an agent and where they come from (null: no profile)."""

    rules = fields.Nested(RulesSchema)
    source = fields.Nested(SourceSchema, allow_none=True)


class CallCheckSchema(Schema):
    extension = fields.String()
    number = fields.String(attribute="dialled.number")
    number_class = fields.String(attribute="dialled.number_class")
    allowed = fields.Boolean(attribute="verdict.allowed")
    reason = fields.String(attribute="verdict.reason")
    message = fields.String()
    caller_id = fields.String(attribute="verdict.caller_id", allow_none=True)
    max_seconds = fields.Integer(attribute="verdict.max_seconds", allow_none=True)
    effective = fields.Nested(EffectiveSchema)


class SyncSchema(Schema):
    """A re-application of calling rules to the phone system, with its progress."""

    id = fields.Integer()
    change_id = fields.Integer(allow_none=True)
    total = fields.Integer()
    done = fields.Integer()
    changed = fields.Integer()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    superseded = fields.Boolean()
    last_error = fields.String(allow_none=True)
