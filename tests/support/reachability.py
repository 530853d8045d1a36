"""agentdesk on the test Kamailio with provisioned agents, as its pages and its API show them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskClient

from tests.support.api import ApiClient
from tests.support.pages import sign_in
from tests.support.world import World
from web.extensions import db
from workflow.people.accounts import create_token


@dataclass
class Site:
    """agentdesk on the test Kamailio with three agents; counts its queries to Kamailio."""

    app: Flask
    world: World
    agent_ids: dict[str, int]
    usernames: dict[str, str]
    statements: list[str] = field(default_factory=list)

    def client(self) -> FlaskClient:
        """A requester signed in to the pages."""
        client = self.app.test_client()
        sign_in(client, self.world.emails["requester"])
        return client

    def page(self, path: str, client: FlaskClient | None = None) -> str:
        """A page as the requester sees it (it must not fail)."""
        response = (client or self.client()).get(path)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    def api(self) -> ApiClient:
        """The API as the requester."""
        with self.app.app_context():
            token = create_token(db.session, self.world.emails["requester"])
            db.session.commit()
        return ApiClient(self.app.test_client(), token)

    def location_queries(self) -> int:
        """How many statements read Kamailio's `location` table so far."""
        return sum("FROM location" in statement for statement in self.statements)


def row_of(page: str, extension: str) -> str:
    """The agent list's row of `extension` (its own cell: another row's call may name it)."""
    for row in re.findall(r"<tr>.*?</tr>", page, re.S):
        if f'<td><span class="font-monospace">{extension}</span></td>' in row:
            return str(row)
    raise AssertionError(f"no row for {extension}")
