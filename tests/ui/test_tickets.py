"""Ticket pages and the approval queue: who sees and decides what, and the timeline."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.support.apps import drain
from tests.support.pages import csrf_token, page_of, state_of
from tests.support.world import World, actor, failed_ticket, submit
from web.extensions import db
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket


def test_the_queue_shows_waiting_tickets_with_their_change_and_a_count(
    browsers: dict[str, FlaskClient], world: World
) -> None:
    ticket = submit(world, extension="5001")
    queue = page_of(browsers["approver"], "/approvals")
    assert f"#{ticket.id}" in queue and "5001" in queue  # before -> after
    assert 'class="badge text-bg-warning"' in queue  # the navigation's count
    assert "Không có phiếu nào chờ bạn duyệt." in page_of(browsers["other_approver"],
                                                            "/approvals")
    assert f"#{ticket.id}" in page_of(browsers["approver"], "/approvals?kind=new")
    assert f"#{ticket.id}" not in page_of(browsers["approver"], "/approvals?kind=revoke")
    assert f"#{ticket.id}" not in page_of(
        browsers["admin"], f"/approvals?branch_id={world.branch_ids[1]}")


def test_requesters_may_not_open_the_queue(browsers: dict[str, FlaskClient]) -> None:
    assert browsers["requester"].get("/approvals").status_code == 403
    assert "Phiếu chờ duyệt" not in page_of(browsers["requester"], "/agents")


def test_an_approver_approves_from_the_ticket_page_and_the_worker_provisions(
    app: Flask, browsers: dict[str, FlaskClient], world: World
) -> None:
    ticket = submit(world, extension="5001")
    approver = browsers["approver"]
    page = page_of(approver, f"/tickets/{ticket.id}")
    assert "Duyệt" in page and "Từ chối" in page
    response = approver.post(f"/tickets/{ticket.id}/approve", data={
        "comment": "OK", "csrf_token": csrf_token(approver, f"/tickets/{ticket.id}")})
    assert response.status_code == 302
    drain(app)
    assert state_of(ticket.id) == "provisioned"
    timeline = page_of(browsers["requester"], f"/tickets/{ticket.id}")
    for step in ("Gửi phiếu", "Duyệt", "Bắt đầu cấu hình tổng đài", "Cấu hình xong", "OK"):
        assert step in timeline
    assert "Hoàn tất" in timeline


def test_rejecting_needs_a_reason_given_next_to_its_field(
    browsers: dict[str, FlaskClient], world: World
) -> None:
    ticket = submit(world, extension="5001")
    approver = browsers["approver"]
    token = csrf_token(approver, f"/tickets/{ticket.id}")
    refused = approver.post(f"/tickets/{ticket.id}/reject", data={"reason": "",
                                                                 "csrf_token": token})
    assert refused.status_code == 422
    assert "Bắt buộc nhập trường này." in refused.get_data(as_text=True)
    assert state_of(ticket.id) == "submitted"
    approver.post(f"/tickets/{ticket.id}/reject", data={"reason": "Sai phòng ban",
                                                        "csrf_token": token})
    assert state_of(ticket.id) == "rejected"
    rejected = page_of(browsers["requester"], f"/tickets/{ticket.id}")
    assert "Sai phòng ban" in rejected
    assert "Hoàn tất" not in rejected  # the diagram stops where the ticket left the path


def test_nobody_decides_their_own_ticket_nor_one_outside_their_branches(
    browsers: dict[str, FlaskClient], world: World
) -> None:
    ticket = submit(world, extension="5001")
    outsider = browsers["other_approver"]
    assert outsider.get(f"/tickets/{ticket.id}").status_code == 404  # not visible at all
    requester = browsers["requester"]
    page = page_of(requester, f"/tickets/{ticket.id}")
    assert f'action="/tickets/{ticket.id}/approve"' not in page
    requester.post(f"/tickets/{ticket.id}/approve", data={
        "csrf_token": csrf_token(requester, f"/tickets/{ticket.id}")})
    assert state_of(ticket.id) == "submitted"
    assert "Chỉ người duyệt hoặc quản trị viên mới được làm việc này." in page_of(
        requester, f"/tickets/{ticket.id}")
    own = submit_ticket(db.session, actor(world.approver_id), TicketRequest(
        TicketKind.NEW, world.employee_ids[1], "5002"))
    approver = browsers["approver"]
    assert f'action="/tickets/{own.id}/approve"' not in page_of(approver, f"/tickets/{own.id}")
    approver.post(f"/tickets/{own.id}/approve", data={
        "csrf_token": csrf_token(approver, f"/tickets/{own.id}")})
    assert state_of(own.id) == "submitted"
    assert "Bạn không thể tự duyệt phiếu của chính mình." in page_of(
        approver, f"/tickets/{own.id}")


def test_the_requester_cancels_while_it_waits(
    browsers: dict[str, FlaskClient], world: World
) -> None:
    ticket = submit(world, extension="5001")
    requester = browsers["requester"]
    requester.post(f"/tickets/{ticket.id}/cancel", data={
        "confirmed": "y", "csrf_token": csrf_token(requester, f"/tickets/{ticket.id}")})
    assert state_of(ticket.id) == "cancelled"
    assert f"#{ticket.id}" in page_of(requester, "/tickets")


def test_bulk_approve_and_bulk_reject_with_one_comment(
    app: Flask, browsers: dict[str, FlaskClient], world: World
) -> None:
    tickets = [submit(world, employee_id=world.employee_ids[number],
                      extension=f"500{number + 1}") for number in range(3)]
    approver = browsers["approver"]
    token = csrf_token(approver, "/approvals")
    missing_reason = approver.post("/approvals", data={
        "ticket_ids": [str(tickets[2].id)], "reject": "1", "comment": "", "csrf_token": token})
    assert "Bắt buộc nhập trường này." in missing_reason.get_data(as_text=True)  # as on a ticket
    approver.post("/approvals", data={"ticket_ids": [str(t.id) for t in tickets[:2]],
                                      "approve": "1", "comment": "Đợt 1", "csrf_token": token})
    approver.post("/approvals", data={"ticket_ids": [str(tickets[2].id)], "reject": "1",
                                      "comment": "Trùng", "csrf_token": token})
    assert [state_of(t.id) for t in tickets] == ["approved", "approved", "rejected"]
    assert "Không có phiếu nào chờ bạn duyệt." in page_of(approver, "/approvals")


def test_my_tickets_pages_on_beyond_fifty(
    browsers: dict[str, FlaskClient], world: World
) -> None:
    for _ in range(51):  # one employee, each ticket withdrawn before the next
        ticket = submit(world, extension="5001")
        decisions.cancel_ticket(db.session(), actor(world.requester_id), ticket.id)
    first = page_of(browsers["requester"], "/tickets")
    assert "Trang 1 / 2" in first and f"#{ticket.id}<" in first
    second = page_of(browsers["requester"], "/tickets?page=2")
    assert "Trang 2 / 2" in second and f"#{ticket.id}<" not in second


def test_a_failed_ticket_shows_its_error_and_the_approver_retries_it(
    app: Flask, browsers: dict[str, FlaskClient], world: World
) -> None:
    ticket = failed_ticket(app, world)
    assert state_of(ticket.id) == "failed"
    requester_view = page_of(browsers["requester"], f"/tickets/{ticket.id}")
    assert "switchboard unreachable" in requester_view and "Thất bại" in requester_view
    assert f'action="/tickets/{ticket.id}/retry"' not in requester_view
    approver = browsers["approver"]
    assert f'action="/tickets/{ticket.id}/retry"' in page_of(approver, f"/tickets/{ticket.id}")
    approver.post(f"/tickets/{ticket.id}/retry", data={
        "csrf_token": csrf_token(approver, f"/tickets/{ticket.id}")})
    drain(app)
    assert state_of(ticket.id) == "provisioned"


def test_mark_all_notifications_read(browsers: dict[str, FlaskClient], world: World) -> None:
    for number in range(2):
        submit(world, employee_id=world.employee_ids[number], extension=f"500{number + 1}")
    approver = browsers["approver"]
    assert 'class="badge text-bg-danger">2<' in page_of(approver, "/notifications")
    approver.post("/notifications/read", data={
        "csrf_token": csrf_token(approver, "/notifications")})
    page = page_of(approver, "/notifications")
    assert 'class="badge text-bg-danger"' not in page and ">Chưa đọc</span>" not in page
