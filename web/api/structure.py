"""Organisation structure and the extension policy."""

from __future__ import annotations

from typing import Any

from web.api.docs import Blueprint
from web.api.schemas import (
    BranchSchema,
    DepartmentSchema,
    EmployeeArgsSchema,
    EmployeeSchema,
    ExtensionCheckSchema,
    ExtensionSuggestionSchema,
    ExtensionVerdictSchema,
    PolicySchema,
)
from web.auth import current_actor
from web.extensions import db
from web.i18n import current_language
from web.messages import render
from workflow.domain.rules import clean_extension
from workflow.models import current_organisation
from workflow.people import queries as people_queries
from workflow.people.picker import employees_to_pick
from workflow.tickets.extensions import extension_problems_now, suggest_extension

blp = Blueprint("structure", __name__, description="Branches, departments, employees, policy")


@blp.route("/branches")
@blp.response(200, BranchSchema(many=True))
def list_branches() -> Any:
    """Active branches, offices and facilities."""
    current_actor()
    return people_queries.list_branches(db.session())


@blp.route("/branches/<int:branch_id>/departments")
@blp.response(200, DepartmentSchema(many=True))
def list_departments(branch_id: int) -> Any:
    """Active departments of a branch."""
    current_actor()
    return people_queries.list_departments(db.session(), branch_id)


@blp.route("/departments/<int:department_id>/employees")
@blp.arguments(EmployeeArgsSchema, location="query")
@blp.response(200, EmployeeSchema(many=True))
def list_employees(args: dict[str, Any], department_id: int) -> Any:
    """Active employees of a department by given name, each with their active agent and open
    ticket; `q` keeps those whose name contains it, with or without diacritics, in any case."""
    current_actor()
    return [{**EmployeeSchema().dump(row.employee), "agent": row.agent,
             "open_ticket_id": row.open_ticket_id}
            for row in employees_to_pick(db.session(), department_id, args.get("q"))]


@blp.route("/policy")
@blp.response(200, PolicySchema)
def get_policy() -> Any:
    """The organisation's extension policy."""
    current_actor()
    return current_organisation(db.session())


@blp.route("/extensions/suggest")
@blp.response(200, ExtensionSuggestionSchema)
def suggest() -> Any:
    """The next free valid extension (see `suggest_extension`)."""
    current_actor()
    policy = current_organisation(db.session()).policy
    return {"extension": suggest_extension(db.session(), policy)}


@blp.route("/extensions/check")
@blp.arguments(ExtensionCheckSchema, location="query")
@blp.response(200, ExtensionVerdictSchema)
def check_extension(args: dict[str, Any]) -> Any:
    """Whether an extension may be requested now, and if not why (in the caller's language)."""
    current_actor()
    problems = extension_problems_now(db.session(), args["extension"])
    language = current_language()
    return {"extension": clean_extension(args["extension"]),
            "problems": [render(p.code, p.params, language) for p in problems]}
