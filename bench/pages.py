"""Page render times of the agent list, the approval queue and my tickets at full size.

usage (from the project root):  python -m bench.pages [--agents 50000] [--tickets 100000] ...
Seeds its own PostgreSQL database with set-based SQL (50,000 active agents, 100,000 tickets
with their audit trail and notices), signs in through the real form (CSRF token included)
with the Flask test client, and times every page in this process after a warm-up. Prints a
markdown table; writes results.jsonl, summary.md and explain.md to bench/out/pages-<time>/.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import math
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from bench import dataset
from bench.run import code_version, fmt
from bench.stack import CpuMeter, cpu_mloops, exit_on_sigterm, loadavg, pg_backends
from web.extensions import db
from workflow.domain.rules import Role
from workflow.people.accounts import save_user

PROJECT = Path(__file__).resolve().parent.parent
#: The password behind `dataset.PASSWORD_HASH` (bench users only).
PASSWORD = "bench-only"
#: Rows per page of the agent list and of the ticket lists (as the views).
PER_PAGE = 50
#: An extension change asked for in a waiting ticket: this base + employee id (unused).
NEW_EXTENSION_BASE = 300_000
#: The sign-in form's CSRF token (as tests/support/pages.py reads it).
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')

# Vietnamese names, spread like real ones (about a third of people are Nguyễn).
FAMILY = ["Nguyễn"] * 7 + ["Trần"] * 2 + ["Lê"] * 2 + [
    "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Hữu", "Thu"]
GIVEN = ["An", "Anh", "Bảo", "Bình", "Châu", "Chi", "Cường", "Dũng", "Duy", "Giang", "Hà",
         "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Khánh", "Khoa", "Lan", "Linh", "Long",
         "Mai", "Nam", "Nga", "Ngân", "Nhung", "Phong", "Phúc", "Phương", "Quân", "Quang",
         "Sơn", "Tâm", "Thảo", "Trang", "Trung", "Tuấn", "Việt", "Yến", "Hiền"]
DEPARTMENTS = ["Kinh doanh", "Chăm sóc khách hàng", "Kỹ thuật", "Kế toán", "Nhân sự",
               "Hành chính", "Marketing", "Thu hồi nợ"]
#: A given name (a selective search) and the commonest family name (a broad one).
SEARCH_NAME, SEARCH_FAMILY = "Hương", "Nguyễn"

# -- seeding (set-based SQL; %(name)s are psycopg parameters, so no literal percent signs) --

SQL_STRUCTURE = """
INSERT INTO organisation (id, name, extension_length, extension_prefix, reserved_extensions)
VALUES (1, 'Bench Pages Co', %(length)s, '', '[]'::json);
INSERT INTO branch (organisation_id, name, kind, active)
SELECT 1, 'Chi nhánh ' || lpad(b::text, 2, '0'), 'office', true
FROM generate_series(1, %(branches)s) AS b ORDER BY b;
INSERT INTO department (branch_id, name, active)
SELECT b.id, n.names[1 + mod(k - 1, cardinality(n.names))]
             || CASE WHEN k > cardinality(n.names) THEN ' ' || k ELSE '' END, true
FROM branch AS b CROSS JOIN generate_series(1, %(per_branch)s) AS k
CROSS JOIN (SELECT %(departments)s::text[] AS names) AS n
ORDER BY b.id, k;
"""

SQL_EMPLOYEES = """
INSERT INTO employee (id, department_id, full_name, email, employee_code, active)
SELECT i, d.ids[1 + mod(i - 1, cardinality(d.ids))],
       n.f[1 + mod(hashtext(i || 'f') & 2147483647, cardinality(n.f))] || ' ' ||
       n.m[1 + mod(hashtext(i || 'm') & 2147483647, cardinality(n.m))] || ' ' ||
       n.g[1 + mod(hashtext(i || 'g') & 2147483647, cardinality(n.g))],
       NULL, 'NV' || lpad(i::text, 6, '0'), true
