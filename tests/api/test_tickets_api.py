"""The JSON API: auth, per-field 422s in both languages, 403/404/409, pagination, OpenAPI."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import update

from tests.support.api import ApiClient, new_ticket
from tests.support.apps import drain
from tests.support.world import PASSWORD, World
from web.extensions import db
from workflow.models import User


def test_anonymous_callers_get_401(app: Flask, world: World) -> None:
    client = app.test_client()
    for url in ("/api/v1/branches", "/api/v1/tickets", "/api/v1/agents", "/api/v1/policy"):
        assert client.get(url).status_code == 401
    bad = client.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json["message"] == "Vui lòng đăng nhập."


def test_anonymous_callers_get_401_before_their_input_is_read(app: Flask, world: World) -> None:
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer nope"}):
        invalid_body = client.post("/api/v1/tickets", json={"kind": 7}, headers=headers)
        assert invalid_body.status_code == 401, invalid_body.json
        assert "errors" not in invalid_body.json
        invalid_query = client.get("/api/v1/tickets?state=nonsense&per_page=-1", headers=headers)
        assert invalid_query.status_code == 401, invalid_query.json
    # Signing in is for anonymous callers: its input is checked as ever.
    sign_in = client.post("/api/v1/session", json={"email": 7})
    assert sign_in.status_code == 422 and "email" in sign_in.json["errors"]
    assert client.get("/api/v1/no-such-thing").status_code == 404


def test_session_cookie_sign_in_and_out(app: Flask, world: World) -> None:
    client = app.test_client()
    wrong = client.post(
        "/api/v1/session", json={"email": world.emails["requester"], "password": "wrong"}
    )
    assert wrong.status_code == 401
    signed = client.post(
        "/api/v1/session", json={"email": world.emails["requester"], "password": PASSWORD}
    )
    assert signed.status_code == 200
    assert "HttpOnly" in signed.headers["Set-Cookie"]
    assert client.get("/api/v1/tickets").status_code == 200
    assert client.delete("/api/v1/session", json={}).status_code == 204
    assert client.get("/api/v1/tickets").status_code == 401


def test_a_deactivated_user_is_signed_out_at_once_by_cookie_and_by_token(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    browser = app.test_client()
    browser.post("/api/v1/session", json={"email": world.emails["requester"], "password": PASSWORD})
    token_client = api("requester")
    assert browser.get("/api/v1/tickets").status_code == 200
    assert token_client.get("/api/v1/tickets").status_code == 200
    db.session.execute(update(User).where(User.id == world.requester_id).values(active=False))
    db.session.commit()
    assert browser.get("/api/v1/tickets").status_code == 401
    assert token_client.get("/api/v1/tickets").status_code == 401


def test_cascading_structure_and_policy(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    client = api("requester")
    branches = client.get("/api/v1/branches").json
    assert {b["kind"] for b in branches} == {"office", "branch"}
    departments = client.get(f"/api/v1/branches/{world.branch_ids[0]}/departments").json
    assert {d["id"] for d in departments} == set(world.department_ids[:2])
    employees = client.get(f"/api/v1/departments/{world.department_ids[0]}/employees").json
    assert len(employees) == 4 and employees[0]["agent"] is None
    assert client.get("/api/v1/branches/9999/departments").status_code == 404
    assert client.get("/api/v1/policy").json == {"length": 4, "prefix": "5", "reserved": ["5000"]}
    assert client.get("/api/v1/extensions/suggest").json == {"extension": "5001"}


@pytest.mark.parametrize(
    ("body", "field", "vi", "en"),
    [
        (
            {"kind": "new"},
            "employee_id",
            "Trường này là bắt buộc.",
            "Missing data for required field.",
        ),
        (
            {"kind": "move", "employee_id": 1},
            "kind",
            "Phải là một trong: new, change, revoke.",
            "Must be one of: new, change, revoke.",
        ),
        (
            {"kind": "new", "extension": "0501"},
            "extension",
            "Số máy lẻ không được bắt đầu bằng 0.",
            "An extension cannot start with 0.",
        ),
        (
            {"kind": "new", "routing": {"type": "phone", "priority_number": "0912345678"}},
            "routing.backup_number",
            "Vui lòng nhập số điện thoại.",
            "Please enter a phone number.",
        ),
        (
            {"kind": "new", "routing": {"type": "pigeon"}},
            "routing.type",
            "Phải là một trong: app_web, phone.",
            "Must be one of: app_web, phone.",
        ),
    ],
)
def test_bad_input_gets_a_field_message_in_the_users_language(
    app: Flask,
    api: Callable[[str], ApiClient],
    world: World,
    body: dict,
    field: str,
    vi: str,
    en: str,
) -> None:
    client = api("requester")
    payload = {**body} if field == "employee_id" else {"employee_id": world.employee_ids[0], **body}
    vietnamese = client.post("/api/v1/tickets", payload)
    english = client.post("/api/v1/tickets", payload, headers={"Accept-Language": "en"})
    assert vietnamese.status_code == english.status_code == 422
    assert vi in vietnamese.json["errors"][field]
    assert en in english.json["errors"][field]


def test_a_malformed_body_is_a_422_not_a_500(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    client = api("requester")
    response = client.client.post(
        "/api/v1/tickets",
        data="{not json",
        headers={**client.headers, "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert "message" in response.json


def test_idempotency_key_makes_a_double_submit_one_ticket(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    client = api("requester")
    body = {"kind": "new", "employee_id": world.employee_ids[0], "extension": "5001"}
    first = client.post("/api/v1/tickets", body, headers={"Idempotency-Key": "abc"})
    second = client.post("/api/v1/tickets", body, headers={"Idempotency-Key": "abc"})
    assert first.status_code == second.status_code == 201
    assert first.json["id"] == second.json["id"]
    assert client.get("/api/v1/tickets").json["total"] == 1


def test_full_flow_through_the_api(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    requester, approver = api("requester"), api("approver")
    ticket = new_ticket(
        requester,
        world,
        extension="5001",
        details="Nhân viên mới",
        routing={"type": "phone", "priority_number": "0912345678", "backup_number": "0987654321"},
    )
    assert ticket["routing"]["priority_number"] == "+84912345678"
    queue = approver.get("/api/v1/tickets?state=submitted").json
    assert [t["id"] for t in queue["items"]] == [ticket["id"]]
    approved = approver.post(f"/api/v1/tickets/{ticket['id']}/approve", {"comment": "Đồng ý"})
    assert approved.status_code == 200, approved.json
    assert approved.json["state"] == "approved"
    again = approver.post(f"/api/v1/tickets/{ticket['id']}/approve")
    assert again.status_code == 409 and again.json["error"] == "transition_not_allowed"
    drain(app)
    detail = requester.get(f"/api/v1/tickets/{ticket['id']}").json
    assert detail["state"] == "provisioned"
    assert [e["action"] for e in detail["events"]] == ["submit", "approve", "start", "complete"]
    assert detail["events"][1]["comment"] == "Đồng ý"
    agents = requester.get("/api/v1/agents?status=active&q=5001").json
    assert agents["total"] == 1 and agents["items"][0]["extension"] == "5001"
    agent = requester.get(f"/api/v1/agents/{agents['items'][0]['id']}").json
    assert agent["routing"]["type"] == "phone"
    notices = requester.get("/api/v1/notifications").json
    assert {n["action"] for n in notices} == {"approve", "complete"}
    read = requester.post(f"/api/v1/notifications/{notices[0]['id']}/read")
    assert read.status_code == 200 and read.json["read"] is True
    assert approver.post(f"/api/v1/notifications/{notices[0]['id']}/read").status_code == 404


def test_decisions_need_the_right_person(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    ticket = new_ticket(api("requester"), world, extension="5001")
    url = f"/api/v1/tickets/{ticket['id']}"
    assert api("requester").post(f"{url}/approve").status_code == 403
    assert api("other_approver").post(f"{url}/approve").status_code == 403
    assert api("other_approver").get(url).status_code == 404  # outside their branches
    assert api("approver").post(f"{url}/cancel").status_code == 403
    reject = api("approver").post(f"{url}/reject", {})
    assert reject.status_code == 422 and "reason" in reject.json["errors"]
    assert api("approver").post(f"{url}/reject", {"reason": "Trùng"}).json["state"] == "rejected"
    assert api("requester").post(f"{url}/retry").status_code == 403
    assert api("admin").post(f"{url}/retry").status_code == 409
    assert api("approver").post("/api/v1/tickets/99999/approve").status_code == 404


def test_ticket_list_filters_and_paginates(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    requester = api("requester")
    for index in range(5):
        new_ticket(requester, world, index)
    page = requester.get("/api/v1/tickets?per_page=2&page=2&mine=true").json
    assert (page["total"], page["pages"], len(page["items"])) == (5, 3, 2)
    assert requester.get("/api/v1/tickets?kind=revoke").json["total"] == 0
    bad = requester.get("/api/v1/tickets?state=lost")
    assert bad.status_code == 422 and "state" in bad.json["errors"]
    # The approver of the second branch sees none of them (all are in the first branch).
    assert api("other_approver").get("/api/v1/tickets").json["total"] == 0


def test_openapi_and_health(app: Flask) -> None:
    client = app.test_client()
    spec = client.get("/api/openapi.json").json
    assert (
        "/api/v1/tickets" in spec["paths"]
        and "/api/v1/tickets/{ticket_id}/approve" in spec["paths"]
    )
    assert client.get("/healthz").json == {"status": "ok"}


def test_out_of_range_ids_are_bad_input_not_crashes(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    client = api("requester")
    huge = 10**12
    created = client.post("/api/v1/tickets", {"kind": "new", "employee_id": huge})
    assert created.status_code == 422 and "employee_id" in created.json["errors"]
    assert client.get(f"/api/v1/tickets/{huge}").status_code in (404, 422)
    assert client.get(f"/api/v1/agents/{huge}").status_code in (404, 422)
    assert client.get("/api/v1/agents?page=abc").status_code == 422


def test_an_extension_is_checked_before_submitting_in_both_languages(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    client = api("requester")
    assert client.get("/api/v1/extensions/check?extension=5001").json == {
        "extension": "5001", "problems": []}
    assert client.get("/api/v1/extensions/check?extension=0501").json["problems"] == [
        "Số máy lẻ không được bắt đầu bằng 0.", "Số máy lẻ phải bắt đầu bằng 5."]
    ticket = new_ticket(client, world, extension="5001")
    english = client.get("/api/v1/extensions/check?extension=5001",
                         headers={"Accept-Language": "en"}).json
    assert english["problems"] == [f"Extension 5001 is requested by ticket #{ticket['id']}."]
    assert client.get("/api/v1/extensions/check").status_code == 422


def test_employees_come_with_their_open_ticket(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    client = api("requester")
    filed = client.post("/api/v1/tickets", json={"kind": "new",
                                                 "employee_id": world.employee_ids[2]})
    assert filed.status_code == 201, filed.json
    employees = client.get(f"/api/v1/departments/{world.department_ids[0]}/employees").json
    open_tickets = {person["id"]: person["open_ticket_id"] for person in employees}
    assert open_tickets[world.employee_ids[2]] == filed.json["id"]
    assert [ticket for person, ticket in open_tickets.items()
            if person != world.employee_ids[2]] == [None, None, None]
