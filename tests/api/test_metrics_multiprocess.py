"""With PROMETHEUS_MULTIPROC_DIR, `/metrics` adds up the counters of every process of the host."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

#: A worker or relay process: runs two relay duties' worth of counting, then exits.
RELAY = textwrap.dedent("""
    from tasks.metrics import relay_duty
    for _ in range(2):
        with relay_duty("relay_once"):
            pass
""")

#: The web process: serves /metrics from its own app and prints it.
WEB = textwrap.dedent("""
    import sys
    from tests.support.apps import build_app
    app = build_app(sys.argv[1])
    with app.app_context():
        app.test_client().get("/healthz")
        print(app.test_client().get("/metrics").get_data(as_text=True))
""")


def run(code: str, folder: Path, *args: str) -> str:
    """Run `code` in a new Python process sharing the metrics folder; its output."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_metrics_add_up_the_processes_of_a_host(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    run(RELAY, folder)
    run(RELAY, folder)
    text = run(WEB, folder, f"sqlite:///{tmp_path / 'agentdesk.db'}")
    samples = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
               for family in text_string_to_metric_families(text) for sample in family.samples}
    relayed = ("agentdesk_relay_duties_total", (("duty", "relay_once"), ("result", "ok")))
    assert samples[relayed] == 4
    health = ("agentdesk_http_requests_total",
              (("method", "GET"), ("route", "/healthz"), ("status", "200")))
    assert samples[health] == 1
    assert samples[("agentdesk_database_up", ())] == 1
