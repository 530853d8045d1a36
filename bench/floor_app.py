"""The statements of one explicit submission alone, in the limits harness's shape.

A Flask app with Flask-SQLAlchemy and a marshmallow schema, like the harness's webapp, whose
one view runs what `POST /api/v1/tickets` must send to PostgreSQL for a new ticket with its
extension given: the submission context and the filing statement, after the caller's identity
by bearer token (with its address's sign-in refusal), which it reads once per process as
agentdesk remembers it (`web.bearer_identities`). Nothing else of agentdesk runs: no sign-in
gate, Flask-Login, input limits, CSRF or security headers, metrics, request ids, access log,
OpenAPI validation, rules or translated errors. Its rate against `web.sync.pg_enq` in the
same round shows how much of the gap to the harness is the database work a submission needs,
and how much the rest.

Served by `bench.run` with gunicorn (`bench.floor_app:app`) on the bench's database.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from marshmallow import Schema, fields

from web.config import database_url
from workflow.db import utcnow
from workflow.people.accounts import Identity, identity_for_token
from workflow.tickets.filing import file_ticket
from workflow.tickets.submission_context import read_submission_context


class NewTicket(Schema):
    """The body submit.lua sends for an explicit extension."""

    kind = fields.Str(required=True)
    employee_id = fields.Int(required=True)
    extension = fields.Str(required=True)
    routing = fields.Dict(required=True)


new_ticket = NewTicket()
#: Identities read, by token.
identities: dict[str, Identity | None] = {}
db = SQLAlchemy()
app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = database_url(os.environ["DATABASE_URL"])
db.init_app(app)


@app.post("/api/v1/tickets")
def submit() -> Any:
    """Context and filing: the two statements of an explicit submission."""
    body = new_ticket.load(request.get_json())
    session = db.session()
    token = request.headers["Authorization"].removeprefix("Bearer ")
    identity = identities.get(token)
    if identity is None:
        identity = identities[token] = identity_for_token(session, token,
                                                          request.remote_addr or "unknown")
    assert identity is not None
    requester_id = identity.actor.user_id
    context = read_submission_context(session, body["employee_id"], requester_id,
                                      body["extension"])
    now = utcnow()
    row = {"kind": "new", "employee_id": context.employee_id, "branch_id": context.branch_id,
           "agent_id": None, "extension": body["extension"], "routing_type": "app_web",
           "priority_number": None, "backup_number": None, "sip_username": None,
           "reset_password": False, "details": "", "requester_id": requester_id,
           "idempotency_key": None, "state": "submitted", "version": 1, "attempts": 0,
           "created_at": now, "updated_at": now}
    changes = {"extension": [None, body["extension"]], "routing": [None, body["routing"]]}
    ticket_id = file_ticket(session, row, [], changes, commits_next=True)
    session.commit()
    return jsonify(id=ticket_id), 201


@app.get("/healthz")
def healthz() -> Any:
    """Up: what the bench waits for before it measures."""
    return jsonify(ok=True)
