"""How long a calling sync takes for thousands of agents, on the directory and on Kamailio.

usage (from the project root):  python -m bench.calling_sync [--agents 5000] ...

For each phone system (the built-in directory on PostgreSQL, then a real Kamailio started
with tests.support.pbx), a fresh agentdesk database is migrated and filled with set-based
SQL (N active agents, their accounts in the directory or in Kamailio's own database); then
`workflow.calling.sync.run_sync` runs **in this process, one worker** (as the
`sync_calling` actor would, without Dramatiq around it) three times: the first sync (every
agent's rules written), the same again (nothing to change), and the sync after an admin
assigns another profile to the branch holding half of the agents. Each chunk's progress
commit is timed, and another connection polls the sync's row to show progress is visible
while it runs. Prints a markdown table; writes results.jsonl and summary.md (and, with
--profile, a cProfile of one full sync per phone system) to bench/out/calling-sync-<time>/.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import json
import os
import pstats
import re
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from bench import dataset
from bench.run import code_version, fmt
from bench.stack import CpuMeter, cpu_mloops, exit_on_sigterm, loadavg, pg_backends
from tasks.runtime import runtime
from web import config, create_app
from web.extensions import db
from workflow.calling import admin, sync
from workflow.domain.calling_rules import CallingRules, Level, WorkingHours
from workflow.domain.rules import Role
from workflow.models.calling import CallingProfile, CallingSync
from workflow.people.accounts import save_user
from workflow.ports import PhoneSystem, TrunkGateway

PROJECT = Path(__file__).resolve().parent.parent
#: Databases of this benchmark, dropped at the start and at the end.
APP_DATABASE = "agentdesk_bench_sync_app"
KAMAILIO_DATABASE = "agentdesk_bench_sync_kamailio"
#: The profile the admin assigns to half of the agents: the default one with a 30-minute
#: cap on outgoing calls (forwards stay legal, so the change is not refused).
HALF_PROFILE = admin.ProfileInput(
    name="Giới hạn 30 phút", outgoing=True,
    classes=("internal", "landline", "mobile", "international", "special"),
    max_outgoing_seconds=1800, after_hours=True, external_forwarding=True)
#: How often the other connection reads the sync's progress.
POLL_SECONDS = 0.01

# -- seeding (set-based SQL; %(name)s are psycopg parameters) -------------------------------

SQL_SEED = """
INSERT INTO organisation (id, name, extension_length, extension_prefix, reserved_extensions)
VALUES (1, 'Bench Sync Co', %(length)s, '', '[]'::json);
INSERT INTO branch (organisation_id, name, kind, active)
SELECT 1, 'Chi nhánh ' || lpad(b::text, 2, '0'), 'office', true
FROM generate_series(1, %(branches)s) AS b ORDER BY b;
INSERT INTO department (branch_id, name, active)
SELECT b.id, 'Phòng ' || k, true
FROM branch AS b CROSS JOIN generate_series(1, %(per_branch)s) AS k ORDER BY b.id, k;
INSERT INTO employee (id, department_id, full_name, email, employee_code, active)
SELECT i, d.ids[1 + mod(i - 1, cardinality(d.ids))], 'Nhân viên ' || lpad(i::text, 6, '0'),
       NULL, 'NV' || lpad(i::text, 6, '0'), true
FROM generate_series(1, %(agents)s) AS i
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM department) AS d
ORDER BY i;
INSERT INTO agent (id, employee_id, extension, sip_username, routing_type, priority_number,
                   backup_number, status, created_at, updated_at, revoked_at)
SELECT e.id, e.id, (%(base)s + e.id)::text, 'ag' || lpad(to_hex(e.id), 12, '0'),
       CASE WHEN p.phone THEN 'phone' ELSE 'app_web' END,
       CASE WHEN p.phone THEN '09' || lpad(mod(e.id::bigint * 7919, 100000000)::text, 8, '0') END,
       CASE WHEN p.phone AND mod(e.id, 2) = 0
            THEN '028' || lpad(mod(e.id::bigint * 104729, 10000000)::text, 7, '0') END,
       'active', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', NULL
