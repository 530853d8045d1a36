"""Change or revoke an agent from its page and from the list: the setup form opens filled in."""

from __future__ import annotations

import html
import re

from flask import Flask
from sqlalchemy import select

from tests.support.pages import signed_in_as
from tests.support.world import World, provision, submit
from web.extensions import db
from workflow.models import Agent
from workflow.tickets.submission import TicketKind


def one_agent(app: Flask, world: World) -> Agent:
    """The first employee's agent, 5002."""
    provision(app, world, submit(world, extension="5002"))
    return db.session.scalars(select(Agent).where(Agent.extension == "5002")).one()


def action_links(page: str) -> dict[str, str]:
    """The agent actions of a page: class name to address."""
    found = re.findall(r'class="btn btn-sm [\w-]+ (agent-[\w-]+)" href="([^"]+)"', page)
    return {name: html.unescape(address) for name, address in found}


def test_the_agent_page_opens_the_setup_form_filled_in_for_a_change_or_a_revoke(
    app: Flask, world: World
) -> None:
    agent = one_agent(app, world)
    client = signed_in_as(app, world, "requester")
    links = action_links(client.get(f"/agents/{agent.id}").get_data(as_text=True))
    assert set(links) == {"agent-change", "agent-revoke"}
    for kind in ("change", "revoke"):
        form = client.get(links[f"agent-{kind}"]).get_data(as_text=True)
        assert re.search(rf'<input checked[^>]*value="{kind}"', form)
        assert re.search(rf'<option selected value="{world.branch_ids[0]}"', form)
        assert re.search(rf'<option selected value="{world.department_ids[0]}"', form)
        assert (f'<option data-extension="5002" selected value="{agent.employee_id}">'
                "Nhân viên 0-0 (số 5002)</option>") in form


def test_the_list_offers_the_actions_for_each_active_agent(app: Flask, world: World) -> None:
    agent = one_agent(app, world)
    page = signed_in_as(app, world, "requester").get("/agents").get_data(as_text=True)
    links = action_links(page)
    where = (f"branch_id={world.branch_ids[0]}&department_id={world.department_ids[0]}"
             f"&employee_id={agent.employee_id}")
    assert links == {"agent-change": f"/agents/setup?kind=change&{where}",
                     "agent-revoke": f"/agents/setup?kind=revoke&{where}"}
    assert "Đổi tài khoản" in page and "Ngừng cấp" in page


def test_an_open_ticket_replaces_the_actions_with_a_link_to_it(app: Flask, world: World) -> None:
    agent = one_agent(app, world)
    change = submit(world, kind=TicketKind.CHANGE, extension="5009")
    client = signed_in_as(app, world, "requester")
    for path in (f"/agents/{agent.id}", "/agents"):
        links = action_links(client.get(path).get_data(as_text=True))
        assert links == {"agent-open-ticket": f"/tickets/{change.id}"}, path


def test_a_revoked_agent_offers_no_action(app: Flask, world: World) -> None:
    agent = one_agent(app, world)
    provision(app, world, submit(world, kind=TicketKind.REVOKE))
    client = signed_in_as(app, world, "admin")
    assert action_links(client.get(f"/agents/{agent.id}").get_data(as_text=True)) == {}
    assert action_links(client.get("/agents").get_data(as_text=True)) == {}
