"""Which failures people are told are the database being unreachable (and so worth trying again in a moment)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.server.errors import DATABASE_UNAVAILABLE, SOMETHING_WENT_WRONG, user_message


def test_only_an_unreachable_database_is_called_unreachable() -> None:
    lost = InterfaceError("SELECT 1", {}, Exception("connection is closed"), connection_invalidated=True)
    assert user_message(lost) == DATABASE_UNAVAILABLE
    assert user_message(PoolTimeoutError("QueuePool limit reached")) == DATABASE_UNAVAILABLE
    assert user_message(IntegrityError("INSERT", {}, Exception("duplicate key"))) == SOMETHING_WENT_WRONG
    assert user_message(DBAPIError("SELECT", {}, Exception("syntax error"))) == SOMETHING_WENT_WRONG
