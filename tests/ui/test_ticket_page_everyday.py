"""The ticket page, the queue and the notices as an office uses them every day."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.pages import csrf_token, page_of
from tests.support.world import World, actor, provision, submit
from web.extensions import db
from workflow.models import Agent, Notification, TicketEvent
from workflow.tickets import decisions, notifications
from workflow.tickets.submission import TicketKind


def test_the_ticket_page_sums_up_branch_department_routing(
    browsers: dict[str, FlaskClient], world: World
) -> None:
    ticket = submit(world, extension="5001", routing_type="phone",
                    priority_number="0912345678", backup_number="0987654321",
                    details="x" * 300)
    page = page_of(browsers["requester"], f"/tickets/{ticket.id}")
    assert '<dd class="col-sm-9 ticket-branch">Hà Nội</dd>' in page
    assert '<dd class="col-sm-9 ticket-department">Kinh doanh</dd>' in page
    assert "Số ưu tiên" in page and "ticket-routing" in page
    # A long run without spaces wraps (the page's stylesheet breaks it anywhere).
    assert 'class="col-sm-9 ticket-details">' + "x" * 300 in page
    css = browsers["requester"].get("/static/agentdesk.css").get_data(as_text=True)
    assert ".ticket-details { white-space: pre-wrap; overflow-wrap: anywhere; }" in css


def test_a_revoke_shows_the_extension_it_revokes_and_links_the_agent(
    app: Flask, browsers: dict[str, FlaskClient], world: World
) -> None:
    provision(app, world, submit(world, extension="5001"))
    agent = db.session.scalars(select(Agent).where(Agent.extension == "5001")).one()
    revoke = submit(world, kind=TicketKind.REVOKE)
    page = page_of(browsers["requester"], f"/tickets/{revoke.id}")
    assert '<dd class="col-sm-9 ticket-extension">5001</dd>' in page
    assert f'class="ticket-agent" href="/agents/{agent.id}"' in page


def test_the_completion_adds_no_empty_table_to_the_timeline(
    app: Flask, browsers: dict[str, FlaskClient], world: World
) -> None:
    ticket = submit(world, extension="5001")
    provision(app, world, ticket)
    page = page_of(browsers["requester"], f"/tickets/{ticket.id}")
    assert "Cấu hình xong" in page
    # One before/after table: the submission's; the completion's agent id shows none.
    assert page.count('<table class="table table-sm w-auto mb-0 changes">') == 1


def test_the_queue_has_a_branch_column_and_a_select_all_box(
    browsers: dict[str, FlaskClient], world: World
) -> None:
    submit(world, extension="5001")
    queue = page_of(browsers["approver"], "/approvals")
    # Each cell names its column for the card a phone shows (data-label)
    assert '<td class="ticket-branch" data-label="Chi nhánh">Hà Nội</td>' in queue
    assert 'data-select-all="ticket_ids"' in queue and "Chọn tất cả" in queue
    assert 'src="/static/select_all.js"' in queue and "<script>" not in queue
    script = browsers["approver"].get("/static/select_all.js")
    assert script.status_code == 200 and b"data-select-all" in script.data
    css = browsers["approver"].get("/static/agentdesk.css").get_data(as_text=True)
    assert "table.changes td { white-space: nowrap; }" in css


def test_a_rejection_without_reason_says_the_same_on_the_ticket_and_in_the_queue(
    browsers: dict[str, FlaskClient], world: World
) -> None:
    ticket = submit(world, extension="5001")
    approver = browsers["approver"]
    on_ticket = approver.post(f"/tickets/{ticket.id}/reject", data={
        "reason": "", "csrf_token": csrf_token(approver, f"/tickets/{ticket.id}")})
    assert on_ticket.status_code == 422
    in_queue = approver.post("/approvals", data={
        "ticket_ids": str(ticket.id), "comment": "", "reject": "1",
        "csrf_token": csrf_token(approver, "/approvals")})
    for response in (on_ticket, in_queue):
        assert "Bắt buộc nhập trường này." in response.get_data(as_text=True)
        assert "Nhập lý do để từ chối." not in response.get_data(as_text=True)


def test_a_select_left_empty_asks_to_choose(
    browsers: dict[str, FlaskClient], world: World
) -> None:
    admin = browsers["admin"]
    response = admin.post("/admin/departments/new", data={
        "branch_id": "", "name": "Kế toán",
        "csrf_token": csrf_token(admin, "/admin/departments/new")})
    page = response.get_data(as_text=True)
    assert "Vui lòng chọn chi nhánh." in page
    assert "Bắt buộc nhập trường này." not in page


def test_the_unread_filter_and_the_extension_in_notices(
    browsers: dict[str, FlaskClient], world: World
) -> None:
    first = submit(world, extension="5001")
    submit(world, extension="5002", employee_id=world.employee_ids[1])
    approver = browsers["approver"]
    notice = db.session.scalars(select(Notification).where(
        Notification.user_id == world.approver_id, Notification.ticket_id == first.id)).one()
    notifications.mark_read(db.session, world.approver_id, notice.id)
    everything = page_of(approver, "/notifications")
    assert "số máy lẻ 5001" in everything and "số máy lẻ 5002" in everything
    unread = page_of(approver, "/notifications?unread=1")
    assert "Chưa đọc" in unread
    assert "số máy lẻ 5002" in unread and "số máy lẻ 5001" not in unread
    assert len(notifications.list_notifications(db.session, world.approver_id,
                                                unread_only=True)) == 1


def cancel_notices(ticket_id: int) -> list[int]:
    """Who was told of the ticket's cancellation."""
    return list(db.session.scalars(
        select(Notification.user_id).join(TicketEvent, TicketEvent.id == Notification.event_id)
        .where(Notification.ticket_id == ticket_id, TicketEvent.action == "cancel")).all())


def test_approvers_learn_once_that_a_ticket_they_were_to_decide_was_cancelled(
    app: Flask, world: World
) -> None:
    ticket = submit(world, extension="5001")
    decisions.cancel_ticket(db.session, actor(world.requester_id), ticket.id)
    assert cancel_notices(ticket.id) == [world.approver_id]  # not the requester who cancelled
    watched = submit(world, extension="5002", employee_id=world.employee_ids[1],
                     notify_user_ids=(world.approver_id,))
    decisions.cancel_ticket(db.session, actor(world.requester_id), watched.id)
    assert cancel_notices(watched.id) == [world.approver_id]  # once, though also a watcher


def test_a_done_ticket_is_called_hoan_tat_in_messages_as_on_its_badge(
    app: Flask, browsers: dict[str, FlaskClient], world: World
) -> None:
    ticket = submit(world, extension="5001")
    provision(app, world, ticket)
    approver = browsers["approver"]
    response = approver.post(f"/tickets/{ticket.id}/approve", data={
        "comment": "", "csrf_token": csrf_token(approver, f"/tickets/{ticket.id}")},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Không thể duyệt khi phiếu đang ở trạng thái hoàn tất." in page
    assert "đã cấu hình" not in page
