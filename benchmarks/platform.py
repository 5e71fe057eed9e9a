"""What the workspace platform costs: token look-ups, event deduplication, export and purge.

Run: `python -m benchmarks.platform` (SQLite in a temporary directory; set BENCH_DATABASE_URL for Postgres).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation

from bot.server.runtime import Runtime
from bot.server.settings import Settings
from storage import dedup, migrate, workspace_data
from storage.models import Holiday, Person

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


def timed(label: str, runs: int, action: Callable[[int], object]) -> None:
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        action(i)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"{label:<52} median {statistics.median(samples):7.3f} ms   p95 {p95:7.3f} ms   ({runs} runs)")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        migrate.upgrade(url)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_client_id="1.2", slack_client_secret="client-secret-bench", slack_signing_secret="s" * 20,
            slack_state_secret="state-secret-bench-123", cadence_encryption_key=Fernet.generate_key().decode(),
            database_url=url,
        )
        runtime = Runtime.from_settings(settings)
        assert runtime.installations is not None
        for n in range(50):
            runtime.installations.store.save(Installation(
                app_id="A1", team_id=f"T{n:03d}", team_name=f"Team {n}", bot_token=f"xoxb-{n}-token",
                bot_id="B1", bot_user_id="U1", bot_scopes="commands", user_id="U1"))
        print(f"database: {runtime.db.dialect}, 50 installed workspaces")
        timed("clients.for_team(team): find, decrypt, client (50 teams)", 500,
              lambda i: runtime.clients.for_team(f"T{i % 50:03d}"))
        timed("bot token encrypt + decrypt (Fernet)", 2000,
              lambda i: runtime.installations.store.cipher.decrypt(  # type: ignore[union-attr]
                  runtime.installations.store.cipher.encrypt("xoxb-1-abcdefghijklmnopqrstuvwx")))  # type: ignore[union-attr]

        def deliver(i: int) -> None:
            with runtime.db.transaction() as session:
                dedup.first_delivery(session, team_id="T000", event_id=f"Ev{i // 2}", now=NOW)

        timed("dedup: record an event id (half of them repeats)", 1000, deliver)

        with runtime.db.transaction() as session:
            for n in range(5000):
                session.add(Person(team_id="T001", user_id=f"U{n}", display_name=f"p{n}", timezone="UTC",
                                   fetched_at=NOW))
                session.add(Holiday(team_id="T001", day=date(2026, 1, 1) + timedelta(days=n), name="h",
                                    added_by="U1", added_at=NOW))

        def export(_i: int) -> None:
            with runtime.db.transaction() as session:
                workspace_data.export(session, team_id="T001")

        timed("export a workspace of 10,000 rows", 5, export)
        started = time.perf_counter()
        with runtime.db.transaction() as session:
            deleted = workspace_data.purge(session, team_id="T001")
        print(f"{'purge a workspace of 10,000 rows':<52} {1000 * (time.perf_counter() - started):7.1f} ms "
              f"({sum(deleted.values())} rows)")
        runtime.db.dispose()


if __name__ == "__main__":
    main()