FROM employee AS e
CROSS JOIN LATERAL (SELECT mod(hashtext(e.id || 'r') & 2147483647, 5) = 0 AS phone) AS p
ORDER BY e.id;
SELECT setval(pg_get_serial_sequence('employee', 'id'), (SELECT max(id) FROM employee));
SELECT setval(pg_get_serial_sequence('agent', 'id'), (SELECT max(id) FROM agent));
"""

# The built-in directory holds every agent's account (no calling rules yet, as before
# calling profiles existed), as provisioning left it.
SQL_DIRECTORY = """
INSERT INTO phone_directory_entry (sip_username, extension, routing_type, priority_number,
                                   backup_number, secret_digest, calling, updated_at)
SELECT sip_username, extension, routing_type, priority_number, backup_number,
       encode(sha256(convert_to('bench-' || id, 'UTF8')), 'hex'), NULL, updated_at
FROM agent ORDER BY id;
"""

SQL_AGENT_ACCOUNTS = """
SELECT sip_username, extension, routing_type, priority_number, backup_number
FROM agent ORDER BY id
"""



def run_sql(connection: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> None:
    """Run each `;`-separated statement of `sql` with the parameters it names."""
    for statement in (part.strip() for part in sql.split(";\n")):
        if statement:
            names = set(re.findall(r"%\((\w+)\)s", statement))
            connection.execute(statement.rstrip(";"),
                               {k: v for k, v in params.items() if k in names})


def seed_app(app: Flask, libpq: str, args: argparse.Namespace, directory: bool,
             timed: Callable[[str, float], None]) -> int:
    """Migrate, then the organisation, employees and agents (and directory entries); the id
    of the admin user."""
    step = time.perf_counter()
    with app.app_context():
        upgrade()  # migration 0006 leaves the organisation-wide default profile
        db.session.remove()
    timed("migrate", time.perf_counter() - step)
    step = time.perf_counter()
    params = {"length": dataset.EXTENSION_LENGTH, "branches": args.branches,
              "per_branch": args.departments, "agents": args.agents,
              "base": dataset.EXPLICIT_BASE}
    with psycopg.connect(libpq) as connection:
        run_sql(connection, SQL_SEED + (SQL_DIRECTORY if directory else ""), params)
        dataset.fill_employee_names(connection)
        connection.commit()
    with app.app_context():
        admin_id = save_user(db.session(), "admin@bench.vn", Role.ADMIN, dataset.PASSWORD_HASH,
                             "Quản Trị Bench").id
        db.session.remove()
    timed("agents", time.perf_counter() - step)
    return admin_id


def seed_kamailio(app_libpq: str, kamailio_libpq: str, domain: str,
                  timed: Callable[[str, float], None]) -> None:
    """Every agent's subscriber (digest hashes), alias and routing preferences on Kamailio,
    as `KamailioPhoneSystem.ensure_account` writes them (COPY instead of one by one)."""
    step = time.perf_counter()
    with psycopg.connect(app_libpq) as source:
        agents = source.execute(SQL_AGENT_ACCOUNTS).fetchall()
    with psycopg.connect(kamailio_libpq) as target:
        with target.cursor() as cursor:
            with cursor.copy("COPY subscriber (username, domain, ha1, ha1b) FROM STDIN") as copy:
                for name, *_ in agents:
                    ha1, ha1b = _digests(name, domain)
                    copy.write_row((name, domain, ha1, ha1b))
            with cursor.copy("COPY dbaliases (alias_username, alias_domain, username, domain) "
                             "FROM STDIN") as copy:
                for name, extension, *_ in agents:
                    copy.write_row((extension, domain, name, domain))
            with cursor.copy("COPY usr_preferences (uuid, username, domain, attribute, type, "
                             "value) FROM STDIN") as copy:
                for name, _extension, routing, priority, backup in agents:
                    if routing != "phone":
                        continue
                    copy.write_row(("", name, "", "route_type", 0, "phone"))
                    copy.write_row(("", name, "", "priority", 0, priority or ""))
                    if backup:
                        copy.write_row(("", name, "", "backup", 0, backup))
        target.commit()
        target.autocommit = True
        target.execute("VACUUM ANALYZE")
    timed("kamailio_accounts", time.perf_counter() - step)


def _digests(username: str, domain: str) -> tuple[str, str]:
    """ha1 / ha1b of a bench password (as tasks.pbx.kamailio.digest_hashes)."""
    password = f"bench-{username}"
    ha1 = hashlib.md5(f"{username}:{domain}:{password}".encode()).hexdigest()
    ha1b = hashlib.md5(f"{username}@{domain}:{domain}:{password}".encode()).hexdigest()
    return ha1, ha1b


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Probe:
    """Times the phone system's calls made by one sync (a wrapper, no behaviour change)."""

    plan_s: float = 0.0
    #: (start, end, agents, changed) of each ensure_calling call (perf_counter seconds).
    chunks: list[tuple[float, float, int, int]] = field(default_factory=list)

    def factory(self, inner: Callable[[Session], PhoneSystem]) -> Callable[[Session], Any]:
        """A phone_system factory whose adapters report to this probe."""
        return lambda session: _Timed(inner(session), self)


