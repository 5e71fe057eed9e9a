"""A workspace's data: exported and purged generically (every table with team_id), kept N days after uninstall."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Column, ForeignKey, Integer, String, Table, func, insert, select

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import Cadence, FrozenClock, start_cadence
from storage import claims, dedup, healthcheck, workspace_data, workspaces
from storage.db import Database
from storage.installations import slack_bots, slack_installations
from storage.models import Holiday, Person, WorkClaim, Workspace
from storage.schema import metadata
from storage.types import UTCDateTime

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


@pytest.fixture
def throwaway(db: Database) -> Iterator[tuple[Table, Table]]:
    """A ceremony's tables as another module would add them: a board and its cards (a foreign key), both scoped."""
    boards = Table(
        "throwaway_boards", metadata,
        Column("id", Integer, primary_key=True),
        Column("team_id", String(32), nullable=False),
        Column("title", String(100), nullable=False),
    )
    cards = Table(
        "throwaway_cards", metadata,
        Column("id", Integer, primary_key=True),
        Column("team_id", String(32), nullable=False),
        Column("board_id", Integer, ForeignKey("throwaway_boards.id"), nullable=False),
        Column("text", String(100), nullable=False),
        Column("author_hash", String(64), nullable=False),
        Column("written_at", UTCDateTime(), nullable=False),
    )
    try:
        metadata.create_all(db.engine, tables=[boards, cards])
        yield boards, cards
    finally:
        metadata.drop_all(db.engine, tables=[cards, boards])
        metadata.remove(cards)
        metadata.remove(boards)


def seed(db: Database, team_id: str, boards: Table | None = None, cards: Table | None = None) -> None:
    with db.transaction() as session:
        workspaces.record_installation(session, team_id=team_id, name=f"Team {team_id}", now=NOW)
        session.add(Person(team_id=team_id, user_id="U1", display_name=f"ana of {team_id}", timezone="UTC",
                           fetched_at=NOW))
        session.add(Holiday(team_id=team_id, day=date(2026, 12, 24), name="Christmas Eve", added_by="U1",
                            added_at=NOW))
        claims.claim(session, team_id=team_id, kind="standup.prompt", key=f"standup.prompt:{team_id}:1", now=NOW)
        dedup.first_delivery(session, team_id=team_id, event_id=f"Ev{team_id}", now=NOW)
        for table in (slack_installations, slack_bots):
            values = dict(client_id="1.2", app_id="A1", team_id=team_id, team_name=f"Team {team_id}",
                          bot_token="gAAAA-ciphertext", bot_refresh_token="gAAAA-refresh",
                          is_enterprise_install=False, installed_at=NOW.replace(tzinfo=None))
            if table is slack_installations:
                values.update(user_id="U1", incoming_webhook_url="https://hooks.slack.com/secret")
            session.execute(insert(table).values(**values))
        if boards is not None and cards is not None:
            board_id = session.execute(insert(boards).values(team_id=team_id, title=f"Retro {team_id}")
                                       .returning(boards.c.id)).scalar_one()
            session.execute(insert(cards).values(team_id=team_id, board_id=board_id, text="more tests",
                                                 author_hash="h" * 64, written_at=NOW))


def counts(db: Database, team_id: str) -> dict[str, int]:
    with db.transaction() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table).where(table.c.team_id == team_id)) or 0
            for table in workspace_data.workspace_tables()
        }


def test_purge_deletes_every_scoped_table_children_first_and_nothing_of_other_workspaces(
    db: Database, throwaway: tuple[Table, Table]
) -> None:
    boards, cards = throwaway
    seed(db, "TA", boards, cards)
    seed(db, "TB", boards, cards)
    before = counts(db, "TB")
    seeded = {"workspaces", "people", "holidays", "work_claims", "processed_events",
              "slack_installations", "slack_bots", "throwaway_boards", "throwaway_cards"}
    assert set(before) >= seeded
    assert all(before[name] >= 1 for name in seeded)

    with db.transaction() as session:
        deleted = workspace_data.purge(session, team_id="TA")

    assert deleted == {name: count for name, count in before.items() if count}
    assert set(counts(db, "TA").values()) == {0}
    assert counts(db, "TB") == before


def test_export_has_every_scoped_table_only_this_workspace_and_no_secret(
    db: Database, throwaway: tuple[Table, Table]
) -> None:
    from storage.export import export_json

    boards, cards = throwaway
    seed(db, "TA", boards, cards)
    seed(db, "TB", boards, cards)
    document = json.loads(export_json(db, team_id="TA", now=NOW))

    assert document["team_id"] == "TA"
    tables = document["tables"]
    # Health-check answers are anonymous: their tables are exported only as each round's aggregates.
    anonymous_answers = set(healthcheck.PRIVATE_TABLES)
    assert set(tables) == {t.name for t in workspace_data.workspace_tables()} - anonymous_answers | {
        "health_check_results"}
    assert tables["workspaces"] == [{"team_id": "TA", "name": "Team TA", "installed_at": NOW.isoformat(),
                                     "uninstalled_at": None}]
    assert [p["display_name"] for p in tables["people"]] == ["ana of TA"]
    assert tables["holidays"][0]["day"] == "2026-12-24"
    assert tables["throwaway_boards"][0]["title"] == "Retro TA"
    card = tables["throwaway_cards"][0]
    assert (card["text"], card["author_hash"], card["written_at"]) == ("more tests", "h" * 64, NOW.isoformat())
    assert tables["slack_installations"][0]["team_name"] == "Team TA"
    text = json.dumps(document)
    for secret in ("gAAAA", "hooks.slack.com", '"bot_token"', '"bot_refresh_token"', '"incoming_webhook_url"'):
        assert secret not in text
    assert "TB" not in text


