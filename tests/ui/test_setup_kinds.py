"""The setup form offers every ticket kind of the registry, each marked with what it asks for."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.pages import sign_in
from tests.support.world import World
from web.messages import catalog
from workflow.tickets.kinds import KINDS


@pytest.fixture
def requester(app: Flask, world: World) -> FlaskClient:
    """A browser signed in as the requester."""
    client = app.test_client()
    sign_in(client, world.emails["requester"])
    return client


def kind_radios(page: str) -> dict[str, str]:
    """Each kind radio of the page, by its value."""
    return {re.search(r'value="([a-z_]+)"', tag).group(1): tag  # type: ignore[union-attr]
            for tag in re.findall(r'<input[^>]*name="kind"[^>]*>', page)}


def test_every_kind_is_offered_with_what_the_page_script_shows_for_it(
    requester: FlaskClient
) -> None:
    radios = kind_radios(requester.get("/agents/setup").get_data(as_text=True))
    assert list(radios) == list(KINDS)
    for code, kind in KINDS.items():
        assert ("data-needs-agent" in radios[code]) is kind.needs_agent
        assert ("data-routes" in radios[code]) is kind.routes
        assert ("data-picks-extension" in radios[code]) is kind.picks_extension
        assert ("data-resets-password" in radios[code]) is kind.resets_password


def test_kinds_are_named_in_the_page_language(requester: FlaskClient) -> None:
    english = requester.get("/agents/setup?lang=en").get_data(as_text=True)
    vietnamese = requester.get("/agents/setup?lang=vi").get_data(as_text=True)
    for kind in KINDS.values():
        in_english = catalog("en").gettext(kind.label)
        assert in_english in english and kind.label not in english
        assert kind.label in vietnamese


def test_a_blank_extension_is_explained_for_the_kind_asked_for(requester: FlaskClient) -> None:
    new = requester.get("/agents/setup?kind=new").get_data(as_text=True)
    change = requester.get("/agents/setup?kind=change").get_data(as_text=True)
    assert re.search(r'id="extension-empty-new">', new)
    assert re.search(r'id="extension-empty-change" hidden>', new)
    assert re.search(r'id="extension-empty-new" hidden>', change)
    assert re.search(r'id="extension-empty-change">', change)
