"""“Can extension X call number Y now, and as which caller ID?”, answered with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.calling.effective import Assignments, placement_of_employee, working_hours
from workflow.domain.calling_rules import Effective, Verdict, call_verdict
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Problem, RuleViolation
from workflow.domain.numbers import Dialled, classify
from workflow.domain.routing import normalise_number
from workflow.models import Agent, current_organisation, is_active


@dataclass(frozen=True)
class CallCheck:
    """The answer about one call, with what it was based on."""

    extension: str
    dialled: Dialled
    verdict: Verdict
    effective: Effective


def check_call(session: Session, extension: str, number: str, moment: datetime,
               timezone: str, caller_id: str | None = None) -> CallCheck:
    """What the effective profile of `extension` says about calling `number` at `moment`.

    Every problem of the question (unknown extension, no number, bad caller ID) is named.
    """
    employee_id = session.scalar(select(Agent.employee_id).where(
        Agent.extension == extension.strip(), is_active(Agent.status)))
    problems: dict[str, list[Problem]] = {}
    if employee_id is None:
        problems["extension"] = [Problem(ErrorCode.EXTENSION_NOT_FOUND,
                                         {"extension": extension.strip()})]
    dialled = classify(number, current_organisation(session).policy)
    if dialled is None:
        problems["number"] = [Problem(ErrorCode.NUMBER_INVALID, {"number": number})]
    presented = normalise_number(caller_id) if caller_id else None
    if caller_id and presented is None:
        problems["caller_id"] = [Problem(ErrorCode.PHONE_INVALID, {"number": caller_id})]
    if problems or dialled is None or employee_id is None:
        raise RuleViolation(problems)
    effective = Assignments(session).effective(placement_of_employee(session, employee_id))
    verdict = call_verdict(effective.rules, dialled.number_class, moment,
                           working_hours(session, timezone), presented)
    return CallCheck(extension.strip(), dialled, verdict, effective)
