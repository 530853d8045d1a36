"""Agent accounts."""

from __future__ import annotations

from typing import Any

from flask import g

from web.api.docs import Blueprint, refuses
from web.api.schemas import AgentArgsSchema, AgentSchema, page_schema
from web.auth import current_actor
from web.errors import error_response
from web.extensions import db
from web.last_calls import last_calls
from web.reachability import registrations
from workflow.agents import queries as agent_queries

blp = Blueprint("agents", __name__, description="Agent accounts")


@blp.route("/agents")
@blp.arguments(AgentArgsSchema, location="query")
@blp.response(200, page_schema(AgentSchema))
@refuses(blp, 503)  # no_device while the phone system cannot be read
def list_agents(args: dict[str, Any]) -> Any:
    """Agents, filtered and paginated, with the devices registered now and their last calls."""
    current_actor()
    page, per_page = args.pop("page"), args.pop("per_page")
    if args.get("no_device"):
        g.registrations = reading = registrations()
        if not reading.readable:
            return error_response(503, "registrations_unreadable")
        args["registered"] = frozenset(reading.devices)
    filters = agent_queries.AgentFilter(**args)
    found = agent_queries.list_agents(db.session(), filters, page, per_page)
    g.last_calls = last_calls(agent.sip_username for agent in found.items)  # one read a page
    return found


@blp.route("/agents/<int:agent_id>")
@blp.response(200, AgentSchema)
def get_agent(agent_id: int) -> Any:
    """One agent, with the devices registered now and its last call."""
    current_actor()
    agent = agent_queries.get_agent(db.session(), agent_id)
    g.last_calls = last_calls([agent.sip_username])
    return agent
