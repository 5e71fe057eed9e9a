"""`cadence serve` as an admin runs it: a real gunicorn process, signed requests, health."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.signed import SlackSender

ROOT = Path(__file__).resolve().parent.parent
SECRET = "serve-test-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen[str], limit: float = 60.0, log: Path | None = None) -> None:
    """Poll /healthz until the server answers (bounded); fail with its output (or its log file) if it died."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else log.read_text() if log else ""
            raise AssertionError(f"cadence serve exited with {process.returncode}: {output[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)  # waiting for a process to start listening, not for time to pass
    raise AssertionError("cadence serve did not become healthy")


@pytest.fixture
def served(fake: FakeSlack, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": "xoxb-serve",
        "SLACK_SIGNING_SECRET": SECRET,
        "CADENCE_ANONYMITY_SECRET": "serve-test-anonymity-secret",
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_answers_a_signed_help_quickly_and_refuses_bad_signatures(
    served: tuple[str, subprocess.Popen[str]], fake: FakeSlack
) -> None:
    url, _process = served
    slack = SlackSender(url, SECRET, fake)
    started = time.monotonic()
    reply = slack.command("/cadence", "help")
    elapsed = time.monotonic() - started
    assert reply.status == 200
    assert "/cadence help" in reply.text
    assert elapsed < 3.0, f"took {elapsed:.2f}s; Slack gives up after 3 s"

    assert slack.command("/cadence", "help", signature="v0=bad").status == 401
    assert slack.command("/cadence", "help", timestamp=int(time.time()) - 301).status == 401
    with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
        assert response.status == 200


def test_serve_migrated_the_database_at_start(served: tuple[str, subprocess.Popen[str]], tmp_path: Path) -> None:
    from storage import migrate
    from storage.db import Database

    database = Database(f"sqlite:///{tmp_path / 'serve.sqlite3'}")
    try:
        assert migrate.current_revision(database.engine) == migrate.head_revision()
    finally:
        database.dispose()
