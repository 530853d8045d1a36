"""The agent page and the call check give one answer to "may this agent call out"; on both
databases."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from tests.support.pages import sign_in
from tests.support.world import World, provision, submit
from web.extensions import db
from workflow.domain.calling_rules import CallingRules
from workflow.models import Agent


def test_without_a_hotline_the_agent_page_says_calls_out_are_refused(
    app: Flask, world: World
) -> None:
    provision(app, world, submit(world, extension="5001"))
    agent = db.session.scalars(select(Agent).where(Agent.extension == "5001")).one()
    client = app.test_client()
    sign_in(client, world.emails["requester"])
    page = client.get(f"/agents/{agent.id}").get_data(as_text=True)
    outgoing = re.search(r'id="calling-outgoing">([^<]*)<', page)
    assert outgoing is not None
    assert outgoing.group(1).startswith("Không: hồ sơ cho gọi ra nhưng chưa có số hiển thị")
    check = client.get("/api/v1/calling/check?extension=5001&number=0912345678").get_json()
    assert check["allowed"] is False


def test_calls_out_need_permission_and_a_number_to_present() -> None:
    assert not CallingRules(outgoing=True).calls_out
    assert not CallingRules(outgoing=False, caller_ids=("+842838221234",)).calls_out
    assert CallingRules(outgoing=True, caller_ids=("+842838221234",)).calls_out
