"""The bench database: created fresh, migrated, seeded with employees, reset between phases."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, insert, select, text
from werkzeug.security import generate_password_hash

from web import create_app
from web.extensions import db
from workflow.domain.rules import Actor, Role
from workflow.models import (
    Branch,
    Department,
    Employee,
    Organisation,
    Ticket,
)
from workflow.names import fold, name_key
from workflow.people.accounts import actor_of, create_token, save_user
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket

#: Tables emptied between phases (the organisation, employees, users and tokens stay).
WORK_TABLES = ("notification", "ticket_watcher", "ticket_event", "outbox_message",
               "phone_directory_write", "phone_directory_entry", "ticket", "agent")
#: Explicit extensions are EXPLICIT_BASE + employee id; automatic ones start at 100000.
EXPLICIT_BASE = 200_000
#: Six-digit extensions without prefix: 900k numbers, enough for every seeded employee.
EXTENSION_LENGTH = 6
#: Cheap hash (as in the test suite): nobody signs in with a password here.
#: Signs the bench apps' cookies (production refuses a short or default key).
SECRET_KEY = "bench-only-secret-key-never-in-production"
PASSWORD_HASH = generate_password_hash("bench-only", method="pbkdf2:sha256:1000")


@dataclass(frozen=True)
class Seeded:
    """What the bench needs to drive the API: employee ids and two bearer tokens."""

    first_employee: int
    employees: int
    requester_token: str
    approver_token: str
    requester: Actor
    approver: Actor


def recreate_database(admin_url: str, name: str) -> str:
    """Drop and create database `name`; return its SQLAlchemy URL (psycopg 3)."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return database_url(admin_url, name)


