"""SIP throughput and latency of the shipped Kamailio config against a minimal one, one run.

usage (from the project root):  python -m bench.sip [--seconds 10] [--rounds 3] [--out DIR]

Two Kamailios run side by side on their own databases (deploy/kamailio/schema.sql): the shipped
deploy/kamailio/kamailio.cfg and bench/kamailio_minimal.cfg (digest REGISTER, usrloc in memory,
authenticated INVITE -> lookup -> record_route -> t_relay, nothing else). The same agents are
provisioned on both through the real adapter (KamailioPhoneSystem.ensure_account). Each round
loads one then the other (the order alternates per round), with SIPp:

* REGISTER: `bench/sipp/register.xml` (401 -> REGISTER with credentials -> 200) at the highest
  rate SIPp reaches with --concurrency registrations in flight, for --seconds;
* calls: `bench/sipp/call_uac.xml` (INVITE -> 407 -> ACK -> INVITE with credentials -> 200 ->
  ACK -> BYE) at --call-rate calls/s (0: as fast as --concurrency allows), to callees
  registered from the port where `bench/sipp/call_uas.xml` answers them.

Prints a markdown summary (ratios shipped / minimal per round, then their median; absolute
figures; RSS of each Kamailio's processes), kept in bench/out/sip-<time>/ with results.jsonl,
summary.json and the logs.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import time as clock
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine

from bench.measure import pct
from bench.run import Recorder, code_version, fmt
from bench.stack import Children, child_pids, cpu_mloops, exit_on_sigterm, free_port, loadavg
from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.support.apps import PG_ADMIN_URL
from tests.support.pbx import CONFIG, Kamailio, running_kamailio
from workflow.domain.calling_rules import CallingRules, WorkingHours
from workflow.domain.routing import Routing
from workflow.ports import PhoneAccount, PhoneSystemError

PROJECT = Path(__file__).resolve().parent.parent
SIPP_DIR = Path(__file__).resolve().parent / "sipp"
MINIMAL_CONFIG = Path(__file__).resolve().parent / "kamailio_minimal.cfg"
#: The shipped config's flood and brute-force limits, raised so that the bench measures the
#: cost of each request, not bans (a define the config does not know is harmless).
UNBANNED = {"PIKE_REQS": "1000000", "AUTH_FAILURES": "1000000"}
#: Session settings deploy/kamailio/kamailio.cfg's header recommends for Kamailio (PGOPTIONS).
RECOMMENDED_PGOPTIONS = "-c synchronous_commit=off"
#: Configs in the order of odd rounds (even rounds run them the other way round).
CONFIGS = ("shipped", "minimal")
#: (label, shipped metric / minimal metric, target ratio, aim ratio, direction)
#: direction ">=": shipped / minimal must be at least the target; "<=": at most.
RATIOS: tuple[tuple[str, str, float | None, float | None, str], ...] = (
    ("REGISTER/s shipped / minimal", "register.rps", 0.5, 0.7, ">="),
    ("call setup p50 shipped / minimal (INVITE with credentials -> 200)",
     "call.auth_p50_ms", 2.0, None, "<="),
    ("calls/s shipped / minimal", "call.cps", None, None, ">="),
    ("REGISTER p50 shipped / minimal (first REGISTER -> 200)", "register.p50_ms",
     None, None, "<="),
    ("call setup p95 shipped / minimal (INVITE with credentials -> 200)",
     "call.auth_p95_ms", None, None, "<="),
)
#: Every figure of a phase, in the order of the summary's tables.
PHASE_METRICS = {
    "register": ("rps", "ok", "failed", "p50_ms", "p95_ms", "auth_p50_ms", "auth_p95_ms"),
    "call": ("cps", "ok", "failed", "p50_ms", "p95_ms", "auth_p50_ms", "auth_p95_ms"),
}


@dataclass(frozen=True)
class Agent:
    """One provisioned account: SIP username, its password, its extension."""

    username: str
    password: str
    extension: str


def make_agents(count: int) -> list[Agent]:
    """`count` agents with random passwords and six-digit extensions."""
    return [Agent(f"bench{index:05d}", secrets.token_urlsafe(12), str(200000 + index))
            for index in range(count)]


@dataclass
class Groups:
    """Disjoint agents per use: each SIP identity has contacts from one SIPp port only."""

    registrants: list[Agent]
    callers: list[Agent]
    callees: list[Agent]

    @classmethod
    def split(cls, agents: Sequence[Agent]) -> Groups:
        """Half register, a quarter call the other quarter."""
        half, quarter = len(agents) // 2, len(agents) // 4
        return cls(list(agents[:half]), list(agents[half:half + quarter]),
                   list(agents[half + quarter:half + 2 * quarter]))


def write_injection(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    """A SIPp injection file (-inf), read in sequence."""
    with open(path, "w", newline="") as handle:
        handle.write("SEQUENTIAL\n")
        csv.writer(handle, delimiter=";", lineterminator="\n").writerows(rows)
    return path


def credentials(agent: Agent) -> str:
    """The agent's credentials as a SIPp injection field (expanded where the field is used)."""
    return f"[authentication username={agent.username} password={agent.password}]"


