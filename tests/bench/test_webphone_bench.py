"""`python -m bench.webphone` end to end with one quick call: every figure measured, the report's
shape, rtpengine's memory read, nothing left behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.support.apps import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]


def test_one_call_is_measured_end_to_end_and_reported(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with subprocess.Popen(
            [sys.executable, "-m", "bench.webphone", "--calls", "1", "--answer-after", "0.2",
             "--talk", "0.2", "--gap", "0.2", "--out", str(out)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as bench:
        try:
            stdout, stderr = bench.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            bench.terminate()  # on SIGTERM it stops its children and drops its databases
            stdout, stderr = bench.communicate(timeout=60)
    assert bench.returncode == 0, stdout[-3000:] + stderr[-3000:]
    # The site's two databases (named after the bench's process) are dropped.
    with psycopg.connect(PG_ADMIN_URL) as connection:
        left = connection.execute("select datname from pg_database where datname like %s",
                                  (f"%\\_{bench.pid}",)).fetchall()
    assert left == []

    summary = json.loads((out / "summary.json").read_text())
    assert summary["made"] == 1 and summary["failed"] == [], summary["failed"]
    figures = {figure["figure"]: figure for figure in summary["figures"]}
    # The desk phone heard the browser and the browser heard the desk phone, after ringing.
    for name in ("invite_to_ringing_ms", "answer_to_audio_at_caller_ms",
                 "answer_to_audio_in_browser_ms", "invite_to_180_ms", "answer_to_200_ms",
                 "answer_to_connected_ms", "clock_offset_ms"):
        assert figures[name]["n"] == 1, figures[name]
    assert figures["invite_to_ringing_ms"]["target_p99_ms"] == 500
    assert all(figure["verdict"] in {"met", "MISSED", "-"} for figure in figures.values())
    (call,) = summary["calls"]
    assert call["status"] == 200 and call["packets_sent"] > 0
    assert call["page"]["audio"]["packets"] > 0
    memory = summary["memory"]
    assert memory["rtpengine_rss_mb_before"] > 0 and memory["rtpengine_rss_mb_after"] > 0
    assert memory["kamailio_pss_mb_before"] > 0
    assert summary["env"]["code"]

    report = (out / "summary.md").read_text()
    assert "## Web phone: call set-up and media start" in report
    assert "### Each call" in report and "rtpengine_rss_mb" in report
    assert (out / "logs" / "kamailio.log").exists() and (out / "logs" / "rtpengine.log").exists()
    assert '"metric": "invite_to_ringing_ms"' in (out / "results.jsonl").read_text()
