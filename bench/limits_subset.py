"""Run one ceiling of the ../shared/limits harness with its own, unchanged functions.

usage (run.py does this, cwd = the harness folder, LIMITS_* set):
    python bench/limits_subset.py web --wrk-seconds 10     # web.sync.pg_enq
    python bench/limits_subset.py drain --n 5000           # dq.drain.db
Prints one line `LIMITS_JSON {...}` with the harness's metric names. Like run_all.py it starts
and stops the harness's own redis on $LIMITS_REDIS_PORT; gunicorn/dramatiq are stopped by
the harness's `common.stop` (SIGTERM, then SIGKILL of their process group).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any


def _terminate(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so the `finally` blocks stop the children."""
    raise SystemExit(128 + signum)


def _cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of `pid` so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pids(match: Callable[[int, str], bool]) -> list[int]:
    """Pids whose (ppid, command line) satisfy `match`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdecimal():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if match(ppid, cmdline):
            found.append(int(name))
    return found


def web(bw: Any, bd: Any, common: Any, seconds: int) -> dict[str, float]:
    """gunicorn -w 2 sync + `wrk -t1 -c8` on /tickets/pg-enq, as run_all.py's web suite."""
    # Added here (not a harness metric): CPU per request of the gunicorn workers and of the
    # PostgreSQL backends of the harness database, over the wrk run.
    database = common.PG_URL.rsplit("/", 1)[1]
    proc = bw.start_gunicorn("sync")
    try:
        def workers() -> list[int]:
            """The gunicorn workers."""
            return _pids(lambda ppid, _: ppid == proc.pid)

        def backends() -> list[int]:
            """The PostgreSQL backends of the harness database."""
            return _pids(lambda _, cmd: cmd.startswith("postgres: ") and f" {database} " in cmd)

        web_before = {pid: _cpu_seconds(pid) for pid in workers()}
        pg_before = {pid: _cpu_seconds(pid) for pid in backends()}
        result = bw.run_wrk("pg_enq", seconds)
        web_s = sum(_cpu_seconds(pid) - web_before.get(pid, 0.0) for pid in workers())
        pg_s = sum(_cpu_seconds(pid) - pg_before.get(pid, 0.0) for pid in backends())
    finally:
        common.stop(proc)
    bd.flush("webq")
    requests = result["rps"] * seconds
    result["web_cpu_ms_per_req"] = 1000 * web_s / requests
    result["pg_cpu_ms_per_req"] = 1000 * pg_s / requests
    return {f"web.sync.pg_enq.{key}": value for key, value in result.items()}


def drain(bd: Any, n: int) -> dict[str, float]:
    """n pipelined messages, then `dramatiq -p 2 -t 8` running one UPDATE+commit each."""
    bd.prepare_db()
    bd.vacuum()
    rate, total = bd.drain_db(n)
    return {"dq.drain.db.mps": rate, "dq.drain.db.total_s": total}


def main() -> None:
    """Parse arguments, run the chosen ceiling, print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["web", "drain"])
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args()
    here = os.getcwd()  # the harness folder: its modules import each other by plain name
    sys.path.insert(0, here)
    signal.signal(signal.SIGTERM, _terminate)
    common = importlib.import_module("common")
    common.start_redis()
    try:
        bd = importlib.import_module("bench_dramatiq")
        bw = importlib.import_module("bench_web")
        subprocess.run([sys.executable, "webapp.py", "init"], cwd=here, check=True,
                       env={**os.environ, "PYTHONPATH": here}, timeout=120)
        run = {"web": lambda: web(bw, bd, common, args.wrk_seconds),
               "drain": lambda: drain(bd, args.n)}[args.what]
        result = run()
    finally:
        common.stop_redis()
    print("LIMITS_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