def provision(kamailio: Kamailio, agents: Sequence[Agent]) -> None:
    """Every agent through the real adapter, with a calling profile and the dialplan."""
    engine = create_engine(kamailio.database_url.replace("postgresql://",
                                                         "postgresql+psycopg://"))
    try:
        phone_system = KamailioPhoneSystem(engine, kamailio.domain, kamailio.rpc_url)
        # Internal calls with a time limit: the shipped config reads the profile and tracks
        # a dialog with a timeout for each call, as for a real agent.
        rules = CallingRules(max_internal_seconds=3600)
        for ticket, agent in enumerate(agents, start=1):
            phone_system.ensure_account(
                PhoneAccount(agent.username, agent.extension, Routing(), agent.password,
                             calling=rules), ticket)
        hours = WorkingHours(periods=tuple((day, clock(8), clock(17)) for day in range(5)))
        # The minimal config has no dialplan module (the reload fails): nothing reads them.
        with contextlib.suppress(PhoneSystemError):
            phone_system.ensure_calling_plan(hours)
    finally:
        engine.dispose()


# -- SIPp ------------------------------------------------------------------------------------


@dataclass
class SippRun:
    """What one SIPp UAC run measured: calls counted by SIPp, response times by rtd."""

    ok: int
    failed: int
    elapsed_s: float
    rtts: dict[int, list[float]] = field(default_factory=dict)

    def figures(self, rate_name: str) -> dict[str, float]:
        """Rate of successful calls, counts and p50/p95 of rtd 1 (whole) and 2 (auth leg)."""
        whole, auth = self.rtts.get(1, []), self.rtts.get(2, [])
        return {rate_name: self.ok / self.elapsed_s if self.elapsed_s else math.nan,
                "ok": self.ok, "failed": self.failed,
                "p50_ms": pct(whole, 50), "p95_ms": pct(whole, 95),
                "auth_p50_ms": pct(auth, 50), "auth_p95_ms": pct(auth, 95)}


def sipp_command(target: tuple[str, int], scenario: str, port: int, *extra: str) -> list[str]:
    """SIPp on 127.0.0.1:`port` against `target`, without a terminal."""
    return ["sipp", f"{target[0]}:{target[1]}", "-sf", str(SIPP_DIR / scenario),
            "-i", "127.0.0.1", "-p", str(port), "-nostdin", *extra]


