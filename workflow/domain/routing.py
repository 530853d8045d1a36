"""Call routing of an agent: ring App and Web together, or a phone number with a backup."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Problem, RuleViolation

#: Numbers written without a country code are read as Vietnamese numbers.
DEFAULT_REGION = "VN"

#: What people put between digits, ignored.
SEPARATORS = re.compile(r"[\s.\-()]")
#: A number as it can be dialled: ASCII digits, optionally after a +. Anything else (an
#: extension such as "ext 12", "x12" or ";ext=12", letters, other scripts' digits) is refused,
#: never dropped.
DIALLABLE = re.compile(r"\+?[0-9]+")


class RoutingType(StrEnum):
    """How incoming calls reach the agent."""

    APP_WEB = "app_web"
    PHONE = "phone"


@dataclass(frozen=True)
class Routing:
    """A validated routing: numbers are E.164 and only present for `phone`."""

    type: RoutingType = RoutingType.APP_WEB
    priority_number: str | None = None
    backup_number: str | None = None


def dialled_digits(raw: str) -> str | None:
    """`raw` without separators when what is left can be dialled, else None."""
    digits = SEPARATORS.sub("", raw)
    return digits if DIALLABLE.fullmatch(digits) else None


def normalise_number(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 form of a possible phone number, or None when it is not one (with an extension,
    it is not: the phone system could only ring the number without it)."""
    digits = dialled_digits(raw)
    if digits is None:
        return None
    try:
        parsed = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display_number(e164: str | None, region: str = DEFAULT_REGION) -> str:
    """A stored E.164 number as people read it: national format at home ("0912 345 678",
    "024 3826 1234"), international abroad ("+1 650-253-0000"); anything else as it is."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, region)
    except phonenumbers.NumberParseException:
        return e164
    home = phonenumbers.region_code_for_number(number) == region
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if home
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, style)


def parse_routing(
    routing_type: str | None,
    priority_number: str | None = None,
    backup_number: str | None = None,
    region: str = DEFAULT_REGION,
) -> Routing:
    """Validate raw routing input into a `Routing`, or raise per-field problems."""
    try:
        kind = RoutingType(routing_type or RoutingType.APP_WEB)
    except ValueError:
        raise RuleViolation.single("routing.type", ErrorCode.ROUTING_TYPE_UNKNOWN) from None
    if kind is RoutingType.APP_WEB:
        return Routing()
    problems: dict[str, list[Problem]] = {}
    numbers: dict[str, str] = {}
    for name, raw in (("priority_number", priority_number), ("backup_number", backup_number)):
        if not raw or not raw.strip():
            problems[f"routing.{name}"] = [Problem(ErrorCode.PHONE_REQUIRED)]
        elif (number := normalise_number(raw.strip(), region)) is None:
            code = (ErrorCode.PHONE_HAS_EXTENSION if _has_extension(raw, region)
                    else ErrorCode.PHONE_INVALID)
            problems[f"routing.{name}"] = [Problem(code, {"number": raw.strip()})]
        else:
            numbers[name] = number
    if not problems and numbers["priority_number"] == numbers["backup_number"]:
        problems["routing.backup_number"] = [Problem(ErrorCode.BACKUP_SAME_AS_PRIORITY)]
    if problems:
        raise RuleViolation(problems)
    return Routing(kind, numbers["priority_number"], numbers["backup_number"])


def _has_extension(raw: str, region: str) -> bool:
    """Whether `raw` reads as a phone number followed by an extension ("ext 12", "x12"…)."""
    try:
        return bool(phonenumbers.parse(raw, region).extension)
    except phonenumbers.NumberParseException:
        return False
