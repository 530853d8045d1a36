"""What several calling pages share: refusals as messages, target names, template globals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from web.extensions import db
from web.i18n import current_language
from web.messages import render
from web.ui.calling.blueprint import bp
from web.ui.forms import FlaskForm
from web.ui.labels import LEVEL_NAMES
from workflow import queries
from workflow.calling.models import Hotline
from workflow.calling.rules import Assigned, Level
from workflow.errors import Problem, RuleViolation
from workflow.models import Agent, is_active


def hotline_labels(session: Session) -> dict[str, str]:
    """Each hotline's label by its number, to name caller IDs."""
    return dict(session.execute(select(Hotline.number, Hotline.label)).all())


def department_names(session: Session) -> dict[int, str]:
    """Each department as "Branch — Department" (branches often share department names)."""
    return {department.id: f"{branch.name} — {department.name}"
            for branch, departments in queries.organisation_structure(session)
            for department in departments}


def target_text(target: int | None, assigned: Assigned, departments: Mapping[int, str]) -> str:
    """What an assignment applies to, named so it cannot be mistaken for another."""
    if assigned.level is Level.DEPARTMENT and target is not None:
        return departments.get(target, assigned.target)
    return assigned.target


def messages(groups: Iterable[list[Problem]]) -> list[str]:
    """Problems as messages in the page's language."""
    language = current_language()
    return [render(problem.code, problem.params, language) for problems in groups
            for problem in problems]


def put_errors(form: FlaskForm, violation: RuleViolation) -> list[Agent]:
    """Each problem by the field it names (or above the form); the agents the refusal names."""
    for name, problems in violation.problems.items():
        target = form._fields.get(name)
        (target.errors if target is not None else form.form_errors).extend(
            messages([problems]))
    return refused_agents(violation)


def refused_agents(violation: RuleViolation) -> list[Agent]:
    """The active agents a "forwards would break" refusal names, to link to them."""
    extensions = [str(each) for problems in violation.problems.values() for problem in problems
                  if problem.code == "forwards_would_break"
                  for each in problem.params.get("extensions", [])]
    if not extensions:
        return []
    return list(db.session.scalars(select(Agent).options(selectinload(Agent.employee)).where(
        Agent.extension.in_(extensions), is_active(Agent.status)).order_by(Agent.extension)))


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
