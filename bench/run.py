"""Benchmark agentdesk against the bare-stack ceilings of ../shared/limits, in the same run.

usage (from the project root):  python -m bench.run [--rounds 3] [--wrk-seconds 10] ...
Each round, interleaved: limits web.sync.pg_enq -> our API submissions (explicit and auto
extension) -> limits web.sync.pg_enq again (the ratios divide by the mean of the two) ->
drain set-up (N approved tickets) -> limits dq.drain.db -> our worker drain.
Then, once, on the production stack (mailing to an SMTP server in this process): the
approve -> provisioned and approve -> email latency, and each process's CPU while idle.
Prints a markdown table of figures and of ratios (computed inside each round, then the
median), written to bench/out/. A phase that fails is listed in the summary; the run goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from bench import dataset, measure
from bench.mailbox import Mailbox, smtp_server
from bench.stack import (
    Children,
    CpuMeter,
    PrivateRedis,
    child_pids,
    cpu_mloops,
    exit_on_sigterm,
    free_port,
    loadavg,
    pg_backends,
    rss_mb,
    timeout_scale,
    tool,
    wait_http,
    wait_log_lines,
)

PROJECT = Path(__file__).resolve().parent.parent
#: The harness, relative to the project root (the only way project files name it).
LIMITS_DIR = "../shared/limits"
#: Variables of the product that the bench sets itself (inherited values are dropped).
PRODUCT_VARS = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PHONE_SYSTEM", "MAIL_SERVER",
                "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_USE_TLS",
                "dramatiq_worker_timeout", "WORKER_POLL_MS", "WORKER_THREADS",
                "RELAY_GRACE_SECONDS", "RELAY_INTERVAL_SECONDS", "BASE_URL",
                "CREDENTIAL_KEYS", "MAIL_DEFAULT_SENDER")
#: Phases `--only` can pick.
PHASES = ("web", "drain", "latency", "idle")
#: Worker counts of the Procfile's `worker` line (the latency and idle stacks).
STACK_PROCESSES, STACK_THREADS = 2, 4

#: The harness's web ceiling: run before a round's submissions, again after them, and the
#: mean of the two (what the round's ratios divide by; one run alone when the other failed).
#: Bracketing cancels most of a shared machine's drift across the minute between them.
PG_ENQ = "web.sync.pg_enq"
PG_ENQ_AFTER, PG_ENQ_MEAN = f"{PG_ENQ}_after", f"{PG_ENQ}_mean"
#: (figure, numerator metric, denominator metric, target ratio, aim ratio; None: info only)
RATIOS: tuple[tuple[str, str, str, float | None, float | None], ...] = (
    ("submit explicit / limits web.sync.pg_enq", "submit.explicit.rps", f"{PG_ENQ_MEAN}.rps",
     0.7, 0.8),
    ("submit auto / limits web.sync.pg_enq", "submit.auto.rps", f"{PG_ENQ_MEAN}.rps", 0.7, 0.8),
    ("drain / limits dq.drain.db", "drain.mps", "dq.drain.db.mps", 0.5, 0.6),
    # CPU per request (web workers + PostgreSQL backends), ceiling / ours: what the rate
    # ratio would be on a machine nobody else uses (both sides are CPU-bound on 2 cores).
    ("CPU-cost ratio pg_enq / submit explicit", f"{PG_ENQ_MEAN}.cpu_ms_per_req",
     "submit.explicit.cpu_ms_per_req", None, None),
    ("CPU-cost ratio pg_enq / submit auto", f"{PG_ENQ_MEAN}.cpu_ms_per_req",
     "submit.auto.cpu_ms_per_req", None, None),
    # The statements of an explicit submission alone (bench/floor_app.py): the share of the
    # gap to the harness that is database work, not the web app around it.
    ("floor (submission statements alone) / limits web.sync.pg_enq", "submit.floor.rps",
     f"{PG_ENQ_MEAN}.rps", None, None),
    ("submit explicit / floor", "submit.explicit.rps", "submit.floor.rps", None, None),
    ("CPU-cost ratio pg_enq / floor", f"{PG_ENQ_MEAN}.cpu_ms_per_req",
     "submit.floor.cpu_ms_per_req", None, None),
)
#: Derived per-round sums: metric -> its parts.
SUMS = {
    f"{prefix}.cpu_ms_per_req": (f"{prefix}.web_cpu_ms_per_req", f"{prefix}.pg_cpu_ms_per_req")
    for prefix in (PG_ENQ, PG_ENQ_AFTER, "submit.explicit", "submit.auto", "submit.floor")
}
#: (figure, metric, target: value must be <= this, aim)
CEILINGS: tuple[tuple[str, str, float, float | None], ...] = (
    ("approved -> provisioned p50 ms", "latency.approved_p50_ms", 20, 15),
    ("approved -> provisioned p99 ms", "latency.approved_p99_ms", 60, 40),
    ("approved -> first email received p50 ms", "latency.email_p50_ms", 100, 50),
    ("RSS gunicorn web worker MiB (max)", "rss.web_worker_mb", 150, None),
    ("RSS Dramatiq worker process MiB (max)", "rss.dramatiq_worker_mb", 150, None),
    ("idle CPU % core: agentdesk worker (parent)", "idle.worker_parent_pct_core", 1, None),
    *((f"idle CPU % core: Dramatiq worker process {i}", f"idle.worker_child{i}_pct_core", 1,
       None) for i in range(1, STACK_PROCESSES + 1)),
    ("idle CPU % core: agentdesk relay", "idle.relay_pct_core", 0.5, None),
    ("idle CPU % core: gunicorn master", "idle.web_master_pct_core", 0.5, None),
    *((f"idle CPU % core: gunicorn worker {i}", f"idle.web_worker{i}_pct_core", 0.5, None)
      for i in range(1, 3)),
)


#: The folders whose code the figures measure (a change elsewhere, in bench/, is no change).
PRODUCT_DIRS = ("web", "workflow", "tasks", "migrations")


def _git(*args: str) -> str:
    """Run git in the project; its stdout."""
    done = subprocess.run(["git", *args], cwd=PROJECT, capture_output=True, text=True,
                          timeout=30, check=False)
    return done.stdout.strip()


def code_version() -> str:
    """HEAD of the project, and whether the product code differs from it."""
    # The code may change under a long run: the start and end versions are both reported.
    head = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--", *PRODUCT_DIRS)
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def product_code() -> str:
    """What the product code is now: its committed trees and any uncommitted difference."""
    trees = _git("rev-parse", *(f"HEAD:{folder}" for folder in PRODUCT_DIRS))
    return trees + "\n" + _git("diff", "HEAD", "--", *PRODUCT_DIRS)


@dataclass
class ProductStack:
    """gunicorn, `agentdesk worker` and `agentdesk relay` of one phase (None: not started)."""

    web: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    relay: subprocess.Popen[bytes] | None = None


class Recorder:
    """Appends metrics to a JSONL file and echoes them."""

    def __init__(self, path: Path) -> None:
        """Record into `path`."""
        self.path = path
        self.values: dict[str, dict[int, float]] = {}

    def __call__(self, round_: int, metric: str, value: float) -> None:
        """Record one value of `metric` in round `round_`."""
        self.values.setdefault(metric, {})[round_] = float(value)
        with open(self.path, "a") as handle:
            handle.write(json.dumps({"round": round_, "metric": metric, "value": value,
                                     "ts": time.time()}) + "\n")
        print(f"  r{round_} {metric:42s} {value:12.2f}", flush=True)


class Bench:
    """The state of one bench run: ports, processes, database, recorder."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Pick ports, paths and databases from `args`."""
        self.args = args
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.out = PROJECT / "bench" / "out" / stamp
        self.out.mkdir(parents=True, exist_ok=True)
        self.children = Children(self.out / "logs")
        self.record = Recorder(self.out / "results.jsonl")
        self.redis_port = free_port(args.redis_port)
        self.web_port = free_port(args.web_port)
        self.limits_redis_port = free_port(args.limits_redis_port, taken=[self.redis_port])
        self.limits_web_port = free_port(args.limits_web_port, taken=[self.web_port])
        self.smtp_port = free_port(args.smtp_port, taken=[self.redis_port, self.web_port,
                                                          self.limits_redis_port,
                                                          self.limits_web_port])
        self.redis = PrivateRedis(self.children, self.redis_port)
        self.limits_dir = (PROJECT / args.limits_dir).resolve()
        self.db_url = dataset.database_url(args.pg_admin_url, args.database)
        self.limits_db_url = dataset.database_url(args.pg_admin_url, f"{args.database}_limits")
        self.only = set(args.only.split(","))
        if not self.only <= set(PHASES):
            raise SystemExit(f"--only takes a comma-separated subset of {','.join(PHASES)}")
        self.extra_env = dict(item.split("=", 1) for item in args.product_env)
        self.rss_web: list[float] = []
        self.rss_worker: list[float] = []
        self.mailbox: Mailbox | None = None
        self.factors = timeout_factors(args.timeout_factor)
        #: How much longer than on a quiet machine each wait may take (set by calibrate()).
        self.scale = 1.0
        #: The phase running now (its --timeout-factor applies) and its round.
        self.phase = ""
        self.round: int | None = None
        self.code_at_start = self.product_at_start = ""
        self.interrupted: BaseException | None = None
        self.failures: list[tuple[str, int | None, str]] = []
        #: Leave the databases alone at the end (they were another run's).
        self.keep_db = False

    # -- environment ---------------------------------------------------------------------

    def product_env(self, mail: bool = False) -> dict[str, str]:
        """Environment of gunicorn, the worker and the relay: only what the bench chose."""
        env = {k: v for k, v in os.environ.items() if k not in PRODUCT_VARS}
        env.update(DATABASE_URL=dataset.libpq_url(self.db_url), REDIS_URL=self.redis.url,
                   SECRET_KEY=dataset.SECRET_KEY, PHONE_SYSTEM="directory",
                   BASE_URL=f"http://127.0.0.1:{self.web_port}",
                   AGENTDESK_INSTANCE=str(self.out / "instance"))
        if mail:
            env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(self.smtp_port))
        env.update(self.extra_env)
        return env

    def limits_env(self) -> dict[str, str]:
        """Environment of the harness: its scratch, ports and database are the bench's."""
        return {**os.environ, "LIMITS_SCRATCH": str(self.out / "limits"),
                "LIMITS_REDIS_PORT": str(self.limits_redis_port),
                "LIMITS_WEB_PORT": str(self.limits_web_port),
                "LIMITS_PG_URL": self.limits_db_url}

    def calibrate(self, round_: int, suffix: str = "") -> None:
        """Record load and CPU speed now, and stretch every following wait to match them."""
        load1, mloops = loadavg(), cpu_mloops()
        self.scale = timeout_scale(mloops, load1)
        self.record(round_, f"env.load1{suffix}", load1)
        self.record(round_, f"env.cpu_mloops{suffix}", mloops)
        self.record(round_, f"env.timeout_scale{suffix}", self.scale)

    def timeout(self, quiet_seconds: float) -> float:
        """A wait that takes `quiet_seconds` at most on a quiet machine, as long as it may now."""
        return quiet_seconds * self.scale * self.factors.get(self.phase, self.factors[""])

    def fail(self, phase: str, round_: int | None, error: str) -> None:
        """Note a phase that failed: in results.jsonl, on the console and in the summary."""
        text = " ".join(error.split())[:500]
        self.failures.append((phase, round_, text))
        with open(self.out / "results.jsonl", "a") as handle:
            handle.write(json.dumps({"round": round_, "phase": phase, "error": text,
                                     "ts": time.time()}) + "\n")
        print(f"  !! {phase} (round {round_}) failed: {text}", flush=True)

    # -- processes -----------------------------------------------------------------------

    def start_gunicorn(self, mail: bool = False, access_log: Path | None = None,
                       app: str = "web:create_app()") -> subprocess.Popen[bytes]:
        """gunicorn with 2 sync workers, as the Procfile (bound to 127.0.0.1 only), serving
        agentdesk or another `app` that answers /healthz."""
        # Picked again each time: on a shared machine another program may take a port
        # between two phases.
        self.web_port = free_port(self.args.web_port, taken=[self.smtp_port])
        proc = self.children.spawn(
            [tool("gunicorn"), "--workers", "2", "--worker-class", "sync",
             "--bind", f"127.0.0.1:{self.web_port}", "--backlog", "2048",
             "--log-level", "warning",
             *(["--access-logfile", str(access_log)] if access_log else []),
             app],
            "gunicorn.log", env=self.product_env(mail), cwd=PROJECT)
        try:
            wait_http(f"http://127.0.0.1:{self.web_port}/healthz", proc,
                      timeout=self.timeout(30))
        except BaseException:
            self.children.stop(proc)  # else it keeps the port from the next phase's
            raise
        return proc

    def start_stack(self, tag: str, access_log: Path | None = None) -> ProductStack:
        """The production shape, mailing to the bench's SMTP server; returns once it is ready.

        Ready: /healthz answers, both Dramatiq worker processes said so in the log, the relay
        and all gunicorn workers run.
        """
        env = self.product_env(mail=True)
        stack = ProductStack()
        try:
            stack.web = self.start_gunicorn(mail=True, access_log=access_log)
            log = self.children.log_dir / f"worker-{tag}.log"
            offset = log.stat().st_size if log.exists() else 0
            stack.worker = self.children.spawn(
                [tool("agentdesk"), "worker", "--processes", str(STACK_PROCESSES),
                 "--threads", str(STACK_THREADS)], log.name, env=env, cwd=PROJECT)
            stack.relay = self.children.spawn([tool("agentdesk"), "relay"],
                                              f"relay-{tag}.log", env=env, cwd=PROJECT)
            wait_log_lines(log, "Worker process is ready for action", STACK_PROCESSES,
                           stack.worker, timeout=self.timeout(60), offset=offset)
            deadline = time.monotonic() + self.timeout(30)
            while len(child_pids(stack.web.pid)) < 2:
                if stack.web.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn has fewer than 2 workers, see logs/gunicorn.log")
                time.sleep(0.1)
            if stack.relay.poll() is not None:
                raise RuntimeError(f"the relay exited, see logs/relay-{tag}.log")
        except BaseException:
            self.stop_stack(stack)
            raise
        return stack

    def stop_stack(self, stack: ProductStack) -> None:
        """Stop the relay, the worker and gunicorn (pid, then their process group)."""
        for proc in (stack.relay, stack.worker, stack.web):
            if proc is not None:
                self.children.stop(proc)

    def note_web_rss(self, proc: subprocess.Popen[bytes]) -> float:
        """Largest RSS of the gunicorn workers now."""
        sizes = [rss_mb(pid) for pid in child_pids(proc.pid)]
        size = max((s for s in sizes if s == s), default=math.nan)
        self.rss_web.append(size)
        return size

    def limits(self, what: str, round_: int, tag: str = "") -> dict[str, float]:
        """Run one harness ceiling in a child process (bounded), return its metrics."""
        log = self.out / "logs" / f"limits-r{round_}-{what}{tag}.log"
        self.limits_redis_port = free_port(self.args.limits_redis_port,
                                           taken=[self.redis_port, self.smtp_port])
        self.limits_web_port = free_port(self.args.limits_web_port,
                                         taken=[self.web_port, self.smtp_port])
        dataset.checkpoint(self.args.pg_admin_url)
        cmd = [sys.executable, str(PROJECT / "bench" / "limits_subset.py"), what,
               "--wrk-seconds", str(self.args.wrk_seconds), "--n", str(self.args.limits_n)]
        proc = self.children.spawn(cmd, log.name, env=self.limits_env(), cwd=self.limits_dir)
        limit = self.timeout(600)
        timed_out = False
        try:
            proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            self.children.stop(proc)
        lines = log.read_text(errors="replace").splitlines()
        for line in lines:
            if line.startswith("LIMITS_JSON "):
                return dict(json.loads(line[len("LIMITS_JSON "):]))
        why = (f"gave no result within {limit:.0f} s" if timed_out else
               f"exited with {proc.returncode} and no result ({lines[-1] if lines else ''})")
        raise RuntimeError(f"harness {what} {why}, see logs/{log.name}")

    # -- phases --------------------------------------------------------------------------

    def fresh_state(self, app: Any, client: redis.Redis) -> None:
        """Empty ticket tables and our own Redis (never the shared one)."""
        dataset.reset(app)
        client.flushdb()

    def web_round(self, round_: int, app: Any, client: redis.Redis,
                  seeded: dataset.Seeded) -> None:
        """Submissions through gunicorn with wrk: explicit, then automatic extensions; then
        the same explicit ones to the floor app (`bench.floor_app`)."""
        proc = self.start_gunicorn()
        try:
            modes = ("explicit", "auto") if round_ % 2 == 0 else ("auto", "explicit")
            for mode in modes:
                self.submissions(round_, proc, app, client, seeded, mode)
            self.record(round_, "rss.web_worker_after_submit_mb", self.note_web_rss(proc))
        finally:
            self.children.stop(proc)
        proc = self.start_gunicorn(app="bench.floor_app:app")
        try:
            self.submissions(round_, proc, app, client, seeded, "explicit", "floor")
        finally:
            self.children.stop(proc)

    def submissions(self, round_: int, proc: subprocess.Popen[bytes], app: Any,
                    client: redis.Redis, seeded: dataset.Seeded, mode: str,
                    name: str | None = None) -> None:
        """One wrk run of `mode` submissions against gunicorn `proc`, recorded as
        `submit.<name>.*` (`name` defaults to `mode`), from empty ticket tables."""
        args, name = self.args, name or mode
        requester = measure.Api(self.web_port, seeded.requester_token)
        spare = range(seeded.first_employee + seeded.employees - 200,
                      seeded.first_employee + seeded.employees)
        usable = seeded.employees - 200
        web_cpu = CpuMeter(lambda: child_pids(proc.pid))
        pg_cpu = CpuMeter(lambda: pg_backends(args.database))
        self.fresh_state(app, client)
        measure.post_many(requester, [
            ("/api/v1/tickets", measure.submit_body(e, mode == "explicit"))
            for e in spare[:16]], threads=2, expect=201, strict=False)  # warm both workers
        self.fresh_state(app, client)
        dataset.checkpoint(args.pg_admin_url)
        web_cpu.start()
        pg_cpu.start()
        result = measure.wrk_submit(
            self.web_port, seeded.requester_token, seeded.first_employee, usable, mode,
            args.wrk_seconds, args.wrk_connections, self.out / "logs" / "wrk.log",
            extra_timeout=self.timeout(60))
        web_s, pg_s = web_cpu.stop(), pg_cpu.stop()
        created = dataset.wait_settled(app, timeout=self.timeout(60))
        for key in ("rps", "rps_all", "p50_ms", "p99_ms", "non2xx", "socket_errors"):
            self.record(round_, f"submit.{name}.{key}", result[key])
        self.record(round_, f"submit.{name}.db_created", created)
        self.record(round_, f"submit.{name}.ids_unused",
                    dataset.drawn_ticket_ids(app) - created)
        self.record(round_, f"submit.{name}.web_cpu_ms_per_req",
                    1000 * web_s / result["requests"])
        self.record(round_, f"submit.{name}.pg_cpu_ms_per_req",
                    1000 * pg_s / result["requests"])

    def drain_setup(self, round_: int, app: Any, client: redis.Redis,
                    seeded: dataset.Seeded) -> None:
        """N tickets submitted and approved through the services, with no worker running."""
        self.fresh_state(app, client)
        n = self.args.drain_n
        started = time.perf_counter()
        ids = dataset.submit_many(app, seeded.requester,
                                  range(seeded.first_employee, seeded.first_employee + n))
        dataset.approve_many(app, seeded.approver, ids)
        self.record(round_, "drain.setup_s", time.perf_counter() - started)

    def drain_round(self, round_: int, client: redis.Redis) -> None:
        """Start `agentdesk worker` on the N approved tickets and time the drain."""
        dataset.checkpoint(self.args.pg_admin_url)
        result = measure.drain(self.children, self.product_env(), client,
                               dataset.libpq_url(self.db_url), self.args.drain_n,
                               self.args.processes, self.args.threads, self.args.database,
                               cwd=PROJECT, timeout=self.timeout(600))
        for key, value in result.items():
            self.record(round_, f"drain.{key}", value)
        self.rss_worker.append(result["worker_rss_mb"])
        if result["provisioned"] != self.args.drain_n:
            raise RuntimeError(f"drain provisioned {result['provisioned']} tickets")

    def latency_phase(self, round_: int, app: Any, client: redis.Redis,
                      seeded: dataset.Seeded) -> None:
        """Web + worker (Procfile counts) + relay, idle; approvals with random gaps."""
        self.fresh_state(app, client)
        assert self.mailbox is not None
        employees = list(range(seeded.first_employee, seeded.first_employee + 1000))
        dataset.give_emails(app, employees)
        stack = self.start_stack("latency")
        try:
            self.mailbox.clear()
            result = measure.latency(
                measure.Api(self.web_port, seeded.requester_token),
                measure.Api(self.web_port, seeded.approver_token), client,
                dataset.libpq_url(self.db_url), employees, self.args.idle_n,
                timeout=self.timeout(10), queue_timeout=self.timeout(60),
                mailbox=self.mailbox, email_of=dataset.employee_email,
                email_timeout=self.timeout(10))
            for key, value in result.items():
                self.record(round_, f"latency.{key}", value)
            assert stack.worker is not None and stack.web is not None
            self.rss_worker.append(measure.worker_rss(stack.worker.pid))
            self.record(round_, "rss.dramatiq_worker_after_latency_mb", self.rss_worker[-1])
            self.record(round_, "rss.web_worker_after_latency_mb", self.note_web_rss(stack.web))
        finally:
            self.stop_stack(stack)

    def idle_phase(self, round_: int, app: Any, client: redis.Redis) -> None:
        """The production stack with nothing to do: CPU of each of its processes."""
        self.fresh_state(app, client)
        # Requests logged during the window: the bench sends none, so any came from outside
        # (another program on this machine) and the web figures are not idle ones.
        access = self.children.log_dir / "gunicorn-idle-access.log"
        stack = self.start_stack("idle", access_log=access)
        try:
            time.sleep(self.args.idle_settle)
            assert stack.web is not None and stack.worker is not None and stack.relay is not None
            watched = {"web_master": stack.web.pid}
            for index, pid in enumerate(child_pids(stack.web.pid), 1):
                watched[f"web_worker{index}"] = pid
            watched["worker_parent"] = stack.worker.pid
            for index, pid in enumerate(child_pids(stack.worker.pid), 1):
                watched[f"worker_child{index}"] = pid
            watched["relay"] = stack.relay.pid
            if self.redis.proc is not None:
                watched["redis"] = self.redis.proc.pid
            logged = access.read_text(errors="replace").count("\n") if access.exists() else 0
            for name, figures in measure.idle_cpu(
                    watched, lambda: pg_backends(self.args.database),
                    self.args.idle_seconds).items():
                for key, value in figures.items():
                    self.record(round_, f"idle.{name}_{key}", value)
            outside = access.read_text(errors="replace").count("\n") - logged
            self.record(round_, "idle.web_requests_from_outside", outside)
            if outside:
                raise RuntimeError(f"{outside} HTTP request(s) reached the idle gunicorn from "
                                   f"outside the bench (logs/{access.name}): the idle web "
                                   "figures are not idle ones")
        finally:
            self.stop_stack(stack)

    def run(self) -> str:
        """Every phase (a failing one is noted and the run goes on); returns the summary."""
        args = self.args
        client = redis.Redis.from_url(self.redis.url)
        app = None
        self.code_at_start = code_version()
        self.product_at_start = product_code()
        try:
            print(f"== code {self.code_at_start}", flush=True)
            print(f"== set-up: databases {args.database}(+_limits), {args.employees} employees, "
                  f"redis :{self.redis_port}, web :{self.web_port}, smtp :{self.smtp_port}",
                  flush=True)
            with smtp_server(self.smtp_port) as mailbox:
                self.mailbox = mailbox
                for name in (args.database, f"{args.database}_limits"):
                    if busy := dataset.sessions_on(args.pg_admin_url, name):
                        self.keep_db = True  # not ours to drop: another run is using it
                        raise RuntimeError(f"database {name} has {busy} session(s), another "
                                           "run's? Pick another --database")
                self.redis.start()
                dataset.recreate_database(args.pg_admin_url, args.database)
                dataset.recreate_database(args.pg_admin_url, f"{args.database}_limits")
                app = dataset.bench_app(self.db_url, self.redis.url)
                seeded = dataset.migrate_and_seed(app, args.employees)
                self.phases(app, client, seeded)
        except (KeyboardInterrupt, SystemExit) as stop:
            self.interrupted = stop
            signal_name = "SIGTERM" if isinstance(stop, SystemExit) else "Ctrl-C"
            self.fail(self.phase or "run", self.round, f"interrupted ({signal_name}): the "
                      "figures of this step and of every later one are missing")
        except Exception as error:
            self.fail("set-up", None, f"{type(error).__name__}: {error}")
        finally:
            self.children.stop_all()
            self.redis.stop()
            with contextlib.suppress(Exception):
                client.close()
            if app is not None:
                with contextlib.suppress(Exception), app.app_context():
                    dataset.db.engine.dispose()
            if not (args.keep_db or self.keep_db):
                for name in (args.database, f"{args.database}_limits"):
                    with contextlib.suppress(Exception):
                        dataset.drop_database(args.pg_admin_url, name)
        code_at_end = code_version()
        code = (f"{self.code_at_start}" if product_code() == self.product_at_start else
                f"{self.code_at_start} at start, {code_at_end} at the end: THE PRODUCT CODE "
                "CHANGED DURING THE RUN")
        if code_at_end != self.code_at_start and product_code() == self.product_at_start:
            code += f" (HEAD {code_at_end} at the end, same product code)"
        summary = render(self.record.values, self.args, " ".join(sys.argv[1:]), self.failures)
        summary += f"code: {code}\n"
        if self.extra_env:
            summary += f"product settings overridden: {self.extra_env}\n"
        (self.out / "summary.md").write_text(summary)
        return summary

    def phases(self, app: Any, client: redis.Redis, seeded: dataset.Seeded) -> None:
        """The rounds, then the phases run once; each step's failure is noted, not fatal."""
        args = self.args
        # (phase, label, step, label of the step it needs in the same round)
        steps: list[tuple[str, str, Callable[[int], None], str | None]] = [
            ("web", "limits web.sync.pg_enq", lambda r: self._limits_into(r, "web"), None),
            ("web", "agentdesk submissions",
             lambda r: self.web_round(r, app, client, seeded), None),
            ("web", "limits web.sync.pg_enq, after",
             lambda r: self._limits_into(r, "web", after=True), None),
            ("drain", "agentdesk drain set-up",
             lambda r: self.drain_setup(r, app, client, seeded), None),
            ("drain", "limits dq.drain.db", lambda r: self._limits_into(r, "drain"), None),
            ("drain", "agentdesk drain", lambda r: self.drain_round(r, client),
             "agentdesk drain set-up"),
        ]
        steps = [step for step in steps if step[0] in self.only]
        for round_ in range(args.rounds):
            print(f"== round {round_}  load1={loadavg():.2f}", flush=True)
            self.calibrate(round_)
            failed: set[str] = set()
            for phase, label, step, needs in steps:
                print(f"-- {label}  (timeouts x{self.scale:.1f})", flush=True)
                if needs in failed:
                    failed.add(label)
                    self.fail(label, round_, f"skipped: {needs} failed")
                    continue
                if not self.attempt(phase, label, round_, step):
                    failed.add(label)
        last = args.rounds - 1
        once: list[tuple[str, str, Callable[[int], None]]] = []
        if args.idle_n and "latency" in self.only:
            once.append(("agentdesk approve -> provisioned, email latency (idle stack)",
                         "latency", lambda r: self.latency_phase(r, app, client, seeded)))
        if args.idle_seconds and "idle" in self.only:
            once.append(("agentdesk idle CPU", "idle",
                         lambda r: self.idle_phase(r, app, client)))
        if once:
            self.calibrate(last, "_once")
        for label, name, step in once:
            print(f"-- {label}  (timeouts x{self.scale:.1f})", flush=True)
            self.attempt(name, name, last, step)
        self.record(last, "rss.web_worker_mb", max(self.rss_web, default=math.nan))
        self.record(last, "rss.dramatiq_worker_mb", max(self.rss_worker, default=math.nan))
        self.record(last, "env.load1_end", loadavg())

    def attempt(self, phase: str, label: str, round_: int,
                step: Callable[[int], None]) -> bool:
        """Run one step; an exception is noted (the step's own `finally` stopped its children)."""
        self.phase, self.round = phase, round_
        try:
            step(round_)
        except Exception as error:
            self.fail(label, round_, f"{type(error).__name__}: {error}")
            self.phase, self.round = "", None
            return False
        self.phase, self.round = "", None  # kept on an interruption, to name the step
        return True

    def _limits_into(self, round_: int, what: str, after: bool = False) -> None:
        """Run a harness ceiling and record its metrics; `after` the round's submissions,
        the web ceiling's are recorded as `web.sync.pg_enq_after.*`."""
        for key, value in self.limits(what, round_, "-after" if after else "").items():
            if after:
                key = key.replace(f"{PG_ENQ}.", f"{PG_ENQ_AFTER}.", 1)
            self.record(round_, key, value)


