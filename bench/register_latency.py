"""Provisioning latency from approval to the first successful SIP REGISTER, production shape.

usage (from the project root):  python -m bench.register_latency [--samples 30] ...

PostgreSQL + a private Redis + gunicorn (the Procfile's web command) + `agentdesk worker`
(`-p 2 -t 4`) + `agentdesk relay`, with PHONE_SYSTEM=kamailio against a real Kamailio
(tests.support.pbx). Per sample: a new ticket for a fresh employee is filed and approved over
HTTP; then the employee, signed in with the employee's email, polls /my/credentials, reveals
the SIP password and REGISTERs with it (tests.sip.Phone). A second, smaller series goes
through the emailed one-time link, `/credentials/open#<token>`, opened as its page's script
does (aiosmtpd in this process, the relay's default 1 s interval). In the same run, the limits
harness's idle "send -> actor started" latency at the worker's Redis poll cap, for context.
Prints a markdown summary, kept in bench/out/register-<time>/ with results.jsonl and the logs.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import html
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from email.message import Message
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import psycopg
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from flask import Flask
from sqlalchemy import text

from bench import dataset
from bench.measure import Api, pct, submit_body
from bench.run import LIMITS_DIR, PRODUCT_VARS, code_version, fmt
from bench.stack import (
    Children,
    PrivateRedis,
    cpu_mloops,
    exit_on_sigterm,
    free_port,
    loadavg,
    tool,
    wait_http,
)
from tests.support.pbx import Kamailio, running_kamailio
from tests.support.sip import Phone
from web.extensions import db
from workflow.domain.rules import Role
from workflow.people.accounts import save_user

PROJECT = Path(__file__).resolve().parent.parent
#: Databases of this benchmark (agentdesk's and Kamailio's), dropped at the start and end.
APP_DATABASE = "agentdesk_bench_reg_app"
KAMAILIO_DATABASE = "agentdesk_bench_reg_kamailio"
#: Every setting of the product that the bench chooses itself (inherited values are dropped).
OUR_VARS = (*PRODUCT_VARS, "KAMAILIO_DATABASE_URL", "KAMAILIO_RPC_URL", "SIP_DOMAIN",
            "BASE_URL", "CREDENTIAL_KEYS", "CREDENTIAL_LINK_HOURS", "PROVISION_BATCH",
            "PROVISION_LEASE_SECONDS", "PROVISION_MAX_ATTEMPTS", "PROVISION_RETRY_SECONDS",
            "LOGIN_FAILURES_PER_ADDRESS", "LOGIN_FAILURES_PER_ACCOUNT", "AGENTDESK_INSTANCE")
#: The employees' sign-in password (bench.dataset's cheap hash).
EMPLOYEE_PASSWORD = "bench-only"
#: Worker counts of the Procfile's `worker` line.
WORKER_PROCESSES, WORKER_THREADS = 2, 4
#: The bare stack's Redis poll cap for the harness's idle latency (dramatiq_worker_timeout):
#: agentdesk's former default; agentdesk's workers now wake on each message instead.
WORKER_POLL_MS = 25

#: The harness's idle latency (its bench_dramatiq.latency, unchanged), run in a child process
#: with cwd = the harness folder: send one message after a random 0.1-1.5 s gap, time until the
#: actor starts; its own redis on $LIMITS_REDIS_PORT, `dramatiq -p 2 -t 8`.
LIMITS_LATENCY = """
import json, signal, sys
def _stop(signum, frame):
    raise SystemExit(128 + signum)
signal.signal(signal.SIGTERM, _stop)
import common
common.start_redis()
try:
    import bench_dramatiq
    out = bench_dramatiq.latency(0, int(sys.argv[1]),
                                 env={"dramatiq_worker_timeout": sys.argv[2]})
finally:
    common.stop_redis()
print("LIMITS_JSON " + json.dumps(out), flush=True)
"""



def employee_email(employee_id: int) -> str:
    """The seeded email of an employee (and of the user who signs in as them)."""
    return f"emp{employee_id}@bench.vn"


def now() -> float:
    """The bench's clock (every timestamp of a sample is taken in this process)."""
    return time.perf_counter()


# -- clients ---------------------------------------------------------------------------------


class Browser:
    """A person's browser: one cookie jar, forms with their CSRF token (urllib, no JS)."""

    def __init__(self, base_url: str) -> None:
        """Talk to `base_url` (http://127.0.0.1:port)."""
        self.base = base_url.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def request(self, path: str, data: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str, str]:
        """GET (or POST when `data` is given); (status, body, final URL after redirects)."""
        url = path if path.startswith("http") else self.base + path
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), response.geturl()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), url

    def get(self, path: str) -> tuple[int, str, str]:
        """GET a page."""
        return self.request(path)

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
        """POST a form (url-encoded)."""
        body = urllib.parse.urlencode(fields).encode()
        return self.request(path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, path: str, payload: dict[str, Any]) -> tuple[int, str, str]:
        """POST JSON (the API; no CSRF there)."""
        return self.request(path, json.dumps(payload).encode(),
                            {"Content-Type": "application/json"})


