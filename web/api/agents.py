"""Agent accounts."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from web.api.schemas import AgentArgsSchema, AgentSchema, page_schema
from web.auth import current_actor
from web.extensions import db
from workflow import queries

blp = Blueprint("agents", __name__, description="Agent accounts")


@blp.route("/agents")
@blp.arguments(AgentArgsSchema, location="query")
@blp.response(200, page_schema(AgentSchema))
def list_agents(args: dict[str, Any]) -> Any:
    """Agents, filtered and paginated."""
    current_actor()
    page, per_page = args.pop("page"), args.pop("per_page")
    return queries.list_agents(db.session(), queries.AgentFilter(**args), page, per_page)


@blp.route("/agents/<int:agent_id>")
@blp.response(200, AgentSchema)
def get_agent(agent_id: int) -> Any:
    """One agent."""
    current_actor()
    return queries.get_agent(db.session(), agent_id)
