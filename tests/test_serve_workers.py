"""`cadence serve` with several workers: a warning on SQLite, and /metrics adding up every worker's numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.signed import SlackSender
from tests.test_serve import ROOT, SECRET, free_port, wait_until_healthy


def request_count(metrics_text: str, listener: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "cadence_request_duration_seconds_count" and sample.labels.get("listener") == listener:
                return sample.value
    return 0.0


def test_two_workers_on_sqlite_warn_and_metrics_sum_over_the_workers(fake: FakeSlack, tmp_path: Path) -> None:
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": "xoxb-serve",
        "SLACK_SIGNING_SECRET": SECRET,
        "CADENCE_ANONYMITY_SECRET": "serve-test-anonymity-secret",
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--workers", "2"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        slack = SlackSender(url, SECRET, fake)
        replies = [slack.command("/cadence", "help") for _ in range(8)]
        assert [r.status for r in replies] == [200] * 8
        # Whichever worker answers, it reports all eight.
        scrapes = [slack.get("/metrics") for _ in range(4)]
        assert {request_count(s.body.decode(), "/cadence") for s in scrapes} == {8.0}
        assert len(list(metrics_dir.glob("histogram_*.db"))) >= 1
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "serving with 2 workers on SQLite" in output
    assert output.count("Booting worker") == 2
