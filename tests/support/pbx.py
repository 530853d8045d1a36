"""Starting a real Kamailio against a fresh PostgreSQL database (tests and benchmarks)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bencode
import psycopg
from flask import Flask

from tasks.pbx.kamailio import json_rpc
from tests.support.apps import PG_ADMIN_URL, build_app, fresh_pg_database, worker_suffix
from tests.support.processes import free_port, wait_for
from workflow.ports import PhoneSystemError

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "kamailio" / "kamailio.cfg"
SCHEMA = ROOT / "deploy" / "kamailio" / "schema.sql"
KAMAILIO = "/usr/sbin/kamailio"
RTPENGINE = "/usr/bin/rtpengine"
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


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a daemon started in a session of its own, with the workers it forked: TERM,
    then KILL if it has not ended within 10 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def _exited(process: subprocess.Popen[bytes], log: Path) -> None:
    """Nothing while Kamailio runs; RuntimeError with its log's end once it has stopped (a
    configuration it refuses stops it at once: no need to wait for it to answer)."""
    if process.poll() is not None:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-15:])
        raise RuntimeError(f"Kamailio stopped (exit {process.returncode}):\n{tail}")


@contextlib.contextmanager
def running_kamailio(database_name: str, log: Path, no_answer_ms: int = 3000,
                     sip_port: int | None = None, keep_database: bool = False,
                     defines: Mapping[str, str] | None = None, config: Path = CONFIG,
                     sip_addr: str = "127.0.0.1",
                     shm_mb: int | None = None) -> Iterator[Kamailio]:
    """Kamailio with SIP on `sip_addr` (free ports, or `sip_port`) against a fresh database
    (or, with `keep_database`, the one an earlier run left); its process group is stopped
    on exit. JSON-RPC stays on 127.0.0.1.

    `defines` adds `-A NAME=value` switches (a value of "" defines NAME alone, as WITH_TLS),
    after GENEROUS_LIMITS. `shm_mb` sizes its shared memory (-m; Kamailio's default is 64).
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
               "-A", f"SIP_ADDR={sip_addr}", "-A", f"SIP_PORT={sip_port}",
               "-A", "RPC_ADDR=127.0.0.1", "-A", f"RPC_PORT={rpc_port}",
               "-A", f'CTL_SOCKET="unix:{control}"',
               "-A", f'DBURL="{database}"', "-A", f'SIP_DOMAIN="{DOMAIN}"',
               "-A", f"NO_ANSWER_MS={no_answer_ms}"]
    for name, value in {**GENEROUS_LIMITS, **(defines or {})}.items():
        command += ["-A", f"{name}={value}" if value else name]
    if shm_mb is not None:
        command += ["-m", str(shm_mb)]
    # kamailio.cfg requires TZ=UTC: tmrec reads agentdesk's working time (UTC) in local time.
    with open(log, "w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                   env={**os.environ, "TZ": "UTC"}, start_new_session=True)
    rpc_url = f"http://127.0.0.1:{rpc_port}/RPC"
    try:
        wait_for(lambda: _answers(rpc_url) or _exited(process, log),
                 f"Kamailio to answer JSON-RPC (log: {log})", timeout=20)
        yield Kamailio((sip_addr, sip_port), rpc_url, libpq, DOMAIN, f"unix:{control}")
    finally:
        stop_group(process)


@dataclass(frozen=True)
class Rtpengine:
    """A running rtpengine: where it relays media, its control (ng) socket, its process."""

    interface: str
    ng: tuple[str, int]
    #: The daemon's process id (for its memory in benchmarks); None when not started here.
    pid: int | None = None

    def command(self, name: str, **arguments: Any) -> dict[str, Any]:
        """Send an ng command (e.g. "list", "query" with call-id=...); its decoded answer."""
        cookie = secrets.token_hex(4)
        message = cookie.encode() + b" " + bencode.bencode({"command": name, **arguments})
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as control:
            control.settimeout(3.0)
            control.sendto(message, self.ng)
            data, _ = control.recvfrom(65535)
        answer_cookie, _, body = data.partition(b" ")
        assert answer_cookie == cookie.encode(), data
        decoded = bencode.bdecode(body)  # strings as str (rtpengine's are ASCII)
        assert isinstance(decoded, dict), decoded
        return dict(decoded)


def rtp_ports_of_this_worker() -> tuple[int, int]:
    """A media port range of this pytest-xdist worker's own (gw0, gw1...; 500 ports each)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    first = 30000 + 500 * (int(worker) % 40 if worker.isdigit() else 0)
    return first, first + 499


@contextlib.contextmanager
def running_rtpengine(interface: str, log: Path) -> Iterator[Rtpengine]:
    """rtpengine in userspace relaying media on `interface` (ports of this worker's own),
    controlled on a free 127.0.0.1 port; stopped on exit."""
    if not os.path.exists(RTPENGINE):
        raise RuntimeError("rtpengine is missing: run .ci/run (it installs rtpengine-daemon)")
    ng_port = free_port()
    port_min, port_max = rtp_ports_of_this_worker()
    command = [RTPENGINE, "--config-file=none", "--table=-1", "--foreground", "--log-stderr",
               f"--interface={interface}", f"--listen-ng=127.0.0.1:{ng_port}",
               f"--port-min={port_min}", f"--port-max={port_max}", "--log-level=6",
               # A deleted call is gone at once, so a test sees the BYE end it.
               "--delete-delay=0"]
    with open(log, "w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    engine = Rtpengine(interface, ("127.0.0.1", ng_port), process.pid)

    def answers() -> bool:
        """Whether rtpengine answers a ping yet."""
        try:
            return engine.command("ping").get("result") == "pong"
        except OSError:
            return False

    try:
        wait_for(answers, f"rtpengine to answer on its ng port (log: {log})", timeout=10)
        yield engine
    finally:
        stop_group(process)



def kamailio_app(kamailio: Kamailio) -> Flask:
    """agentdesk on PostgreSQL, provisioning on the test Kamailio."""
    return build_app(fresh_pg_database(f"agentdesk_kamflow_{worker_suffix()}"),
                     PHONE_SYSTEM="kamailio", KAMAILIO_DATABASE_URL=kamailio.database_url,
                     KAMAILIO_RPC_URL=kamailio.rpc_url, SIP_DOMAIN=kamailio.domain)


def post_rpc(host: str, port: int, method: str, *params: object) -> tuple[int, str]:
    """POST a JSON-RPC request to host:port/RPC; the HTTP status and the body."""
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": list(params),
                       "id": 1}).encode()
    request = urllib.request.Request(f"http://{host}:{port}/RPC", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
