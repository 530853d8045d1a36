"""Every line the production processes write is one JSON object: migrations, Dramatiq's
parent process, gunicorn's master and workers."""

from __future__ import annotations

import json
import shlex
import subprocess
import urllib.request
from pathlib import Path

from tests.support.processes import free_port, port_open, redis_server, running, stop, wait_for

PROJECT = Path(__file__).resolve().parents[2]
#: Outside the embedded default every process needs a real secret key.
SECRET = "test-only-secret-key-for-the-log-lines-test"


def json_lines(path: Path) -> list[dict]:
    """Each line of the file parsed as JSON (fails on any line that is not)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def migrated_sqlite(tmp_path: Path) -> dict[str, str]:
    """The environment of a SQLite database brought up to date by `agentdesk db upgrade`."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'logs.db'}", "REDIS_URL": ""}
    log = tmp_path / "upgrade.log"
    with running(["agentdesk", "db", "upgrade"], env, log) as process:
        assert process.wait(timeout=120) == 0, log.read_text()
    return env


def procfile_command(kind: str) -> str:
    """The Procfile's command of one process kind."""
    for line in (PROJECT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == kind:
            return command.strip()
    raise AssertionError(f"no {kind} process in the Procfile")


def test_the_migrations_log_json_lines(tmp_path: Path) -> None:
    # When the database is migrated (the Procfile's release step)
    migrated_sqlite(tmp_path)

    # Then each migration applied is a JSON line of Alembic's
    lines = json_lines(tmp_path / "upgrade.log")
    applied = [line for line in lines if line["logger"] == "alembic.runtime.migration"
               and line["message"].startswith("Running upgrade")]
    assert applied and applied[0]["level"] == "INFO"
    assert "0001" in applied[0]["message"]


def test_the_worker_parent_and_children_log_json_lines(tmp_path: Path) -> None:
    env = migrated_sqlite(tmp_path)
    with redis_server(tmp_path) as redis_url:
        log = tmp_path / "worker.log"
        # Given `agentdesk worker` started and ready
        with running(["agentdesk", "worker", "-p", "1", "-t", "1"],
                     {**env, "REDIS_URL": redis_url, "SECRET_KEY": SECRET}, log) as process:
            wait_for(lambda: "is ready for action" in log.read_text() or None,
                     "the worker to be ready", timeout=60)
            # When it is stopped as a process manager does
            stop(process)

    # Then the parent's lines and its child's are all JSON
    lines = json_lines(log)
    parent = [line["message"] for line in lines if line["logger"] == "dramatiq.MainProcess"]
    child = [line["message"] for line in lines if line["logger"].startswith(
        "dramatiq.WorkerProcess")]
    assert any("booting up" in message for message in parent)
    assert any("Sending signal" in message for message in parent)
    assert any("ready for action" in message for message in child)
    # and no start-up noise of the libraries the worker imports
    assert not [line for line in lines if line["logger"].startswith("alembic")]


def test_gunicorn_from_the_procfile_logs_json_lines(tmp_path: Path) -> None:
    env = migrated_sqlite(tmp_path)
    port = free_port()
    command = procfile_command("web").replace("0.0.0.0:${PORT:-8000}", f"127.0.0.1:{port}")
    log = tmp_path / "gunicorn.log"
    # Given the Procfile's web process
    with running(shlex.split(command), {**env, "SECRET_KEY": SECRET},
                 log) as process:
        wait_for(lambda: port_open(port) or None, "gunicorn to listen", timeout=60)
        # When it serves a request and is stopped
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
        stop(process)
        assert process.returncode is not None

    # Then the master's, the workers' and the request's lines are all JSON
    lines = json_lines(log)
    gunicorn = [line["message"] for line in lines if line["logger"] == "gunicorn.error"]
    assert any(message.startswith("Starting gunicorn") for message in gunicorn)
    assert any(message.startswith("Booting worker") for message in gunicorn)
    assert [line["path"] for line in lines if line["logger"] == "agentdesk.access"] == [
        "/healthz"]


def test_the_worker_command_runs_dramatiq_through_the_json_entry() -> None:
    # The worker command's help comes from Dramatiq's own command line, through our entry
    done = subprocess.run(["python", "-m", "tasks.worker_cli", "--help"], cwd=PROJECT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and "--processes" in done.stdout
