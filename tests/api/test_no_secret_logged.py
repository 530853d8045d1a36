"""Every log line is JSON, and none carries a password, a session cookie, a token or a link."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from xml.etree import ElementTree

from flask import Flask
from sqlalchemy import select

from tasks.logs import JsonFormatter
from tests.support.api import ApiClient, new_ticket
from tests.support.apps import drain
from tests.support.credentials import latest, with_email
from tests.support.pages import csrf_token
from tests.support.world import PASSWORD, World
from web.access_log import ACCESS_LOGGER, AccessLog
from web.extensions import db
from workflow.models import Agent
from workflow.people.accounts import create_token

#: What Linphone sends when it fetches its remote provisioning.
LINPHONE = {"User-Agent": "Linphonec/5.1.65"}
NAMESPACE = "{http://www.linphone.org/xsds/lpconfig.xsd}"


@contextmanager
def everything_logged(app: Flask) -> Iterator[io.StringIO]:
    """Capture every log line, at every level, as `serve` writes them (with its access log,
    which writes a request's line when its response is closed: buffered test requests)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level, access_level = root.level, logging.getLogger(ACCESS_LOGGER).level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
    inner = app.wsgi_app
    app.wsgi_app = AccessLog(inner)  # type: ignore[method-assign]
    try:
        yield stream
    finally:
        app.wsgi_app = inner  # type: ignore[method-assign]
        root.removeHandler(handler)
        root.setLevel(level)
        logging.getLogger(ACCESS_LOGGER).setLevel(access_level)


def sip_password(xml: bytes) -> str:
    """The password in a Linphone remote provisioning document."""
    root = ElementTree.fromstring(xml)
    for section in root.findall(f"{NAMESPACE}section"):
        for entry in section.findall(f"{NAMESPACE}entry"):
            if entry.get("name") == "passwd" and entry.text:
                return entry.text
    raise AssertionError("no password in the document")


def test_a_tickets_life_logs_json_lines_and_no_secret(app: Flask, world: World) -> None:
    with everything_logged(app) as log:
        # Given a ticket filed and approved through the API, and provisioned
        requester_token = create_token(db.session, world.emails["requester"])
        approver_token = create_token(db.session, world.emails["approver"])
        db.session.commit()
        requester = ApiClient(app.test_client(), requester_token)
        ticket = new_ticket(requester, world, extension="5001")
        approver = ApiClient(app.test_client(), approver_token)
        approved = approver.post(f"/api/v1/tickets/{ticket['id']}/approve", buffered=True)
        assert approved.status_code == 200
        drain(app)
        db.session.expire_all()
        agent = db.session.scalars(select(Agent).where(Agent.extension == "5001")).one()

        # When the employee signs in, makes a device link and their phone app loads it
        employee = with_email(app, world)
        response = employee.post(f"/my/credentials/{latest(agent).id}/device-link",
                                 data={"csrf_token": csrf_token(employee, "/my/credentials")},
                                 buffered=True)
        assert response.status_code == 200
        address = re.search(r'id="device-link-address">([^<]+)<', response.get_data(as_text=True))
        assert address is not None
        path = address.group(1)[address.group(1).index("/provision/"):]
        fetched = app.test_client().get(path, headers=LINPHONE, buffered=True)
        assert fetched.status_code == 200
        password = sip_password(fetched.data)
        cookie = employee.get_cookie("session")
        assert cookie is not None

    # Then every line is one JSON object, the requests are there, and no secret is
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    access = [line["message"] for line in lines if line["logger"] == ACCESS_LOGGER]
    assert any("/provision/<token>" in line for line in access)
    assert any(f"/api/v1/tickets/{ticket['id']}/approve" in line for line in access)
    assert all(line.get("request_id") for line in lines if line["logger"] == ACCESS_LOGGER)
    text = log.getvalue()
    secrets = {"SIP password": password, "session cookie": cookie.value,
               "requester's API token": requester_token, "approver's API token": approver_token,
               "link token": path.split("/provision/", 1)[1], "sign-in password": PASSWORD}
    assert [name for name, secret in secrets.items() if secret in text] == []