#: A form's CSRF token (the attributes of WTForms' field come in another order).
CSRF = re.compile(r'name="csrf_token"[^>]*? value="([^"]+)"')
REVEAL_FORM = re.compile(r'action="(/my/credentials/\d+)"')
#: A mailed one-time link: its token is after "#", which browsers never send to a server.
LINK = re.compile(r"/credentials/open#([A-Za-z0-9_-]+)")


def revealed_fields(page: str) -> tuple[str, str, str] | None:
    """(username, domain, password) from a page that shows a password, else None."""
    found = [re.search(rf'id="{name}">([^<]+)<', page)
             for name in ("sip-username", "sip-domain", "sip-password")]
    if any(match is None for match in found):
        return None
    username, domain, password = (html.unescape(match.group(1)) for match in found if match)
    return username, domain, password


class Inbox(MessageHandler):
    """An SMTP server's mailbox: every message with the time it arrived (bench clock)."""

    def __init__(self) -> None:
        super().__init__(email.message.Message)
        self.lock = threading.Lock()
        self.letters: list[tuple[float, Message]] = []

    def handle_message(self, message: Message) -> None:
        """Keep the message (called by aiosmtpd's thread once DATA is complete)."""
        arrived = now()
        with self.lock:
            self.letters.append((arrived, message))

    def link_for(self, address: str) -> tuple[float, str] | None:
        """(arrival time, token) of the one-time link mailed to `address`, if it came."""
        with self.lock:
            letters = list(self.letters)
        for arrived, message in letters:
            if message["To"] != address:
                continue
            payload = message.get_payload(decode=True)
            found = LINK.search(payload.decode() if isinstance(payload, bytes) else "")
            if found:
                return arrived, found.group(1)
        return None


class StatePoller(threading.Thread):
    """Reads one ticket's state every `poll_s` until it is provisioned (or failed)."""

    def __init__(self, connection: psycopg.Connection[Any], ticket_id: int, poll_s: float,
                 timeout: float) -> None:
        """Poll `ticket_id` on `connection` (used by this thread only while it runs)."""
        super().__init__(daemon=True)
        self.connection = connection
        self.ticket_id = ticket_id
        self.poll_s = poll_s
        self.timeout = timeout
        self.stop = threading.Event()
        self.seen_at: float | None = None
        self.state = ""
        self.error: str | None = None

    def run(self) -> None:
        """Poll until a final state, `stop`, or the timeout."""
        deadline = now() + self.timeout
        while not self.stop.is_set() and now() < deadline:
            row = self.connection.execute("select state, last_error from ticket where id = %s",
                                          (self.ticket_id,), prepare=True).fetchone()
            if row is not None and row[0] in ("provisioned", "failed"):
                self.seen_at, self.state, self.error = now(), row[0], row[1]
                return
            self.stop.wait(self.poll_s)


# -- processes -------------------------------------------------------------------------------


@dataclass
class Stack:
    """gunicorn (2 sync workers), `agentdesk worker` and `agentdesk relay`, one environment."""

    children: Children
    env: dict[str, str]
    web_port: int
    tag: str
    procs: tuple[subprocess.Popen[bytes], ...] = ()

    def start(self) -> None:
        """Start the three and wait until the web answers and the worker processes are ready."""
        log_dir = self.children.log_dir
        web = self.children.spawn(
            [tool("gunicorn"), "--workers", "2", "--worker-class", "sync",
             "--bind", f"127.0.0.1:{self.web_port}", "--log-level", "warning",
             "web:create_app()"], f"gunicorn-{self.tag}.log", env=self.env, cwd=PROJECT)
        worker_log = f"worker-{self.tag}.log"
        worker = self.children.spawn(
            [tool("agentdesk"), "worker", "--processes", str(WORKER_PROCESSES),
             "--threads", str(WORKER_THREADS)], worker_log, env=self.env, cwd=PROJECT)
        relay = self.children.spawn([tool("agentdesk"), "relay"], f"relay-{self.tag}.log",
                                    env=self.env, cwd=PROJECT)
        self.procs = (relay, worker, web)
        wait_http(f"http://127.0.0.1:{self.web_port}/healthz", web)
        deadline = time.monotonic() + 60
        while (log_dir / worker_log).read_text(errors="replace").count(
                "Worker process is ready for action") < WORKER_PROCESSES:
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start, see {log_dir / worker_log}")
            time.sleep(0.1)
        if relay.poll() is not None:
            raise RuntimeError(f"the relay exited, see {log_dir}/relay-{self.tag}.log")

    def stop(self) -> None:
        """Stop them (pid, then their process group)."""
        for proc in self.procs:
            self.children.stop(proc)
        self.procs = ()


