"""An account's routing and calling rules as Kamailio `usr_preferences` (text attributes)."""

from __future__ import annotations

from collections.abc import Mapping

from workflow.domain.calling_rules import CallingRules
from workflow.domain.numbers import NumberClass
from workflow.domain.routing import Routing, RoutingType

#: The routing attributes this adapter owns.
ROUTING = ("route_type", "priority", "backup")
#: The calling-rule attributes this adapter owns (read by the shipped kamailio.cfg).
CALLING = ("cos_out", "cos_classes", "cos_callerids", "cos_callerid", "cos_max_int",
           "cos_max_out", "cos_after_hours", "cos_forward")


def routing_preferences(routing: Routing) -> dict[str, str]:
    """None for app_web; type, priority and backup for phone."""
    if routing.type is not RoutingType.PHONE:
        return {}
    wanted = {"route_type": "phone", "priority": routing.priority_number or ""}
    if routing.backup_number:
        wanted["backup"] = routing.backup_number
    return wanted


def routing_of(held: Mapping[str, str]) -> Routing:
    """The routing the preferences say."""
    if held.get("route_type") != "phone":
        return Routing()
    return Routing(RoutingType.PHONE, held.get("priority"), held.get("backup"))


def calling_preferences(rules: CallingRules) -> dict[str, str]:
    """The rules as attributes; limits and the default caller ID only when set."""
    wanted = {"cos_out": _flag(rules.outgoing),
              "cos_classes": ",".join(sorted(each.value for each in rules.classes)),
              "cos_callerids": ",".join(sorted(rules.caller_ids)),
              "cos_after_hours": _flag(rules.after_hours),
              # Not read by Kamailio (forwards are checked at submit); kept to reconcile.
              "cos_forward": _flag(rules.external_forwarding)}
    optional = {"cos_callerid": rules.default_caller_id,
                "cos_max_int": rules.max_internal_seconds,
                "cos_max_out": rules.max_outgoing_seconds}
    wanted.update({name: str(value) for name, value in optional.items() if value is not None})
    return wanted


def calling_of(held: Mapping[str, str]) -> CallingRules | None:
    """The rules the attributes say (None when the account has none)."""
    if "cos_out" not in held:
        return None
    return CallingRules(
        outgoing=held["cos_out"] == "1",
        classes=frozenset(NumberClass(each) for each in _listed(held.get("cos_classes"))),
        caller_ids=tuple(sorted(_listed(held.get("cos_callerids")))),
        default_caller_id=held.get("cos_callerid"),
        max_internal_seconds=_seconds(held.get("cos_max_int")),
        max_outgoing_seconds=_seconds(held.get("cos_max_out")),
        after_hours=held.get("cos_after_hours") == "1",
        external_forwarding=held.get("cos_forward") == "1")


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _listed(value: str | None) -> list[str]:
    return [each for each in (value or "").split(",") if each]


def _seconds(value: str | None) -> int | None:
    return int(value) if value else None