def sessions_on(admin_url: str, name: str) -> int:
    """How many sessions are connected to database `name` now (another run's, say)."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        row = connection.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                 (name,)).fetchone()
    return int(row[0]) if row else 0


def drop_database(admin_url: str, name: str) -> None:
    """Drop database `name` if it exists."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def checkpoint(admin_url: str) -> None:
    """Write every dirty buffer out now, so that the next measured run does not pay for the
    writes of the run before it (the server's background writers would do them meanwhile)."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute("CHECKPOINT")


def database_url(admin_url: str, name: str) -> str:
    """The SQLAlchemy URL of database `name` on the server of `admin_url`."""
    host = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{host}/{name}"


def libpq_url(sqlalchemy_url: str) -> str:
    """The same URL for libpq / psycopg.connect."""
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


def bench_app(sqlalchemy_url: str, redis_url: str | None) -> Flask:
    """The product app in this process, on the bench database and Redis (no mail)."""
    return create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url, "REDIS_URL": redis_url,
                       "MAIL_SERVER": None, "SECRET_KEY": SECRET_KEY})


def migrate_and_seed(app: Flask, employees: int) -> Seeded:
    """Migrate to head; create the organisation, `employees` employees, two users, tokens."""
    with app.app_context():
        upgrade()
        session = db.session()
        organisation = Organisation(name="Bench Co", extension_length=EXTENSION_LENGTH,
                                    extension_prefix="", reserved_extensions=[])
        session.add(organisation)
        session.flush()
        branches = [Branch(organisation_id=organisation.id, name=f"Branch {i}", kind="office")
                    for i in range(3)]
        departments = [Department(branch=branch, name=f"Dept {b}-{d}")
                       for b, branch in enumerate(branches) for d in range(4)]
        session.add_all([*branches, *departments])
        session.commit()
        department_ids = [department.id for department in departments]
        rows = [{"department_id": department_ids[i % len(department_ids)],
                 "full_name": f"Employee {i:06d}", "search_name": fold(f"Employee {i:06d}"),
                 "sort_name": name_key(f"Employee {i:06d}"), "employee_code": f"E{i:06d}",
                 "active": True}
                for i in range(employees)]
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Employee), rows[start:start + 10_000])
        session.commit()
        first = session.scalar(select(func.min(Employee.id))) or 0
        requester = save_user(session, "requester@bench.vn", Role.REQUESTER, PASSWORD_HASH,
                              "Bench Requester")
        approver = save_user(session, "approver@bench.vn", Role.APPROVER, PASSWORD_HASH,
                             "Bench Approver")
        seeded = Seeded(
            first_employee=int(first), employees=employees,
            requester_token=create_token(session, requester.email),
            approver_token=create_token(session, approver.email),
            requester=actor_of(requester),
            approver=actor_of(approver),
        )
        db.session.remove()
    vacuum(app)
    return seeded


def reset(app: Flask) -> None:
    """Refresh statistics, then empty every ticket-related table (identities restarted).

    In this order the emptied tables read as never analyzed, as in a new installation (and
    autovacuum analyzes a table once it has 50 rows). Analyzed while empty, they would make
    PostgreSQL plan lookups as sequential scans, and the plans of foreign-key checks, cached
    per connection, would keep scanning the thousands of rows a 10-second run writes.
    """
    vacuum(app)
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(WORK_TABLES)} RESTART IDENTITY CASCADE"))


def vacuum(app: Flask) -> None:
    """VACUUM ANALYZE the whole database (outside a transaction)."""
    with app.app_context(), db.engine.connect().execution_options(
        isolation_level="AUTOCOMMIT"
    ) as connection:
        connection.execute(text("VACUUM ANALYZE"))


def fill_employee_names(connection: psycopg.Connection[Any]) -> None:
    """Give employees inserted by set-based SQL the search and sort names the model keeps."""
    rows = connection.execute("SELECT id, full_name FROM employee WHERE search_name = ''")
    connection.execute("CREATE TEMP TABLE employee_names (id integer PRIMARY KEY, "
                       "search_name text, sort_name text) ON COMMIT DROP")
    with connection.cursor().copy("COPY employee_names FROM STDIN") as copy:
        for employee_id, full_name in rows.fetchall():
            copy.write_row((employee_id, fold(full_name), name_key(full_name)))
    connection.execute("UPDATE employee SET search_name = n.search_name, sort_name = n.sort_name "
                       "FROM employee_names AS n WHERE employee.id = n.id")


def employee_email(employee_id: int) -> str:
    """The address `give_emails` gives an employee (where their SIP password link goes)."""
    return f"emp{employee_id}@bench.vn"


def give_emails(app: Flask, employee_ids: Sequence[int]) -> None:
    """Give these employees an email address, so their SIP password links are mailed."""
    with app.app_context():
        db.session.execute(text("UPDATE employee SET email = 'emp' || id || '@bench.vn' "
                                "WHERE id = ANY(:ids)"), {"ids": list(employee_ids)})
        db.session.commit()
        db.session.remove()


def explicit_extension(employee_id: int) -> str:
    """The explicit extension the bench asks for `employee_id`."""
    return str(EXPLICIT_BASE + employee_id)


def submit_many(app: Flask, requester: Actor, employee_ids: Iterable[int]) -> list[int]:
    """Submit a new-agent ticket (explicit extension) per employee, through the service."""
    ids = []
    with app.app_context():
        for employee_id in employee_ids:
            ticket = submit_ticket(db.session(), requester, TicketRequest(
                kind=TicketKind.NEW, employee_id=employee_id,
                extension=explicit_extension(employee_id), routing_type="app_web"))
            ids.append(ticket.id)
            db.session.expunge_all()
        db.session.remove()
    return ids


def approve_many(app: Flask, approver: Actor, ticket_ids: Iterable[int]) -> None:
    """Approve tickets through the service (each commit sends its messages to Redis)."""
    with app.app_context():
        for ticket_id in ticket_ids:
            decisions.approve_ticket(db.session(), approver, ticket_id)
            db.session.expunge_all()
        db.session.remove()


def wait_settled(app: Flask, quiet: float = 1.0, timeout: float = 60.0) -> int:
    """Wait (bounded) until no ticket was added for `quiet` seconds; returns the count."""
    # wrk stops its clock with requests still queued in gunicorn; they finish after it.
    deadline = time.monotonic() + timeout
    last, since = count_tickets(app), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = count_tickets(app)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
    raise RuntimeError(f"tickets still being added after {timeout} s")


def drawn_ticket_ids(app: Flask) -> int:
    """How many ticket ids were drawn since the last `reset`: one per ticket kept, plus one
    per filing that wrote nothing (a pick that lost its number to another filing and tried
    again) or was rolled back."""
    with app.app_context():
        drawn = db.session.execute(text(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
            " FROM ticket_id_seq")).scalar_one()
        db.session.remove()
    return int(drawn)


def count_tickets(app: Flask, state: str | None = None) -> int:
    """How many tickets there are (in `state`, if given)."""
    with app.app_context():
        query = select(func.count()).select_from(Ticket)
        if state is not None:
            query = query.where(Ticket.state == state)
        found = db.session.scalar(query) or 0
        db.session.remove()
    return int(found)