def test_active_clause_and_is_active_skip_uninstalled_workspaces(db: Database) -> None:
    seed(db, "TA")
    seed(db, "TB")
    with db.transaction() as session:
        workspaces.record_uninstall(session, team_id="TA", now=NOW)
    with db.transaction() as session:
        assert not workspaces.is_active(session, team_id="TA")
        assert workspaces.is_active(session, team_id="TB")
        assert workspaces.is_active(session, team_id="TNEVERSEEN")
        assert workspaces.active_team_ids(session) == ["TB"]
        assert workspaces.uninstalled_team_ids(session) == {"TA"}
        due = session.scalars(select(Holiday.team_id).where(workspaces.active_clause(Holiday.team_id))).all()
        assert due == ["TB"]


# -- the retention job, as the scheduler runs it -----------------------------------------------------------------

@pytest.fixture
def kept_a_week(fake: FakeSlack, db_url: str, clock: FrozenClock) -> Iterator[Cadence]:
    app = start_cadence(fake, db_url, clock, workspace_retention_days=7)
    yield app
    app.stop()


def test_uninstalled_data_is_kept_for_the_retention_days_then_deleted_once(kept_a_week: Cadence) -> None:
    cadence = kept_a_week
    seed(cadence.db, "T1")
    seed(cadence.db, "T2")
    t2_before = counts(cadence.db, "T2")
    uninstalled_at = cadence.clock()
    assert cadence.slack.event({"type": "app_uninstalled"}, team="T1").status == 200
    cadence.settle()
    assert not cadence.runtime.is_active("T1")
    assert counts(cadence.db, "T1")["slack_bots"] == 0  # tokens go at once
    assert counts(cadence.db, "T1")["holidays"] == 1  # the rest is kept

    cadence.tick(uninstalled_at + timedelta(days=7) - timedelta(minutes=1))
    assert counts(cadence.db, "T1")["holidays"] == 1

    cadence.tick(uninstalled_at + timedelta(days=7, minutes=1))
    left = {table: n for table, n in counts(cadence.db, "T1").items() if n}
    assert left == {"work_claims": 1}  # only the record that the retention job did its work
    with cadence.db.transaction() as session:
        record = session.scalars(select(WorkClaim).where(WorkClaim.team_id == "T1")).one()
        assert record.kind == "workspace.retention"
        assert record.done_at is not None
        assert record.attempts == 1
    t2_after = counts(cadence.db, "T2")
    assert t2_after.pop("processed_events") == 0  # event ids are only remembered for two days
    assert t2_after == {table: n for table, n in t2_before.items() if table != "processed_events"}

    cadence.tick(uninstalled_at + timedelta(days=8))
    with cadence.db.transaction() as session:
        assert session.scalars(select(WorkClaim.attempts).where(WorkClaim.team_id == "T1")).one() == 1


def test_a_workspace_reinstalled_within_the_retention_keeps_its_data(kept_a_week: Cadence) -> None:
    cadence = kept_a_week
    seed(cadence.db, "T1")
    cadence.slack.event({"type": "app_uninstalled"}, team="T1")
    cadence.settle()
    with cadence.db.transaction() as session:
        workspaces.record_installation(session, team_id="T1", name="back", now=cadence.clock() + timedelta(days=2))
    cadence.tick(cadence.clock() + timedelta(days=30))
    assert counts(cadence.db, "T1")["holidays"] == 1
    assert cadence.runtime.is_active("T1")


def test_a_purge_already_claimed_by_another_process_is_not_done_twice(kept_a_week: Cadence) -> None:
    cadence = kept_a_week
    seed(cadence.db, "T1")
    cadence.slack.event({"type": "app_uninstalled"}, team="T1")
    cadence.settle()
    with cadence.db.transaction() as session:
        uninstalled_at = session.get(Workspace, "T1").uninstalled_at  # type: ignore[union-attr]
    later = cadence.clock() + timedelta(days=8)
    with cadence.db.transaction() as session:  # another worker claimed it a moment ago and is still at it
        assert claims.claim(session, team_id="T1", kind="workspace.retention",
                            key=f"workspace.retention:T1:{uninstalled_at.isoformat()}", now=later)
    cadence.tick(later)
    assert counts(cadence.db, "T1")["holidays"] == 1