def run_uac(kamailio: Kamailio, scenario: str, injection: Path, port: int, work: Path,
            seconds: float, rate: float, concurrency: int) -> SippRun:
    """Run a UAC scenario for `seconds`; its counts and every response time."""
    work.mkdir(parents=True, exist_ok=True)
    # Rate 0: calls start as fast as slots free up (at most `concurrency` in flight).
    calls_per_s = rate if rate > 0 else 100_000
    command = sipp_command(
        kamailio.sip, scenario, port, "-inf", str(injection), "-key", "domain", kamailio.domain,
        "-r", f"{calls_per_s:g}", "-rp", "1000", "-l", str(concurrency),
        "-timeout", f"{seconds:g}s", "-trace_stat", "-stf", "stat.csv", "-fd", "1",
        "-trace_rtt", "-rtt_freq", "1", "-trace_err")
    with open(work / "sipp.log", "wb") as log:
        done = subprocess.run(command, cwd=work, stdout=log, stderr=subprocess.STDOUT,
                              timeout=seconds + 30, check=False)
    # 0: every call succeeded, 1: some failed; anything else is SIPp itself failing.
    if done.returncode not in (0, 1):
        raise RuntimeError(f"sipp {scenario} exited with {done.returncode} (see {work})")
    return read_uac_results(work)