def timeout_factors(items: list[str]) -> dict[str, float]:
    """--timeout-factor values: phase -> factor ("" for every phase not named)."""
    factors = {"": 1.0}
    for item in items:
        phase, _, factor = item.rpartition("=")
        if phase and phase not in PHASES:
            raise SystemExit(f"--timeout-factor: no phase {phase!r} (one of {','.join(PHASES)})")
        try:
            factors[phase] = float(factor)
        except ValueError:
            raise SystemExit(f"--timeout-factor: {factor!r} is not a number") from None
    return factors


def fmt(value: float | None) -> str:
    """A figure with a sensible number of digits."""
    if value is None or value != value:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render(values: dict[str, dict[int, float]], args: argparse.Namespace, argv: str,
           failures: list[tuple[str, int | None, str]] | None = None) -> str:
    """Markdown: failures, targets with verdicts, ratios per round, every absolute figure."""
    values = {**values}
    for metric, parts in SUMS.items():
        if all(part in values for part in parts):
            values[metric] = {r: sum(values[part][r] for part in parts)
                              for r in values[parts[0]] if all(r in values[p] for p in parts)}
    for figure in ("rps", "cpu_ms_per_req"):
        runs = [values.get(f"{prefix}.{figure}", {}) for prefix in (PG_ENQ, PG_ENQ_AFTER)]
        both = {r: [run[r] for run in runs if r in run] for r in set().union(*runs)}
        if both:
            values[f"{PG_ENQ_MEAN}.{figure}"] = {r: statistics.fmean(v) for r, v in both.items()}
    rounds = sorted({r for per in values.values() for r in per})
    head = "| figure | target (aim) | " + " | ".join(f"r{r}" for r in rounds) + \
        " | median | verdict |"
    rule = "|---|---|" + "---:|" * len(rounds) + "---:|---|"
    lines = []
    if failures:
        lines += ["### Failures (their figures are missing; the run went on after each, "
                  "unless interrupted)",
                  "| phase | round | error |", "|---|---:|---|"]
        lines += [f"| {phase} | {'-' if round_ is None else round_} | "
                  f"{error.replace('|', '/')} |" for phase, round_, error in failures]
        lines.append("")
    lines += ["### Targets", head, rule]
    for label, num, den, target, aim in RATIOS:
        per = {r: values[num][r] / values[den][r] for r in rounds
               if r in values.get(num, {}) and values.get(den, {}).get(r)}
        med = statistics.median(per.values()) if per else None
        cells = " | ".join(fmt(per.get(r)) for r in rounds)
        if target is None or aim is None:
            lines.append(f"| {label} | (info) | {cells} | {fmt(med)} | - |")
            continue
        verdict = "-" if med is None else ("aim met" if med >= aim else
                                           "met" if med >= target else "MISSED")
        lines.append(f"| {label} | >= {target} ({aim}) | {cells} | {fmt(med)} | {verdict} |")
    for label, metric, target, aim in CEILINGS:
        per = values.get(metric, {})
        value = per.get(max(per)) if per else None
        verdict = "-" if value is None or value != value else (
            "aim met" if aim is not None and value <= aim else
            "met" if value <= target else "MISSED")
        cells = " | ".join(fmt(per.get(r)) for r in rounds)
        aim_text = f" ({aim})" if aim is not None else ""
        lines.append(f"| {label} | <= {target}{aim_text} | {cells} | {fmt(value)} | {verdict} |")
    lines += ["", "### Absolute (per round)", "| metric | " +
              " | ".join(f"r{r}" for r in rounds) + " | median |",
              "|---|" + "---:|" * (len(rounds) + 1)]
    for metric in sorted(values):
        per = values[metric]
        finite = [v for v in per.values() if v == v]
        med = statistics.median(finite) if finite else None
        lines.append(f"| {metric} | " + " | ".join(fmt(per.get(r)) for r in rounds) +
                     f" | {fmt(med)} |")
    lines += ["", f"command: `python -m bench.run {argv}`".replace("  ", " ").strip(), ""]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.run",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wrk-seconds", type=int, default=10,
                        help="duration of each wrk run, ours and the harness's")
    parser.add_argument("--wrk-connections", type=int, default=8, help="wrk -c (harness: 8)")
    parser.add_argument("--employees", type=int, default=50_000)
    parser.add_argument("--drain-n", type=int, default=1000,
                        help="approved tickets the worker drains per round")
    parser.add_argument("--limits-n", type=int, default=5000,
                        help="messages of the harness's dq.drain.db per round")
    parser.add_argument("--processes", type=int, default=2,
                        help="the drain's worker -p (harness: 2)")
    parser.add_argument("--threads", type=int, default=8, help="the drain's worker -t (harness: 8)")
    # 200, not the harness's 60: the p99 of 60 samples is their maximum (nearest rank), so
    # one hiccup of a shared machine would stand for the 99th percentile.
    parser.add_argument("--idle-n", type=int, default=200,
                        help="latency samples (0 skips the latency phase)")
    parser.add_argument("--idle-seconds", type=float, default=60.0,
                        help="how long the idle phase reads each process's CPU (0 skips it)")
    parser.add_argument("--idle-settle", type=float, default=5.0,
                        help="seconds the idle stack is left alone, once ready, before reading")
    parser.add_argument("--smtp-port", type=int, default=8725,
                        help="first port tried for the bench's SMTP server")
    parser.add_argument("--timeout-factor", action="append", default=[],
                        metavar="[PHASE=]FACTOR",
                        help="multiplies the timeouts of every wait (or of one phase's), on "
                             "top of their scaling to the machine's speed and load; e.g. "
                             "latency=0.01 makes that phase time out, to see a failure "
                             "reported (repeatable)")
    parser.add_argument("--database", default="agentdesk_bench")
    parser.add_argument("--pg-admin-url",
                        default=os.environ.get("BENCH_PG_ADMIN_URL",
                                               "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--web-port", type=int, default=8741)
    parser.add_argument("--limits-redis-port", type=int, default=6390)
    parser.add_argument("--limits-web-port", type=int, default=8731)
    parser.add_argument("--limits-dir", default=LIMITS_DIR,
                        help="the limits harness, relative to the project root")
    parser.add_argument("--keep-db", action="store_true", help="leave the databases behind")
    parser.add_argument("--only", default=",".join(PHASES),
                        help=f"phases to run (comma-separated subset of {','.join(PHASES)})")
    parser.add_argument("--product-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra setting for gunicorn/worker/relay, e.g. WORKER_POLL_MS=20 "
                             "(repeatable; for experiments: say so when reporting figures)")
    return parser.parse_args(argv)


def main() -> None:
    """Run the bench and print the summary."""
    exit_on_sigterm()
    bench = Bench(parse_args())
    print(bench.run())
    print(f"(results: {bench.out.relative_to(PROJECT)})")
    if isinstance(bench.interrupted, SystemExit):
        raise bench.interrupted
    if bench.interrupted is not None:
        raise SystemExit(130)
    if bench.failures:
        raise SystemExit(1)  # the summary is complete but for the failed steps' figures


if __name__ == "__main__":
    main()
