"""Child processes of the bench: a private Redis, gunicorn, the Dramatiq worker, the relay."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

#: Interpreter directory: gunicorn, agentdesk and redis tools are looked up beside it first.
BIN = Path(sys.executable).parent


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:`port` and we may bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bind:
        try:
            bind.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(preferred: int, taken: Sequence[int] = ()) -> int:
    """The first free loopback port from `preferred` on (50 tries), skipping `taken`."""
    for port in range(preferred, preferred + 50):
        if port not in taken and port_is_free(port):
            return port
    raise RuntimeError(f"no free port in {preferred}..{preferred + 49}")


def tool(name: str) -> str:
    """The path of a console script of this interpreter, else the bare name (PATH)."""
    candidate = BIN / name
    return str(candidate) if candidate.exists() else name


class Children:
    """Every process the bench starts; each in its own session, stopped by its pid and group."""

    def __init__(self, log_dir: Path) -> None:
        """Log children's output under `log_dir`."""
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, cmd: Sequence[str], log_name: str, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.Popen[bytes]:
        """Start `cmd` in a new session with stdout+stderr appended to `log_name`."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / log_name, "ab") as log:
            proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
        """SIGTERM the process; SIGKILL its process group after `timeout` (and any leftovers)."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # the group start_new_session gave it
        proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        """Stop every child still known, newest first."""
        for proc in reversed(list(self.procs)):
            self.stop(proc)


class PrivateRedis:
    """A redis-server of our own on a loopback port: no persistence, never the shared one."""

    def __init__(self, children: Children, port: int) -> None:
        """A server on 127.0.0.1:`port`, started through `children`."""
        self.children = children
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it answers PING (bounded)."""
        if not port_is_free(self.port):
            raise RuntimeError(f"127.0.0.1:{self.port} is taken; pick another --redis-port")
        self.proc = self.children.spawn(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.children.log_dir)],
            f"redis-{self.port}.log")
        for _ in range(200):
            if self.cli("ping").strip() == "PONG":
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("private redis did not come up")

    def cli(self, *args: str) -> str:
        """Run redis-cli against this server only; returns its stdout."""
        done = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
                              capture_output=True, text=True, timeout=10, check=False)
        return done.stdout

    def stop(self) -> None:
        """SHUTDOWN NOSAVE, then make sure the process is gone."""
        if self.proc is None:
            return
        self.cli("shutdown", "nosave")
        self.children.stop(self.proc, timeout=5)
        self.proc = None


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Wait until GET `url` answers 200 (bounded), or fail if `proc` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode}")
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.1f} s")


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdecimal():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 (ppid) comes after the parenthesised command name.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float:
    """Resident set size of `pid` in MiB (VmRSS), NaN when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds used so far by `pid` (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def pg_backends(database: str) -> list[int]:
    """Pids of the PostgreSQL backends connected to `database` (from their process titles)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdecimal():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            found.append(int(entry.name))
    return found


class CpuMeter:
    """CPU seconds used by a set of processes between start() and stop()."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        """Meter the processes that `pids()` lists at each reading."""
        self.pids = pids
        self.before: dict[int, float] = {}

    def start(self) -> None:
        """Remember the CPU time of every process now."""
        self.before = {pid: cpu_seconds(pid) for pid in self.pids()}

    def stop(self) -> float:
        """CPU seconds used since start() (processes born since then count from zero)."""
        return sum(cpu_seconds(pid) - self.before.get(pid, 0.0) for pid in self.pids())


def loadavg() -> float:
    """The one-minute load average."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def cpu_mloops() -> float:
    """The limits harness's fixed pure-Python loop, in Mloops/s (a noise indicator)."""
    n = 2_000_000
    started = time.perf_counter()
    x = 0
    for i in range(n):
        x += i & 7
    return n / (time.perf_counter() - started) / 1e6


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that `finally` blocks stop children and drop databases."""
    signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


#: `cpu_mloops()` on this machine when nobody else uses it (the limits harness's figure).
QUIET_MLOOPS = 17.0
#: Slowness factors beyond this are taken as this: a wait must still end some time.
MAX_TIMEOUT_SCALE = 30.0


def timeout_scale(mloops: float, load1: float, cpus: int | None = None) -> float:
    """How much longer than on a quiet machine every wait may take now.

    max(1, quiet / measured calibration loop speed) x max(1, load per core), capped: a busy
    or slow machine stretches every wait alike, and a wait that is too short loses a round.
    """
    cores = cpus or os.cpu_count() or 1
    speed = max(1.0, QUIET_MLOOPS / mloops) if mloops > 0 else MAX_TIMEOUT_SCALE
    load = max(1.0, load1 / cores)
    return min(MAX_TIMEOUT_SCALE, speed * load)


def context_switches(pid: int) -> int:
    """Voluntary + involuntary context switches of every thread of `pid` so far (0 if gone)."""
    total = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0
    for task in tasks:
        try:
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def is_alive(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def wait_log_lines(path: Path, text: str, count: int, proc: subprocess.Popen[bytes],
                   timeout: float, offset: int = 0) -> None:
    """Wait (bounded) until `text` appears `count` times in `path` after byte `offset`."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), open(path, "rb") as log:
            log.seek(offset)
            if log.read().decode(errors="replace").count(text) >= count:
                return
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode}, see {path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{text!r} not seen {count} times in {path} within "
                               f"{timeout:.0f} s")
        time.sleep(0.1)