def test_old_event_ids_are_forgotten_by_the_job(cadence: Cadence) -> None:
    with cadence.db.transaction() as session:
        dedup.first_delivery(session, team_id="T1", event_id="Evold", now=cadence.clock() - timedelta(days=3))
        dedup.first_delivery(session, team_id="T1", event_id="Evnew", now=cadence.clock())
    cadence.tick()
    with cadence.db.transaction() as session:
        assert session.scalars(select(dedup.ProcessedEvent.event_id)).all() == ["Evnew"]


# -- the command line ---------------------------------------------------------------------------------------------

def cadence_cli(args: list[str], db_url: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATABASE_URL": db_url, **env},
    )


def test_cli_export_writes_the_workspace_as_json(db: Database, db_url: str, tmp_path: Path) -> None:
    seed(db, "TA")
    seed(db, "TB")
    out = tmp_path / "ta.json"
    result = cadence_cli(["workspace", "export", "TA", "--out", str(out)], db_url, tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert [h["name"] for h in document["tables"]["holidays"]] == ["Christmas Eve"]
    assert "TB" not in out.read_text()
    to_stdout = cadence_cli(["workspace", "export", "TB"], db_url, tmp_path)
    assert json.loads(to_stdout.stdout)["tables"]["people"][0]["display_name"] == "ana of TB"


def test_cli_purge_deletes_at_once(db: Database, db_url: str, tmp_path: Path) -> None:
    seed(db, "TA")
    seed(db, "TB")
    refused = cadence_cli(["workspace", "purge", "TA"], db_url, tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith("cadence: workspace TA still has Cadence installed; uninstall it first")
    assert counts(db, "TA")["holidays"] == 1
    with db.transaction() as session:
        workspaces.record_uninstall(session, team_id="TA", now=NOW)
    result = cadence_cli(["workspace", "purge", "TA"], db_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("workspace TA: 7 rows deleted (")
    assert set(counts(db, "TA").values()) == {0}
    assert counts(db, "TB")["holidays"] == 1
    forced = cadence_cli(["workspace", "purge", "TB", "--even-if-installed"], db_url, tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert set(counts(db, "TB").values()) == {0}


def test_cli_keys_rotate_re_encrypts_every_token_with_the_new_key(db: Database, db_url: str, tmp_path: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    with db.transaction() as session:
        for team, token in (("TA", "xoxb-a"), ("TB", "xoxb-b")):
            session.execute(insert(slack_bots).values(
                client_id="1.2", app_id="A1", team_id=team, bot_token=Fernet(old).encrypt(token.encode()).decode(),
                bot_refresh_token=Fernet(old).encrypt(b"xoxe-1-r").decode(), is_enterprise_install=False,
                installed_at=NOW.replace(tzinfo=None)))
        session.execute(insert(slack_installations).values(  # stored before encryption was turned on
            client_id="1.2", app_id="A1", team_id="TC", user_id="U1", bot_token="xoxb-plain",
            is_enterprise_install=False, installed_at=NOW.replace(tzinfo=None)))

    result = cadence_cli(["keys", "rotate"], db_url, tmp_path, CADENCE_ENCRYPTION_KEY=f"{new.decode()},{old.decode()}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("3 rows re-encrypted")

    with db.transaction() as session:
        bots = session.execute(select(slack_bots.c.bot_token, slack_bots.c.bot_refresh_token)
                               .order_by(slack_bots.c.team_id)).all()
        plain = session.scalar(select(slack_installations.c.bot_token))
    assert [Fernet(new).decrypt(b.bot_token.encode()) for b in bots] == [b"xoxb-a", b"xoxb-b"]
    assert {Fernet(new).decrypt(b.bot_refresh_token.encode()) for b in bots} == {b"xoxe-1-r"}
    assert Fernet(new).decrypt(plain.encode()) == b"xoxb-plain"

    wrong = cadence_cli(["keys", "rotate"], db_url, tmp_path, CADENCE_ENCRYPTION_KEY=Fernet.generate_key().decode())
    assert wrong.returncode != 0
    assert "cannot be decrypted" in wrong.stderr


def test_cli_keys_generate_and_a_bad_key_is_one_line(tmp_path: Path) -> None:
    generated = cadence_cli(["keys", "generate"], "sqlite:///x.sqlite3", tmp_path)
    assert generated.returncode == 0
    Fernet(generated.stdout.strip().encode())
    bad = cadence_cli(["db", "current"], "sqlite:///x.sqlite3", tmp_path, CADENCE_ENCRYPTION_KEY="not-a-key")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "cadence: CADENCE_ENCRYPTION_KEY is invalid: key 1 is not a Fernet key (32 url-safe base64-encoded bytes) "
        "(one or more Fernet keys, comma-separated, newest first (make one with `cadence keys generate`))"
    ]


def test_single_workspace_mode_records_its_workspace_when_the_server_starts(cadence: Cadence) -> None:
    from bot.server.wsgi import build_wsgi

    cadence.slack.event({"type": "app_uninstalled"})
    cadence.settle()
    assert not cadence.runtime.is_active("T1")
    build_wsgi(cadence.runtime)  # restarted with the new token after reinstalling
    assert cadence.runtime.is_active("T1")
    with cadence.db.transaction() as session:
        assert workspaces.active_team_ids(session) == ["T1"]
