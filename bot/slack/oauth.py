"""Many workspaces: Bolt's OAuth flow, slack_sdk's SQLAlchemy stores in our database, tokens encrypted at rest.

Single-workspace mode (SLACK_BOT_TOKEN) uses none of this. With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set, any
workspace installs Cadence at `/slack/install`; Slack sends the admin back to `/slack/oauth_redirect`, where Bolt
exchanges the code (`oauth.v2.access`) and the installation store below keeps the tokens, encrypted with Fernet.
Expiring tokens (token rotation) are refreshed before use, by Bolt for requests and by `bot_token` for scheduled work.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine

from bot.server.settings import Settings
from bot.slack.client import make_client
from bot.slack.crypto import TokenCipher
from bot.slack.gateway import WorkspaceNotInstalled
from storage import workspaces

if TYPE_CHECKING:
    from datetime import datetime

    from storage.db import Database

log = logging.getLogger("cadence.oauth")

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes Cadence asks for when a workspace installs it; manifest.yml lists the same (a test checks).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:join",
    "im:write",
    "users:read",
    "users:read.email",  # assignees of issues created for action items (bot/jobs/trackers.py)
    "usergroups:read",
    "channels:read",
    "groups:read",
    "files:write",
    "im:history",
    "channels:history",
)
STATE_EXPIRATION_SECONDS = 600
# Refresh an expiring token this long before it runs out.
TOKEN_ROTATION_MINUTES = 120

BOT_TOKEN_FIELDS = ("bot_token", "bot_refresh_token")
INSTALLATION_TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


class EncryptedInstallationStore(InstallationStore):
    """slack_sdk's SQLAlchemy installation store, with every token encrypted before it is stored."""

    def __init__(self, inner: SQLAlchemyInstallationStore, cipher: TokenCipher) -> None:
        self.inner = inner
        self.cipher = cipher

    @property
    def logger(self) -> logging.Logger:
        return self.inner.logger

    def _encrypted(self, item: Any, fields: tuple[str, ...]) -> Any:
        stored = copy.copy(item)
        for name in fields:
            value = getattr(stored, name, None)
            if value:
                setattr(stored, name, self.cipher.encrypt(value))
        return stored

    def _decrypted(self, item: Any, fields: tuple[str, ...]) -> Any:
        if item is None:
            return None
        for name in fields:
            value = getattr(item, name, None)
            if value:
                setattr(item, name, self.cipher.decrypt(value))
        return item

    def save(self, installation: Installation) -> None:
        self.inner.save(self._encrypted(installation, INSTALLATION_TOKEN_FIELDS))

    def save_bot(self, bot: Bot) -> None:
        self.inner.save_bot(self._encrypted(bot, BOT_TOKEN_FIELDS))

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        bot = self.inner.find_bot(enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install)
        return self._decrypted(bot, BOT_TOKEN_FIELDS)

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = self.inner.find_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, is_enterprise_install=is_enterprise_install
        )
        return self._decrypted(found, INSTALLATION_TOKEN_FIELDS)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.inner.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self.inner.delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)


