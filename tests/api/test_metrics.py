"""`/metrics`: exposed without sign-in, moving through a ticket's life, and the dashboard's
metrics all present."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from tasks.mail import SmtpMailer, SmtpSettings
from tasks.metrics import CountingMailer
from tasks.relay import DUTIES, run_pass
from tasks.runtime import runtime
from tests.support.api import ApiClient, new_ticket
from tests.support.apps import drain
from tests.support.mail import Inbox
from tests.support.processes import free_port
from tests.support.world import World
from web.extensions import db
from workflow.db import utcnow
from workflow.ports import NotificationLetter
from workflow.tickets.notifications import email_pending

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "agentdesk.json"
#: Suffixes prometheus-client adds to a family's name in its samples.
SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")


class Scrape:
    """One `/metrics` answer, parsed with prometheus-client's own text parser."""

    def __init__(self, text: str) -> None:
        self.families = list(text_string_to_metric_families(text))

    def value(self, name: str, **labels: str) -> float:
        """The sample `name` whose labels include `labels`, summed; 0 when there is none."""
        return sum(sample.value for family in self.families for sample in family.samples
                   if sample.name == name and labels.items() <= sample.labels.items())

    def names(self) -> set[str]:
        """Every family and sample name exposed."""
        return ({family.name for family in self.families}
                | {sample.name for family in self.families for sample in family.samples})

    def label_values(self) -> set[str]:
        """Every label value exposed."""
        return {value for family in self.families for sample in family.samples
                for value in sample.labels.values()}


def scrape(app: Flask, **headers: str) -> Scrape:
    """GET /metrics without signing in."""
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain"
    return Scrape(response.get_data(as_text=True))


def test_metrics_move_through_a_tickets_life(
    app: Flask, api: Callable[[str], ApiClient], world: World, smtp: tuple[int, Inbox]
) -> None:
    start = scrape(app)
    assert start.value("agentdesk_database_up") == 1
    assert start.value("agentdesk_tickets", state="submitted") == 0
    assert start.value("agentdesk_outbox_backlog") == 0

    requester, approver = api("requester"), api("approver")
    ticket = new_ticket(requester, world, extension="5001")
    submitted = scrape(app)
    assert submitted.value("agentdesk_tickets", state="submitted") == 1
    assert submitted.value("agentdesk_oldest_pending_approval_seconds") >= 0
    created = dict(method="POST", route="/api/v1/tickets", status="201")
    assert (submitted.value("agentdesk_http_requests_total", **created)
            == start.value("agentdesk_http_requests_total", **created) + 1)
    timed = dict(method="POST", route="/api/v1/tickets")
    assert (submitted.value("agentdesk_http_request_duration_seconds_count", **timed)
            == start.value("agentdesk_http_request_duration_seconds_count", **timed) + 1)

    url = f"/api/v1/tickets/{ticket['id']}/approve"
    assert approver.post(url).status_code == 200
    approved = scrape(app)
    assert approved.value("agentdesk_tickets", state="submitted") == 0
    assert approved.value("agentdesk_tickets", state="approved") == 1
    assert approved.value("agentdesk_oldest_pending_approval_seconds") == 0
    assert approved.value("agentdesk_outbox_backlog") == 1
    assert approved.value("agentdesk_http_requests_total", method="POST",
                          route="/api/v1/tickets/<int:ticket_id>/approve", status="200") >= 1

    drain(app)
    done = scrape(app)
    assert done.value("agentdesk_tickets", state="approved") == 0
    assert done.value("agentdesk_tickets", state="provisioned") == 1
    assert done.value("agentdesk_outbox_backlog") == 0
    assert done.value("agentdesk_outbox_oldest_seconds") == 0
    provisioned = dict(phone_system="directory", outcome="provisioned")
    assert (done.value("agentdesk_provisioning_attempts_total", **provisioned)
            == approved.value("agentdesk_provisioning_attempts_total", **provisioned) + 1)
    # Every provisioning message is timed, whatever its outcome: the workers of apps that
    # earlier tests left in this process may time a message of theirs meanwhile.
    assert (done.value("agentdesk_provisioning_duration_seconds_count", phone_system="directory")
            >= approved.value("agentdesk_provisioning_duration_seconds_count",
                              phone_system="directory") + 1)
    assert (done.value("agentdesk_worker_messages_total", result="ok")
            > approved.value("agentdesk_worker_messages_total", result="ok"))

    run_pass(app, runtime(app))
    relayed = scrape(app)
    for duty in DUTIES:
        assert (relayed.value("agentdesk_relay_duties_total", duty=duty.__name__, result="ok")
                == done.value("agentdesk_relay_duties_total", duty=duty.__name__, result="ok")
                + 1)

    port, inbox = smtp
    sent = email_pending(db.session, CountingMailer(SmtpMailer(SmtpSettings("127.0.0.1", port))))
    assert sent == len(inbox.messages) >= 1
    mailed = scrape(app)
    assert (mailed.value("agentdesk_emails_total", kind="notification", result="sent")
            == relayed.value("agentdesk_emails_total", kind="notification", result="sent") + sent)

    # No label names a person, an address or an extension.
    leaks = {value for value in mailed.label_values()
             for private in (*world.emails.values(), "5001", "Người")
             if private in value}
    assert not leaks


def test_an_email_that_cannot_go_is_counted_as_failed(app: Flask) -> None:
    before = scrape(app).value("agentdesk_emails_total", kind="notification", result="failed")
    mailer = CountingMailer(SmtpMailer(SmtpSettings("127.0.0.1", free_port())))  # nobody there
    letter = NotificationLetter(
        notification_id=1, user_id=1, email="someone@test.vn", language="vi", action="approve",
        comment="", ticket_id=1, ticket_kind="new", employee_name="Nhân Viên", extension="5001",
        written_at=utcnow(), link="http://localhost:5000/tickets/1")
    with pytest.raises(OSError):
        mailer.send_notification(letter)
    after = scrape(app).value("agentdesk_emails_total", kind="notification", result="failed")
    assert after == before + 1


def test_a_metrics_token_is_required_when_set(app: Flask) -> None:
    app.config["METRICS_TOKEN"] = "s3cret-scrape-token"
    try:
        client = app.test_client()
        refused = client.get("/metrics")
        assert refused.status_code == 401 and refused.mimetype == "text/plain"
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/metrics", headers=wrong).status_code == 401
        assert scrape(app, Authorization="Bearer s3cret-scrape-token").value(
            "agentdesk_database_up") == 1
    finally:
        app.config["METRICS_TOKEN"] = None


def test_every_metric_the_dashboard_queries_is_exposed(app: Flask) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    expressions = [target["expr"] for panel in dashboard["panels"]
                   for target in panel["targets"]]
    queried = {name for expression in expressions
               for name in re.findall(r"agentdesk_[a-z_]+", expression)}
    assert len(queried) >= 15
    exposed = scrape(app).names()
    missing = {name for name in queried
               if name not in exposed
               and not any(name.endswith(suffix) and name.removesuffix(suffix) in exposed
                           for suffix in SUFFIXES)}
    assert not missing