class _Timed:
    """A phone system whose calling calls are timed."""

    def __init__(self, inner: PhoneSystem, probe: Probe) -> None:
        self._inner, self._probe = inner, probe

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def ensure_calling_plan(self, hours: WorkingHours) -> bool:
        started = time.perf_counter()
        try:
            return self._inner.ensure_calling_plan(hours)
        finally:
            self._probe.plan_s += time.perf_counter() - started

    def ensure_trunks(self, trunks: Sequence[TrunkGateway], dids: Mapping[str, str]) -> bool:
        return self._inner.ensure_trunks(trunks, dids)

    def ensure_calling(self, rules: Mapping[str, CallingRules]) -> int:
        started = time.perf_counter()
        changed = self._inner.ensure_calling(rules)
        self._probe.chunks.append((started, time.perf_counter(), len(rules), changed))
        return changed


class Poller:
    """Another connection reading the sync's row while it runs: what an admin's page sees."""

    def __init__(self, libpq: str, sync_id: int) -> None:
        self.libpq, self.sync_id = libpq, sync_id
        #: (perf_counter, total, done, changed, finished) each time the row changed.
        self.seen: list[tuple[float, int, int, int, bool]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()

    def __enter__(self) -> Poller:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        with psycopg.connect(self.libpq, autocommit=True) as connection:
            self._ready.set()
            last = None
            while True:
                stopping = self._stop.is_set()
                row = connection.execute(
                    "SELECT total, done, changed, finished_at IS NOT NULL FROM calling_sync "
                    "WHERE id = %s", (self.sync_id,)).fetchone()
                if row is not None and tuple(row) != last:
                    last = tuple(row)
                    self.seen.append((time.perf_counter(), *row))
                if stopping:
                    return
                self._stop.wait(POLL_SECONDS)


@dataclass
class SyncRun:
    """The figures of one sync."""

    system: str
    label: str
    sync_id: int
    ran: bool
    total: int
    done: int
    changed: int
    superseded: bool
    last_error: str | None
    wall_s: float
    cpu_s: float
    pg_cpu_s: float
    rss_before_mb: float
    peak_rss_mb: float
    plan_s: float
    #: Seconds from the start: each commit of the sync's session.
    commits: list[float]
    #: (start, end) seconds from the start, agents, changed: each ensure_calling call.
    chunks: list[tuple[float, float, int, int]]
    #: (seconds from the start, total, done, changed, finished): what the poller saw.
    seen: list[tuple[float, int, int, int, bool]]
    expected_changed: int | None = None

    def phases(self) -> dict[str, float]:
        """Where the wall time went, from the commit and chunk timestamps."""
        c = self.commits
        if not self.ran or len(c) < 3:
            return {}
        # Commits: taken, total (rules worked out), one per chunk, finished.
        writes = sum(end - start for start, end, _, _ in self.chunks)
        progress = sum(max(0.0, c[2 + i] - end) for i, (_, end, _, _) in enumerate(self.chunks)
                       if 2 + i < len(c))
        return {"take_s": c[0], "plan_s": self.plan_s,
                "work_out_s": c[1] - c[0] - self.plan_s,
                "phone_writes_s": writes, "progress_commits_s": progress,
                "finish_s": self.wall_s - c[-2] if len(c) >= 2 else 0.0}

    def first_visible_s(self) -> float | None:
        """When another connection first saw some agents done (and not yet finished)."""
        for at, _total, done, _changed, finished in self.seen:
            if done > 0 and not finished:
                return at
        return None

    def visible_steps(self) -> int:
        """Distinct partial `done` values another connection saw while the sync ran."""
        return len({done for _, total, done, _, finished in self.seen
                    if 0 < done < max(total, 1) and not finished})


def rss_status() -> tuple[float, float]:
    """VmRSS and VmHWM (peak since the last reset) of this process, MiB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            found[line.split(":")[0]] = int(line.split()[1]) / 1024
    return found.get("VmRSS", float("nan")), found.get("VmHWM", float("nan"))


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux clear_refs 5); False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def run_one(app: Flask, system: str, label: str, sync_id: int, libpq: str,
            databases: list[str], profiler: cProfile.Profile | None = None) -> SyncRun:
    """run_sync on one sync, in this process, timed; the sync row's figures after it."""
    with app.app_context():
        deps = runtime(app)
        probe = Probe()
        session = db.session()
        commits: list[float] = []

        def committed(_session: Session) -> None:
            commits.append(time.perf_counter())

        event.listen(session, "after_commit", committed)
        pg = CpuMeter(lambda: [pid for name in databases for pid in pg_backends(name)])
        reset_peak_rss()
        rss_before, _ = rss_status()
        try:
            with Poller(libpq, sync_id) as poller:
                pg.start()
                cpu0, started = time.process_time(), time.perf_counter()
                if profiler is not None:
                    profiler.enable()
                try:
                    ran = sync.run_sync(session, sync_id, probe.factory(deps.phone_system),
                                        deps.provisioning.lease, deps.timezone,
                                        deps.provisioning.vault.cipher)
                finally:
                    if profiler is not None:
                        profiler.disable()
                wall = time.perf_counter() - started
                cpu = time.process_time() - cpu0
                pg_cpu = pg.stop()
        finally:
            event.remove(session, "after_commit", committed)
        _, peak = rss_status()
        row = session.get_one(CallingSync, sync_id, populate_existing=True)
        figures = (row.total, row.done, row.changed, row.superseded, row.last_error)
        db.session.remove()
    return SyncRun(
        system, label, sync_id, ran, *figures, wall_s=wall, cpu_s=cpu, pg_cpu_s=pg_cpu,
        rss_before_mb=rss_before, peak_rss_mb=peak, plan_s=probe.plan_s,
        commits=[at - started for at in commits],
        chunks=[(s - started, e - started, n, c) for s, e, n, c in probe.chunks],
        seen=[(at - started, *rest) for at, *rest in poller.seen])


def request(app: Flask) -> int:
    """A sync asked for by nobody in particular (as `agentdesk` would on demand)."""
    with app.app_context():
        sync_id = sync.request_sync(db.session(), None)
        db.session.commit()
        db.session.remove()
    return sync_id


def unfinished(app: Flask) -> list[int]:
    """Ids of syncs not finished yet, oldest first."""
    with app.app_context():
        found = list(db.session.scalars(select(CallingSync.id).where(
            CallingSync.finished_at.is_(None)).order_by(CallingSync.id)))
        db.session.remove()
    return found


def admin_change(app: Flask, admin_id: int, branches: int
                 ) -> tuple[dict[str, float], int, list[int]]:
    """The admin creates a profile and assigns it to the first half of the branches; the
    seconds of each service call, how many active agents it concerns, and the branch ids."""
    timings: dict[str, float] = {}
    with app.app_context():
        session = db.session()
        started = time.perf_counter()
        profile = admin.save_profile(session, admin_id, HALF_PROFILE)
        timings["save_profile_s"] = time.perf_counter() - started
        branch_ids = list(session.scalars(text("SELECT id FROM branch ORDER BY id")))
        chosen = branch_ids[:max(1, branches // 2)]
        started = time.perf_counter()
        for branch_id in chosen:
            admin.assign_profile(session, admin_id, Level.BRANCH, branch_id, profile.id)
        timings["assign_profile_s"] = time.perf_counter() - started
        affected = int(session.scalar(text(
            "SELECT count(*) FROM agent a JOIN employee e ON e.id = a.employee_id "
            "JOIN department d ON d.id = e.department_id "
            "WHERE a.status = 'active' AND d.branch_id = ANY(:ids)"), {"ids": chosen}) or 0)
        assert session.scalar(select(CallingProfile.id).where(
            CallingProfile.name == HALF_PROFILE.name)) == profile.id
        db.session.remove()
    return timings, affected, chosen


def holding_half_profile(system: str, app_libpq: str, kamailio_libpq: str | None) -> int:
    """Accounts on the phone system that enforce the half profile's 30-minute cap now."""
    if system == "directory":
        with psycopg.connect(app_libpq) as connection:
            row = connection.execute(
                "SELECT count(*) FROM phone_directory_entry "
                "WHERE calling->>'max_outgoing_seconds' = '1800'").fetchone()
    else:
        assert kamailio_libpq is not None
        with psycopg.connect(kamailio_libpq) as connection:
            row = connection.execute(
                "SELECT count(*) FROM usr_preferences "
                "WHERE attribute = 'cos_max_out' AND value = '1800'").fetchone()
    return int(row[0]) if row else 0


def forget_rules(system: str, app_libpq: str, kamailio_libpq: str | None) -> None:
    """Remove every account's calling rules from the phone system (for a profiled rerun)."""
    if system == "directory":
        with psycopg.connect(app_libpq) as connection:
            connection.execute("UPDATE phone_directory_entry SET calling = NULL")
    else:
        assert kamailio_libpq is not None
        with psycopg.connect(kamailio_libpq) as connection:
            connection.execute("DELETE FROM usr_preferences WHERE attribute LIKE 'cos\\_%'")


def profile_report(profiler: cProfile.Profile, path: Path, top: int = 25) -> list[str]:
    """Write the profile (cumulative and own time) to `path`; the top functions by own time,
    then agentdesk's own functions by cumulative time."""
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    path.write_text(buffer.getvalue())
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]

    def line(key: Any, values: Any) -> str:
        (filename, number, name), (_cc, calls, own, cumulative, _callers) = key, values
        where = filename.replace(str(PROJECT) + "/", "")
        where = re.sub(r".*/site-packages/", "", where)
        return (f"`{name}` ({where}:{number}): own {own:.2f} s, cumulative {cumulative:.2f} s,"
                f" {calls:,} calls")

    by_own = sorted(raw.items(), key=lambda item: -item[1][2])[:8]
    ours = sorted(((key, values) for key, values in raw.items()
                   if key[0].startswith(str(PROJECT) + "/")
                   and not key[0].startswith(str(PROJECT / "bench"))),
                  key=lambda item: -item[1][3])[:8]
    return ([f"own time: {line(*item)}" for item in by_own]
            + [f"agentdesk, cumulative: {line(*item)}" for item in ours])


# -- one phone system -----------------------------------------------------------------------


@dataclass
class SystemResult:
    """Everything measured on one phone system."""

    system: str
    seed_s: dict[str, float]
    runs: list[SyncRun]
    admin_s: dict[str, float]
    affected: int
    holding_after: int
    profile_top: list[str] = field(default_factory=list)
    profiled_wall_s: float | None = None


@contextlib.contextmanager
def phone_system(system: str, out: Path) -> Iterator[dict[str, Any]]:
    """Settings for the app on `system` (Kamailio started for the block, then stopped)."""
    if system == "directory":
        yield {"PHONE_SYSTEM": "directory"}
        return
    from tests.support.pbx import running_kamailio  # imports pytest: only when needed

    with running_kamailio(KAMAILIO_DATABASE, out / f"kamailio-{time.strftime('%H%M%S')}.log"
                          ) as pbx:
        yield {"PHONE_SYSTEM": "kamailio",
               "KAMAILIO_DATABASE_URL": config.database_url(pbx.database_url),
               "KAMAILIO_RPC_URL": pbx.rpc_url, "SIP_DOMAIN": pbx.domain,
               "_libpq": pbx.database_url}


def measure_system(system: str, args: argparse.Namespace, out: Path,
                   record: Callable[..., None]) -> SystemResult:
    """Seed, then the three syncs (and a profiled one with --profile) on one phone system."""
    print(f"== {system}: seeding {args.agents} agents", flush=True)
    seed_s: dict[str, float] = {}

    def timed(name: str, seconds: float) -> None:
        seed_s[name] = seconds
        record("seed", name, system=system, seconds=seconds)
        print(f"  seed {name:20s} {seconds:7.1f} s", flush=True)

    with phone_system(system, out) as settings:
        kamailio_libpq = settings.pop("_libpq", None)
        url = dataset.recreate_database(args.pg_admin_url, APP_DATABASE)
        libpq = dataset.libpq_url(url)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None,
                          "MAIL_SERVER": None, "SECRET_KEY": dataset.SECRET_KEY, **settings})
        try:
            admin_id = seed_app(app, libpq, args, system == "directory", timed)
            if kamailio_libpq is not None:
                seed_kamailio(libpq, kamailio_libpq, settings["SIP_DOMAIN"], timed)
            step = time.perf_counter()
            dataset.vacuum(app)
            timed("vacuum_analyze", time.perf_counter() - step)
            databases = [APP_DATABASE] + ([KAMAILIO_DATABASE] if kamailio_libpq else [])
            runs: list[SyncRun] = []

            def measured(label: str, sync_id: int, expected: int | None) -> SyncRun:
                result = run_one(app, system, label, sync_id, libpq, databases)
                result.expected_changed = expected
                runs.append(result)
                record("sync", label, system=system, **_figures(result),
                       commits=[round(v, 4) for v in result.commits],
                       chunks=[[round(s, 4), round(e, 4), n, c] for s, e, n, c in result.chunks],
                       seen=[[round(a, 4), *rest] for a, *rest in result.seen])
                print(f"  {label:34s} wall {result.wall_s:7.2f} s  changed {result.changed:>6}"
                      f"  done {result.done}/{result.total}  ran={result.ran}", flush=True)
                if result.last_error:
                    print(f"  !! last_error: {result.last_error}", flush=True)
                return result

            measured("1 first sync", request(app), args.agents)
            measured("2 again, nothing changed", request(app), 0)
            admin_s, affected, branch_ids = admin_change(app, admin_id, args.branches)
            record("admin", "assign_half", system=system, affected=affected,
                   branches=branch_ids, **admin_s)
            print(f"  admin: save_profile {admin_s['save_profile_s']:.2f} s, assign_profile "
                  f"{admin_s['assign_profile_s']:.2f} s ({affected} agents concerned)",
                  flush=True)
            pending = unfinished(app)
            for sync_id in pending[:-1]:
                older = measured(f"3a older sync #{sync_id}", sync_id, None)
                if older.superseded:
                    older.label += " (superseded)"
            measured("3 after assigning half", pending[-1], affected)
            holding = holding_half_profile(system, libpq, kamailio_libpq)
            result = SystemResult(system, seed_s, runs, admin_s, affected, holding)
            if args.profile:
                forget_rules(system, libpq, kamailio_libpq)
                profiler = cProfile.Profile()
                profiled = run_one(app, system, "profiled full sync", request(app), libpq,
                                   databases, profiler)
                result.profiled_wall_s = profiled.wall_s
                result.profile_top = profile_report(profiler, out / f"profile-{system}.txt")
                record("profile", "full_sync", system=system, wall_s=profiled.wall_s,
                       changed=profiled.changed, top=result.profile_top)
                print(f"  profiled full sync wall {profiled.wall_s:.2f} s "
                      f"(changed {profiled.changed})", flush=True)
            return result
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            if system == "kamailio":
                with contextlib.suppress(Exception):
                    runtime(app).phone_system(None).engine.dispose()  # type: ignore[arg-type]
            if not args.keep_db:
                with contextlib.suppress(Exception):
                    dataset.drop_database(args.pg_admin_url, APP_DATABASE)


