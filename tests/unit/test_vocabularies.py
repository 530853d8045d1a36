"""Each fixed vocabulary is one enum, and every place that names its members names them all."""

from __future__ import annotations

from web.api.schemas import AgentArgsSchema
from web.ui.calling.audit import SUBJECT_NAMES
from web.ui.forms import AgentFilterForm
from workflow.domain.calling_rules import AuditSubject
from workflow.domain.rules import AgentStatus


def test_the_audit_trail_names_every_subject() -> None:
    assert set(SUBJECT_NAMES) == set(AuditSubject)


def test_the_agent_filters_offer_every_status() -> None:
    offered = {choice.value for choice in AgentFilterForm.status.kwargs["choices"] if choice.value}
    assert offered == set(AgentStatus)
    allowed = AgentArgsSchema().fields["status"].validate.choices
    assert set(allowed) == set(AgentStatus)