FROM generate_series(1, %(agents)s) AS i
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM department) AS d
CROSS JOIN (SELECT %(family)s::text[] AS f, %(middle)s::text[] AS m, %(given)s::text[] AS g) AS n
ORDER BY i;
"""

# Ticket j is about employee 1 + (j-1) mod agents and was filed at start + (j-1) * step
# (ids follow time). The first `agents` tickets set the agents up ("new", provisioned), the
# rest change their routing (85 % provisioned, 8 % rejected, 7 % cancelled); the newest
# `submitted` wait for a decision (distinct employees; half change the extension, half the
# routing).
SQL_PLAN_TICKETS = """
CREATE TEMP TABLE seed_ticket ON COMMIT DROP AS
WITH base AS (
  SELECT j, 1 + mod(j - 1, %(agents)s) AS employee_id,
         j > %(tickets)s - %(submitted)s AS waiting,
         j <= %(agents)s AND j <= %(tickets)s - %(submitted)s AS is_new,
         mod(hashtext(j || 's') & 2147483647, 100) AS pct,
         mod(hashtext(j || 'x') & 2147483647, 2) = 0 AS ext_change,
         %(start)s::timestamp + (j - 1) * %(step)s::interval AS created_at
  FROM generate_series(1, %(tickets)s) AS j
), planned AS (
  SELECT j AS id, employee_id, created_at, waiting AND ext_change AS ext_change,
         CASE WHEN is_new THEN 'new' ELSE 'change' END AS kind,
         CASE WHEN waiting THEN 'submitted' WHEN is_new OR pct < 85 THEN 'provisioned'
              WHEN pct < 93 THEN 'rejected' ELSE 'cancelled' END AS state
  FROM base
)
SELECT *, created_at + CASE state WHEN 'provisioned' THEN interval '2 hours'
                                  WHEN 'submitted' THEN interval '0' ELSE interval '1 hour'
                       END AS done_at
FROM planned;
"""

SQL_AGENTS = """
INSERT INTO agent (id, employee_id, extension, sip_username, routing_type, priority_number,
                   backup_number, status, created_at, updated_at, revoked_at)
SELECT e.id, e.id, (%(base)s + e.id)::text, 'ag' || lpad(to_hex(e.id), 12, '0'),
       CASE WHEN p.phone THEN 'phone' ELSE 'app_web' END,
       CASE WHEN p.phone THEN '09' || lpad(mod(e.id::bigint * 7919, 100000000)::text, 8, '0') END,
       CASE WHEN p.phone AND mod(e.id, 2) = 0
            THEN '028' || lpad(mod(e.id::bigint * 104729, 10000000)::text, 7, '0') END,
       'active', coalesce(s.first_done, %(start)s::timestamp - interval '30 days'),
       coalesce(s.last_done, %(start)s::timestamp - interval '30 days'), NULL
FROM employee AS e
CROSS JOIN LATERAL (SELECT mod(hashtext(e.id || 'r') & 2147483647, 5) = 0 AS phone) AS p
LEFT JOIN (SELECT employee_id, min(done_at) AS first_done, max(done_at) AS last_done
           FROM seed_ticket WHERE state = 'provisioned' GROUP BY employee_id) AS s
       ON s.employee_id = e.id
ORDER BY e.id;
"""

SQL_TICKETS = """
INSERT INTO ticket (id, kind, employee_id, branch_id, agent_id, extension, routing_type,
                    priority_number, backup_number, sip_username, details, requester_id, state,
                    version, attempts, lease_until, last_error, idempotency_key, created_at,
                    updated_at)
SELECT s.id, s.kind, s.employee_id, d.branch_id, a.id,
       CASE WHEN s.kind = 'new' THEN a.extension
            WHEN s.ext_change THEN (%(new_base)s + s.employee_id)::text END,
       CASE WHEN s.kind = 'new' THEN a.routing_type WHEN NOT s.ext_change THEN 'phone' END,
       CASE WHEN s.kind = 'new' THEN a.priority_number
            WHEN NOT s.ext_change
            THEN '09' || lpad(mod(s.id::bigint * 7919, 100000000)::text, 8, '0') END,
       CASE WHEN s.kind = 'new' THEN a.backup_number END,
       CASE WHEN s.kind = 'new' THEN a.sip_username END,
       '', %(requester)s, s.state,
       CASE s.state WHEN 'provisioned' THEN 4 WHEN 'submitted' THEN 1 ELSE 2 END,
       CASE s.state WHEN 'provisioned' THEN 1 ELSE 0 END,
       NULL, NULL, NULL, s.created_at, s.done_at
FROM seed_ticket AS s
JOIN employee AS e ON e.id = s.employee_id
JOIN department AS d ON d.id = e.department_id
JOIN agent AS a ON a.employee_id = s.employee_id
ORDER BY s.id;
"""

# The audit trail as the services write it: submit (with the changes the queue shows), then
# approve/start/complete, reject, or cancel by the requester.
SQL_EVENTS = """
INSERT INTO ticket_event (ticket_id, actor_id, action, from_state, to_state, comment, changes,
                          created_at)
