"""Hostile input never reaches a handler: body size, JSON shape, integers, characters, ids,
methods and phone numbers with an extension, through the JSON API on both databases."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import DataError

from tests.support.api import ApiClient
from tests.support.world import World
from web.errors import handle_data_error

EN = {"Accept-Language": "en"}
#: ASCII digits written in full width ("１" for "1").
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def raw(client: ApiClient | None, app: Flask, url: str, body: str | bytes,
        method: str = "POST") -> Any:
    """Send `body` as it is, labelled JSON, signed in as `client` (or nobody), in English."""
    headers = {**(client.headers if client else {}), **EN}
    return app.test_client().open(url, method=method, data=body, headers=headers,
                                  content_type="application/json")


def ticket_body(world: World, **fields: Any) -> dict[str, Any]:
    """A new-account ticket for the world's first employee."""
    return {"kind": "new", "employee_id": world.employee_ids[0], **fields}


def test_json_nested_10_000_deep_is_refused_with_the_shared_body(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    for client, url in ((None, "/api/v1/session"), (api("requester"), "/api/v1/tickets")):
        response = raw(client, app, url, deep)
        assert response.status_code == 400, url
        assert response.json == {"code": 400, "error": "json_too_deep",
                                 "message": "The JSON is nested too deeply (at most 32 levels)."}
    objects = '{"a":' * 33 + "1" + "}" * 33
    assert raw(api("requester"), app, "/api/v1/tickets", objects).json["error"] == "json_too_deep"
    shallow = '{"a":' * 32 + "1" + "}" * 32  # as deep as allowed: the schema answers
    assert raw(api("requester"), app, "/api/v1/tickets", shallow).json["errors"]["a"] == [
        "Unknown field."]


def test_a_5000_digit_integer_is_a_422_naming_its_field(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    huge = "9" * 5000
    ticket = raw(api("requester"), app, "/api/v1/tickets",
                 f'{{"kind": "new", "employee_id": {huge}}}')
    assert ticket.status_code == 422
    assert ticket.json["errors"] == {"employee_id": ["A number has at most 18 digits."]}
    login = raw(None, app, "/api/v1/session", f'{{"email": "a@b.vn", "password": -{huge}}}')
    assert login.status_code == 422 and "password" in login.json["errors"]
    nineteen = raw(api("requester"), app, "/api/v1/tickets",
                   json.dumps(ticket_body(world, notify_user_ids=[10**18])))
    assert nineteen.json["errors"] == {"notify_user_ids.0": ["A number has at most 18 digits."]}


def test_a_lone_surrogate_is_a_422_naming_its_field_and_nothing_is_stored(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    login = raw(None, app, "/api/v1/session", '{"email": "\\ud800@test.vn", "password": "x"}')
    assert login.status_code == 422
    assert login.json["errors"] == {"email": [
        "Contains a character that is not allowed (a control character or broken Unicode)."]}
    requester = api("requester")
    body = json.dumps(ticket_body(world, routing={"type": "phone"}))
    body = body.replace('"kind"', '"details": "Nh\\u00e2n vi\\ud800n", "kind"')
    body = body.replace('"type": "phone"', '"type": "phone", "priority_number": "\\udfff"')
    response = raw(requester, app, "/api/v1/tickets", body)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"details", "routing.priority_number"}
    key = raw(requester, app, "/api/v1/tickets", '{"\\ud800": 1}')
    assert key.status_code == 422 and list(key.json["errors"]) == ["\\ud800"]
    assert requester.get("/api/v1/tickets").json["total"] == 0


def test_control_characters_are_refused_and_line_breaks_stay_in_free_text_only(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    requester = api("requester")
    refused = "Contains a character that is not allowed (a control character or broken Unicode)."
    for details in ("a\x00b", "bell\x07", "del\x7f", "csi\x9b"):
        response = requester.post("/api/v1/tickets", ticket_body(world, details=details),
                                  headers=EN)
        assert response.json["errors"] == {"details": [refused]}, repr(details)
    one_line = requester.post("/api/v1/tickets", ticket_body(world, extension="5001\n"),
                              headers=EN)
    assert one_line.json["errors"] == {"extension": ["Must be a single line."]}
    vietnamese = requester.post("/api/v1/tickets", ticket_body(world, extension="5001\r"))
    assert vietnamese.json["errors"] == {"extension": ["Chỉ được nhập trên một dòng."]}
    for url in ("/api/v1/agents?q=a%00b", "/api/v1/agents?q=%C2%9B", "/api/v1/tickets?x%01=1"):
        response = requester.get(url, headers=EN)
        assert response.status_code == 422, url
        assert list(response.json["errors"].values()) == [[refused]], url
    text = "Dòng 1\r\nDòng 2\tcột\x85Dòng 3"
    created = requester.post("/api/v1/tickets", ticket_body(world, details=text))
    assert created.status_code == 201 and created.json["details"] == text


def test_an_oversize_body_is_413_and_malformed_json_is_400(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    requester = api("requester")
    big = json.dumps(ticket_body(world, details="x" * (1024 * 1024)))
    response = raw(requester, app, "/api/v1/tickets", big)
    assert response.status_code == 413
    assert response.json == {"code": 413, "error": "body_too_large",
                             "message": "The request is too large (at most 1 MB)."}
    for body in ("{not json", '{"a": NaN}', b'{"a": "\xff"}'):
        malformed = raw(requester, app, "/api/v1/tickets", body)
        assert malformed.status_code == 400, body
        assert malformed.json["error"] == "malformed_json"
    assert requester.get("/api/v1/tickets").json["total"] == 0


def test_path_ids_are_ascii_digits_within_postgresql_integer(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    requester = api("requester")
    ticket_id = requester.post("/api/v1/tickets", ticket_body(world)).json["id"]
    assert requester.get(f"/api/v1/tickets/{ticket_id}").status_code == 200
    for path in (str(ticket_id).translate(FULL_WIDTH), "2147483648", "9" * 5000, f"+{ticket_id}",
                 f"{ticket_id}.0"):
        response = requester.get(f"/api/v1/tickets/{path}")
        assert response.status_code == 404, path
        assert response.json["error"] == "not_found"
        assert requester.post(f"/api/v1/tickets/{path}/cancel").status_code == 404
    assert requester.get("/api/v1/tickets/2147483647").json["error"] == "ticket_not_found"


@pytest.mark.parametrize("bad", [1.5, "1", True, 2**31, None])
def test_body_ids_are_strict_integers(
    app: Flask, api: Callable[[str], ApiClient], world: World, bad: object
) -> None:
    requester = api("requester")
    employee = world.employee_ids[0]
    value = employee + 0.5 if bad == 1.5 else str(employee) if bad == "1" else bad
    response = requester.post("/api/v1/tickets", ticket_body(world, employee_id=value))
    assert response.status_code == 422 and list(response.json["errors"]) == ["employee_id"]
    notify = requester.post("/api/v1/tickets", ticket_body(world, notify_user_ids=[value]))
    assert list(notify.json["errors"]) == ["notify_user_ids.0"]
    assert requester.get("/api/v1/tickets").json["total"] == 0


def test_query_ids_and_flags_are_ascii_and_exact(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    requester = api("requester")
    branch = world.branch_ids[0]
    assert requester.get(f"/api/v1/tickets?branch_id={branch}&mine=true").status_code == 200
    for query in (f"branch_id={str(branch).translate(FULL_WIDTH)}", f"branch_id={branch}.5",
                  f"branch_id=%2B{branch}", "branch_id=2147483648", "page=1_0", "mine=1",
                  "mine=yes", "per_page=%201"):
        response = requester.get(f"/api/v1/tickets?{query}")
        assert response.status_code == 422, query
        assert list(response.json["errors"]) == [query.split("=")[0]], query


def test_405_names_the_methods_the_address_accepts(app: Flask) -> None:
    client = app.test_client()
    response = client.delete("/api/v1/tickets", headers=EN)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert response.json == {"code": 405, "error": "method_not_allowed",
                             "message": "This address does not accept this method."}
    page = client.put("/login")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]


def test_a_refusal_by_the_database_is_a_422_with_errors(app: Flask) -> None:
    refusal = DataError("UPDATE …", {}, Exception("integer out of range"))
    with app.test_request_context("/api/v1/tickets", headers=EN):
        response, status = handle_data_error(refusal)
    assert status == 422
    assert response.json == {"code": 422, "error": "invalid", "message": "Invalid input.",
                             "errors": {"_schema": ["A value is beyond what can be stored."]}}


@pytest.mark.parametrize("number", ["0912345678 ext 12", "0912345678 x12", "0912345678;ext=12"])
def test_a_phone_number_with_an_extension_is_refused_not_truncated(
    app: Flask, api: Callable[[str], ApiClient], world: World, number: str
) -> None:
    requester = api("requester")
    routing = {"type": "phone", "priority_number": number, "backup_number": "0987654321"}
    response = requester.post("/api/v1/tickets", ticket_body(world, routing=routing), headers=EN)
    assert response.status_code == 422
    assert response.json["errors"] == {"routing.priority_number": [
        f"{number} includes an extension (ext, x, ;ext=); give the phone number alone."]}
    check = requester.get("/api/v1/calling/check", query_string={
        "extension": "5001", "number": number}, headers=EN)
    assert f"{number} is not a number that can be called." in check.json["errors"]["number"]
    hotline = api("admin").post("/api/v1/calling/hotlines", {"number": number})
    assert hotline.status_code == 422 and "number" in hotline.json["errors"]
    assert requester.get("/api/v1/tickets").json["total"] == 0
