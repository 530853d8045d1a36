"""All tickets (Tất cả phiếu): scope per role, each filter, failed tickets, the CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

from tests.support.pages import signed_in_as
from tests.support.world import World, actor, failed_ticket, submit
from web.extensions import db
from web.ui import all_tickets
from workflow.models import Employee, Ticket
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket


def listed(client: FlaskClient, query: str = "") -> set[int]:
    """The ticket numbers the page lists for `query`."""
    response = client.get("/tickets/all" + query)
    assert response.status_code == 200, response.status_code
    return {int(n) for n in re.findall(r'href="/tickets/(\d+)"', response.get_data(as_text=True))}


def test_each_role_sees_its_scope_and_the_navigation_links_it_for_deciders(
    app: Flask, world: World
) -> None:
    hanoi = submit(world, extension="5001")
    danang = submit(world, employee_id=world.employee_ids[8], extension="5002")
    assert listed(signed_in_as(app, world, "admin")) == {hanoi.id, danang.id}
    assert listed(signed_in_as(app, world, "approver")) == {hanoi.id}
    assert listed(signed_in_as(app, world, "other_approver")) == {danang.id}
    assert listed(signed_in_as(app, world, "requester")) == {hanoi.id, danang.id}
    # An approver who filed nothing in another branch sees none of it there.
    assert listed(signed_in_as(app, world, "approver"), f"?branch_id={world.branch_ids[1]}") \
        == set()
    admin_page = signed_in_as(app, world, "admin").get("/agents").get_data(as_text=True)
    assert 'href="/tickets/all"' in admin_page
    requester_page = signed_in_as(app, world, "requester").get("/agents").get_data(as_text=True)
    assert 'href="/tickets/all"' not in requester_page


def test_a_requester_sees_only_the_tickets_they_filed(app: Flask, world: World) -> None:
    submit(world, extension="5001")
    by_approver = submit_ticket(db.session, actor(world.approver_id), TicketRequest(
        kind=TicketKind.NEW, employee_id=world.employee_ids[1], extension="5003"))
    assert by_approver.id not in listed(signed_in_as(app, world, "requester"))
    assert by_approver.id in listed(signed_in_as(app, world, "approver"))


def test_failed_tickets_are_counted_and_found_with_one_click(app: Flask, world: World) -> None:
    failed = failed_ticket(app, world)
    waiting = submit(world, employee_id=world.employee_ids[1], extension="5003")
    page = signed_in_as(app, world, "approver").get("/tickets/all").get_data(as_text=True)
    quick = re.search(r'id="failed-filter"\s+href="([^"]+)">Thất bại\s*<span[^>]*>(\d+)<', page)
    assert quick is not None and quick.group(2) == "1"
    client = signed_in_as(app, world, "approver")
    assert listed(client, "?" + quick.group(1).split("?", 1)[1].replace("&amp;", "&")) \
        == {failed.id}
    assert listed(client, "?state=submitted") == {waiting.id}
    english = signed_in_as(app, world, "admin").get("/tickets/all?state=failed&lang=en")
    assert "Failed" in english.get_data(as_text=True)


def test_kind_branch_and_creation_days_filter_the_list(app: Flask, world: World) -> None:
    first = submit(world, extension="5001")
    other = submit(world, employee_id=world.employee_ids[8], extension="5002")
    # 01:00 on 10 January in Vietnam is still 9 January in UTC: days are counted locally.
    db.session.get_one(Ticket, first.id).created_at = datetime(2026, 1, 9, 18, tzinfo=UTC)
    db.session.get_one(Ticket, other.id).created_at = datetime(2026, 1, 12, 3, tzinfo=UTC)
    db.session.commit()
    client = signed_in_as(app, world, "admin")
    assert listed(client, "?kind=new") == {first.id, other.id}
    assert listed(client, "?kind=revoke") == set()
    assert listed(client, f"?branch_id={world.branch_ids[1]}") == {other.id}
    assert listed(client, "?date_from=2026-01-10&date_to=2026-01-10") == {first.id}
    assert listed(client, "?date_from=2026-01-11") == {other.id}
    assert listed(client, "?date_to=2026-01-09") == set()
    # Nonsense is ignored, never a 500.
    assert listed(client, "?date_from=0001-01-01&date_to=9999-12-31&state=x&branch_id=１") \
        == {first.id, other.id}


def test_the_list_is_newest_first_and_paged(app: Flask, world: World) -> None:
    tickets = [submit(world, employee_id=world.employee_ids[i], extension=f"500{i + 1}")
               for i in range(3)]
    original = all_tickets.PER_PAGE
    all_tickets.PER_PAGE = 2
    try:
        page = signed_in_as(app, world, "admin").get("/tickets/all").get_data(as_text=True)
        second = listed(signed_in_as(app, world, "admin"), "?page=2")
    finally:
        all_tickets.PER_PAGE = original
    numbers = [int(n) for n in re.findall(r'href="/tickets/(\d+)"', page)]
    assert numbers == [tickets[2].id, tickets[1].id]
    assert second == {tickets[0].id}


def test_the_export_holds_the_filtered_tickets_with_formulas_neutralised(
    app: Flask, world: World
) -> None:
    db.session.get_one(Employee, world.employee_ids[0]).full_name = "=HYPERLINK(1)"
    db.session.commit()
    mine = submit(world, extension="5001")
    submit(world, employee_id=world.employee_ids[8], extension="5002")
    response = signed_in_as(app, world, "approver").get("/tickets/all/export.csv?kind=new")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["Mã phiếu", "Loại phiếu", "Trạng thái", "Nhân viên"]
    assert [row[:6] for row in rows[1:]] == [
        [str(mine.id), "Cấp mới TK", "Chờ duyệt", "'=HYPERLINK(1)", "Hà Nội", "5001"]]
    assert rows[1][6] == "Người Yêu Cầu"
    empty = signed_in_as(app, world, "approver").get("/tickets/all/export.csv?state=failed")
    assert len(list(csv.reader(io.StringIO(empty.get_data(as_text=True))))) == 1
