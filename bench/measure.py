"""The three agentdesk measurements: API submissions (wrk), worker drain, approve latency."""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import psycopg
import redis

from bench.mailbox import Mailbox
from bench.stack import (
    Children,
    CpuMeter,
    child_pids,
    context_switches,
    cpu_seconds,
    is_alive,
    pg_backends,
    rss_mb,
    tool,
)

HERE = Path(__file__).resolve().parent
#: Dramatiq keys of agentdesk's queues (namespace "agentdesk").
QUEUE_MSGS = {name: f"agentdesk:{name}.msgs" for name in ("provisioning",)}


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100), as the limits harness computes it."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    k = max(0, min(len(ordered) - 1, round(p / 100.0 * len(ordered) + 0.5) - 1))
    return ordered[k]


@dataclass(frozen=True)
class Api:
    """A tiny HTTP client for the API on 127.0.0.1, one connection per request."""

    # gunicorn's sync workers close every connection anyway.

    port: int
    token: str

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST JSON; returns (status, decoded body)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("POST", path, body=json.dumps(body), headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return response.status, json.loads(data) if data else {}


def submit_body(employee_id: int, explicit: bool = True) -> dict[str, Any]:
    """The JSON of a new-agent ticket, as submit.lua sends it."""
    body: dict[str, Any] = {"kind": "new", "employee_id": employee_id}
    if explicit:
        body.update(extension=str(200_000 + employee_id), routing={"type": "app_web"})
    return body


def post_many(api: Api, calls: Sequence[tuple[str, dict[str, Any]]], threads: int = 8,
              expect: int = 200, strict: bool = True) -> tuple[list[dict[str, Any]], float]:
    """POST from `threads` threads; bodies in order, seconds (`strict`: only `expect` is ok)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(lambda call: api.post(*call), calls))
    elapsed = time.perf_counter() - started
    bad = [(status, body) for status, body in results if status != expect]
    if bad and strict:
        raise RuntimeError(f"{len(bad)} of {len(calls)} calls failed, first: {bad[0]!r}")
    return [body for _, body in results], elapsed


_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(value: str) -> float:
    """A wrk duration such as '12.3ms' in milliseconds."""
    found = re.match(r"([\d.]+)(us|ms|s|m|h)$", value)
    if found is None:
        raise ValueError(value)
    return float(found.group(1)) * _UNIT_MS[found.group(2)]


def parse_wrk(out: str) -> dict[str, float]:
    """Requests, duration, rates, latency percentiles and errors from `wrk --latency`."""
    try:
        total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
        assert total is not None
        requests = int(total.group(1))
        seconds = _ms(total.group(2) + total.group(3)) / 1000
        p50 = _ms(re.search(r"^\s+50%\s+(\S+)\s*$", out, re.M).group(1))  # type: ignore[union-attr]
        p99 = _ms(re.search(r"^\s+99%\s+(\S+)\s*$", out, re.M).group(1))  # type: ignore[union-attr]
    except (AssertionError, AttributeError, ValueError):
        raise RuntimeError("cannot parse wrk output:\n" + out) from None
    non2xx = 0
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        non2xx = int(found.group(1))
    socket_errors = 0
    if found := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                          out):
        socket_errors = sum(int(x) for x in found.groups())
    return {"requests": requests, "seconds": seconds, "rps_all": requests / seconds,
            "rps": (requests - non2xx - socket_errors) / seconds, "p50_ms": p50, "p99_ms": p99,
            "non2xx": non2xx, "socket_errors": socket_errors}


def wrk_submit(port: int, token: str, first_employee: int, employees: int, mode: str,
               seconds: int, connections: int, log: Path,
               extra_timeout: float = 60.0) -> dict[str, float]:
    """`wrk -t1 -cC -dS --latency` POSTing tickets with submit.lua; parsed figures."""
    env = {**os.environ, "BENCH_TOKEN": token, "BENCH_EMP_FIRST": str(first_employee),
           "BENCH_EMP_COUNT": str(employees), "BENCH_EXTENSION": mode, "BENCH_WRK_THREADS": "1"}
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
           "-s", str(HERE / "submit.lua"), f"http://127.0.0.1:{port}/api/v1/tickets"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True,
                          timeout=seconds + extra_timeout)
    with open(log, "a") as handle:
        handle.write(f"$ {' '.join(cmd)}  # {mode}\n{done.stdout}{done.stderr}\n")
    return parse_wrk(done.stdout)


def queue_lengths(client: redis.Redis) -> dict[str, int]:
    """Messages not yet acked per agentdesk queue."""
    return {name: int(client.hlen(key)) for name, key in QUEUE_MSGS.items()}


def wait_queues_empty(client: redis.Redis, timeout: float) -> float:
    """Wait (bounded) until every agentdesk queue is acked; returns seconds waited."""
    started = time.monotonic()
    while any(queue_lengths(client).values()):
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"queues not drained in {timeout} s: {queue_lengths(client)}")
        time.sleep(0.02)
    return time.monotonic() - started


def worker_rss(master_pid: int) -> float:
    """Largest RSS (MiB) among the Dramatiq worker processes forked by `master_pid`."""
    sizes = [rss_mb(pid) for pid in child_pids(master_pid)]
    return max((size for size in sizes if size == size), default=math.nan)


def drain(children: Children, env: dict[str, str], client: redis.Redis, dsn: str, n: int,
          processes: int, threads: int, database: str, cwd: Path,
          timeout: float = 600.0) -> dict[str, float]:
    """N approved tickets wait in Redis; start `agentdesk worker`, time the provisioning drain."""
    # Like the harness's dq.drain: rate between the first and the last ack of the provisioning
    # queue (polled every 2 ms); then reads the RSS. A message may provision a batch of
    # tickets, whose own messages are then acked at once: counting acks, the first batch
    # (at most `batch` - 1 tickets of N) is done before the clock starts.
    # CPU per ticket (worker processes, PostgreSQL backends) is counted over the same interval.
    key = QUEUE_MSGS["provisioning"]
    queued = int(client.hlen(key))
    if queued != n:
        raise RuntimeError(f"{queued} provisioning messages queued, expected {n}")
    spawned = time.time()
    proc = children.spawn([tool("agentdesk"), "worker", "--processes", str(processes),
                           "--threads", str(threads)], "worker-drain.log", env=env, cwd=cwd)
    first_at = first_left = None
    worker_cpu = CpuMeter(lambda: child_pids(proc.pid))
    pg_cpu = CpuMeter(lambda: pg_backends(database))
    try:
        while True:
            left = int(client.hlen(key))
            now = time.time()
            if first_at is None and left < n:
                first_at, first_left = now, left
                worker_cpu.start()
                pg_cpu.start()
            if left == 0:
                done_at = now
                worker_s, pg_s = worker_cpu.stop(), pg_cpu.stop()
                break
            if proc.poll() is not None or now - spawned > timeout:
                raise RuntimeError(f"worker died or timed out with {left} left")
            time.sleep(0.002)
        rss = worker_rss(proc.pid)
    finally:
        children.stop(proc)
    assert first_at is not None and first_left is not None
    with psycopg.connect(dsn) as connection:
        provisioned = connection.execute(
            "select count(*) from ticket where state = 'provisioned'").fetchone()
    return {"mps": first_left / (done_at - first_at), "total_s": done_at - spawned,
            "worker_cpu_ms_per_ticket": 1000 * worker_s / first_left,
            "pg_cpu_ms_per_ticket": 1000 * pg_s / first_left,
            "provisioned": provisioned[0] if provisioned else 0, "worker_rss_mb": rss}


def idle_cpu(watched: dict[str, int], pg_pids: Callable[[], list[int]],
             seconds: float) -> dict[str, dict[str, float]]:
    """Per process: % of one core and context switches/s over `seconds` of doing nothing.

    utime+stime of /proc/<pid>/stat (every thread of the process, not its children) at both
    ends of the window; the bench only sleeps meanwhile. Also "pg_backends": the processes
    `pg_pids` lists (the database's PostgreSQL backends) together, the queries of idle loops.
    """
    pids = dict(watched)
    backends = pg_pids()
    before_cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
    before_cs = {name: context_switches(pid) for name, pid in pids.items()}
    pg_before = {pid: cpu_seconds(pid) for pid in backends}
    started = time.monotonic()
    deadline = started + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(1.0, left))
        gone = [name for name, pid in pids.items() if not is_alive(pid)]
        if gone:
            raise RuntimeError(f"{', '.join(gone)} exited during the idle window")
    elapsed = time.monotonic() - started
    figures = {name: {"pct_core": 100 * (cpu_seconds(pid) - before_cpu[name]) / elapsed,
                      "switches_per_s": (context_switches(pid) - before_cs[name]) / elapsed}
               for name, pid in pids.items()}
    pg_used = sum(cpu_seconds(pid) - pg_before.get(pid, 0.0) for pid in pg_pids())
    figures["pg_backends"] = {"pct_core": 100 * pg_used / elapsed, "count": len(backends)}
    return figures


def latency(api_requester: Api, api_approver: Api, client: redis.Redis, dsn: str,
            employee_ids: Sequence[int], idle_n: int, warm_n: int = 5,
            gap: tuple[float, float] = (0.1, 1.5), poll_s: float = 0.002,
            timeout: float = 10.0, queue_timeout: float = 60.0,
            mailbox: Mailbox | None = None, email_of: Callable[[int], str] | None = None,
            email_timeout: float = 10.0) -> dict[str, float]:
    """Approve one ticket at a time after a random idle gap; time approve -> provisioned.

    With a `mailbox` (the SMTP server the relay mails to), also approve -> the first letter
    about the provisioned ticket: the employee's SIP password link or the requester's notice.
    """
    # `approved`: from the approve event's timestamp (written in the approving transaction,
    # just before its commit) to the poller (every 2 ms) seeing state 'provisioned' (committed).
    # `e2e`: the same from the moment POST /approve is sent (adds the approve request itself).
    # `server`: approve event timestamp to complete event timestamp (both written by the app).
    # `pickup`: approve event to the worker's start event (Redis poll + claim).
    # `email`: approve event to the SMTP server having the whole first letter; `email_link`
    # and `email_notice` each kind on its own. After a sample the next gap starts only when
    # both letters came (or `email_timeout` passed), so every approval meets an idle stack.
    total = warm_n + idle_n
    if len(employee_ids) < total:
        raise ValueError("not enough employees for the latency samples")
    ticket_ids, employee_of = [], {}
    for employee_id in employee_ids[:total]:
        status, body = api_requester.post("/api/v1/tickets", submit_body(employee_id))
        if status != 201:
            raise RuntimeError(f"submit failed: {status} {body}")
        ticket_ids.append(int(body["id"]))
        employee_of[int(body["id"])] = employee_id
    wait_queues_empty(client, timeout=queue_timeout)
    time.sleep(2.0)  # let the worker's Redis poll back off to its idle cap
    e2e, http_ms, seen_at = [], [], {}
    mail_at: dict[int, dict[str, float]] = {}
    missing_mail = 0
    with psycopg.connect(dsn, autocommit=True) as connection:
        for index, ticket_id in enumerate(ticket_ids):
            time.sleep(random.uniform(*gap))
            started = time.time()
            status, body = api_approver.post(f"/api/v1/tickets/{ticket_id}/approve", {})
            answered = time.time()
            if status != 200:
                raise RuntimeError(f"approve failed: {status} {body}")
            while True:
                row = connection.execute("select state from ticket where id = %s",
                                         (ticket_id,), prepare=True).fetchone()
                if row is not None and row[0] == "provisioned":
                    seen = time.time()
                    break
                if time.time() - started > timeout:
                    raise RuntimeError(f"ticket {ticket_id} not provisioned in {timeout:.1f} s "
                                       f"(sample {index + 1} of {total}, state "
                                       f"{row[0] if row else '?'})")
                time.sleep(poll_s)
            if mailbox is not None and email_of is not None:
                found = mailbox.wait_provisioned_mail(
                    ticket_id, email_of(employee_of[ticket_id]), email_timeout)
                if index >= warm_n:
                    mail_at[ticket_id] = found
                    missing_mail += len(found) < 2
            if index >= warm_n:
                seen_at[ticket_id] = seen
                e2e.append((seen - started) * 1000)
                http_ms.append((answered - started) * 1000)
        rows = connection.execute(
            "select ticket_id, action, created_at from ticket_event "
            "where action in ('approve', 'start', 'complete') and ticket_id = any(%s)",
            (ticket_ids[warm_n:],)).fetchall()
    stamps: dict[int, dict[str, Any]] = {}
    for ticket_id, action, created_at in rows:
        stamps.setdefault(ticket_id, {})[action] = created_at.replace(tzinfo=UTC)
    approved = [(seen_at[t] - s["approve"].timestamp()) * 1000 for t, s in stamps.items()]
    server = [(s["complete"] - s["approve"]).total_seconds() * 1000 for s in stamps.values()]
    pickup = [(s["start"] - s["approve"]).total_seconds() * 1000 for s in stamps.values()]
    work = [(s["complete"] - s["start"]).total_seconds() * 1000 for s in stamps.values()]
    result = {
        "approved_p50_ms": pct(approved, 50), "approved_p99_ms": pct(approved, 99),
        "approved_max_ms": max(approved), "approved_mean_ms": sum(approved) / len(approved),
        "e2e_p50_ms": pct(e2e, 50), "e2e_p99_ms": pct(e2e, 99), "e2e_max_ms": max(e2e),
        "e2e_mean_ms": sum(e2e) / len(e2e),
        "server_p50_ms": pct(server, 50), "server_p99_ms": pct(server, 99),
        "pickup_p50_ms": pct(pickup, 50), "pickup_p99_ms": pct(pickup, 99),
        "provision_p50_ms": pct(work, 50), "provision_p99_ms": pct(work, 99),
        "approve_http_p50_ms": pct(http_ms, 50), "samples": len(e2e),
    }
    if mailbox is not None:
        result.update(email_figures(mail_at, {t: s["approve"].timestamp()
                                              for t, s in stamps.items()}))
        result["email_missing"] = missing_mail
    return result


def email_figures(mail_at: dict[int, dict[str, float]],
                  approved_at: dict[int, float]) -> dict[str, float]:
    """Percentiles of approve event -> first letter, link letter, notice (ms)."""
    first, link, notice = [], [], []
    for ticket_id, found in mail_at.items():
        approve = approved_at.get(ticket_id)
        if approve is None or not found:
            continue
        first.append((min(found.values()) - approve) * 1000)
        if "link" in found:
            link.append((found["link"] - approve) * 1000)
        if "notice" in found:
            notice.append((found["notice"] - approve) * 1000)
    figures: dict[str, float] = {"email_samples": len(first)}
    for name, values in (("email", first), ("email_link", link), ("email_notice", notice)):
        figures[f"{name}_p50_ms"] = pct(values, 50)
        figures[f"{name}_p99_ms"] = pct(values, 99)
        figures[f"{name}_max_ms"] = max(values, default=math.nan)
    return figures
