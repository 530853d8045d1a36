"""Starting a real Kamailio against a fresh PostgreSQL database (tests and benchmarks)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tasks.pbx.kamailio import json_rpc
from tests.conftest import PG_ADMIN_URL, fresh_pg_database
from tests.processes import free_port, wait_for
from workflow.ports import PhoneSystemError

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "kamailio" / "kamailio.cfg"
SCHEMA = ROOT / "deploy" / "kamailio" / "schema.sql"
KAMAILIO = "/usr/sbin/kamailio"
#: The SIP domain phones register with (the digest realm).
DOMAIN = "pbx.agentdesk.test"
#: kamailio.cfg's ban and flood limits, raised: tests sign in wrongly and send bursts from
#: 127.0.0.1 on purpose (the real limits are tested in test_attacks.py). A caller's
#: `defines` override them.
GENEROUS_LIMITS = {"AUTH_FAILURES": "1000", "PIKE_REQS": "100000"}


@dataclass(frozen=True)
class Kamailio:
    """A running Kamailio: where to send SIP, where to call JSON-RPC, its database."""

    sip: tuple[str, int]
    rpc_url: str
    database_url: str
    domain: str
    #: The operators' control socket (kamcmd -s).
    control: str = ""

    def rpc(self, method: str, *params: Any) -> Any:
        """Call a JSON-RPC method; returns its result (PhoneSystemError on an error)."""
        return json_rpc(self.rpc_url, method, *params)


def _answers(rpc_url: str) -> bool | None:
    """Whether Kamailio answers JSON-RPC yet."""
    probe = Kamailio(("", 0), rpc_url, "", "")
    try:
        return bool(probe.rpc("core.version")) or None
    except PhoneSystemError:
        return None


@contextlib.contextmanager
def running_kamailio(database_name: str, log: Path, no_answer_ms: int = 3000,
                     sip_port: int | None = None, keep_database: bool = False,
                     defines: Mapping[str, str] | None = None, config: Path = CONFIG
                     ) -> Iterator[Kamailio]:
    """Kamailio on 127.0.0.1 (free ports, or `sip_port`) against a fresh database (or, with
    `keep_database`, the one an earlier run left); its process group is stopped on exit.

    `defines` adds `-A NAME=value` switches (a value of "" defines NAME alone, as WITH_TLS),
    after GENEROUS_LIMITS.
    """
    if not os.path.exists(KAMAILIO):
        raise RuntimeError("kamailio is missing: run .ci/run (it installs the Debian packages "
                           "kamailio, kamailio-postgres-modules, kamailio-json-modules)")
    if keep_database:
        libpq = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{database_name}"
    else:
        url = fresh_pg_database(database_name)
        libpq = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(SCHEMA.read_text())
    sip_port, rpc_port = sip_port or free_port(), free_port()
    database = libpq.replace("postgresql://", "postgres://")
    control = log.with_name(log.stem + ".ctl")
    command = [KAMAILIO, "-f", str(config), "-DD", "-E",
               "-A", "SIP_ADDR=127.0.0.1", "-A", f"SIP_PORT={sip_port}",
               "-A", "RPC_ADDR=127.0.0.1", "-A", f"RPC_PORT={rpc_port}",
               "-A", f'CTL_SOCKET="unix:{control}"',
               "-A", f'DBURL="{database}"', "-A", f'SIP_DOMAIN="{DOMAIN}"',
               "-A", f"NO_ANSWER_MS={no_answer_ms}"]
    for name, value in {**GENEROUS_LIMITS, **(defines or {})}.items():
        command += ["-A", f"{name}={value}" if value else name]
    # kamailio.cfg requires TZ=UTC: tmrec reads agentdesk's working time (UTC) in local time.
    with open(log, "w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                   env={**os.environ, "TZ": "UTC"}, start_new_session=True)
    rpc_url = f"http://127.0.0.1:{rpc_port}/RPC"
    try:
        wait_for(lambda: _answers(rpc_url), f"Kamailio to answer JSON-RPC (log: {log})",
                 timeout=20)
        yield Kamailio(("127.0.0.1", sip_port), rpc_url, libpq, DOMAIN, f"unix:{control}")
    finally:
        # Its whole process group: the main process forks its workers.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
