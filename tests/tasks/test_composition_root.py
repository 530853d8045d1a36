"""One composition root builds the Runtime for the web and for the worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tasks.runtime import runtime
from tests.support.apps import settings_for
from web import create_app
from web.composition import create_core_app, phone_system, vault
from web.extensions import db

#: The repository root, whose packages a child process must import.
ROOT = Path(__file__).resolve().parents[2]
#: Settings of a Kamailio that is never reached (building the adapter connects nowhere).
KAMAILIO = {"PHONE_SYSTEM": "kamailio",
            "KAMAILIO_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/nowhere"}


def test_the_worker_entry_builds_its_runtime_without_loading_a_page(tmp_path: Path) -> None:
    # Given the environment of a trial installation
    env = {**os.environ, "AGENTDESK_INSTANCE": str(tmp_path), "DATABASE_URL": "",
           "REDIS_URL": "", "PYTHONPATH": str(ROOT)}
    probe = ("import sys, tasks.worker as entry\n"
             "views = sorted(m for m in sys.modules if m.startswith(('web.ui', 'web.api')))\n"
             "print(type(entry.broker).__name__, views)\n")
    # When the worker's entry module is imported, as `dramatiq tasks.worker` does
    done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=True)
    # Then it has its broker and no view was loaded
    assert done.stdout.split() == ["StubBroker", "[]"]


def test_an_outside_phone_system_gets_one_ticket_per_message_the_directory_a_batch() -> None:
    kamailio = create_core_app(settings_for("sqlite://", PROVISION_BATCH=7, **KAMAILIO))
    directory = create_core_app(settings_for("sqlite://", PROVISION_BATCH=7))
    assert runtime(kamailio).provisioning.batch == 1
    assert runtime(directory).provisioning.batch == 7


def test_the_web_reaches_the_adapters_the_composition_root_built() -> None:
    app = create_app(settings_for("sqlite://"))
    with app.app_context():
        assert vault(app) is runtime(app).provisioning.vault
        assert type(phone_system(app, db.session())).__name__ == "DirectoryPhoneSystem"


def test_no_page_reaches_into_the_task_layers_runtime() -> None:
    # The command line is an entry point beside the composition root; the rest of the web
    # asks web.composition.
    entry_points = {ROOT / "web" / "composition.py", ROOT / "web" / "cli.py"}
    reaching = [str(path.relative_to(ROOT)) for path in (ROOT / "web").rglob("*.py")
                if path not in entry_points and "tasks.runtime" in path.read_text()]
    assert reaching == []