SELECT t.id, ev.actor, ev.action, ev.from_state, ev.to_state, ev.comment, ev.changes, ev.at
FROM ticket AS t
JOIN agent AS a ON a.id = t.agent_id
CROSS JOIN LATERAL (SELECT
  json_build_object('type', 'app_web', 'priority_number', NULL, 'backup_number', NULL) AS before,
  json_build_object('type', t.routing_type, 'priority_number', t.priority_number,
                    'backup_number', t.backup_number) AS after) AS r
CROSS JOIN LATERAL (VALUES
  (1, %(requester)s::int, 'submit', NULL::text, 'submitted', '',
   CASE WHEN t.kind = 'new'
        THEN json_build_object('extension', json_build_array(NULL, t.extension),
                               'routing', json_build_array(NULL, r.after))
        WHEN t.extension IS NOT NULL
        THEN json_build_object('extension', json_build_array(a.extension, t.extension))
        ELSE json_build_object('routing', json_build_array(r.before, r.after)) END,
   t.created_at),
  (2, %(approver)s::int, 'approve', 'submitted', 'approved', '', '{}'::json,
   t.created_at + interval '1 hour'),
  (3, NULL::int, 'start', 'approved', 'provisioning', '', '{}'::json,
   t.updated_at - interval '1 minute'),
  (4, NULL::int, 'complete', 'provisioning', 'provisioned', '',
   json_build_object('agent_id', a.id, 'sip_username', a.sip_username), t.updated_at),
  (2, %(approver)s::int, 'reject', 'submitted', 'rejected', 'Sai thông tin định tuyến',
   '{}'::json, t.updated_at),
  (2, %(requester)s::int, 'cancel', 'submitted', 'cancelled', '', '{}'::json, t.updated_at)
) AS ev(seq, actor, action, from_state, to_state, comment, changes, at)
WHERE ev.seq = 1
   OR (t.state = 'provisioned' AND ev.action IN ('approve', 'start', 'complete'))
   OR (t.state = 'rejected' AND ev.action = 'reject')
   OR (t.state = 'cancelled' AND ev.action = 'cancel')
ORDER BY t.id, ev.seq;
"""

# In-app notices as `notify` writes them: a submission to the approvers in scope, approve,
# complete and reject to the requester (start and the requester's own cancel notify nobody).
# Everything is read but the waiting tickets' notices and those of the newest 1 % of tickets.
SQL_NOTICES = """
INSERT INTO notification (user_id, ticket_id, event_id, created_at, read_at, emailed_at)
SELECT r.user_id, ev.ticket_id, ev.id, ev.created_at,
       CASE WHEN t.state = 'submitted' OR t.id > %(unread_after)s THEN NULL
            ELSE ev.created_at + interval '30 minutes' END,
       NULL
