"""Fixtures of the fault tests: a dedicated database, private Redis servers, real processes."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import gunicorn
import psycopg
import pytest
import redis
from flask import Flask

from tests.support.apps import build_app, fresh_pg_database, worker_suffix
from tests.support.concurrency import DEADLINE
from tests.support.world import PASSWORD_HASH, World, make_world
from web.extensions import db
from workflow.domain.rules import Role
from workflow.models import User
from workflow.people.accounts import actor_of, create_token, save_user
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket

T = TypeVar("T")

_BESIDE_PYTHON = Path(sys.executable).parent / "agentdesk"
#: The `agentdesk` console script next to this interpreter (PATH may hold a slower shim).
AGENTDESK = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.exists() else "agentdesk"
#: The Redis server binary, for private servers that tests may kill.
REDIS_SERVER = shutil.which("redis-server")
#: Gunicorn 25.1+ opens a control socket at one path per user: keep parallel runs apart.
GUNICORN_OPTIONS = ["--no-control-socket"] if gunicorn.version_info >= (25, 1) else []


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Managed:
    """One process group started by a test, with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    infrastructure: bool = False
    killed: bool = False


class Supervisor:
    """Starts real processes in their own sessions and kills their whole groups at the end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.managed: list[Managed] = []

    def start(
        self, name: str, argv: list[str], env: dict[str, str], infrastructure: bool = False
    ) -> Managed:
        """Start `argv` as the leader of a new process group, logging to <name>.log."""
        log_path = self.workdir / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                argv, env=env, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        managed = Managed(name, process, log_path, infrastructure)
        self.managed.append(managed)
        return managed

    def kill(self, name: str) -> None:
        """SIGKILL the whole process group of the live process called `name`."""
        for managed in self.managed:
            if managed.name == name and not managed.killed:
                self._kill(managed)
                return
        raise KeyError(f"no live process called {name!r}")

    def kill_all(self) -> None:
        """SIGKILL every process group started: newest first, infrastructure (Redis) last."""
        for managed in sorted(reversed(self.managed), key=lambda item: item.infrastructure):
            self._kill(managed)

    @staticmethod
    def _kill(managed: Managed) -> None:
        """Kill one group by its id and reap its leader (once: a reaped id may be reused)."""
        if managed.killed:
            return
        managed.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(managed.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            managed.process.wait(timeout=10)

    def check(self) -> None:
        """Fail now, with its log, if a process exited that no test killed."""
        for managed in self.managed:
            code = managed.process.poll()
            if not managed.killed and code is not None:
                pytest.fail(f"process {managed.name} exited with {code}\n{self.logs()}",
                            pytrace=False)

    def log_text(self, name: str) -> str:
        """Everything the processes called `name` have written so far."""
        return "".join(managed.log_path.read_text(errors="replace")
                       for managed in self.managed if managed.name == name)

    def logs(self, lines: int = 25) -> str:
        """The last lines of every process log."""
        parts = []
        for managed in self.managed:
            text = managed.log_path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {managed.name} (pid {managed.process.pid}) ---\n" + "\n".join(text))
        return "\n".join(parts)


class RedisServer:
    """A private redis-server on a loopback port, which a test may kill and restart."""

    def __init__(self, supervisor: Supervisor, port: int, name: str = "redis") -> None:
        self.supervisor = supervisor
        self.port = port
        self.name = name

    @property
    def url(self) -> str:
        """The URL clients connect with."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart, empty) the server on its port and wait until it answers."""
        assert REDIS_SERVER is not None
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(self.supervisor.workdir)]
        self.supervisor.start(self.name, argv, dict(os.environ), infrastructure=True)
        deadline = time.monotonic() + DEADLINE
        while not self.answers():
            self.supervisor.check()
            if time.monotonic() > deadline:
                pytest.fail(f"redis on port {self.port} never answered\n{self.supervisor.logs()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the server: whatever it held is lost."""
        self.supervisor.kill(self.name)

    def answers(self) -> bool:
        """Whether the server answers PING."""
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()


def _json(raw: bytes) -> Any:
    """A response body as JSON, or as text when it is not JSON."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


class HttpApi:
    """A JSON client of a real server over urllib, with bearer tokens and no proxy."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def request(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        """Send one request; return the status and the decoded body (errors included)."""
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers=headers)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=DEADLINE) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())

    def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        """GET `path`."""
        return self.request("GET", path, token)

    def post(self, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        """POST a JSON body (an empty object by default) to `path`."""
        return self.request("POST", path, token, {} if body is None else body)

    def healthy(self) -> bool:
        """Whether the server answers its health check with 200."""
        try:
            return self.get("/healthz")[0] == 200
        except OSError:
            return False

    def submit_new(self, token: str, employee_id: int, extension: str) -> int:
        """File a new-account ticket (asserting 201) and return its id."""
        status, body = self.post("/api/v1/tickets", token, {
            "kind": "new", "employee_id": employee_id, "extension": extension,
        })
        assert status == 201, f"submitting for employee {employee_id}: {status} {body}"
        return int(body["id"])


@dataclass
class Harness:
    """One fault test's world: its database, organisation, Redis servers and processes."""

    app: Flask
    database_url: str
    world: World
    connection: psycopg.Connection[Any]
    supervisor: Supervisor
    redis_servers: list[RedisServer] = field(default_factory=list)

    @property
    def pg_url(self) -> str:
        """The database URL as libpq (psycopg) spells it."""
        return self.database_url.replace("postgresql+psycopg://", "postgresql://", 1)

    # --- processes -------------------------------------------------------------------------

    def env(self, redis_url: str, **settings: str) -> dict[str, str]:
        """Environment of an agentdesk process on this database and `redis_url`."""
        inherited = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("PROVISION_", "RELAY_", "MAIL_", "WORKER_", "dramatiq_"))
        }
        return {
            **inherited,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "fault-tests-secret-key-never-in-production",
            "PHONE_SYSTEM": "directory",
            "PROVISION_RETRY_SECONDS": "0.2",
            "PYTHONUNBUFFERED": "1",
            **settings,
        }

    def start_redis(self) -> RedisServer:
        """A private redis-server on a free port, already answering."""
        server = RedisServer(self.supervisor, free_port(), name=f"redis-{len(self.redis_servers)}")
        server.start()
        self.redis_servers.append(server)
        return server

    def start_gunicorn(self, env: dict[str, str]) -> HttpApi:
        """Gunicorn with two worker processes of eight threads, once it answers."""
        port = free_port()
        self.supervisor.start("gunicorn", [
            sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "8",
            "-b", f"127.0.0.1:{port}", *GUNICORN_OPTIONS, "web:create_app()",
        ], env)
        return self._answering(HttpApi(f"http://127.0.0.1:{port}"))

    def start_serve(self, env: dict[str, str]) -> HttpApi:
        """`agentdesk serve` (waitress, web only since REDIS_URL is set), once it answers."""
        port = free_port()
        self.supervisor.start(
            "serve", [AGENTDESK, "serve", "--host", "127.0.0.1", "--port", str(port)], env
        )
        return self._answering(HttpApi(f"http://127.0.0.1:{port}"))

    def start_worker(self, env: dict[str, str], name: str = "worker") -> None:
        """`agentdesk worker` with one process of two threads."""
        self.supervisor.start(name, [AGENTDESK, "worker", "--processes", "1", "--threads", "2"],
                              env)

    def start_relay(self, env: dict[str, str], name: str = "relay") -> None:
        """`agentdesk relay`."""
        self.supervisor.start(name, [AGENTDESK, "relay"], env)

    def _answering(self, api: HttpApi) -> HttpApi:
        """`api` once its server answers the health check."""
        self.wait_for(api.healthy, f"the server at {api.base_url} to answer")
        return api

    # --- data ------------------------------------------------------------------------------

    def token(self, email: str) -> str:
        """A new bearer token of an existing user."""
        with self.app.app_context():
            return create_token(db.session, email)

    def add_user(self, email: str, role: Role) -> str:
        """Create a user (approvers and admins cover every branch) and return a token."""
        with self.app.app_context():
            save_user(db.session, email, role, PASSWORD_HASH)
            return create_token(db.session, email)

    def approve_in_process(self, employee_id: int, extension: str) -> int:
        """Submit and approve a ticket in this process, whose broker never reaches Redis."""
        with self.app.app_context():
            requester = actor_of(db.session.get_one(User, self.world.requester_id))
            ticket = submit_ticket(db.session, requester,
                                   TicketRequest(TicketKind.NEW, employee_id, extension))
            admin = actor_of(db.session.get_one(User, self.world.admin_id))
            return decisions.approve_ticket(db.session, admin, ticket.id).id

    def scalar(self, sql: str, *params: Any) -> Any:
        """The first column of the first row of a query."""
        row = self.connection.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Every row of a query."""
        return self.connection.execute(sql, params).fetchall()

    def lock_directory(self) -> psycopg.Connection[Any]:
        """A connection holding an ACCESS EXCLUSIVE lock on the directory until it rolls back."""
        connection = psycopg.connect(self.pg_url)
        connection.execute("LOCK TABLE phone_directory_entry IN ACCESS EXCLUSIVE MODE")
        return connection

    def waiting_on_directory(self) -> int:
        """How many sessions of this database wait for a lock on the directory."""
        return int(self.scalar(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE d.datname = current_database() AND NOT l.granted "
            "AND l.relation = 'phone_directory_entry'::regclass"
        ))

    def pending_outbox(self) -> int:
        """How many outbox rows no worker has handled yet."""
        return int(self.scalar("SELECT count(*) FROM outbox_message WHERE processed_at IS NULL"))

    def states(self, ticket_ids: Sequence[int]) -> dict[int, str]:
        """The state of each ticket."""
        rows = self.rows("SELECT id, state FROM ticket WHERE id = ANY(%s)", list(ticket_ids))
        return {int(ticket_id): str(state) for ticket_id, state in rows}

    # --- waiting ---------------------------------------------------------------------------

    def wait_for(self, check: Callable[[], T], what: str,
                 describe: Callable[[], str] | None = None) -> T:
        """Poll `check` until truthy; fail at the deadline with what, the state and the logs."""
        deadline = time.monotonic() + DEADLINE
        while True:
            self.supervisor.check()
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                details = describe() if describe is not None else ""
                pytest.fail(f"gave up after {DEADLINE:.0f}s waiting for {what}\n{details}\n"
                            f"{self.supervisor.logs()}", pytrace=False)
            time.sleep(0.1)

    def wait_until_settled(self, ticket_ids: Sequence[int]) -> None:
        """Wait until every ticket is provisioned and no outbox row is left unprocessed."""
        def settled() -> bool:
            """Whether every ticket is provisioned and the outbox is empty."""
            states = self.states(ticket_ids)
            provisioned = all(states.get(id_) == "provisioned" for id_ in ticket_ids)
            return provisioned and self.pending_outbox() == 0

        self.wait_for(settled, f"tickets {list(ticket_ids)} to be provisioned and the outbox "
                      "to drain", lambda: self.describe(ticket_ids))

    def describe(self, ticket_ids: Sequence[int]) -> str:
        """Tickets and pending outbox rows, for failure messages."""
        tickets = self.rows(
            "SELECT id, state, version, attempts, lease_until, last_error FROM ticket "
            "WHERE id = ANY(%s) ORDER BY id", list(ticket_ids),
        )
        pending = self.rows(
            "SELECT key, send_count, last_sent_at FROM outbox_message "
            "WHERE processed_at IS NULL ORDER BY id"
        )
        return (f"tickets (id, state, version, attempts, lease_until, last_error): {tickets}\n"
                f"unprocessed outbox rows (key, send_count, last_sent_at): {pending}")


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    """A dedicated migrated database with a small organisation, and a process supervisor."""
    if REDIS_SERVER is None:
        pytest.fail("redis-server is not installed (.ci/run installs it)")
    database_url = fresh_pg_database(f"agentdesk_fault_{worker_suffix()}")
    app = build_app(database_url)
    with app.app_context():
        world = make_world()
    supervisor = Supervisor(tmp_path)
    connection = psycopg.connect(
        database_url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True
    )
    try:
        yield Harness(app, database_url, world, connection, supervisor)
    finally:
        supervisor.kill_all()
        connection.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
