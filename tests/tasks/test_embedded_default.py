"""The embedded default end to end: one `agentdesk serve` on SQLite with its in-process worker."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.processes import free_port, port_open, running, wait_for


def call(port: int, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One JSON API call over real HTTP."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_serve_with_demo_data_provisions_an_approved_ticket(tmp_path: Path) -> None:
    # Given the README's first command: demo data, then `agentdesk serve` with no services
    env = {"AGENTDESK_INSTANCE": str(tmp_path), "DATABASE_URL": "", "REDIS_URL": ""}
    cli: dict[str, Any] = {
        "env": {**os.environ, **env},
        "check": True,
        "capture_output": True,
        "text": True,
    }
    subprocess.run(["agentdesk", "seed-demo"], **cli)
    subprocess.run(["agentdesk", "seed-demo"], **cli)  # a second run changes nothing
    requester = subprocess.run(
        ["agentdesk", "tokens", "create", "requester@demo.vn"], **cli
    ).stdout.strip()
    approver = subprocess.run(
        ["agentdesk", "tokens", "create", "approver@demo.vn"], **cli
    ).stdout.strip()
    port = free_port()
    with running(["agentdesk", "serve", "--port", str(port)], env, tmp_path / "serve.log"):
        wait_for(lambda: port_open(port), "agentdesk serve to listen")
        # When a requester files a ticket and an approver approves it
        branches = call(port, requester, "GET", "/api/v1/branches")[1]
        assert len(branches) == 3
        branch_id = branches[0]["id"]
        departments = call(port, requester, "GET", f"/api/v1/branches/{branch_id}/departments")[1]
        department_id = departments[0]["id"]
        employees = call(port, requester, "GET", f"/api/v1/departments/{department_id}/employees")[
            1
        ]
        status, ticket = call(
            port,
            requester,
            "POST",
            "/api/v1/tickets",
            {"kind": "new", "employee_id": next(
                employee["id"] for employee in employees
                if employee["agent"] is None and employee["open_ticket_id"] is None)},
        )
        # (the next free extension of the policy, after those of the demo's agents)
        held = {agent["extension"] for agent in call(
            port, requester, "GET", "/api/v1/agents?per_page=100")[1]["items"]}
        assert status == 201 and re.fullmatch(r"5\d{3}", ticket["extension"])
        assert held and ticket["extension"] not in held | {"5000", "5555"}
        status, _ = call(port, approver, "POST", f"/api/v1/tickets/{ticket['id']}/approve", {})
        assert status == 200

        # Then the in-process worker provisions it
        def provisioned() -> bool:
            return (
                call(port, requester, "GET", f"/api/v1/tickets/{ticket['id']}")[1]["state"]
                == "provisioned"
            )

        wait_for(provisioned, "the ticket to be provisioned")
        agents = call(port, requester, "GET", f"/api/v1/agents?q={ticket['extension']}")[1]
        assert [agent["extension"] for agent in agents["items"]] == [ticket["extension"]]
    demo_users = subprocess.run(
        [
            "python",
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]);"
            "print(c.execute('select count(*) from employee').fetchone()[0])",
            str(tmp_path / "agentdesk.db"),
        ],
        **cli,
    ).stdout
    assert int(demo_users) >= 60
