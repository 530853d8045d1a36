"""Calling functions: profiles, hotlines, trunks, assignments, and "may X call Y now?"."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from web.api.calling_schemas import (
    AssignmentSchema,
    CallCheckArgsSchema,
    CallCheckSchema,
    EffectiveSchema,
    HotlineSchema,
    ProfileSchema,
    SyncSchema,
    TrunkChangesSchema,
    TrunkSchema,
)
from web.api.docs import Blueprint, refuses
from web.auth import current_actor
from web.composition import vault
from web.extensions import db
from web.i18n import current_language
from web.messages import render
from workflow.agents import queries as agent_queries
from workflow.calling import admin, gateways, sync, trunks
from workflow.calling.check import check_call
from workflow.calling.listing import profiles_by_name
from workflow.calling.queries import (
    calling_of_employee,
    hotlines_by_number,
    listed_assignments,
)
from workflow.domain.calling_rules import Level
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import PermissionDenied
from workflow.domain.rules import Role
from workflow.models import utcnow
from workflow.ports import Cipher

blp = Blueprint("calling", __name__, description="Calling functions (class of service)")


@blp.route("/calling/profiles")
@blp.response(200, ProfileSchema(many=True))
def list_profiles() -> Any:
    """Every calling profile."""
    current_actor()
    return profiles_by_name(db.session())


@blp.route("/calling/profiles", methods=["POST"])
@blp.arguments(ProfileSchema)
@blp.response(201, ProfileSchema)
@refuses(blp, 403, 404, 409)
def create_profile(data: dict[str, Any]) -> Any:
    """A new calling profile (admins)."""
    return admin.save_profile(db.session(), _admin_id(), _profile_input(data))


@blp.route("/calling/profiles/<int:profile_id>", methods=["PUT"])
@blp.arguments(ProfileSchema)
@blp.response(200, ProfileSchema)
@refuses(blp, 403, 409)
def update_profile(data: dict[str, Any], profile_id: int) -> Any:
    """Change a profile (admins); refused when it would put existing forwards outside it."""
    return admin.save_profile(db.session(), _admin_id(), _profile_input(data), profile_id,
                              data["version"])


@blp.route("/calling/hotlines")
@blp.response(200, HotlineSchema(many=True))
def list_hotlines() -> Any:
    """The company numbers agents may present."""
    current_actor()
    return hotlines_by_number(db.session())


@blp.route("/calling/hotlines", methods=["POST"])
@blp.arguments(HotlineSchema)
@blp.response(201, HotlineSchema)
@refuses(blp, 403, 409)
def create_hotline(data: dict[str, Any]) -> Any:
    """Add a company number (admins)."""
    return admin.save_hotline(db.session(), _admin_id(), data["number"], data["label"],
                              extension=data["extension"])


@blp.route("/calling/hotlines/<int:hotline_id>", methods=["PUT"])
@blp.arguments(HotlineSchema)
@blp.response(200, HotlineSchema)
@refuses(blp, 403, 409)
def update_hotline(data: dict[str, Any], hotline_id: int) -> Any:
    """Change a company number, its label and the extension it rings (admins)."""
    return admin.save_hotline(db.session(), _admin_id(), data["number"], data["label"],
                              hotline_id, data["extension"])


@blp.route("/calling/trunks")
@blp.response(200, TrunkSchema(many=True))
@refuses(blp, 403)
def list_trunks() -> Any:
    """The carrier trunks, in the order they are tried (admins)."""
    _admin_id()
    return gateways.list_trunks(db.session())


@blp.route("/calling/trunks", methods=["POST"])
@blp.arguments(TrunkSchema)
@blp.response(201, TrunkSchema)
@refuses(blp, 403, 409)
def create_trunk(data: dict[str, Any]) -> Any:
    """Add a carrier trunk (admins)."""
    return trunks.save_trunk(db.session(), _admin_id(), _cipher(), _trunk_input(data))


@blp.route("/calling/trunks/<int:trunk_id>")
class TrunkResource(MethodView):
    """One carrier trunk (admins); one route for every method, so a too-large id is 404."""

    @blp.response(200, TrunkSchema)
    @refuses(blp, 403)
    def get(self, trunk_id: int) -> Any:
        """One carrier trunk (admins)."""
        _admin_id()
        return trunks.get_trunk(db.session(), trunk_id)

    @blp.arguments(TrunkSchema)
    @blp.response(200, TrunkSchema)
    @refuses(blp, 403, 409)
    def put(self, data: dict[str, Any], trunk_id: int) -> Any:
        """Change every setting of a trunk (admins); an empty password keeps the stored one."""
        actor_id = _admin_id()
        trunks.get_trunk(db.session(), trunk_id)
        return trunks.save_trunk(db.session(), actor_id, _cipher(), _trunk_input(data),
                                 trunk_id)

    @blp.arguments(TrunkChangesSchema(partial=True))
    @blp.response(200, TrunkSchema)
    @refuses(blp, 403, 409)
    def patch(self, data: dict[str, Any], trunk_id: int) -> Any:
        """Change some settings of a trunk (admins), e.g. `{"enabled": false}`."""
        actor_id = _admin_id()
        stored = trunks.input_of(trunks.get_trunk(db.session(), trunk_id))
        merged = {**stored.__dict__, **data}
        return trunks.save_trunk(db.session(), actor_id, _cipher(), _trunk_input(merged),
                                 trunk_id)

    @blp.response(204)
    @refuses(blp, 403)
    def delete(self, trunk_id: int) -> None:
        """Remove a trunk (admins); the others close up the order."""
        trunks.delete_trunk(db.session(), _admin_id(), trunk_id)


@blp.route("/calling/assignments")
@blp.response(200, AssignmentSchema(many=True))
def list_assignments() -> Any:
    """Where each profile is assigned, most general first."""
    current_actor()
    return [{"level": assigned.level.value, "target_id": target, "target": assigned.target,
             "profile_id": assigned.profile.id, "profile_name": assigned.profile.name}
            for target, assigned in listed_assignments(db.session())]


@blp.route("/calling/assignments", methods=["PUT"])
@blp.arguments(AssignmentSchema)
@blp.response(204)
@refuses(blp, 403, 404, 409)
def assign(data: dict[str, Any]) -> None:
    """Assign a profile at one level, or remove it with a null profile (admins)."""
    admin.assign_profile(db.session(), _admin_id(), Level(data["level"]), data["target_id"],
                         data["profile_id"])


@blp.route("/calling/syncs")
@blp.response(200, SyncSchema(many=True))
def list_syncs() -> Any:
    """The newest re-applications of calling rules to the phone system, with progress."""
    current_actor()
    return sync.recent_syncs(db.session())


@blp.route("/calling/check")
@blp.arguments(CallCheckArgsSchema, location="query")
@blp.response(200, CallCheckSchema)
def check(args: dict[str, Any]) -> Any:
    """May this extension call this number now, as which caller ID, and why."""
    current_actor()
    found = check_call(db.session(), args["extension"], args["number"], utcnow(),
                       current_app.config["TIMEZONE"], args["caller_id"])
    message = render(f"call_{found.verdict.reason}", {}, current_language())
    return {**found.__dict__, "message": message}


@blp.route("/agents/<int:agent_id>/calling")
@blp.response(200, EffectiveSchema)
def agent_calling(agent_id: int) -> Any:
    """The calling rules that apply to an agent, and where they come from."""
    current_actor()
    agent = agent_queries.get_agent(db.session(), agent_id)
    return calling_of_employee(db.session(), agent.employee_id)


def _admin_id() -> int:
    """The caller's id, when they are an admin."""
    actor = current_actor()
    if actor.role is not Role.ADMIN:
        raise PermissionDenied(ErrorCode.ADMIN_ONLY)
    return actor.user_id


def _cipher() -> Cipher:
    """The app's cipher, which seals the trunks' passwords."""
    return vault(current_app).cipher


def _trunk_input(data: dict[str, Any]) -> trunks.TrunkInput:
    """The service's input from a posted trunk (null texts are empty)."""
    return trunks.TrunkInput(
        name=data["name"], address=data["address"], number=data["number"], port=data["port"],
        transport=data["transport"], number_format=data["number_format"],
        position=data["position"], auth_username=data["auth_username"] or "",
        auth_password=data["auth_password"] or "", auth_realm=data["auth_realm"] or "",
        enabled=data["enabled"])


def _profile_input(data: dict[str, Any]) -> admin.ProfileInput:
    """The service's input from the posted profile."""
    return admin.ProfileInput(
        name=data["name"], outgoing=data["outgoing"], classes=tuple(data["number_classes"]),
        hotline_ids=tuple(data["hotline_ids"]), default_hotline_id=data["default_hotline_id"],
        max_internal_seconds=data["max_internal_seconds"],
        max_outgoing_seconds=data["max_outgoing_seconds"], after_hours=data["after_hours"],
        external_forwarding=data["external_forwarding"])
