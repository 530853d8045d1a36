"""One-time links keep their token out of every address a server sees: it travels after "#"
(which browsers never send), and the page posts it; on both databases, without a browser."""

from __future__ import annotations

import re

from flask import Flask

from tests.support.credentials import PRIVATE, SHOW, latest, provisioned
from tests.support.pages import csrf_token, sign_in
from tests.support.world import World
from web.extensions import db
from workflow import credentials


def test_the_link_page_shows_nothing_until_the_token_is_posted(app: Flask, world: World) -> None:
    agent = provisioned(app, world)
    token = credentials.new_link(db.session, latest(agent).id)
    visitor = app.test_client()

    # The address carries no token; its page is a form the script fills from the fragment
    opened = visitor.get("/credentials/open")
    page = opened.get_data(as_text=True)
    assert opened.status_code == 200
    assert {name: opened.headers.get(name) for name in PRIVATE} == PRIVATE
    assert 'id="credential-link"' in page and "credential_link.js" in page
    assert token not in page and SHOW not in page

    # Posting the token shows whose password it is and a button that posts it again
    fields = {"csrf_token": csrf_token(visitor, "/credentials/open"), "token": token}
    looked = visitor.post("/credentials/open", data=fields)
    page = looked.get_data(as_text=True)
    assert looked.status_code == 200
    assert SHOW in page and 'action="/credentials/reveal"' in page
    assert f'name="token" value="{token}"' in page
    assert 'id="sip-password"' not in page
    assert latest(agent).state == "pending"  # looking uses nothing up

    # The button shows the password once
    shown = visitor.post("/credentials/reveal", data=fields)
    assert shown.status_code == 200
    assert re.search(r'id="sip-password">[^<]+<', shown.get_data(as_text=True))
    assert {name: shown.headers.get(name) for name in PRIVATE} == PRIVATE
    again = visitor.post("/credentials/reveal", data=fields)
    assert again.status_code == 409
    assert 'id="sip-password"' not in again.get_data(as_text=True)


def test_a_token_that_is_malformed_or_unknown_is_refused_clearly(app: Flask, world: World
                                                                  ) -> None:
    visitor = app.test_client()
    csrf = csrf_token(visitor, "/credentials/open")
    bad = visitor.post("/credentials/open", data={"csrf_token": csrf, "token": "a b\n<c>"})
    assert bad.status_code == 400
    assert "Mã liên kết không hợp lệ." in bad.get_data(as_text=True)
    unknown = visitor.post("/credentials/reveal", data={"csrf_token": csrf, "token": "x" * 43})
    assert unknown.status_code == 404
    assert "Liên kết không hợp lệ" in unknown.get_data(as_text=True)
    no_csrf = visitor.post("/credentials/reveal", data={"token": "x" * 43})
    assert no_csrf.status_code == 400


def test_mailed_and_handed_over_links_put_the_token_after_the_hash(app: Flask, world: World
                                                                   ) -> None:
    agent = provisioned(app, world)
    admin = app.test_client()
    sign_in(admin, world.emails["admin"])
    handed = admin.post(f"/agents/{agent.id}/credential-link",
                        data={"csrf_token": csrf_token(admin, f"/agents/{agent.id}")})
    link = re.search(r'id="handover-link"[^>]*>\s*([^<\s]+)', handed.get_data(as_text=True))
    assert link is not None
    address, _, token = link.group(1).partition("#")
    assert address.endswith("/credentials/open") and len(token) >= 40
    assert credentials.status_by_link(db.session, token).state == "pending"
