"""Fixtures: databases (SQLite always, Postgres when TEST_DATABASE_URL is set), the fake Slack and the app."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import Cadence, FrozenClock, start_cadence
from storage import migrate
from storage.db import Database
from storage.schema import ALL_METADATA

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = Path(tmp_path_factory.mktemp("sqlite")) / "cadence-test.sqlite3"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test session (parallel runs never share tables), migrated to head."""
    if not TEST_DATABASE_URL:
        if os.environ.get("CADENCE_REQUIRE_POSTGRES"):
            pytest.fail("CADENCE_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not: Postgres tests may not be skipped")
        pytest.skip("TEST_DATABASE_URL is not set; Postgres tests are skipped")
    admin_url = _psycopg(TEST_DATABASE_URL)
    name = f"cadence_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _psycopg(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated, emptied database: once on SQLite, once on Postgres."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    _empty(url)
    return url


def _empty(url: str) -> None:
    database = Database(url)
    tables = [t.name for m in ALL_METADATA for t in reversed(m.sorted_tables)]
    with database.transaction() as session:
        if database.dialect == "postgresql":
            session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                session.execute(text(f'DELETE FROM "{table}"'))
    database.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """The fake Slack; a test fails when the app sent it anything that breaks Slack's rules.

    Lenient about conversations only: these tests are about their ceremony, not about where the bot was invited, so a
    channel a test never declared is one the bot is in. Membership, private channels and DMs the bot is not in are
    what tests/test_conversation_matrix.py (strict) and the tests that `add_channel(..., is_member=False)` cover.
    """
    server = FakeSlack(undeclared_member=True).start()
    yield server
    server.stop()
    assert server.violations == [], "the app sent Slack something it would refuse:\n" + "\n".join(server.violations)


@pytest.fixture
def cadence(fake: FakeSlack, db_url: str, clock: FrozenClock) -> Iterator[Cadence]:
    """The real app over HTTP against the fake Slack and a clean database, on each backend."""
    app = start_cadence(fake, db_url, clock)
    yield app
    app.stop()