def limits_latency(children: Children, out: Path, limits_dir: Path, redis_port: int,
                   idle_n: int, poll_ms: int) -> dict[str, float]:
    """The harness's idle send -> actor-started latency at `poll_ms`, in a child (bounded)."""
    log = children.log_dir / "limits-latency.log"
    env = {**os.environ, "LIMITS_SCRATCH": str(out / "limits"),
           "LIMITS_REDIS_PORT": str(redis_port),
           # Never connected to: the latency probe does not touch the database.
           "LIMITS_PG_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/unused",
           "PYTHONPATH": str(limits_dir)}
    proc = children.spawn([sys.executable, "-c", LIMITS_LATENCY, str(idle_n), str(poll_ms)],
                          log.name, env=env, cwd=limits_dir)
    try:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=60 + 3 * idle_n)
    finally:
        children.stop(proc)
    for line in log.read_text().splitlines():
        if line.startswith("LIMITS_JSON "):
            return {f"limits.lat.wt{poll_ms}.{key}_ms": float(value)
                    for key, value in json.loads(line[len("LIMITS_JSON "):]).items()}
    raise RuntimeError(f"the harness latency gave no result, see {log}")


# -- the benchmark ---------------------------------------------------------------------------


class Bench:
    """One run: output folder, ports, databases, Kamailio, both series."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Pick paths and ports from `args`."""
        self.args = args
        self.out = PROJECT / "bench" / "out" / f"register-{time.strftime('%Y%m%d-%H%M%S')}"
        self.out.mkdir(parents=True, exist_ok=True)
        self.children = Children(self.out / "logs")
        self.redis_port = free_port(args.redis_port)
        self.limits_redis_port = free_port(args.limits_redis_port, taken=[self.redis_port])
        self.web_port = free_port(args.web_port)
        self.redis = PrivateRedis(self.children, self.redis_port)
        self.db_url = dataset.database_url(args.pg_admin_url, APP_DATABASE)
        os.environ["TEST_PG_ADMIN_URL"] = args.pg_admin_url  # Kamailio's database, same server
        self.poll_s = args.poll_ms / 1000
        self.samples: dict[str, list[dict[str, Any]]] = {"signed_in": [], "email": []}
        self.metrics: dict[str, float] = {}
        self.sent_wall = self.answered_wall = 0.0

    def record(self, kind: str, **values: Any) -> None:
        """Append one line to results.jsonl."""
        with open(self.out / "results.jsonl", "a") as handle:
            handle.write(json.dumps({"kind": kind, "ts": time.time(), **values}) + "\n")

    def metric(self, name: str, value: float) -> None:
        """Record one figure of the run."""
        self.metrics[name] = float(value)
        self.record("metric", metric=name, value=value)
        print(f"  {name:48s} {value:12.2f}", flush=True)

    def environment(self, when: str) -> None:
        """Load and CPU speed now."""
        self.metric(f"env.load1_{when}", loadavg())
        self.metric(f"env.cpu_mloops_{when}", cpu_mloops())

    def product_env(self, kamailio: Kamailio, mail_port: int | None) -> dict[str, str]:
        """Environment of gunicorn, the worker and the relay: only what the bench chose."""
        env = {k: v for k, v in os.environ.items() if k not in OUR_VARS}
        env.update(DATABASE_URL=dataset.libpq_url(self.db_url),
                   REDIS_URL=self.redis.url, SECRET_KEY=dataset.SECRET_KEY,
                   PHONE_SYSTEM="kamailio", KAMAILIO_DATABASE_URL=kamailio.database_url,
                   KAMAILIO_RPC_URL=kamailio.rpc_url, SIP_DOMAIN=kamailio.domain,
                   BASE_URL=f"http://127.0.0.1:{self.web_port}",
                   AGENTDESK_INSTANCE=str(self.out / "instance"))
        if mail_port is not None:
            env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(mail_port),
                       RELAY_INTERVAL_SECONDS="10")
        return env

    # -- set-up ------------------------------------------------------------------------------

    def seed(self, app: Flask, employees: int) -> dataset.Seeded:
        """bench.dataset's organisation and users, plus an email and a user per employee."""
        seeded = dataset.migrate_and_seed(app, employees)
        with app.app_context():
            session = db.session()
            session.execute(text("update employee set email = 'emp' || id || '@bench.vn'"))
            session.commit()
            for employee_id in range(seeded.first_employee, seeded.first_employee + employees):
                save_user(session, employee_email(employee_id), Role.REQUESTER,
                          dataset.PASSWORD_HASH, f"Employee {employee_id}")
            db.session.remove()
            db.engine.dispose()
        return seeded

    def file_ticket(self, requester: Api, employee_id: int) -> int:
        """A new-agent ticket for the employee (explicit six-digit extension, app/web)."""
        status, body = requester.post("/api/v1/tickets", submit_body(employee_id))
        if status != 201:
            raise RuntimeError(f"submit failed: {status} {body}")
        return int(body["id"])

    def sign_in(self, employee_id: int) -> Browser:
        """The employee's browser, signed in (API session cookie) and on /my/credentials."""
        browser = Browser(f"http://127.0.0.1:{self.web_port}")
        status, body, _ = browser.post_json("/api/v1/session", {
            "email": employee_email(employee_id), "password": EMPLOYEE_PASSWORD})
        if status != 200:
            raise RuntimeError(f"employee sign-in failed: {status} {body[:200]}")
        status, page, url = browser.get("/my/credentials")
        if status != 200 or not url.endswith("/my/credentials") or REVEAL_FORM.search(page):
            raise RuntimeError(f"/my/credentials before approval: {status} {url}")
        return browser

    # -- one sample --------------------------------------------------------------------------

    def approve(self, approver: Api, ticket_id: int, poller: StatePoller) -> tuple[float, float]:
        """Start the state poller, approve; (sent, answered) times.

        The wall-clock times of both are kept too, to place the app's approve event.
        """
        poller.start()
        self.sent_wall, sent = time.time(), now()
        status, body = approver.post(f"/api/v1/tickets/{ticket_id}/approve", {})
        answered, self.answered_wall = now(), time.time()
        if status != 200:
            poller.stop.set()
            raise RuntimeError(f"approve failed: {status} {body}")
        return sent, answered

    def register(self, username: str, domain: str, password: str, proxy: tuple[str, int],
                 deadline: float) -> tuple[float, int]:
        """REGISTER until 200 (every poll interval); (time of the 200, attempts)."""
        phone = Phone(username, password, domain, proxy)
        attempts = 0
        try:
            while True:
                attempts += 1
                with contextlib.suppress(TimeoutError):
                    if phone.register(expires=120) == 200:
                        return now(), attempts
                if now() > deadline:
                    raise RuntimeError(f"{username} got no 200 to REGISTER ({attempts} tries)")
                time.sleep(self.poll_s)
        finally:
            phone.close()

    def signed_in_sample(self, index: int, employee_id: int, ctx: SeriesContext) -> None:
        """Approve, then as the signed-in employee: poll, reveal, REGISTER."""
        browser = self.sign_in(employee_id)
        ticket_id = self.file_ticket(ctx.requester, employee_id)
        time.sleep(random.uniform(*self.args.gap))
        poller = StatePoller(ctx.connection, ticket_id, self.poll_s, self.args.timeout)
        wal_at = ctx.wal_lsn()
        sent, t0 = self.approve(ctx.approver, ticket_id, poller)
        deadline = t0 + self.args.timeout
        get_ms: list[float] = []
        try:
            while True:
                asked = now()
                status, page, _ = browser.get("/my/credentials")
                get_ms.append((now() - asked) * 1000)
                form = REVEAL_FORM.search(page) if status == 200 else None
                token = CSRF.search(page) if status == 200 else None
                if form and token:
                    listed = now()
                    status, shown, _ = browser.post_form(form.group(1),
                                                         {"csrf_token": token.group(1)})
                    fields = revealed_fields(shown) if status == 200 else None
                    if fields is None:
                        raise RuntimeError(f"reveal answered {status} for ticket {ticket_id}")
                    revealed = now()
                    break
                if now() > deadline or poller.state == "failed":
                    raise RuntimeError(f"no password for ticket {ticket_id} ({poller.state} "
                                       f"{poller.error})")
                time.sleep(self.poll_s)
            registered, attempts = self.register(*fields, ctx.sip, deadline)
            wal_kb = ctx.wal_kb_since(wal_at)
        finally:
            poller.stop.set()
            poller.join()
        self.keep("signed_in", index, employee_id, ticket_id, fields[0], poller, sent, t0,
                  {"listed": listed, "revealed": revealed, "registered": registered},
                  polls=len(get_ms), get_ms=statistics.fmean(get_ms),
                  register_attempts=attempts, cluster_wal_kb=wal_kb)

    def email_sample(self, index: int, employee_id: int, ctx: SeriesContext) -> None:
        """Approve, then as the employee: wait for the letter, open the link, REGISTER."""
        address = employee_email(employee_id)
        ticket_id = self.file_ticket(ctx.requester, employee_id)
        time.sleep(random.uniform(*self.args.gap))
        poller = StatePoller(ctx.connection, ticket_id, self.poll_s, self.args.timeout)
        wal_at = ctx.wal_lsn()
        sent, t0 = self.approve(ctx.approver, ticket_id, poller)
        deadline = t0 + self.args.timeout
        assert ctx.inbox is not None
        try:
            while (letter := ctx.inbox.link_for(address)) is None:
                if now() > deadline or poller.state == "failed":
                    raise RuntimeError(f"no letter for ticket {ticket_id} ({poller.state} "
                                       f"{poller.error})")
                time.sleep(self.poll_s)
            noticed = now()
            mailed, link_token = letter
            browser = Browser(f"http://127.0.0.1:{self.web_port}")
            # As the link's page does: GET /credentials/open (the part after "#" stays in the
            # browser), whose script posts the token; then the button posts it to reveal.
            status, page, _ = browser.get("/credentials/open")
            csrf = CSRF.search(page)
            if status != 200 or csrf is None:
                raise RuntimeError(f"link page answered {status} for ticket {ticket_id}")
            form = {"csrf_token": csrf.group(1), "token": link_token}
            # A mailed link works on arrival (the relay saves it before sending); a 404 here
            # is a bug, counted and reported, and the token posted again every poll interval.
            invalid = 0
            while (answer := browser.post_form("/credentials/open", form))[0] == 404 \
                    and now() < deadline:
                invalid += 1
                time.sleep(self.poll_s)
            status, page, _ = answer
            if status != 200 or 'action="/credentials/reveal"' not in page:
                raise RuntimeError(f"posted link answered {status} for ticket {ticket_id}")
            status, shown, _ = browser.post_form("/credentials/reveal", form)
            fields = revealed_fields(shown) if status == 200 else None
            if fields is None:
                raise RuntimeError(f"link reveal answered {status} for ticket {ticket_id}")
            revealed = now()
            registered, attempts = self.register(*fields, ctx.sip, deadline)
            wal_kb = ctx.wal_kb_since(wal_at)
        finally:
            poller.stop.set()
            poller.join()
        self.keep("email", index, employee_id, ticket_id, fields[0], poller, sent, t0,
                  {"mailed": mailed, "revealed": revealed, "registered": registered},
                  mail_noticed_ms=(noticed - mailed) * 1000, link_invalid=invalid,
                  register_attempts=attempts, cluster_wal_kb=wal_kb)

    def keep(self, series: str, index: int, employee_id: int, ticket_id: int, username: str,
             poller: StatePoller, sent: float, t0: float, marks: dict[str, float],
             **extra: Any) -> None:
        """Store a sample: every mark in ms from t0 (the approve call's return)."""
        if poller.seen_at is None:
            raise RuntimeError(f"ticket {ticket_id} not seen provisioned ({poller.state})")
        sample = {"series": series, "index": index, "employee_id": employee_id,
                  "ticket_id": ticket_id, "sip_username": username,
                  "approve_http_ms": (t0 - sent) * 1000, "sent_wall": self.sent_wall,
                  "answered_wall": self.answered_wall,
                  "provisioned_ms": (poller.seen_at - t0) * 1000,
                  **{f"{mark}_ms": (at - t0) * 1000 for mark, at in marks.items()}, **extra}
        warm = index < self.args.warmup
        self.record("sample", warm=warm, **sample)
        if not warm:
            self.samples[series].append(sample)
        print(f"  {series:9s} #{index:<3d}{' (warm-up)' if warm else '          '} "
              f"provisioned {sample['provisioned_ms']:7.1f}  revealed "
              f"{sample['revealed_ms']:7.1f}  REGISTER 200 {sample['registered_ms']:7.1f} ms",
              flush=True)

    # -- series ------------------------------------------------------------------------------

    def series(self, name: str, count: int, employees: Sequence[int], ctx: SeriesContext,
               sample: Callable[[int, int, SeriesContext], None]) -> None:
        """Warm-up plus `count` samples, one at a time, each for a fresh employee."""
        total = self.args.warmup + count
        if len(employees) < total:
            raise RuntimeError("not enough seeded employees")
        print(f"-- series {name}: {self.args.warmup} warm-up + {count} samples", flush=True)
        for index, employee_id in enumerate(employees[:total]):
            sample(index, employee_id, ctx)

    def server_stamps(self, series: str) -> None:
        """approve -> worker start -> complete, from the ticket events (app timestamps)."""
        kept = self.samples[series]
        if not kept:
            return
        with psycopg.connect(dataset.libpq_url(self.db_url)) as connection:
            rows = connection.execute(
                "select ticket_id, action, created_at from ticket_event "
                "where action in ('approve', 'start', 'complete') and ticket_id = any(%s)",
                ([sample["ticket_id"] for sample in kept],)).fetchall()
        stamps: dict[int, dict[str, Any]] = {}
        for ticket_id, action, created_at in rows:
            stamps.setdefault(ticket_id, {})[action] = created_at.replace(tzinfo=UTC)
        for sample in kept:
            found = stamps.get(sample["ticket_id"], {})
            if {"approve", "start", "complete"} <= found.keys():
                approved = found["approve"].timestamp()
                sample["event_after_send_ms"] = (approved - sample["sent_wall"]) * 1000
                sample["answer_after_event_ms"] = (sample["answered_wall"] - approved) * 1000
                sample["pickup_ms"] = (found["start"] - found["approve"]).total_seconds() * 1000
                sample["provision_ms"] = (
                    found["complete"] - found["start"]).total_seconds() * 1000
                self.record("stamps", series=series, ticket_id=sample["ticket_id"],
                            **{key: sample[key] for key in (
                                "event_after_send_ms", "answer_after_event_ms", "pickup_ms",
                                "provision_ms")})

    def run(self) -> str:
        """Everything, in order; returns the markdown summary."""
        args = self.args
        started_utc = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        code_at_start = code_version()
        print(f"== code {code_at_start}; output {self.out.relative_to(PROJECT)}", flush=True)
        self.environment("start")
        if args.limits_idle_n:
            print(f"-- limits harness: idle send -> actor started, dramatiq_worker_timeout="
                  f"{WORKER_POLL_MS}, {args.limits_idle_n} samples", flush=True)
            limits_dir = (PROJECT / args.limits_dir).resolve()
            for key, value in limits_latency(self.children, self.out, limits_dir,
                                             self.limits_redis_port, args.limits_idle_n,
                                             WORKER_POLL_MS).items():
                self.metric(key, value)
        employees = 2 * args.warmup + args.samples + args.email_samples
        smtp: Controller | None = None
        app: Flask | None = None
        try:
            self.redis.start()
            dataset.recreate_database(args.pg_admin_url, APP_DATABASE)
            app = dataset.bench_app(self.db_url, self.redis.url)
            seeded = self.seed(app, employees)
            ids = list(range(seeded.first_employee, seeded.first_employee + employees))
            dsn = dataset.libpq_url(self.db_url)
            with running_kamailio(KAMAILIO_DATABASE, self.out / "logs" / "kamailio.log") as pbx, \
                    psycopg.connect(dsn, autocommit=True) as conn, \
                    psycopg.connect(dsn, autocommit=True) as wal:
                ctx = SeriesContext(Api(self.web_port, seeded.requester_token),
                                    Api(self.web_port, seeded.approver_token), conn, wal,
                                    pbx.sip)
                first = args.warmup + args.samples
                if args.samples:
                    stack = Stack(self.children, self.product_env(pbx, None), self.web_port,
                                  "signed-in")
                    stack.start()
                    try:
                        self.series("signed-in (/my/credentials)", args.samples, ids[:first],
                                    ctx, self.signed_in_sample)
                    finally:
                        stack.stop()
                    self.server_stamps("signed_in")
                    self.environment("after_signed_in")
                if args.email_samples:
                    inbox = Inbox()
                    mail_port = free_port(args.smtp_port)
                    smtp = Controller(inbox, hostname="127.0.0.1", port=mail_port)
                    smtp.start()
                    ctx.inbox = inbox
                    stack = Stack(self.children, self.product_env(pbx, mail_port),
                                  self.web_port, "email")
                    stack.start()
                    try:
                        self.series("email (one-time link)", args.email_samples, ids[first:],
                                    ctx, self.email_sample)
                    finally:
                        stack.stop()
                    self.server_stamps("email")
            self.environment("end")
        finally:
            self.children.stop_all()
            self.redis.stop()
            if smtp is not None:
                smtp.stop()
            if app is not None:
                with app.app_context():
                    db.engine.dispose()
            if not args.keep_db:
                for name in (APP_DATABASE, KAMAILIO_DATABASE):
                    with contextlib.suppress(Exception):
                        dataset.drop_database(args.pg_admin_url, name)
        code_at_end = code_version()
        code = code_at_start if code_at_end == code_at_start else (
            f"{code_at_start} at start, {code_at_end} at the end: THE CODE CHANGED DURING "
            "THE RUN")
        summary = self.render(started_utc, code)
        (self.out / "summary.md").write_text(summary)
        return summary

    # -- report ------------------------------------------------------------------------------

    def render(self, started_utc: str, code: str) -> str:
        """The markdown summary."""
        args = self.args
        lines = [f"## register latency ({started_utc}, code {code})", ""]

        def table(title: str, series: str, rows: Sequence[tuple[str, str]]) -> None:
            kept = self.samples[series]
            if not kept:
                return
            lines.extend([f"### {title} ({len(kept)} samples)", "",
                          "| from the approve call's return (t0) | p50 | p90 | p99 | max | "
                          "mean |", "|---|---:|---:|---:|---:|---:|"])
            for label, key in rows:
                values = [sample[key] for sample in kept if key in sample]
                if not values:
                    lines.append(f"| {label} | - | - | - | - | - |")
                    continue
                cells = [pct(values, 50), pct(values, 90), pct(values, 99), max(values),
                         statistics.fmean(values)]
                lines.append(f"| {label} | " + " | ".join(fmt(c) for c in cells) + " |")
            lines.append("")

        for series in self.samples.values():
            for sample in series:
                for later, earlier in (("listed", "provisioned"), ("revealed", "listed"),
                                       ("revealed", "provisioned"), ("registered", "revealed"),
                                       ("mailed", "provisioned"), ("revealed", "mailed")):
                    if f"{later}_ms" in sample and f"{earlier}_ms" in sample:
                        sample[f"{earlier}_to_{later}_ms"] = (
                            sample[f"{later}_ms"] - sample[f"{earlier}_ms"])
        table("Signed-in employee: /my/credentials -> reveal -> REGISTER", "signed_in", [
            ("approve request itself (send -> response), ms", "approve_http_ms"),
            ("-> ticket provisioned (DB poll sees it), ms", "provisioned_ms"),
            ("-> password listed on /my/credentials, ms", "listed_ms"),
            ("-> password revealed (POST answered), ms", "revealed_ms"),
            ("**-> first REGISTER 200 (t1 - t0), ms**", "registered_ms"),
            ("segment: provisioned -> listed (polling), ms", "provisioned_to_listed_ms"),
            ("segment: listed -> revealed (the reveal POST), ms", "listed_to_revealed_ms"),
            ("segment: provisioned -> revealed, ms", "provisioned_to_revealed_ms"),
            ("segment: revealed -> REGISTER 200, ms", "revealed_to_registered_ms"),
            ("approve request: send -> approve event written, ms", "event_after_send_ms"),
            ("approve request: approve event -> response (commit, send), ms",
             "answer_after_event_ms"),
            ("server: approve event -> worker start event, ms", "pickup_ms"),
            ("server: start -> complete event (Kamailio writes), ms", "provision_ms"),
            ("GETs of /my/credentials per sample", "polls"),
            ("one GET of /my/credentials (sample mean), ms", "get_ms"),
            ("REGISTER attempts per sample", "register_attempts"),
            ("WAL written by the whole cluster during the sample, KiB", "cluster_wal_kb"),
        ])
        table("Email: letter -> one-time link -> reveal -> REGISTER", "email", [
            ("approve request itself (send -> response), ms", "approve_http_ms"),
            ("-> ticket provisioned (DB poll sees it), ms", "provisioned_ms"),
            ("-> letter received by the SMTP server, ms", "mailed_ms"),
            ("-> password revealed through the link, ms", "revealed_ms"),
            ("**-> first REGISTER 200 (t1 - t0), ms**", "registered_ms"),
            ("segment: provisioned -> letter received, ms", "provisioned_to_mailed_ms"),
            ("segment: letter -> revealed (GET + 2 POSTs), ms", "mailed_to_revealed_ms"),
            ("posted link answered 404 (invalid) before it worked, times", "link_invalid"),
            ("segment: revealed -> REGISTER 200, ms", "revealed_to_registered_ms"),
            ("approve request: send -> approve event written, ms", "event_after_send_ms"),
            ("approve request: approve event -> response (commit, send), ms",
             "answer_after_event_ms"),
            ("server: approve event -> worker start event, ms", "pickup_ms"),
            ("server: start -> complete event (Kamailio writes), ms", "provision_ms"),
            ("REGISTER attempts per sample", "register_attempts"),
            ("WAL written by the whole cluster during the sample, KiB", "cluster_wal_kb"),
        ])
        invalid = [sample["link_invalid"] for sample in self.samples["email"]
                   if sample.get("link_invalid")]
        if invalid:
            lines.extend([
                f"**The emailed link answered 404 (\"invalid link\") in {len(invalid)} of "
                f"{len(self.samples['email'])} samples (its token posted again every poll "
                f"interval: at most {max(invalid)} more POST(s) before it worked)**: a mailed "
                "link must "
                "work on arrival (`workflow/credentials.py` `email_links` saves it first); "
                "this is a bug.", ""])
        lines.extend(self.outlier_lines())
        lines.extend(self.context_lines())
        lines.extend([
            "",
            f"Method: per sample a new ticket for a fresh employee (`POST /api/v1/tickets`, "
            f"bearer token), a random {args.gap[0]}-{args.gap[1]} s idle gap, then "
            "`POST /api/v1/tickets/<id>/approve` over HTTP to gunicorn (`--workers 2 "
            "--worker-class sync`, the Procfile's web); t0 = its return. `agentdesk worker "
            f"-p {WORKER_PROCESSES} -t {WORKER_THREADS}` and `agentdesk relay` are separate "
            f"processes on a private Redis; harness poll cap {WORKER_POLL_MS} ms; "
            "PHONE_SYSTEM=kamailio on a real Kamailio 5.6 (own PostgreSQL database). Polls every "
            f"{args.poll_ms:g} ms, each starting {args.poll_ms:g} ms after the previous answer: "
            "the ticket's state (psycopg, own thread), `GET /my/credentials` as the employee "
            "signed in beforehand (`POST /api/v1/session` with the employee's email; its "
            "CSRF token read from the page, reveal = `POST /my/credentials/<id>`), the SMTP "
            "inbox, and REGISTER retries (tests.sip.Phone, digest). Email series: aiosmtpd in "
            "this process, MAIL_SERVER/MAIL_PORT set for all three processes; the link "
            "(`/credentials/open#<token>`) opened as its page's script does: `GET "
            "/credentials/open`, `POST /credentials/open` with the token, then the button's "
            "`POST /credentials/reveal`; "
            "the relay LISTENs on PostgreSQL and mails a link as soon as its password is "
            "committed (RELAY_INTERVAL_SECONDS=10, the default, is only its safety net). "
            f"{args.warmup} warm-up samples per series are not counted. Percentiles are "
            "nearest-rank: below 100 samples p99 is the maximum.",
            "",
        ])
        return "\n".join(lines)

    def outlier_lines(self) -> list[str]:
        """Samples whose approve request or approve -> REGISTER took over 3x its median."""
        lines = ["### Outliers (approve request or t1 - t0 over 3x the series median)", "",
                 "| series #n | sent (UTC) | approve request | of which event -> response | "
                 "-> provisioned | listed -> revealed | t1 - t0 | cluster WAL KiB |",
                 "|---|---|---:|---:|---:|---:|---:|---:|"]
        found = False
        for series, kept in self.samples.items():
            if not kept:
                continue
            limits = {key: 3 * statistics.median(sample[key] for sample in kept)
                      for key in ("approve_http_ms", "registered_ms")}
            for sample in kept:
                if all(sample[key] <= limit for key, limit in limits.items()):
                    continue
                found = True
                sent = time.strftime("%H:%M:%S", time.gmtime(sample["sent_wall"]))
                cells = [fmt(sample.get(key)) for key in (
                    "approve_http_ms", "answer_after_event_ms", "provisioned_ms",
                    "listed_to_revealed_ms", "registered_ms", "cluster_wal_kb")]
                lines.append(f"| {series} #{sample['index']} | {sent} | " + " | ".join(cells)
                             + " |")
        if not found:
            lines.append("| none | | | | | | | |")
        return [*lines, ""]

    def context_lines(self) -> list[str]:
        """The same-run harness latency, ratios, load and CPU speed."""
        m = self.metrics
        lines = ["### Context (same run)", "", "| figure | value |", "|---|---|"]
        key = f"limits.lat.wt{WORKER_POLL_MS}"
        if f"{key}.idle_p50_ms" in m:
            lines.append(
                f"| limits `lat` idle send -> actor started, dramatiq_worker_timeout="
                f"{WORKER_POLL_MS} ({self.args.limits_idle_n} samples) | p50 "
                f"{fmt(m[f'{key}.idle_p50_ms'])} / p99 {fmt(m[f'{key}.idle_p99_ms'])} / max "
                f"{fmt(m[f'{key}.idle_max_ms'])} ms |")
            base = m[f"{key}.idle_p50_ms"]
            for label, series, field in (
                    ("pickup (approve event -> worker start) p50", "signed_in", "pickup_ms"),
                    ("approve -> REGISTER 200 p50, signed-in", "signed_in", "registered_ms"),
                    ("approve -> REGISTER 200 p50, email", "email", "registered_ms")):
                values = [s[field] for s in self.samples[series] if field in s]
                if values and base:
                    lines.append(f"| {label} / limits idle p50 | {pct(values, 50) / base:.2f} |")
        else:
            lines.append("| limits `lat` idle | not run (`--limits-idle-n 0`) |")
        loads = " / ".join(fmt(v) for k, v in m.items() if k.startswith("env.load1_"))
        speeds = " / ".join(fmt(v) for k, v in m.items() if k.startswith("env.cpu_mloops_"))
        lines += [f"| load1 (start / after signed-in / end) | {loads} |",
                  f"| CPU calibration (the harness's loop), Mloops/s | {speeds} |"]
        return lines


