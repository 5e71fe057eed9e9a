"""The tables of slack_sdk's SQLAlchemy installation and OAuth-state stores, owned by our Alembic migrations.

slack_sdk builds these tables itself (`SQLAlchemyInstallationStore.build_*_table`) and would create them with
`create_tables()`; Cadence creates them in revision 0006 instead, so the schema changes only through Alembic. The
definitions below copy slack_sdk's column for column (a test compares them), with two deliberate differences:

- token columns are wider (`TOKEN_CIPHERTEXT_LENGTH` instead of 200): they hold Fernet ciphertext, never a token;
- the tables live in their own `slack_metadata`, not in `storage.models.Base.metadata`, because they follow
  slack_sdk's conventions (naive UTC `DateTime`, and `slack_oauth_states` belongs to no workspace yet).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.orm import Session

from storage.models import NAMING_CONVENTION

# A Fernet token of an n-byte text is 4 * ceil((57 + 16 * (n // 16 + 1)) / 3) characters: 1000 holds the ciphertext
# of any token up to 680 characters (Slack's tokens, rotated ones included, are far shorter).
TOKEN_CIPHERTEXT_LENGTH = 1000

slack_metadata = MetaData(naming_convention=NAMING_CONVENTION)

slack_installations = Table(
    "slack_installations",
    slack_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(TOKEN_CIPHERTEXT_LENGTH)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(TOKEN_CIPHERTEXT_LENGTH)),
    Column("bot_token_expires_at", DateTime),
    Column("user_id", String(32), nullable=False),
    Column("user_token", String(TOKEN_CIPHERTEXT_LENGTH)),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", String(TOKEN_CIPHERTEXT_LENGTH)),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False),
    Index("slack_installations_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
)

slack_bots = Table(
    "slack_bots",
    slack_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(TOKEN_CIPHERTEXT_LENGTH)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(TOKEN_CIPHERTEXT_LENGTH)),
    Column("bot_token_expires_at", DateTime),
    Column("is_enterprise_install", Boolean, nullable=False),
    Column("installed_at", DateTime, nullable=False),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

# The OAuth `state` of an installation in progress: no workspace is known yet, so it carries no team_id.
slack_oauth_states = Table(
    "slack_oauth_states",
    slack_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)

# Columns holding a secret: encrypted at rest, never exported.
TOKEN_COLUMNS: dict[str, tuple[str, ...]] = {
    "slack_installations": ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    "slack_bots": ("bot_token", "bot_refresh_token"),
}
SECRET_COLUMNS: dict[str, tuple[str, ...]] = {
    "slack_installations": (*TOKEN_COLUMNS["slack_installations"], "incoming_webhook_url"),
    "slack_bots": TOKEN_COLUMNS["slack_bots"],
}
WORKSPACE_TABLES = (slack_installations, slack_bots)


def rewrite_tokens(session: Session, *, rewrite: Callable[[str], str]) -> int:
    """Replace every stored token by `rewrite(token)` (key rotation); the number of rows changed."""
    changed = 0
    for table in WORKSPACE_TABLES:
        names = TOKEN_COLUMNS[table.name]
        rows = session.execute(select(table.c.id, *(table.c[name] for name in names)).order_by(table.c.id)).all()
        for row in rows:
            values = {name: rewrite(value) for name, value in zip(names, row[1:], strict=True) if value is not None}
            if values:
                session.execute(update(table).where(table.c.id == row.id).values(**values))
                changed += 1
    return changed


def delete_installations(session: Session, *, team_id: str) -> int:
    """Forget every installation and bot token of a workspace; the number of rows deleted."""
    deleted = 0
    for table in WORKSPACE_TABLES:
        deleted += len(session.execute(delete(table).where(table.c.team_id == team_id).returning(table.c.id)).all())
    return deleted
