"""An agent's page, the CSV export of the list, sorting, and the notification bell."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from tasks.runtime import runtime
from tests.support.api import ApiClient
from tests.support.pages import csrf_token, signed_in_as
from tests.support.world import World, provision, submit
from web.extensions import db
from workflow.models import Agent, Notification
from workflow.tickets.submission import TicketKind


def two_agents(app: Flask, world: World) -> None:
    """5002 for the first employee (then changed to 5009), 5001 for the second."""
    provision(app, world, submit(world, extension="5002"))
    provision(app, world, submit(world, employee_id=world.employee_ids[1], extension="5001"))
    provision(app, world, submit(world, kind=TicketKind.CHANGE, extension="5009"))


def test_an_agent_page_shows_its_settings_and_every_ticket_that_shaped_it(
    app: Flask, world: World
) -> None:
    two_agents(app, world)
    agent = db.session.scalars(select(Agent).where(Agent.extension == "5009")).one()
    page = signed_in_as(app, world, "requester").get(f"/agents/{agent.id}").get_data(
        as_text=True)
    assert "5009" in page and agent.sip_username in page
    assert page.count('href="/tickets/') == 2  # the new ticket, then the change
    assert "Cấp mới TK" in page and "Đổi tài khoản" in page


def test_the_agent_list_sorts_by_extension_and_by_name(app: Flask, world: World) -> None:
    two_agents(app, world)
    client = signed_in_as(app, world, "requester")
    by_extension = client.get("/agents?sort=extension").get_data(as_text=True)
    assert by_extension.index("5001") < by_extension.index("5009")
    newest_first = client.get("/agents").get_data(as_text=True)
    assert newest_first.index("5009") < newest_first.index("5001")


def test_the_csv_export_follows_the_filter_and_opens_in_excel(
    app: Flask, world: World
) -> None:
    two_agents(app, world)
    response = signed_in_as(app, world, "requester").get("/agents/export.csv?q=5009")
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())  # the BOM Excel needs for Vietnamese
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Nhân viên", "Mã nhân viên"]
    assert [row[4] for row in rows[1:]] == ["5009"]


def test_the_bell_counts_unread_notices_and_reading_clears_them(
    app: Flask, world: World
) -> None:
    ticket = submit(world, extension="5001")
    approver = signed_in_as(app, world, "approver")
    page = approver.get("/agents").get_data(as_text=True)
    assert 'class="badge text-bg-danger">1<' in page
    notices = approver.get("/notifications").get_data(as_text=True)
    assert f"Phiếu #{ticket.id}" in notices and "Chưa đọc" in notices
    notice = db.session.scalars(select(Notification).where(
        Notification.user_id == world.approver_id)).one()
    opened = approver.post(f"/notifications/{notice.id}/open",
                           data={"csrf_token": csrf_token(approver, "/notifications")})
    assert opened.headers["Location"] == f"/tickets/{ticket.id}"
    assert 'class="badge text-bg-danger"' not in approver.get("/agents").get_data(as_text=True)


def test_someone_elses_notice_cannot_be_opened(app: Flask, world: World) -> None:
    submit(world, extension="5001")
    notice = db.session.scalars(select(Notification).where(
        Notification.user_id == world.approver_id)).one()
    requester = signed_in_as(app, world, "requester")
    response = requester.post(f"/notifications/{notice.id}/open",
                              data={"csrf_token": csrf_token(requester, "/notifications")})
    assert response.status_code == 404


def test_the_built_in_directory_records_no_call_so_no_agent_has_a_last_one(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    two_agents(app, world)
    names = list(db.session.scalars(select(Agent.sip_username)))
    assert runtime(app).phone_system(db.session()).last_calls(names) == {}
    page = signed_in_as(app, world, "requester").get("/agents").get_data(as_text=True)
    assert page.count('<td class="col-last-call">') == 2
    assert page.count("Chưa có cuộc gọi nào.") == 2 and 'id="calls-unreadable"' not in page
    answer = api("requester").get("/api/v1/agents")
    assert [agent["last_call"] for agent in answer.get_json()["items"]] == [None, None]
    one = db.session.scalars(select(Agent.id)).first()
    assert api("requester").get(f"/api/v1/agents/{one}").get_json()["last_call"] is None