def _figures(run: SyncRun) -> dict[str, Any]:
    """The scalar figures of a run, for results.jsonl."""
    return {"sync_id": run.sync_id, "ran": run.ran, "total": run.total, "done": run.done,
            "changed": run.changed, "expected_changed": run.expected_changed,
            "superseded": run.superseded, "last_error": run.last_error, "wall_s": run.wall_s,
            "cpu_s": run.cpu_s, "pg_cpu_s": run.pg_cpu_s, "rss_before_mb": run.rss_before_mb,
            "peak_rss_mb": run.peak_rss_mb, **run.phases(),
            "first_visible_s": run.first_visible_s(), "visible_steps": run.visible_steps()}


# -- report ---------------------------------------------------------------------------------


def main_table(results: list[SystemResult]) -> str:
    """One row per sync."""
    lines = ["| phone system | sync | total | changed (expected) | wall s | agents/s "
             "| chunks | progress first seen s | this process CPU s | PG CPU s "
             "| peak RSS MiB |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for result in results:
        for run in result.runs:
            rate = run.total / run.wall_s if run.ran and run.wall_s > 0 else float("nan")
            expected = "" if run.expected_changed is None else f" ({run.expected_changed:,})"
            flag = "" if run.expected_changed in (None, run.changed) else " **!**"
            seen = run.first_visible_s()
            lines.append(
                f"| {run.system} | {run.label} | {run.total:,} | {run.changed:,}{expected}{flag} "
                f"| {fmt(run.wall_s)} | {fmt(rate)} | {len(run.chunks)} "
                f"| {fmt(seen) if seen is not None else '-'} | {fmt(run.cpu_s)} "
                f"| {fmt(run.pg_cpu_s)} | {fmt(run.peak_rss_mb)} |")
    return "\n".join(lines)


def phases_table(results: list[SystemResult]) -> str:
    """Where each sync's wall time went."""
    lines = ["| phone system | sync | take s | plan s | work out rules s | phone writes s "
             "| progress commits s | finish s |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for result in results:
        for run in result.runs:
            p = run.phases()
            if not p:
                continue
            lines.append(f"| {run.system} | {run.label} | {fmt(p['take_s'])} | {fmt(p['plan_s'])} "
                         f"| {fmt(p['work_out_s'])} | {fmt(p['phone_writes_s'])} "
                         f"| {fmt(p['progress_commits_s'])} | {fmt(p['finish_s'])} |")
    return "\n".join(lines)


def progress_table(run: SyncRun) -> str:
    """Each chunk of one sync: when its progress was committed and when another connection
    saw it."""
    lines = ["| chunk | agents | changed | done after | committed at s | seen by poller at s |",
             "|---:|---:|---:|---:|---:|---:|"]
    done = 0
    count = len(run.chunks)
    for index, (_start, _end, agents, changed) in enumerate(run.chunks):
        done += agents
        # Long syncs: the first five chunks, every tenth, and the last.
        if count > 20 and not (index < 5 or (index + 1) % 10 == 0 or index == count - 1):
            continue
        commit = run.commits[2 + index] if 2 + index < len(run.commits) else float("nan")
        seen = next((at for at, _t, d, _c, _f in run.seen if d >= done), float("nan"))
        lines.append(f"| {index + 1} | {agents} | {changed} | {done:,} | {commit:.3f} "
                     f"| {seen:.3f} |")
    return "\n".join(lines)


def summary(args: argparse.Namespace, results: list[SystemResult], env: dict[str, Any]) -> str:
    """The markdown summary of the run."""
    parts = [
        f"## Calling sync, {args.agents:,} active agents (in-process `run_sync`, one worker)",
        "",
        main_table(results),
        "",
        "wall: `run_sync` from the call to its return (take the sync, write the plan, work out "
        "every agent's rules, write them in chunks of "
        f"{sync.CHUNK} with a progress commit after each, finish). total / changed: the "
        "`calling_sync` row afterwards. progress first seen: when another connection (polling "
        f"every {POLL_SECONDS * 1000:.0f} ms) first read a partial `done`. CPU: this process "
        "(`time.process_time`, includes the poller thread) and the PostgreSQL backends of the "
        "bench databases (/proc, 10 ms ticks). Peak RSS: VmHWM of this process during the sync "
        + ("(reset before each through /proc/self/clear_refs)." if env["hwm_reset"] else
           "(could not be reset here: the peak since the process started)."),
        "",
        "### Where the time went",
        phases_table(results),
        "",
        "take: claiming the sync (commit); plan: `ensure_calling_plan`; work out rules: "
        "loading the assignments and every active agent and resolving their profiles "
        "(to the commit of `total`); phone writes: `ensure_calling` calls; progress commits: "
        "after each call, to its commit; finish: the last commit.",
        "",
    ]
    for result in results:
        first = next((run for run in result.runs if run.label.startswith("1 ")), None)
        if first is not None:
            parts += [f"### Progress of the first sync, {result.system}",
                      progress_table(first), "",
                      f"Distinct partial `done` values another connection saw while it ran: "
                      f"{first.visible_steps()} (of {max(0, len(first.chunks) - 1)} "
                      f"intermediate chunks).", ""]
    parts.append("### Seeding and the admin change")
    for result in results:
        seeding = ", ".join(f"{name} {seconds:.1f}" for name, seconds in result.seed_s.items())
        parts.append(
            f"* {result.system}: seeding (s) {seeding}; admin change: `save_profile` "
            f"{result.admin_s['save_profile_s']:.2f} s, `assign_profile` (branch) "
            f"{result.admin_s['assign_profile_s']:.2f} s; {result.affected:,} agents in the "
            f"branch; afterwards {result.holding_after:,} accounts on the phone system hold "
            f"the new profile's 30-minute cap.")
    for result in results:
        if result.profile_top:
            parts += ["", f"### cProfile of one full sync, {result.system} "
                      f"(wall {result.profiled_wall_s:.2f} s under the profiler; "
                      f"profile-{result.system}.txt)"]
            parts += [f"{i + 1}. {line}" for i, line in enumerate(result.profile_top)]
    parts += [
        "",
        f"peak RSS of the whole run (ru_maxrss, seeding included): {env['ru_maxrss_mb']:.0f} "
        "MiB",
        f"env: load1 {env['load1_start']:.2f} -> {env['load1_end']:.2f}, cpu_mloops "
        f"{env['cpu_mloops']:.1f}, {os.cpu_count()} CPUs; run {env['run_s']:.0f} s",
        f"command: `{' '.join(['python -m bench.calling_sync', *sys.argv[1:]])}`",
        f"code: {env['code']}",
        "",
    ]
    return "\n".join(parts)


class Recorder:
    """Appends one JSON line per figure to results.jsonl."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, kind: str, name: str, **values: Any) -> None:
        with open(self.path, "a") as handle:
            handle.write(json.dumps({"kind": kind, "name": name, **values, "ts": time.time()},
                                    ensure_ascii=False, default=str) + "\n")


def run(args: argparse.Namespace) -> tuple[str, Path]:
    """Measure every phone system asked for; the summary and the output directory."""
    started = time.perf_counter()
    out = PROJECT / "bench" / "out" / f"calling-sync-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    record = Recorder(out / "results.jsonl")
    env: dict[str, Any] = {"code": code_version(), "load1_start": loadavg(),
                           "cpu_mloops": cpu_mloops(), "hwm_reset": reset_peak_rss()}
    print(f"env: load1 {env['load1_start']:.2f}, cpu_mloops {env['cpu_mloops']:.1f}",
          flush=True)
    results = []
    try:
        for system in args.systems:
            results.append(measure_system(system, args, out, record))
    finally:
        if not args.keep_db:
            for name in (APP_DATABASE, KAMAILIO_DATABASE):
                with contextlib.suppress(Exception):
                    dataset.drop_database(args.pg_admin_url, name)
    env.update(load1_end=loadavg(), code_end=code_version(),
               ru_maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               run_s=time.perf_counter() - started)
    if env["code_end"] != env["code"]:
        env["code"] = f"{env['code']} at start, {env['code_end']} at the end: CHANGED"
    record("env", "machine", **{k: v for k, v in env.items() if k != "code_end"})
    report = summary(args, results, env)
    (out / "summary.md").write_text(report)
    return report, out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.calling_sync",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", type=int, default=5000, help="active agents")
    parser.add_argument("--branches", type=int, default=2,
                        help="the admin's profile goes to the first half of them")
    parser.add_argument("--departments", type=int, default=5, help="per branch")
    parser.add_argument("--systems", default="directory,kamailio",
                        help="phone systems to measure, in order (directory, kamailio)")
    parser.add_argument("--profile", action="store_true",
                        help="then one more full sync per system under cProfile")
    parser.add_argument("--pg-admin-url",
                        default=os.environ.get("BENCH_PG_ADMIN_URL",
                                               "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep-db", action="store_true", help="leave the databases behind")
    args = parser.parse_args(argv)
    args.systems = [each.strip() for each in args.systems.split(",") if each.strip()]
    if not args.systems or set(args.systems) - {"directory", "kamailio"}:
        parser.error("--systems takes directory and/or kamailio")
    if args.agents < 1 or args.branches < 2 or args.departments < 1:
        parser.error("--agents and --departments must be positive, --branches at least 2")
    return args


def main() -> None:
    """Run the bench and print the summary."""
    exit_on_sigterm()
    started = time.perf_counter()
    report, out = run(parse_args())
    print(report)
    print(f"(results: {out.relative_to(PROJECT)}; {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