@dataclass
class SeriesContext:
    """What every sample of a series uses."""

    requester: Api
    approver: Api
    connection: psycopg.Connection[Any]
    #: Reads the cluster's WAL position (others' writes share its flushes with ours).
    wal: psycopg.Connection[Any]
    sip: tuple[str, int]
    inbox: Inbox | None = None

    def wal_lsn(self) -> str:
        """The cluster's current WAL insert position."""
        row = self.wal.execute("select pg_current_wal_insert_lsn()::text").fetchone()
        return str(row[0]) if row else "0/0"

    def wal_kb_since(self, lsn: str) -> float:
        """KiB of WAL the whole cluster (every database, every user) wrote since `lsn`."""
        row = self.wal.execute("select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)",
                               (lsn,)).fetchone()
        return float(row[0]) / 1024 if row else 0.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.register_latency",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30,
                        help="counted samples of the signed-in series")
    parser.add_argument("--email-samples", type=int, default=8,
                        help="counted samples of the email series (0 skips it)")
    parser.add_argument("--warmup", type=int, default=3, help="uncounted samples per series")
    parser.add_argument("--poll-ms", type=float, default=5.0, help="every poll's interval")
    parser.add_argument("--gap", type=float, nargs=2, default=(0.1, 1.5), metavar=("MIN", "MAX"),
                        help="random idle gap (s) between filing a ticket and approving it")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-sample bound, s")
    parser.add_argument("--limits-idle-n", type=int, default=30,
                        help="harness idle latency samples (0 skips it)")
    parser.add_argument("--limits-dir", default=LIMITS_DIR,
                        help="the limits harness, relative to the project root")
    parser.add_argument("--pg-admin-url",
                        default=os.environ.get("BENCH_PG_ADMIN_URL",
                                               "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="PostgreSQL admin URL: both databases are created there")
    parser.add_argument("--redis-port", type=int, default=6395)
    parser.add_argument("--limits-redis-port", type=int, default=6397)
    parser.add_argument("--web-port", type=int, default=8751)
    parser.add_argument("--smtp-port", type=int, default=8761)
    parser.add_argument("--keep-db", action="store_true", help="leave the databases behind")
    return parser.parse_args(argv)


def main() -> None:
    """Run and print the summary."""
    exit_on_sigterm()
    bench = Bench(parse_args())
    print(bench.run())
    print(f"(results: {bench.out.relative_to(PROJECT)})")


if __name__ == "__main__":
    main()
