"""What several calling pages share: refusals on forms, target names, template globals."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from wtforms import Form

from web.extensions import db
from web.ui.calling.blueprint import bp
from web.ui.form_errors import show_refusal
from web.ui.labels import LEVEL_NAMES
from workflow.calling.queries import AgentLink, active_agents_with
from workflow.domain.calling_rules import Assigned, Level
from workflow.domain.errors import RuleViolation, WorkflowError


def target_text(target: int | None, assigned: Assigned, departments: Mapping[int, str]) -> str:
    """What an assignment applies to, named so it cannot be mistaken for another."""
    if assigned.level is Level.DEPARTMENT and target is not None:
        return departments.get(target, assigned.target)
    return assigned.target


def show_calling_refusal(form: Form, error: WorkflowError) -> list[AgentLink]:
    """The refusal on the form (see `show_refusal`); the agents it names, to link to them."""
    show_refusal(form, error)
    return refused_agents(error)


def refused_agents(error: WorkflowError) -> list[AgentLink]:
    """The active agents a "forwards would break" refusal names, to link to them."""
    if not isinstance(error, RuleViolation):
        return []
    return active_agents_with(db.session(), (
        str(each) for problems in error.problems.values() for problem in problems
        if problem.code == "forwards_would_break"
        for each in problem.params.get("extensions", [])))


@bp.app_template_global()
def calling_source(source: Assigned | None) -> str:
    """Where an effective profile comes from: "Phòng ban Kinh doanh — hồ sơ Telesales"."""
    if source is None:
        return _("Không có hồ sơ: chỉ gọi nội bộ")
    level = LEVEL_NAMES[source.level.value]
    if not source.target:
        return _("%(level)s — hồ sơ %(profile)s", level=level, profile=source.profile.name)
    return _("%(level)s %(target)s — hồ sơ %(profile)s", level=level, target=source.target,
             profile=source.profile.name)


@bp.app_template_global()
def call_duration(seconds: int | None) -> str:
    """A call limit in words: "1800 giây (30 phút)", or "Không giới hạn"."""
    if seconds is None:
        return _("Không giới hạn")
    if seconds >= 60 and seconds % 60 == 0:
        return _("%(seconds)s giây (%(minutes)s phút)", seconds=seconds, minutes=seconds // 60)
    return _("%(seconds)s giây", seconds=seconds)
