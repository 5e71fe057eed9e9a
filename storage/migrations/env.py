"""Alembic's environment: runs the revisions against the URL the caller configured."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool, text

from storage.db import make_engine
from storage.schema import ALL_METADATA

config = context.config
MIGRATION_LOCK_KEY = 0x63616465  # 'cade'


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=list(ALL_METADATA),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several processes may start at once (each `cadence serve` migrates): one migrates, the others wait and
            # then find nothing left to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


run_migrations()