FROM ticket_event AS ev
JOIN ticket AS t ON t.id = ev.ticket_id
CROSS JOIN LATERAL (
  SELECT %(approver)s::int AS user_id WHERE ev.action = 'submit'
  UNION ALL SELECT %(scoped)s::int WHERE ev.action = 'submit' AND t.branch_id = %(branch)s
  UNION ALL SELECT t.requester_id WHERE ev.action IN ('approve', 'complete', 'reject')
) AS r
ORDER BY ev.id;
"""

SQL_SEQUENCES = """
SELECT setval(pg_get_serial_sequence('employee', 'id'), (SELECT max(id) FROM employee));
SELECT setval(pg_get_serial_sequence('agent', 'id'), (SELECT max(id) FROM agent));
SELECT setval(pg_get_serial_sequence('ticket', 'id'), (SELECT max(id) FROM ticket));
"""


@dataclass(frozen=True)
class World:
    """What the pages need from the seeded database."""

    emails: dict[str, str]
    branch_id: int
    counts: dict[str, int]



def run_sql(connection: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> None:
    """Run each `;`-separated statement of `sql` with the parameters it names."""
    for statement in (part.strip() for part in sql.split(";\n")):
        if statement:
            names = set(re.findall(r"%\((\w+)\)s", statement))
            connection.execute(statement.rstrip(";"),
                               {k: v for k, v in params.items() if k in names})


def count(connection: psycopg.Connection[Any], sql: str) -> int:
    """The single number `sql` selects."""
    row = connection.execute(sql).fetchone()
    return int(row[0]) if row else 0


def seed(app: Flask, libpq: str, args: argparse.Namespace,
         timed: Callable[[str, float], None]) -> World:
    """Migrate, then fill every table the pages read with set-based SQL; VACUUM ANALYZE."""
    step = time.perf_counter()
    with app.app_context():
        upgrade()
        db.session.remove()
    timed("migrate", time.perf_counter() - step)
    submitted = max(0, min(args.submitted, args.agents, args.tickets))
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=365)
    params: dict[str, Any] = {
        "length": dataset.EXTENSION_LENGTH, "branches": args.branches,
        "per_branch": args.departments, "departments": DEPARTMENTS, "agents": args.agents,
        "family": FAMILY, "middle": MIDDLE, "given": GIVEN, "tickets": args.tickets,
        "submitted": submitted, "start": start, "step": timedelta(days=365) / args.tickets,
        "base": dataset.EXPLICIT_BASE, "new_base": NEW_EXTENSION_BASE,
        "unread_after": args.tickets - max(1, args.tickets // 100),
    }
    with psycopg.connect(libpq) as connection:
        step = time.perf_counter()
        run_sql(connection, SQL_STRUCTURE + SQL_EMPLOYEES, params)
        dataset.fill_employee_names(connection)
        connection.commit()
        timed("structure_employees", time.perf_counter() - step)
    with app.app_context():
        session = db.session()
        branch_id = int(session.scalar(text("SELECT min(id) FROM branch")) or 0)
        users = {
            "requester": save_user(session, "requester@bench.vn", Role.REQUESTER,
                                   dataset.PASSWORD_HASH, "Trần Thị Yêu Cầu").id,
            "approver": save_user(session, "approver@bench.vn", Role.APPROVER,
                                  dataset.PASSWORD_HASH, "Lê Văn Duyệt").id,
            "scoped": save_user(session, "scoped@bench.vn", Role.APPROVER,
                                dataset.PASSWORD_HASH, "Phạm Chi Nhánh", [branch_id]).id,
            "admin": save_user(session, "admin@bench.vn", Role.ADMIN,
                               dataset.PASSWORD_HASH, "Đỗ Quản Trị").id,
        }
        db.session.remove()
    params.update(requester=users["requester"], approver=users["approver"],
                  scoped=users["scoped"], branch=branch_id)
    with psycopg.connect(libpq) as connection:
        for name, sql in (("plan", SQL_PLAN_TICKETS), ("agents", SQL_AGENTS),
                          ("tickets", SQL_TICKETS), ("events", SQL_EVENTS),
                          ("notices", SQL_NOTICES), ("sequences", SQL_SEQUENCES)):
            step = time.perf_counter()
            run_sql(connection, sql, params)
            timed(name, time.perf_counter() - step)
        connection.commit()
        counts = row_counts(connection)
    step = time.perf_counter()
    dataset.vacuum(app)
    timed("vacuum_analyze", time.perf_counter() - step)
    return World(EMAILS, branch_id, counts)


EMAILS = {"requester": "requester@bench.vn", "approver": "approver@bench.vn",
          "scoped": "scoped@bench.vn", "admin": "admin@bench.vn"}


def seeded_before(args: argparse.Namespace) -> bool:
    """Whether the bench database exists with the agents and tickets asked for."""
    try:
        with psycopg.connect(dataset.libpq_url(dataset.database_url(
                args.pg_admin_url, args.database))) as connection:
            return (count(connection, "SELECT count(*) FROM agent") == args.agents
                    and count(connection, "SELECT count(*) FROM ticket") == args.tickets
                    and count(connection, "SELECT count(*) FROM user_account "
                                          "WHERE email = 'admin@bench.vn'") == 1)
    except psycopg.Error:
        return False


def seeded_world(libpq: str) -> World:
    """The world of a database seeded by an earlier run."""
    with psycopg.connect(libpq) as connection:
        return World(EMAILS, count(connection, "SELECT min(id) FROM branch"),
                     row_counts(connection))


def row_counts(connection: psycopg.Connection[Any]) -> dict[str, int]:
    """The rows of each table the pages read, and the tickets waiting."""
    counts = {name: count(connection, f"SELECT count(*) FROM {name}")
              for name in ("branch", "department", "employee", "agent", "ticket",
                           "ticket_event", "notification")}
    counts["ticket_submitted"] = count(
        connection, "SELECT count(*) FROM ticket WHERE state = 'submitted'")
    return counts


# -- measuring ------------------------------------------------------------------------------


def sign_in(app: Flask, email: str) -> FlaskClient:
    """A test client signed in through the real form, CSRF token included."""
    client = app.test_client()
    found = CSRF.search(client.get("/login").get_data(as_text=True))
    if not found:
        raise RuntimeError("no CSRF token on /login")
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                           "csrf_token": found.group(1)})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in of {email} answered {response.status_code}")
    return client


@dataclass(frozen=True)
class PageSpec:
    """One page to time: a label, who asks for it, its path, how often.

    With `follow`, the page timed is the one reached from `path` by clicking "next page"
    `follow` times, as a person gets there (its address carries the keyset cursor).
    """

    label: str
    user: str
    path: str
    repeat: int
    follow: int = 0


#: The pager's "next page" link (Vietnamese pages), unless disabled.
NEXT_LINK = re.compile(r'<li class="page-item">\s*<a class="page-link" href="([^"]+)"[^>]*>'
                       r"Trang sau<")


def reach(client: FlaskClient, spec: PageSpec) -> str:
    """The address of the page `spec` times: its path, or where following "next" leads."""
    address = spec.path
    for _ in range(spec.follow):
        found = NEXT_LINK.search(client.get(address).get_data(as_text=True))
        if found is None:
            raise RuntimeError(f"no next page after {address}")
        address = html.unescape(found.group(1))
    return address


def pages(args: argparse.Namespace, world: World) -> list[PageSpec]:
    """The pages of the brief (and the agent list as an approver, for the badge's cost)."""
    deep = max(1, min(500, -(-args.agents // PER_PAGE)))
    deep_tickets = max(1, min(500, -(-args.tickets // PER_PAGE)))
    extension = str(dataset.EXPLICIT_BASE + max(1, args.agents // 2))
    n, e = args.repeat, max(1, args.export_repeat)
    return [
        PageSpec("agents p1", "requester", "/agents", n),
        PageSpec(f"agents p{deep} (next-page links)", "requester", "/agents", n, deep - 1),
        PageSpec(f"agents p{deep} (typed ?page=)", "requester", f"/agents?page={deep}", n),
        PageSpec("agents p1 sort=name", "requester", "/agents?sort=name", n),
        PageSpec(f"agents p{deep} sort=name (links)", "requester", "/agents?sort=name", n,
                 deep - 1),
        PageSpec(f"agents q={SEARCH_NAME} (given name)", "requester",
                 f"/agents?q={quote(SEARCH_NAME)}", n),
        PageSpec(f"agents q={SEARCH_FAMILY} (family name)", "requester",
                 f"/agents?q={quote(SEARCH_FAMILY)}", n),
        PageSpec(f"agents q={extension} (extension)", "requester", f"/agents?q={extension}", n),
        PageSpec("agents status=active sort=name", "requester",
                 "/agents?status=active&sort=name", n),
        PageSpec("agents branch_id (1 branch)", "requester",
                 f"/agents?branch_id={world.branch_id}", n),
        PageSpec("agents p1 as approver", "approver", "/agents", n),
        PageSpec("agents export.csv (all)", "requester", "/agents/export.csv", e),
        PageSpec("approvals (all branches)", "approver", "/approvals", n),
        PageSpec("approvals (1 branch)", "scoped", "/approvals", n),
        PageSpec("tickets p1 (requester)", "requester", "/tickets", n),
        PageSpec(f"tickets p{deep_tickets} (links)", "requester", "/tickets", n,
                 deep_tickets - 1),
        PageSpec("all tickets p1", "approver", "/tickets/all", n),
        PageSpec(f"all tickets p{deep_tickets} (links)", "approver", "/tickets/all", n,
                 deep_tickets - 1),
        PageSpec("all tickets state=rejected", "approver", "/tickets/all?state=rejected", n),
        PageSpec("all tickets 1 branch", "scoped", "/tickets/all", n),
        PageSpec("staff p1", "admin", "/admin/employees", n),
        PageSpec(f"staff p{deep} (links)", "admin", "/admin/employees", n, deep - 1),
    ]


def fetch(client: FlaskClient, path: str) -> tuple[int, int]:
    """GET `path` and read the whole body (streamed or not); status and bytes."""
    response = client.get(path)
    try:
        return response.status_code, len(response.get_data())
    finally:
        response.close()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class Statement:
    """One SQL statement a request ran, with its execute time."""

    sql: str
    parameters: Any
    ms: float
    streamed: bool = False


@contextlib.contextmanager
def sql_trace(engine: Engine) -> Iterator[list[Statement]]:
    """Record every statement run on `engine` (execute time only, not later fetches)."""
    found: list[Statement] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        """Note when the statement starts."""
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        """Note the statement and how long it took."""
        started = conn.info["bench_started"].pop()
        found.append(Statement(statement, parameters, 1000 * (time.perf_counter() - started),
                               bool(getattr(context, "_is_server_side", False))))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


@dataclass
class Result:
    """The figures of one page."""

    spec: PageSpec
    wall_ms: list[float]
    cpu_ms: list[float]
    pg_cpu_ms_per_req: float
    bytes: int
    statements: list[Statement] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """Summary figures of the samples."""
        sql_ms = sum(s.ms for s in self.statements)
        top = max((s.ms for s in self.statements), default=0.0)
        return {
            "n": len(self.wall_ms),
            "p50_ms": statistics.median(self.wall_ms),
            "p95_ms": percentile(self.wall_ms, 0.95),
            "max_ms": max(self.wall_ms),
            "web_cpu_p50_ms": statistics.median(self.cpu_ms),
            "pg_cpu_ms_per_req": self.pg_cpu_ms_per_req,
            "bytes": self.bytes,
            "statements": len(self.statements),
            "sql_ms": sql_ms,
            "top_sql_ms": top,
        }


def measure(app: Flask, client: FlaskClient, spec: PageSpec, args: argparse.Namespace) -> Result:
    """Warm up, then time `spec.repeat` renders (bounded by --page-seconds); then one traced."""
    path = reach(client, spec)
    for _ in range(args.warmup):
        status, _size = fetch(client, path)
        if status != 200:
            raise RuntimeError(f"{path} as {spec.user} answered {status}")
    wall, cpu = [], []
    size = 0
    pg = CpuMeter(lambda: pg_backends(args.database))
    pg.start()
    started = time.perf_counter()
    for _ in range(spec.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        status, size = fetch(client, path)
        wall.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0))
        if status != 200:
            raise RuntimeError(f"{path} as {spec.user} answered {status}")
        if time.perf_counter() - started > args.page_seconds and len(wall) >= 5:
            break
    pg_ms = 1000 * pg.stop() / len(wall)
    with app.app_context():
        engine = db.engine
    with sql_trace(engine) as statements:
        fetch(client, path)
    return Result(spec, wall, cpu, pg_ms, size, statements)


def explain(app: Flask, statement: Statement) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a traced statement, with its parameters."""
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql,
                                          statement.parameters or None).all()
        connection.rollback()
    return "\n".join(str(row[0]) for row in rows)


# -- report ---------------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    """The markdown table of every page."""
    lines = ["| page | as | n | p50 ms | p95 ms | max ms | web CPU p50 ms | PG CPU ms/req "
             "| SQL stmts | SQL ms | top stmt ms | KiB |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for result in results:
        f = result.figures()
        lines.append(
            f"| {result.spec.label} | {result.spec.user} | {f['n']:.0f} | {fmt(f['p50_ms'])} "
            f"| {fmt(f['p95_ms'])} | {fmt(f['max_ms'])} | {fmt(f['web_cpu_p50_ms'])} "
            f"| {fmt(f['pg_cpu_ms_per_req'])} | {f['statements']:.0f} | {fmt(f['sql_ms'])} "
            f"| {fmt(f['top_sql_ms'])} | {fmt(f['bytes'] / 1024)} |")
    return "\n".join(lines)


#: The targets: deep pages within this ratio of the first; list pages' p50 within this many ms.
DEEP_RATIO, LIST_P50_MS = 1.3, 30.0


def targets(results: list[Result]) -> str:
    """Deep pages against their first page, and every list page's p50 against the target."""
    first = {r.spec.path: r.figures()["p50_ms"] for r in results if not r.spec.follow}
    lines = []
    for result in results:
        if result.spec.follow or "?page=" in result.spec.path:
            base = first.get(result.spec.path.split("?page=")[0]
                             if "?page=" in result.spec.path else result.spec.path)
            if base:
                ratio = result.figures()["p50_ms"] / base
                lines.append(f"- {result.spec.label}: {ratio:.2f}x its first page "
                             f"({'within' if ratio <= DEEP_RATIO else 'OVER'} {DEEP_RATIO}x)")
    pages = [r for r in results if "export" not in r.spec.path]
    worst = max(pages, key=lambda r: r.figures()["p50_ms"])
    over = [r.spec.label for r in pages if r.figures()["p50_ms"] > LIST_P50_MS]
    lines.append(f"- slowest list page p50: {fmt(worst.figures()['p50_ms'])} ms "
                 f"({worst.spec.label}); over {LIST_P50_MS:g} ms: {', '.join(over) or 'none'}")
    return "\n".join(lines)


def short(sql: str, width: int = 160) -> str:
    """One line of SQL, cut to `width`."""
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"


def dominant(results: list[Result]) -> str:
    """Per page, the statement that took longest in the traced render."""
    lines = ["| page | slowest statement | ms | share of SQL |", "|---|---|---:|---:|"]
    for result in results:
        if not result.statements:
            continue
        top = max(result.statements, key=lambda s: s.ms)
        total = sum(s.ms for s in result.statements) or 1.0
        sql = short(top.sql, 120).replace("|", "\\|")
        lines.append(f"| {result.spec.label} | `{sql}` | {fmt(top.ms)} | "
                     f"{100 * top.ms / total:.0f} % |")
    return "\n".join(lines)


def write_explains(app: Flask, results: list[Result], threshold: float, path: Path) -> list[str]:
    """EXPLAIN ANALYZE the two slowest statements (and any streamed one) of each page whose
    p50 is at least `threshold` ms."""
    chunks = [f"# EXPLAIN (ANALYZE, BUFFERS) of pages with p50 >= {threshold:g} ms\n"]
    explained = []
    for result in results:
        if result.figures()["p50_ms"] < threshold:
            continue
        explained.append(result.spec.label)
        chunks.append(f"## {result.spec.label} (`{result.spec.path}` as {result.spec.user})\n")
        slowest = sorted(result.statements, key=lambda s: -s.ms)[:2]
        streamed = [s for s in result.statements if s.streamed and s not in slowest]
        for statement in slowest + streamed:
            try:
                plan = explain(app, statement)
            except Exception as error:  # a plan is a diagnosis: never fail the run for it
                plan = f"(EXPLAIN failed: {error})"
            cursor = " (server-side cursor: rows fetched after it)" if statement.streamed else ""
            chunks.append(f"{fmt(statement.ms)} ms{cursor} in the traced render; parameters "
                          f"`{statement.parameters!r}`\n\n```sql\n{statement.sql}\n```\n\n"
                          f"```\n{plan}\n```\n")
    path.write_text("\n".join(chunks) + "\n")
    return explained


def summary(args: argparse.Namespace, world: World, seed_s: dict[str, float],
            results: list[Result], explained: list[str], env: dict[str, Any]) -> str:
    """The markdown summary of the run."""
    counts = ", ".join(f"{name} {count:,}" for name, count in world.counts.items())
    seeding = ", ".join(f"{name} {seconds:.1f}" for name, seconds in seed_s.items())
    return "\n".join([
        f"## Page render times (in-process, Flask test client, PostgreSQL `{args.database}`)",
        "",
        f"rows: {counts}",
        f"seeding (s): {seeding}; total {sum(seed_s.values()):.1f}",
        f"warm-up {args.warmup} renders per page, then up to {args.repeat} "
        f"({args.export_repeat} for the export) or {args.page_seconds:g} s per page",
        "",
        table(results),
        "",
        "web CPU: `time.process_time()` of this process per render (the Flask side with "
        "psycopg's client work); PG CPU: the database's backends over the timed renders "
        "(/proc, 10 ms ticks) per render; SQL stmts / SQL ms / top stmt ms: one extra traced "
        "render (execute time of each statement, server-side cursor fetches not included).",
        "",
        "### Against the targets",
        targets(results),
        "",
        "### Slowest statement per page (traced render)",
        dominant(results),
        "",
        f"EXPLAIN ANALYZE (pages with p50 >= {args.explain_ms:g} ms): "
        f"{', '.join(explained) or 'none'} -> explain.md",
        f"env: load1 {env['load1_start']:.2f} -> {env['load1_end']:.2f}, cpu_mloops "
        f"{env['cpu_mloops']:.1f}, {os.cpu_count()} CPUs",
        f"command: `python -m bench.pages {' '.join(sys.argv[1:])}`".replace("  ", " "),
        f"code: {env['code']}",
        "",
    ])


class Recorder:
    """Appends one JSON line per figure to results.jsonl."""

    def __init__(self, path: Path) -> None:
        """Record into `path`."""
        self.path = path

    def __call__(self, kind: str, name: str, **values: Any) -> None:
        """Write one line."""
        with open(self.path, "a") as handle:
            handle.write(json.dumps({"kind": kind, "name": name, **values,
                                     "ts": time.time()}, ensure_ascii=False) + "\n")


def run(args: argparse.Namespace) -> tuple[str, Path]:
    """Seed, measure, report; returns the summary and the output directory."""
    out = PROJECT / "bench" / "out" / f"pages-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    record = Recorder(out / "results.jsonl")
    env: dict[str, Any] = {"code": code_version(), "load1_start": loadavg(),
                           "cpu_mloops": cpu_mloops()}
    seed_s: dict[str, float] = {}

    def timed(name: str, seconds: float) -> None:
        """Record one seeding step."""
        seed_s[name] = seconds
        record("seed", name, seconds=seconds)
        print(f"  seed {name:22s} {seconds:7.1f} s", flush=True)

    reused = args.reuse_db and seeded_before(args)
    url = (dataset.database_url(args.pg_admin_url, args.database) if reused
           else dataset.recreate_database(args.pg_admin_url, args.database))
    app = dataset.bench_app(url, None)  # no Redis: pages never touch it (memory rate limits)
    try:
        if reused:
            print(f"== reusing {args.database} as a previous run seeded it", flush=True)
            world = seeded_world(dataset.libpq_url(url))
        else:
            print(f"== seeding {args.database}: {args.agents} agents, {args.tickets} tickets",
                  flush=True)
            world = seed(app, dataset.libpq_url(url), args, timed)
        record("env", "rows", **world.counts)
        clients = {user: sign_in(app, email) for user, email in world.emails.items()}
        results = []
        print("== pages", flush=True)
        for spec in pages(args, world):
            result = measure(app, clients[spec.user], spec, args)
            results.append(result)
            f = result.figures()
            record("page", spec.label, user=spec.user, path=spec.path, **f,
                   wall_ms=[round(v, 3) for v in result.wall_ms])
            print(f"  {spec.label:38s} p50 {f['p50_ms']:8.1f} ms  p95 {f['p95_ms']:8.1f} ms  "
                  f"n={f['n']:.0f}", flush=True)
        explained = [] if args.no_explain else write_explains(
            app, results, args.explain_ms, out / "explain.md")
        env.update(load1_end=loadavg(), code_end=code_version())
        if env["code_end"] != env["code"]:
            env["code"] = f"{env['code']} at start, {env['code_end']} at the end: CHANGED"
        record("env", "machine", **{k: v for k, v in env.items() if k != "code_end"})
        report = summary(args, world, seed_s, results, explained, env)
        (out / "summary.md").write_text(report)
        return report, out
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if not (args.keep_db or args.reuse_db):
            with contextlib.suppress(Exception):
                dataset.drop_database(args.pg_admin_url, args.database)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argument_parser("python -m bench.pages", (__doc__ or "").splitlines()[0])
    args = parser.parse_args(argv)
    if args.agents < 1 or args.tickets < 1 or args.branches < 1 or args.departments < 1:
        parser.error("--agents, --tickets, --branches and --departments must be positive")
    if args.repeat < 1:
        parser.error("--repeat must be positive")
    return args


def argument_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The options of the pages benches: sizes, renders, database."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--agents", type=int, default=50_000,
                        help="employees, each with one active agent")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--submitted", type=int, default=500,
                        help="of the tickets, the newest waiting for a decision")
    parser.add_argument("--branches", type=int, default=20)
    parser.add_argument("--departments", type=int, default=5, help="per branch")
    parser.add_argument("--repeat", type=int, default=30, help="timed renders per page")
    parser.add_argument("--export-repeat", type=int, default=3,
                        help="timed renders of the CSV export")
    parser.add_argument("--warmup", type=int, default=3, help="untimed renders per page first")
    parser.add_argument("--page-seconds", type=float, default=20.0,
                        help="stop timing a page after this long (at least 5 renders)")
    parser.add_argument("--explain-ms", type=float, default=100.0,
                        help="EXPLAIN ANALYZE the slowest statements of pages over this p50")
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--database", default="agentdesk_bench_pages")
    parser.add_argument("--pg-admin-url",
                        default=os.environ.get("BENCH_PG_ADMIN_URL",
                                               "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep-db", action="store_true", help="leave the database behind")
    parser.add_argument("--reuse-db", action="store_true",
                        help="measure the database a --keep-db run left (seed it if missing); "
                             "keep it")
    return parser


def main() -> None:
    """Run the bench and print the summary."""
    exit_on_sigterm()
    started = time.perf_counter()
    report, out = run(parse_args())
    print(report)
    print(f"(results: {out.relative_to(PROJECT)}; {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
