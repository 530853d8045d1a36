"""`python -m bench.sip` end to end with tiny values: both configs measured, the report's shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.apps import worker_suffix

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_run_measures_both_configs_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "bench.sip", "--seconds", "1", "--rounds", "1", "--agents", "8",
         "--concurrency", "2", "--rtpengine", "--out", str(out),
         "--database", f"agentdesk_bench_sip_{worker_suffix()}"],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    summary = json.loads((out / "summary.json").read_text())
    assert summary["rounds"] == [1]
    for config in ("shipped", "minimal"):
        figures = summary["configs"][config]
        assert set(figures) >= {"register.rps", "register.p50_ms", "register.p95_ms",
                                "register.failed", "call.cps", "call.p50_ms", "call.p95_ms",
                                "call.auth_p50_ms", "call.failed", "rss_mb", "pss_mb"}
        # Registrations and calls really went through each proxy, and memory was read.
        assert figures["register.ok"] > 0 and figures["call.ok"] > 0, figures
        assert figures["rss_mb"] > 0
    ratios = {ratio["metric"]: ratio for ratio in summary["ratios"]}
    assert ratios["register.rps"]["target"] == 0.5 and ratios["register.rps"]["aim"] == 0.7
    assert ratios["call.auth_p50_ms"]["target"] == 2.0
    assert all(ratio["verdict"] in {"aim met", "met", "MISSED", "-"} for ratio in ratios.values())
    assert set(ratios["register.rps"]["per_round"]) == {"1"}
    assert summary["rtpengine_rss_mb"] > 0
    assert summary["env"]["shipped_defines"] == {"PIKE_REQS": "1000000",
                                                 "AUTH_FAILURES": "1000000"}

    report = (out / "summary.md").read_text()
    for heading in ("### Ratios shipped / minimal", "### Figures", "### Per round"):
        assert heading in report
    assert "PIKE_REQS=1000000" in report and "load1" in report
    assert (out / "results.jsonl").read_text().count("\n") >= 2 * 2 * 7
