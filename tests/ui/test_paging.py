"""Long lists page by keyset: following the links walks every row once, in order, both ways."""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.pages import signed_in_as
from tests.support.world import World
from web.extensions import db
from workflow import paging
from workflow.models import Agent, Employee, Ticket

#: More than two pages of 50, so a walk crosses at least two cursors.
ROWS = 123
#: Names that tie in pairs, so the order must fall back to the id.
GIVEN = ("An", "Bình", "Cường", "Dũng", "Đức", "Giang", "Hà", "Hương")
MOMENT = datetime(2026, 11, 30, 8, 0, 0, 123456)


def staff_with_agents(world: World) -> list[int]:
    """ROWS employees with agents; names, change times and extensions tie in places."""
    agents = []
    for number in range(ROWS):
        employee = Employee(department_id=world.department_ids[number % 2],
                            full_name=f"Nguyễn Văn {GIVEN[number % len(GIVEN)]}")
        agents.append(Agent(employee=employee, extension=f"6{number:03d}",
                            sip_username=f"sip-page-{number}",
                            # Every three agents share a change time (to the microsecond).
                            updated_at=MOMENT - timedelta(minutes=number // 3)))
    db.session.add_all(agents)
    db.session.commit()
    return [agent.id for agent in agents]


def rows_of(page: str) -> list[int]:
    """The agent or ticket ids the page lists, in order."""
    return [int(n) for n in re.findall(r'href="/(?:agents|tickets|admin/employees)/(\d+)"',
                                       page)]


def link(page: str, label: str) -> str | None:
    """The address of the pager link with this label, unless it is disabled."""
    found = re.search(r'<li class="page-item( disabled)?">\s*<a class="page-link" href="([^"]+)"'
                      r'[^>]*>' + re.escape(label) + "<", page)
    return None if found is None or found.group(1) else html.unescape(found.group(2))


def walk(client: FlaskClient, start: str) -> tuple[list[list[int]], list[str], list[str]]:
    """Follow "Trang sau" from `start` to the end, then "Trang trước" back to the start.

    Returns the rows of each page going forward, the pages' labels forward, and the
    addresses visited going back.
    """
    pages, labels, back = [], [], []
    address: str | None = start
    text = ""
    while address is not None:
        response = client.get(address)
        assert response.status_code == 200, address
        text = response.get_data(as_text=True)
        pages.append(rows_of(text))
        labels.append(re.findall(r"Trang \d+(?: / \d+)?", text)[0])
        address = link(text, "Trang sau")
    address = link(text, "Trang trước")
    while address is not None:
        back.append(address)
        response = client.get(address)
        assert rows_of(response.get_data(as_text=True)) == pages[-1 - len(back)], address
        address = link(response.get_data(as_text=True), "Trang trước")
    return pages, labels, back


@pytest.mark.parametrize("sort", ["updated", "name", "extension"])
def test_the_agent_list_walks_every_agent_once_in_order_by_cursor(
    app: Flask, world: World, sort: str
) -> None:
    staff_with_agents(world)
    client = signed_in_as(app, world, "requester")
    pages, labels, back = walk(client, f"/agents?sort={sort}")
    assert [len(rows) for rows in pages] == [50, 50, ROWS - 100]
    assert labels == ["Trang 1 / 3", "Trang 2 / 3", "Trang 3 / 3"]
    # The same rows, in the same order, as reading each page by its number (OFFSET).
    by_number = [rows_of(client.get(f"/agents?sort={sort}&page={n}").get_data(as_text=True))
                 for n in (1, 2, 3)]
    assert pages == by_number
    walked = [row for rows in pages for row in rows]
    assert len(set(walked)) == ROWS
    with app.app_context():
        agents = {agent.id: agent for agent in db.session.query(Agent).all()}
        keys = {
            "updated": lambda a: (-a.updated_at.timestamp(), -a.id),
            "name": lambda a: (a.employee.sort_name, -a.id),
            "extension": lambda a: (a.extension, -a.id),
        }[sort]
        assert walked == sorted(walked, key=lambda agent_id: keys(agents[agent_id]))
    # Pages after the first are reached by cursor; back to page 1 by number, without one.
    assert "after=" in (link(client.get(f"/agents?sort={sort}").get_data(as_text=True),
                             "Trang sau") or "")
    assert "before=" in back[0] and "before=" not in back[-1] and "after=" not in back[-1]


def test_the_next_page_continues_after_the_last_row_shown_even_when_rows_move(
    app: Flask, world: World
) -> None:
    agent_ids = staff_with_agents(world)
    client = signed_in_as(app, world, "requester")
    first = client.get("/agents").get_data(as_text=True)
    following = link(first, "Trang sau")
    assert following is not None
    # Between the two clicks, an agent of a later page changes and moves to the top: by
    # position every row of page 2 would shift by one and the last of page 1 show again.
    with app.app_context():
        moved = db.session.get(Agent, agent_ids[-1])
        assert moved is not None
        moved.updated_at = MOMENT + timedelta(days=1)
        db.session.commit()
    shown_first = rows_of(first)
    second = rows_of(client.get(following).get_data(as_text=True))
    assert not set(second) & set(shown_first)
    with app.app_context():
        order = [agent.id for agent in db.session.query(Agent).order_by(
            Agent.updated_at.desc(), Agent.id.desc())]
    assert second == order[order.index(shown_first[-1]) + 1:][:50]
    assert second != rows_of(client.get("/agents?page=2").get_data(as_text=True))


def test_a_cursor_keeps_the_filters_and_a_filter_change_starts_again(
    app: Flask, world: World
) -> None:
    staff_with_agents(world)
    client = signed_in_as(app, world, "requester")
    first = client.get(f"/agents?department_id={world.department_ids[0]}").get_data(
        as_text=True)
    following = link(first, "Trang sau")
    assert following is not None and f"department_id={world.department_ids[0]}" in following
    second = client.get(following).get_data(as_text=True)
    with app.app_context():
        in_department = {agent.id for agent in db.session.query(Agent).join(Employee).filter(
            Employee.department_id == world.department_ids[0])}
    assert set(rows_of(second)) <= in_department and rows_of(second)
    assert "Trang 2 / 2" in second
    assert link(second, "Trang sau") is None


def test_my_tickets_all_tickets_and_the_queue_walk_by_cursor(app: Flask, world: World) -> None:
    agent_ids = staff_with_agents(world)
    with app.app_context():
        agents = db.session.query(Agent).filter(Agent.id.in_(agent_ids)).all()
        for number, agent in enumerate(agents):
            db.session.add(Ticket(
                kind="change", employee_id=agent.employee_id, agent_id=agent.id,
                branch_id=world.branch_ids[0], requester_id=world.requester_id,
                routing_type="app_web", state="submitted",
                # Tickets filed in the same second tie on the queue's first key.
                created_at=MOMENT + timedelta(seconds=number // 4)))
        db.session.commit()
        ticket_ids = sorted(t.id for t in db.session.query(Ticket))
    newest_first = list(reversed(ticket_ids))
    mine, _labels, _back = walk(signed_in_as(app, world, "requester"), "/tickets")
    assert [row for rows in mine for row in dict.fromkeys(rows)] == newest_first
    everything, _labels, _back = walk(signed_in_as(app, world, "admin"), "/tickets/all")
    assert [row for rows in everything for row in dict.fromkeys(rows)] == newest_first
    queue, _labels, _back = walk(signed_in_as(app, world, "approver"), "/approvals")
    assert [row for rows in queue for row in dict.fromkeys(rows)] == ticket_ids


def test_the_staff_page_walks_everyone_by_given_name(app: Flask, world: World) -> None:
    staff_with_agents(world)
    client = signed_in_as(app, world, "admin")
    pages, _labels, _back = walk(client, "/admin/employees")
    walked = [row for rows in pages for row in dict.fromkeys(rows)]
    with app.app_context():
        expected = [e.id for e in db.session.query(Employee).order_by(Employee.sort_name,
                                                                      Employee.id)]
    assert walked == expected
    assert walked != sorted(walked)


def test_past_the_count_cap_a_list_says_more_than_and_still_pages(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff_with_agents(world)
    monkeypatch.setattr(paging, "COUNT_CAP", 60)
    client = signed_in_as(app, world, "requester")
    pages, labels, _back = walk(client, "/agents")
    first = client.get("/agents").get_data(as_text=True)
    assert "Hơn 60 tài khoản agent" in first
    assert labels == ["Trang 1", "Trang 2", "Trang 3"]
    assert sum(len(rows) for rows in pages) == ROWS
    english = client.get("/agents?lang=en").get_data(as_text=True)
    assert "More than 60 agent accounts" in english


def cursor(values: object) -> str:
    """A cursor as the pages write them, around any JSON value."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize("forged", [
    "not base64 at all!", cursor("a string"), cursor([1]), cursor([None, None]),
    cursor(["2026-11-30T08:00:00+99:00", 5]), cursor(["2026-13-45T00:00:00", 5]),
    cursor(["2026-11-30T08:00:00", 2**70]), cursor(["2026-11-30T08:00:00", True]),
    '["\\ud800", 1]', cursor(["\ud800", 1]), cursor(["x\u0000", 1]), "A" * 5000,
    "%F0%9F%98%80", cursor({"a": 1}),
])
def test_a_forged_cursor_is_ignored_and_the_page_is_read_by_number(
    app: Flask, world: World, forged: str
) -> None:
    staff_with_agents(world)
    client = signed_in_as(app, world, "requester")
    expected = rows_of(client.get("/agents?page=2").get_data(as_text=True))
    for name in ("after", "before"):
        response = client.get("/agents", query_string={"page": "2", name: forged})
        assert response.status_code == 200, (name, forged)
        assert rows_of(response.get_data(as_text=True)) == expected


def test_a_cursor_for_another_order_is_not_taken_for_this_one(
    app: Flask, world: World
) -> None:
    staff_with_agents(world)
    client = signed_in_as(app, world, "requester")
    by_name = link(client.get("/agents?sort=name").get_data(as_text=True), "Trang sau")
    assert by_name is not None
    after = re.search(r"after=([^&]+)", by_name)
    assert after is not None
    # The name order's cursor (text, id) given to the newest-change order (time, id).
    response = client.get(f"/agents?sort=updated&page=2&after={after.group(1)}")
    assert response.status_code == 200
    assert rows_of(response.get_data(as_text=True)) == rows_of(
        client.get("/agents?sort=updated&page=2").get_data(as_text=True))
