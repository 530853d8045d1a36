"""The agent list (Danh sách Agent)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from web.extensions import db
from web.ui.access import signed_in
from web.ui.forms import AgentFilterForm
from workflow import queries

bp = Blueprint("agent_pages", __name__)

#: Rows per page of the agent list.
PER_PAGE = 50


@bp.route("/agents")
@signed_in()
def agent_list() -> Any:
    """Agent accounts, searchable and filtered, one page at a time."""
    form = AgentFilterForm(request.args)
    session = db.session()
    form.branch_id.choices = [SelectChoice("", _("Tất cả"))] + [
        SelectChoice(str(branch.id), branch.name) for branch in queries.list_branches(session)
    ]
    valid = form.validate()
    filters = queries.AgentFilter(
        branch_id=form.branch_id.data, status=form.status.data or None,
        routing_type=form.routing_type.data or None, q=form.q.data or None,
    ) if valid else queries.AgentFilter()
    page = queries.list_agents(session, filters, (form.page.data or 1) if valid else 1, PER_PAGE)
    return render_template("agents/list.html", form=form, page=page)
