"""`make bench QUICK=1` as a smoke test: the benchmark runs end to end on the suite's
PostgreSQL and writes a well-formed results file. Timings are never asserted here: the
benchmark measures, the suite only checks that it works."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(620)]

ROOT = Path(__file__).resolve().parents[2]
MEASUREMENTS = {
    "telephony_events_http",
    "screen_pop",
    "wallboard",
    "caller_lookup_selector",
    "caller_lookup_http",
    "case_create_http",
    "queue_page",
    "case_page",
    "case_search",
    "take_next",
    "sla_recompute_all_changing",
    "sla_recompute_steady",
    "backlog_snapshot",
    "export_csv",
    "export_xlsx",
    "incident_banner",
    "incident_resolve",
    "email_ingestion",
    "article_suggest",
    "dashboard",
    "reports",
}


def test_quick_bench_runs_end_to_end_and_writes_a_well_formed_results_file(tmp_path):
    output = tmp_path / "results.json"
    completed = subprocess.run(
        [
            sys.executable,
            "scripts/bench.py",
            "--quick",
            "--output",
            str(output),
            "--server-url",
            os.environ["DATABASE_URL"],
            "--db-prefix",
            f"benchsmoke{os.getpid()}",
            "--drop-dataset",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]

    results = json.loads(output.read_text())
    assert results["scale"] == "bench-small"
    assert {"cpus", "postgresql", "platform"} <= results["machine"].keys()
    assert results["dataset"]["counts"]["care.Case"] > 0
    assert set(results["measurements"]) == MEASUREMENTS
    # The dashboard and each report have a row per range (issue #25 point 4).
    reports = set(results["measurements"]["reports"]["pages"])
    assert {"orders", "loyalty", "integrity", "workload"} <= reports
    pages = {f"dashboard_{r}" for r in ("30d", "2y")} | {
        f"report_{name}_{r}" for name in reports for r in ("30d", "2y")
    }
    assert {row["name"] for row in results["summary"]} == MEASUREMENTS - {
        "dashboard",
        "reports",
    } | pages
    for name in pages:
        figure = next(row["figure"] for row in results["summary"] if row["name"] == name)
        assert figure.endswith(" queries"), figure  # the query count beside the figure
    # The back-office step filled the orders and the loyalty worklist.
    counts = results["dataset"]["counts"]
    assert counts["contracts.ContractOrder"] > 0
    assert counts["contracts.LoyaltyItem"] > 0
    for row in results["summary"]:
        assert {"label", "figure", "target", "met"} <= row.keys()
        assert row["met"] in (True, False, None)
    assert "measurement" in completed.stdout  # the table was printed
