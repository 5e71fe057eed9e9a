"""The schema comes only from Alembic: up from empty, down to empty, and no drift from the models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from storage import migrate
from storage.db import Database
from storage.schema import ALL_METADATA, metadata, slack_metadata

ROOT = Path(__file__).resolve().parent.parent


def drift(database: Database) -> list[object]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, list(ALL_METADATA))


def workspace_tables(database: Database) -> set[str]:
    return set(inspect(database.engine).get_table_names()) - {"alembic_version"}


def test_head_matches_the_models(db: Database) -> None:
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    assert drift(db) == []


def test_down_to_empty_and_up_again(db_url: str) -> None:
    database = Database(db_url)
    try:
        migrate.downgrade(db_url, "base")
        assert workspace_tables(database) == set()
        assert migrate.current_revision(database.engine) is None
        migrate.upgrade(db_url)
        assert migrate.current_revision(database.engine) == migrate.head_revision()
        assert workspace_tables(database) == {t.name for m in ALL_METADATA for t in m.sorted_tables}
        assert drift(database) == []
    finally:
        database.dispose()


def test_every_revision_steps_down_and_up(db_url: str) -> None:
    """From empty, each revision in turn goes up, down (undoing exactly itself) and up again; the end is head."""
    from alembic.script import ScriptDirectory

    revisions = list(reversed(list(ScriptDirectory.from_config(migrate.alembic_config(db_url)).walk_revisions())))
    migrate.downgrade(db_url, "base")
    for revision in revisions:
        migrate.upgrade(db_url, revision.revision)
        migrate.downgrade(db_url, revision.down_revision or "base")
        migrate.upgrade(db_url, revision.revision)
    # walk_revisions goes from head down: the last step leaves the database at the first revision.
    migrate.upgrade(db_url)
    database = Database(db_url)
    try:
        assert migrate.current_revision(database.engine) == migrate.head_revision()
        assert drift(database) == []
    finally:
        database.dispose()


def test_every_workspace_table_carries_the_workspace_id() -> None:
    unscoped = [t.name for t in metadata.sorted_tables if "team_id" not in t.columns]
    assert unscoped == []


def test_only_the_oauth_state_table_of_slack_sdk_belongs_to_no_workspace() -> None:
    """slack_sdk's tables sit apart (its own conventions); only an installation in progress has no workspace yet."""
    assert {t.name for t in slack_metadata.sorted_tables} == {"slack_installations", "slack_bots", "slack_oauth_states"}
    assert [t.name for t in slack_metadata.sorted_tables if "team_id" not in t.columns] == ["slack_oauth_states"]
    assert not set(slack_metadata.tables) & set(metadata.tables)


@pytest.mark.parametrize("table", sorted(t.name for t in metadata.sorted_tables))
def test_timestamps_are_timezone_aware(table: str) -> None:
    from sqlalchemy import DateTime

    naive = [c.name for c in metadata.tables[table].columns if isinstance(c.type, DateTime) and not c.type.timezone]
    assert naive == []


def test_processes_migrating_at_once_all_end_at_head(db_url: str, tmp_path: Path) -> None:
    """Several `cadence serve` starting together each run the migrations; none fails, the schema ends at head."""
    if db_url.startswith("sqlite"):
        db_url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"  # a file no other test's connection can be holding
    else:
        migrate.downgrade(db_url, "base")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATABASE_URL": db_url}
    processes = [
        subprocess.Popen([sys.executable, "-m", "bot", "db", "upgrade"], cwd=tmp_path, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    database = Database(db_url)
    try:
        assert [p.returncode for p in processes] == [0, 0, 0], "\n---\n".join(outputs)
        assert migrate.current_revision(database.engine) == migrate.head_revision()
    finally:
        database.dispose()
