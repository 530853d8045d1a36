"""A private PostgreSQL server (initdb in a temporary directory), for tests that stop it."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import free_port, port_open, wait_for

#: PostgreSQL refuses to run as root; as root, the server runs as this account.
SERVER_ACCOUNT = "postgres"


@dataclass(frozen=True)
class PrivatePostgres:
    """A private PostgreSQL cluster: its data directory, port and the account running it."""

    data: Path
    port: int
    user: str | None

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of its `postgres` database (trust auth, loopback)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *arguments: str) -> None:
        """Run pg_ctl on this cluster's data directory, as the account that owns it."""
        _run(["pg_ctl", "-D", str(self.data), "-w", "-t", "30", *arguments], self.user,
             self.data.parent)

    def start(self) -> None:
        """Start the server on its port, returning once it accepts connections."""
        options = f"-p {self.port} -h 127.0.0.1 -k {self.data} -c fsync=off"
        self.pg_ctl("-l", str(self.data / "server.log"), "-o", options, "start")
        wait_for(lambda: port_open(self.port), f"PostgreSQL on port {self.port}")

    def stop(self) -> None:
        """Stop the server at once (open connections are cut)."""
        self.pg_ctl("-m", "immediate", "stop")


def _run(command: list[str], user: str | None, cwd: Path) -> None:
    """Run a PostgreSQL command as `user`; RuntimeError with its output when it fails."""
    done = subprocess.run(command, user=user, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stdout}{done.stderr}")


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A fresh PostgreSQL cluster in a temporary directory, on a free port; stopped and
    removed on exit."""
    if not shutil.which("initdb"):
        raise RuntimeError("initdb is missing: install the PostgreSQL server package")
    # Its own directory under /tmp: the server account cannot enter root's pytest directories.
    with tempfile.TemporaryDirectory(prefix="agentdesk-pg-") as root:
        user = SERVER_ACCOUNT if os.geteuid() == 0 else None
        if user:
            account = pwd.getpwnam(user)
            os.chown(root, account.pw_uid, account.pw_gid)
        yield from _cluster(Path(root) / "data", user)


def _cluster(data: Path, user: str | None) -> Iterator[PrivatePostgres]:
    """Create a cluster in `data` as `user`, start it, stop it on the way out."""
    _run(["initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"], user,
         data.parent)
    server = PrivatePostgres(data, free_port(), user)
    server.start()
    try:
        yield server
    finally:
        # Already stopped by the test is fine: pg_ctl then says so and fails.
        with contextlib.suppress(RuntimeError):
            server.stop()