def read_uac_results(work: Path) -> SippRun:
    """SIPp's last statistics line and its response-time trace, from `work`."""
    with open(work / "stat.csv") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    if not rows:
        raise RuntimeError(f"sipp wrote no statistics in {work}")
    last = rows[-1]
    hours, minutes, seconds = last["ElapsedTime(C)"].split(":")
    elapsed = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    rtts: dict[int, list[float]] = {}
    for trace in work.glob("*_rtt.csv"):
        with open(trace) as handle:
            for row in csv.reader(handle, delimiter=";"):
                # Date_ms;response_time_ms;rtd_no (a header line first).
                if len(row) >= 3 and row[1].replace(".", "", 1).isdigit():
                    rtts.setdefault(int(row[2]), []).append(float(row[1]))
    return SippRun(int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"]), elapsed, rtts)


def register_from(kamailio: Kamailio, injection: Path, count: int, port: int,
                  work: Path) -> None:
    """Register `count` identities from 127.0.0.1:`port` (then free for a UAS there)."""
    work.mkdir(parents=True, exist_ok=True)
    command = sipp_command(kamailio.sip, "register.xml", port, "-inf", str(injection),
                           "-key", "domain", kamailio.domain, "-m", str(count),
                           "-r", "200", "-l", "20", "-timeout", "60s")
    with open(work / "sipp.log", "wb") as log:
        done = subprocess.run(command, cwd=work, stdout=log, stderr=subprocess.STDOUT,
                              timeout=90, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"registering the callees failed ({done.returncode}, see {work})")


# -- processes -------------------------------------------------------------------------------


def kamailio_pids(kamailio: Kamailio) -> list[int]:
    """Every process of a Kamailio: its main process and the whole tree under it."""
    listed = kamailio.rpc("core.ps")  # [pid, description, pid, description, ...]
    pids = {int(pid) for pid in listed[0::2]}
    main = min(pids)  # the attendant forks every other process
    tree, todo = {main}, [main]
    while todo:
        children = child_pids(todo.pop())
        todo += [pid for pid in children if pid not in tree]
        tree.update(children)
    return sorted(tree | pids)


def memory_mb(pids: Sequence[int]) -> tuple[float, float]:
    """(sum of VmRSS, sum of Pss) in MiB: RSS counts shared memory once per process."""
    rss = pss = 0.0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        rss += _kib(status, "VmRSS:") / 1024
        pss += _kib(rollup, "Pss:") / 1024
    return rss, pss


def _kib(text: str, key: str) -> int:
    """The kB value of the line starting with `key`."""
    for line in text.splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


@contextmanager
def rtpengine(children: Children, port: int) -> Iterator[int]:
    """A userspace rtpengine with its NG control on 127.0.0.1:`port`; yields its pid."""
    process = children.spawn(
        ["rtpengine", "--table=-1", "--foreground", "--log-stderr", "--interface=127.0.0.1",
         f"--listen-ng=127.0.0.1:{port}"], "rtpengine.log")
    try:
        time.sleep(0.5)
        if process.poll() is not None:
            raise RuntimeError(f"rtpengine exited with {process.returncode} (see its log)")
        yield process.pid
    finally:
        children.stop(process, timeout=5)


# -- the run ---------------------------------------------------------------------------------


@dataclass
class Target:
    """One config under test: its Kamailio, the number its callers dial, its SIPp ports."""

    name: str
    kamailio: Kamailio
    register_port: int
    uas_port: int
    calls: Path
    rss: list[float] = field(default_factory=list)
    pss: list[float] = field(default_factory=list)


class SipBench:
    """The state of one run: output folder, recorder, arguments."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Prepare the output folder from `args`."""
        self.args = args
        stamp = time.strftime("%Y%m%d-%H%M%S")
        # Absolute: Kamailio binds its control socket under it after changing directory.
        self.out = (Path(args.out).resolve() if args.out
                    else PROJECT / "bench" / "out" / f"sip-{stamp}")
        self.out.mkdir(parents=True, exist_ok=True)
        self.logs = self.out / "logs"
        self.logs.mkdir(exist_ok=True)
        self.children = Children(self.logs)
        self.record = Recorder(self.out / "results.jsonl")
        self.agents = make_agents(args.agents)
        self.groups = Groups.split(self.agents)
        if not self.groups.callers:
            raise SystemExit("--agents must be at least 4")
        self.taken_ports: list[int] = []

    def udp_port(self) -> int:
        """A loopback UDP port nobody uses, from --sipp-port on, not given out before."""
        for port in range(self.args.sipp_port, self.args.sipp_port + 200):
            if port in self.taken_ports:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            self.taken_ports.append(port)
            return port
        raise RuntimeError(f"no free UDP port from {self.args.sipp_port}")

    def start(self, stack: ExitStack, name: str, rtpengine_port: int | None) -> Target:
        """Start one config's Kamailio, provision it, register its callees, start its UAS."""
        defines: dict[str, str] = {}
        config = MINIMAL_CONFIG
        if name == "shipped":
            config, defines = Path(self.args.shipped_config), dict(UNBANNED)
            if rtpengine_port is not None:
                defines |= {"WITH_RTPENGINE": "",
                            "RTPENGINE_SOCK": f'"udp:127.0.0.1:{rtpengine_port}"'}
        kamailio = stack.enter_context(running_kamailio(
            f"{self.args.database}_{name}", self.logs / f"kamailio-{name}.log",
            keep_database=False, defines=defines, config=config, shm_mb=self.args.shm_mb))
        stack.callback(self._drop_database, f"{self.args.database}_{name}")
        provision(kamailio, self.agents)
        register_port = self.udp_port()
        uas_port = self.udp_port()
        # The callees' contacts are the UAS's address: they register from its port first.
        callees = write_injection(self.out / f"callees-{name}.csv",
                                  [(a.username, credentials(a)) for a in self.groups.callees])
        register_from(kamailio, callees, len(self.groups.callees), uas_port,
                      self.out / "sipp" / f"{name}-callees")
        uas = self.children.spawn(sipp_command(kamailio.sip, "call_uas.xml", uas_port),
                                  f"sipp-uas-{name}.log", cwd=self.logs)
        stack.callback(self.children.stop, uas, 5)
        # The shipped config routes extensions (dbaliases); the minimal one has no aliases,
        # so its callers dial the callee's SIP username.
        calls = write_injection(self.out / f"calls-{name}.csv", [
            (caller.username, credentials(caller),
             callee.extension if name == "shipped" else callee.username)
            for caller, callee in zip(self.groups.callers, self.groups.callees, strict=True)])
        return Target(name, kamailio, register_port, uas_port, calls)

    def _drop_database(self, name: str) -> None:
        """Drop a database of this run unless --keep-db."""
        if self.args.keep_db:
            return
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def round(self, number: int, targets: Sequence[Target], rtpengine_pid: int | None) -> None:
        """Both phases on each config, in this round's order."""
        order = targets if number % 2 == 1 else list(reversed(targets))
        registrants = write_injection(self.out / "registrants.csv", [
            (agent.username, credentials(agent)) for agent in self.groups.registrants])
        for target in order:
            work = self.out / "sipp" / f"r{number}-{target.name}"
            registered = run_uac(target.kamailio, "register.xml", registrants,
                                 target.register_port, work / "register", self.args.seconds,
                                 self.args.register_rate, self.args.concurrency)
            self._record(number, target.name, "register", registered.figures("rps"))
            called = run_uac(target.kamailio, "call_uac.xml", target.calls,
                             target.register_port, work / "call", self.args.seconds,
                             self.args.call_rate, self.args.concurrency)
            self._record(number, target.name, "call", called.figures("cps"))
            rss, pss = memory_mb(kamailio_pids(target.kamailio))
            self.record(number, f"{target.name}.rss_mb", rss)
            self.record(number, f"{target.name}.pss_mb", pss)
            # The shared memory pool's high-water mark: how close the load came to -m.
            shm = target.kamailio.rpc("core.shmmem")
            self.record(number, f"{target.name}.shm_max_used_mb", shm["max_used"] / 2**20)
        if rtpengine_pid is not None:
            rss, _ = memory_mb([rtpengine_pid, *child_pids(rtpengine_pid)])
            self.record(number, "rtpengine.rss_mb", rss)

    def _record(self, number: int, config: str, phase: str, figures: dict[str, float]) -> None:
        """Record one phase's figures as <config>.<phase>.<figure>."""
        for name, value in figures.items():
            self.record(number, f"{config}.{phase}.{name}", value)

    def run(self) -> dict[str, Any]:
        """Every round; returns the summary (also written as summary.json and summary.md)."""
        # Both Kamailios inherit it (libpq reads PGOPTIONS when a session opens).
        if self.args.pg_options:
            os.environ["PGOPTIONS"] = self.args.pg_options
        else:
            os.environ.pop("PGOPTIONS", None)
        load_before, mloops_before = loadavg(), cpu_mloops()
        code = code_version()
        with ExitStack() as stack:
            stack.callback(self.children.stop_all)
            rtpengine_port = rtpengine_pid = None
            if self.args.rtpengine:
                rtpengine_port = free_port(self.args.rtpengine_port)
                rtpengine_pid = stack.enter_context(rtpengine(self.children, rtpengine_port))
            targets = [self.start(stack, name, rtpengine_port) for name in CONFIGS]
            for number in range(1, self.args.rounds + 1):
                self.round(number, targets, rtpengine_pid)
        summary = summarise(self.record.values, {
            "load1_before": load_before, "load1_after": loadavg(),
            "cpu_mloops_before": mloops_before, "cpu_mloops_after": cpu_mloops(),
            "cpus": os.cpu_count() or 0, "code": code,
            "code_after": code_version(), "argv": " ".join(sys.argv[1:]),
            "agents": len(self.agents), "seconds": self.args.seconds,
            "concurrency": self.args.concurrency, "shm_mb": self.args.shm_mb,
            "pg_options": self.args.pg_options,
            "register_rate": self.args.register_rate,
            "call_rate": self.args.call_rate, "rtpengine": bool(self.args.rtpengine),
            "shipped_config": os.path.relpath(self.args.shipped_config, PROJECT),
            "shipped_defines": UNBANNED})
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        (self.out / "summary.md").write_text(render(summary))
        return summary


def median_or_nan(values: Sequence[float]) -> float:
    """The median of the finite values, NaN when there are none."""
    finite = [value for value in values if value == value]
    return statistics.median(finite) if finite else math.nan


def meets(value: float, bound: float, direction: str) -> bool:
    """Whether `value` is on the right side of `bound` (">=" or "<=")."""
    return value >= bound if direction == ">=" else value <= bound


def summarise(values: dict[str, dict[int, float]], env: dict[str, Any]) -> dict[str, Any]:
    """Per config medians, per round ratios shipped / minimal and their medians, verdicts."""
    rounds = sorted({number for per in values.values() for number in per})
    configs = {
        config: {f"{phase}.{name}": median_or_nan(
            list(values.get(f"{config}.{phase}.{name}", {}).values()))
            for phase, names in PHASE_METRICS.items() for name in names}
        | {"rss_mb": max(values.get(f"{config}.rss_mb", {}).values(), default=math.nan),
           "pss_mb": max(values.get(f"{config}.pss_mb", {}).values(), default=math.nan)}
        for config in CONFIGS}
    ratios = []
    for label, metric, target, aim, direction in RATIOS:
        shipped, minimal = values.get(f"shipped.{metric}", {}), values.get(f"minimal.{metric}", {})
        per_round = {number: shipped[number] / minimal[number] for number in rounds
                     if number in shipped and minimal.get(number)}
        median = median_or_nan(list(per_round.values()))
        verdict = "-"
        if target is not None and median == median:
            verdict = "aim met" if aim is not None and meets(median, aim, direction) else (
                "met" if meets(median, target, direction) else "MISSED")
        ratios.append({"figure": label, "metric": metric, "target": target, "aim": aim,
                       "direction": direction, "per_round": per_round, "median": median,
                       "verdict": verdict})
    rtpengine_mb = max(values.get("rtpengine.rss_mb", {}).values(), default=None)
    return {"rounds": rounds, "configs": configs, "ratios": ratios,
            "rtpengine_rss_mb": rtpengine_mb, "env": env,
            "per_round": {metric: {str(r): v for r, v in per.items()}
                          for metric, per in sorted(values.items())}}


def render(summary: dict[str, Any]) -> str:
    """Markdown: ratios with verdicts, figures per config, memory, the run's conditions."""
    env, rounds = summary["env"], summary["rounds"]
    lines = ["## SIP: shipped kamailio.cfg against the minimal config", "",
             "### Ratios shipped / minimal (per round, then the median)",
             "| figure | target (aim) | " + " | ".join(f"r{r}" for r in rounds) +
             " | median | verdict |", "|---|---|" + "---:|" * len(rounds) + "---:|---|"]
    for ratio in summary["ratios"]:
        wanted = "(info)" if ratio["target"] is None else (
            f"{ratio['direction']} {ratio['target']}" +
            (f" ({ratio['aim']})" if ratio["aim"] is not None else ""))
        cells = " | ".join(fmt(ratio["per_round"].get(r)) for r in rounds)
        lines.append(f"| {ratio['figure']} | {wanted} | {cells} | {fmt(ratio['median'])} | "
                     f"{ratio['verdict']} |")
    lines += ["", "### Figures (median over rounds; latency in ms, from SIPp's response times)",
              "| figure | shipped | minimal |", "|---|---:|---:|"]
    for key in summary["configs"]["shipped"]:
        lines.append(f"| {key} | {fmt(summary['configs']['shipped'][key])} | "
                     f"{fmt(summary['configs']['minimal'][key])} |")
    if summary["rtpengine_rss_mb"] is not None:
        lines.append(f"| rtpengine rss_mb | {fmt(summary['rtpengine_rss_mb'])} | - |")
    lines += ["", "### Per round", "| metric | " + " | ".join(f"r{r}" for r in rounds) + " |",
              "|---|" + "---:|" * len(rounds)]
    for metric, per in summary["per_round"].items():
        lines.append(f"| {metric} | " + " | ".join(fmt(per.get(str(r))) for r in rounds) + " |")
    defines = " ".join(f"{name}={value}" for name, value in env["shipped_defines"].items())
    lines += [
        "",
        f"The shipped config runs with raised flood/ban limits (`{defines}`): the figures are "
        "the cost of each request, not of bans.",
        f"{env['agents']} agents (half register, a quarter call the other quarter); "
        f"{env['seconds']} s per phase; at most {env['concurrency']} calls in flight; "
        f"shipped config: `{env['shipped_config']}`; "
        f"REGISTER rate {env['register_rate'] or 'max'}/s, call rate {env['call_rate'] or 'max'}"
        f"/s; rtpengine {'on' if env['rtpengine'] else 'off'}; shared memory -m "
        f"{env['shm_mb']} MiB for each Kamailio; their database sessions: "
        + (f"PGOPTIONS `{env['pg_options']}`." if env["pg_options"]
           else "the server's defaults."),
        "rss_mb: VmRSS summed over every Kamailio process (counts shared memory in each); "
        "pss_mb: the same with shared pages split among their users.",
        f"env: load1 {env['load1_before']:.2f} -> {env['load1_after']:.2f}, cpu_mloops "
        f"{env['cpu_mloops_before']:.1f} -> {env['cpu_mloops_after']:.1f}, {env['cpus']} CPUs",
        f"code: {env['code']}" + (f" (at the end: {env['code_after']})"
                                  if env["code_after"] != env["code"] else ""),
        f"command: `python -m bench.sip {env['argv']}`".replace("  ", " "), ""]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.sip",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each SIPp phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", help="output folder (default bench/out/sip-<time>)")
    parser.add_argument("--agents", type=int, default=400,
                        help="accounts provisioned on each config (half register, a quarter "
                             "call the other quarter)")
    parser.add_argument("--concurrency", type=int, default=20,
                        help="SIPp -l: calls (registrations) in flight at most")
    parser.add_argument("--register-rate", type=float, default=0,
                        help="REGISTERs per second (0: as fast as --concurrency allows)")
    parser.add_argument("--call-rate", type=float, default=0,
                        help="calls per second (0: as fast as --concurrency allows)")
    parser.add_argument("--sipp-port", type=int, default=5770,
                        help="first local port tried for SIPp")
    parser.add_argument("--shipped-config", default=str(CONFIG),
                        help="the config measured as `shipped` (for experiments on a variant; "
                             "say so when reporting figures)")
    parser.add_argument("--rtpengine", action="store_true",
                        help="start a userspace rtpengine and pass WITH_RTPENGINE and "
                             "RTPENGINE_SOCK to the shipped config")
    parser.add_argument("--rtpengine-port", type=int, default=22230,
                        help="first port tried for rtpengine's NG control")
    parser.add_argument("--database", default="agentdesk_bench_sip",
                        help="prefix of the Kamailio databases (<prefix>_shipped, _minimal)")
    parser.add_argument("--keep-db", action="store_true", help="leave the databases behind")
    parser.add_argument("--pg-options", default=RECOMMENDED_PGOPTIONS,
                        help="PGOPTIONS of both Kamailios' database sessions, as "
                             "deploy/kamailio/kamailio.cfg recommends; '' for the server's "
                             "defaults (a synchronous commit per REGISTER and call record)")
    parser.add_argument("--shm-mb", type=int, default=256,
                        help="shared memory of each Kamailio, both configs alike (-m); "
                             "Kamailio's 64 MiB default runs out under this load")
    return parser.parse_args(argv)


def main() -> None:
    """Run the bench and print the summary."""
    exit_on_sigterm()
    if shutil.which("sipp") is None:
        raise SystemExit("sipp is missing: apt-get install sip-tester (see .ci/run)")
    bench = SipBench(parse_args())
    summary = bench.run()
    print(render(summary))
    print(f"(results: {bench.out})")


if __name__ == "__main__":
    main()
