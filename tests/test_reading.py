"""Reading sessions: they see what is committed, never wait for a writer, and keep nothing they were asked to write."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from storage import claims
from storage.db import Database
from storage.models import WorkClaim

NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


def claims_seen(database: Database) -> int:
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(WorkClaim)) or 0


def test_a_read_goes_on_while_a_writer_holds_its_transaction_open(db: Database) -> None:
    with db.transaction() as session:
        claims.claim(session, team_id="T1", kind="test", key="committed", now=NOW)
    writing, read_done = threading.Event(), threading.Event()

    def writer() -> None:
        with db.transaction() as session:
            claims.claim(session, team_id="T1", kind="test", key="in flight", now=NOW)
            writing.set()
            read_done.wait(10)  # the write stays uncommitted (and on SQLite holds the write lock) until the read is over

    thread = threading.Thread(target=writer)
    thread.start()
    writing.wait(10)
    seen_during_write = claims_seen(db)
    read_done.set()
    thread.join()

    assert seen_during_write == 1  # the committed claim, not the one in flight
    assert claims_seen(db) == 2


def test_nothing_written_in_a_reading_session_is_kept(db: Database) -> None:
    try:
        with db.reading() as session:
            claims.claim(session, team_id="T1", kind="test", key="sneaked in", now=NOW)
            session.flush()
    except SQLAlchemyError:
        pass  # Postgres refuses the write outright (a read-only transaction); SQLite rolls it back

    assert claims_seen(db) == 0