class SignedStateStore(OAuthStateStore):
    """slack_sdk's SQLAlchemy state store, with each state signed by SLACK_STATE_SECRET.

    A state is single-use and expires (the database row); the signature refuses forged or tampered states before
    any database work.
    """

    def __init__(self, inner: SQLAlchemyOAuthStateStore, secret: str) -> None:
        self.inner = inner
        self._secret = secret.encode()

    @property
    def logger(self) -> logging.Logger:
        return self.inner.logger

    def _signature(self, state: str) -> str:
        return hmac.new(self._secret, state.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = self.inner.issue()
        return f"{state}.{self._signature(state)}"

    def consume(self, state: str) -> bool:
        unsigned, _, signature = (state or "").rpartition(".")
        if not unsigned or not hmac.compare_digest(signature, self._signature(unsigned)):
            log.warning("refused an OAuth state with a bad signature")
            return False
        return self.inner.consume(unsigned)


class Installations:
    """The installation store, the state store and the token rotator of a multi-workspace deployment."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        settings.require_slack()  # every OAuth setting is present (ConfigError naming the one missing)
        self.settings = settings
        self.client_id = str(settings.slack_client_id)
        self.client_secret = str(settings.slack_client_secret)
        self.store = EncryptedInstallationStore(
            SQLAlchemyInstallationStore(client_id=self.client_id, engine=engine),
            TokenCipher.from_setting(str(settings.cadence_encryption_key)),
        )
        self.state_store = SignedStateStore(
            SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRATION_SECONDS, engine=engine),
            str(settings.slack_state_secret),
        )
        self.rotator = TokenRotator(
            client_id=self.client_id, client_secret=self.client_secret, client=make_client(settings, "")
        )
        self._rotation = threading.Lock()

    def bot_token(self, team_id: str) -> str:
        """The workspace's bot token, refreshed first when it expires soon (token rotation)."""
        with self._rotation:
            bot = self.store.find_bot(enterprise_id=None, team_id=team_id)
            if bot is None or not bot.bot_token:
                raise WorkspaceNotInstalled(f"Cadence is not installed in workspace {team_id}")
            if bot.bot_refresh_token:
                refreshed = self.rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=TOKEN_ROTATION_MINUTES
                )
                if refreshed is not None:
                    self.store.save_bot(refreshed)
                    bot = refreshed
            assert bot.bot_token is not None
            return bot.bot_token

    def oauth_settings(self, on_installed: Callable[[Installation], None]) -> OAuthSettings:
        """Bolt's OAuth settings: install pages, our stores, and `on_installed` called after each installation."""
        settings = self.settings

        def success(args: SuccessArgs) -> BoltResponse:
            on_installed(args.installation)
            return args.default.success(args)

        def failure(args: FailureArgs) -> BoltResponse:
            log.warning("an installation failed: %s", args.reason)
            return args.default.failure(args)

        oauth = OAuthSettings(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            callback_options=CallbackOptions(success=success, failure=failure),
            installation_store=self.store,
            installation_store_bot_only=True,
            token_rotation_expiration_minutes=TOKEN_ROTATION_MINUTES,
            state_store=self.state_store,
            state_expiration_seconds=STATE_EXPIRATION_SECONDS,
        )
        # Bolt's default authorize refreshes tokens against slack.com; ours goes to SLACK_API_URL like every call.
        oauth.authorize = InstallationStoreAuthorize(
            logger=log,
            installation_store=self.store,
            client_id=self.client_id,
            client_secret=self.client_secret,
            token_rotation_expiration_minutes=TOKEN_ROTATION_MINUTES,
            bot_only=True,
            cache_enabled=True,
            client=make_client(settings, ""),
        )
        return oauth



def app_options(
    settings: Settings, installations: Installations | None, *, db: Database, now: Callable[[], datetime]
) -> dict[str, Any]:
    """Bolt's App arguments for the mode Cadence runs in: one workspace's bot token, or OAuth for many."""
    client = make_client(settings)
    if installations is None:
        return {"client": client}

    def on_installed(installation: Installation) -> None:
        if not installation.team_id:
            log.warning("an organization-wide installation was stored, but Cadence works per workspace")
            return
        with db.transaction() as session:
            workspaces.record_installation(
                session, team_id=installation.team_id, name=installation.team_name or "", now=now()
            )
        log.info("installed in workspace %s", installation.team_id, extra={"team": installation.team_id})

    return {"client": client, "oauth_settings": installations.oauth_settings(on_installed)}


def record_single_workspace(
    settings: Settings, installations: Installations | None, *, db: Database, now: Callable[[], datetime]
) -> None:
    """With SLACK_BOT_TOKEN, remember the workspace the token belongs to as installed (schedules run for it)."""
    if installations is not None or not settings.slack_bot_token:
        return
    try:
        team = make_client(settings).auth_test()
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("could not ask Slack which workspace SLACK_BOT_TOKEN belongs to: %s", error)
        return
    with db.transaction() as session:
        workspaces.record_installation(session, team_id=team["team_id"], name=team.get("team") or "", now=now())
